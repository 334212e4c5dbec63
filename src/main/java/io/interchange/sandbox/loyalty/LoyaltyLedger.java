package io.interchange.sandbox.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.rest.RestPeerSupport.Answer;
import io.interchange.sandbox.rest.RestPeerSupport.Request;

import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The loyalty peer's points: every change of a card's balance is a transaction ({@code vtx_...}; type, signed
 * {@code details.balance.points}, {@code source_id} as sent or null, {@code created_at}), the card's
 * {@code loyalty_card} figures follow it ({@code points} every point ever added, {@code balance} = points less
 * expired, subtracted and redeemed ones), the holder's tier is recomputed, and with webhooks on, a
 * {@code voucher.loyalty_card.transaction.created} and any {@code customer.loyalty.tier.*} event are sent.
 *
 * <p>Like Voucherify it takes no idempotency key and does not refuse a second request with a {@code source_id} it
 * has seen (its documentation promises no uniqueness): a client that repeats an add adds twice. Called under the
 * peer's lock.
 */
final class LoyaltyLedger {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> EXPIRATION_TYPES = Set.of("PROGRAM_RULES", "NON_EXPIRING", "CUSTOM_DATE");

    interface Errors {
        Answer error(int status, String key, String message, String details);
    }

    private final Function<ObjectNode, ObjectNode> holder;
    private final Function<ObjectNode, ObjectNode> campaign;
    private final BiFunction<ObjectNode, Long, ObjectNode> tier;
    private final Supplier<String> ids;
    private final Supplier<Instant> clock;
    private final Errors errors;
    /** Transactions by card code, oldest first. */
    private final Map<String, List<ObjectNode>> byCard = new HashMap<>();
    /** Every transaction, oldest first. */
    private final List<ObjectNode> all = new ArrayList<>();
    private LoyaltyWebhookSender webhooks;
    private String appId;
    private long redemptions;

    LoyaltyLedger(Function<ObjectNode, ObjectNode> holder, Function<ObjectNode, ObjectNode> campaign,
                  BiFunction<ObjectNode, Long, ObjectNode> tier, Supplier<String> ids, Supplier<Instant> clock,
                  Errors errors) {
        this.clock = clock;
        this.holder = holder;
        this.campaign = campaign;
        this.tier = tier;
        this.ids = ids;
        this.errors = errors;
    }

    void webhooks(LoyaltyWebhookSender sender, String appId) {
        this.webhooks = sender;
        this.appId = appId;
    }

    List<ObjectNode> transactions(String code) {
        return List.copyOf(byCard.getOrDefault(code, List.of()));
    }

    /** {@code POST .../members/{memberId}/balance}: adds (points > 0) or subtracts (< 0); answers the balance object. */
    Answer balance(ObjectNode card, Request request) {
        JsonNode body;
        try {
            body = request.json();
        } catch (IOException e) {
            return errors.error(400, "invalid_payload", "Invalid payload", "the body is not JSON");
        }
        if (body == null || !body.isObject()) return errors.error(400, "invalid_payload", "Invalid payload", "expected an object");
        JsonNode points = body.get("points");
        if (points == null || !points.isIntegralNumber() || points.asLong() == 0) {
            return errors.error(400, "invalid_payload", "Invalid payload", "Property .points is required and must be a "
                    + "non-zero integer");
        }
        String expirationType = text(body, "expiration_type");
        if (expirationType != null && !EXPIRATION_TYPES.contains(expirationType)) {
            return errors.error(400, "invalid_payload", "Invalid payload", "Property .expiration_type must be one of "
                    + "PROGRAM_RULES, NON_EXPIRING, CUSTOM_DATE");
        }
        String expirationDate = text(body, "expiration_date");
        if ("CUSTOM_DATE".equals(expirationType) && (expirationDate == null || !isoDate(expirationDate))) {
            return errors.error(400, "invalid_payload", "Invalid payload",
                    "Property .expiration_date cannot be recognized as a ISO-8601 compliant date");
        }
        long delta = points.asLong();
        if (delta < 0 && -delta > card.path("loyalty_card").path("balance").asLong()) {
            return errors.error(400, "loyalty_card_points_exceeded", "loyalty card points exceeded",
                    card.path("code").asText());
        }
        ObjectNode tx = change(card, delta, delta > 0 ? "POINTS_ADDITION" : "POINTS_REMOVAL", null, text(body, "reason"),
                text(body, "source_id"), null, "API");
        ObjectNode answer = ((ObjectNode) tx.path("details").path("balance")).deepCopy();
        answer.put("operation_type", "MANUAL");
        return Answer.json(200, answer);
    }

    /**
     * {@code GET .../members/{memberId}/transactions}: {@code limit} 1..100 (10), {@code order} {@code id} or
     * {@code -id} (the default: newest first), {@code starting_after_id} the last id of the previous page.
     */
    Answer list(ObjectNode card, Map<String, String> query) {
        return page(byCard.getOrDefault(card.path("code").asText(), List.of()), query);
    }

    /**
     * {@code GET /v1/loyalties/{campaignId}/transactions} (List Loyalty Campaign Transactions): every transaction of
     * the program's cards, paged as a card's are.
     */
    Answer listProgram(String campaignId, Map<String, String> query) {
        List<ObjectNode> of = new ArrayList<>();
        for (ObjectNode tx : all) if (campaignId.equals(tx.path("campaign_id").asText())) of.add(tx);
        return page(of, query);
    }

    /**
     * A page of transactions held oldest first: {@code limit} 1..100 (10), {@code order} {@code id} or {@code -id}
     * (the default: newest first; ids grow with creation), {@code starting_after_id} the last id of the previous page
     * (404 when no transaction has it); {@code has_more}, and {@code more_starting_after} when there is more.
     */
    private Answer page(List<ObjectNode> held, Map<String, String> query) {
        int limit;
        try {
            limit = Integer.parseInt(query.getOrDefault("limit", "10"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100) {
            return errors.error(400, "invalid_query_params", "Invalid query params", "limit must be 1 to 100");
        }
        String order = query.getOrDefault("order", "-id");
        if (!order.equals("id") && !order.equals("-id")) {
            return errors.error(400, "invalid_query_params", "Invalid query params", "order must be id or -id");
        }
        List<ObjectNode> all = new ArrayList<>(held);
        if (order.equals("-id")) Collections.reverse(all);
        int from = 0;
        String after = query.get("starting_after_id");
        if (after != null) {
            from = -1;
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).path("id").asText().equals(after)) from = i + 1;
            }
            if (from < 0) {
                return errors.error(404, "not_found", "Resource not found", "Cannot find transaction with id " + after);
            }
        }
        int to = Math.min(all.size(), from + limit);
        ObjectNode list = JSON.createObjectNode().put("object", "list").put("data_ref", "data");
        ArrayNode data = list.putArray("data");
        for (int i = from; i < to; i++) data.add(all.get(i).deepCopy());
        boolean more = to < all.size();
        list.put("has_more", more);
        if (more) list.put("more_starting_after", all.get(to - 1).path("id").asText());
        return Answer.json(200, list);
    }

    /**
     * {@code POST .../members/{memberId}/redemption} of a pay-with-points reward: {@code reward.points} spent (at most
     * the balance: else 400 {@code loyalty_card_points_exceeded}); answers the redemption, recorded as a
     * {@code POINTS_REDEMPTION}.
     */
    Answer redeem(ObjectNode card, Request request) {
        JsonNode body;
        try {
            body = request.json();
        } catch (IOException e) {
            return errors.error(400, "invalid_payload", "Invalid payload", "the body is not JSON");
        }
        JsonNode reward = body == null ? null : body.get("reward");
        if (reward == null || !reward.isObject() || text(reward, "id") == null) {
            return errors.error(400, "missing_reward", "Missing reward", "reward.id is required");
        }
        long points = reward.path("points").asLong(0);
        if (points <= 0) return errors.error(400, "invalid_payload", "Invalid payload", "reward.points must be positive");
        if (points > card.path("loyalty_card").path("balance").asLong()) {
            return errors.error(400, "loyalty_card_points_exceeded", "loyalty card points exceeded",
                    card.path("code").asText());
        }
        redemptions++;
        String id = "r_" + String.format("%011x%07x", System.currentTimeMillis(), redemptions & 0xfffffff);
        ObjectNode ref = JSON.createObjectNode().put("id", id);
        ObjectNode rewardRef = JSON.createObjectNode().put("id", text(reward, "id")).put("points", points);
        ObjectNode tx = change(card, -points, "POINTS_REDEMPTION", null, null, null,
                JSON.createObjectNode().<ObjectNode>set("redemption", ref).set("reward", rewardRef), "API");
        ObjectNode redemption = JSON.createObjectNode().put("id", id).put("object", "redemption")
                .put("date", tx.path("created_at").asText()).put("customer_id", card.path("holder_id").asText())
                .putNull("tracking_id");
        redemption.set("metadata", body.path("metadata").isObject() ? body.get("metadata") : JSON.createObjectNode());
        redemption.put("result", "SUCCESS").put("status", "SUCCEEDED");
        redemption.set("order", body.path("order").isObject() ? body.get("order") : null);
        redemption.set("voucher", card.deepCopy());
        redemption.set("reward", rewardRef);
        return Answer.json(200, redemption);
    }

    /**
     * Changes a card's balance by {@code delta} and records the transaction; recomputes the tier and sends the
     * webhooks. Returns the transaction (the held object).
     */
    ObjectNode change(ObjectNode card, long delta, String type, String source, String reason, String sourceId,
                      ObjectNode extraDetails, String channel) {
        ObjectNode loyalty = (ObjectNode) card.path("loyalty_card");
        long before = loyalty.path("balance").asLong();
        ObjectNode tierBefore = tier.apply(card, before);
        if (delta > 0) loyalty.put("points", loyalty.path("points").asLong() + delta);
        if ("POINTS_EXPIRATION".equals(type)) loyalty.put("expired_points", loyalty.path("expired_points").asLong() - delta);
        if ("POINTS_REMOVAL".equals(type)) {
            loyalty.put("subtracted_points", loyalty.path("subtracted_points").asLong() - delta);
        }
        long after = before + delta;
        loyalty.put("balance", after);
        String now = clock.get().toString();
        card.put("updated_at", now);

        ObjectNode tx = JSON.createObjectNode().put("id", ids.get());
        if (sourceId == null) tx.putNull("source_id"); else tx.put("source_id", sourceId);
        tx.put("voucher_id", card.path("id").asText()).put("campaign_id", card.path("campaign_id").asText());
        if (source == null) tx.putNull("source"); else tx.put("source", source);
        if (reason == null) tx.putNull("reason"); else tx.put("reason", reason);
        tx.put("type", type);
        ObjectNode details = tx.putObject("details");
        ObjectNode balance = details.putObject("balance").put("type", "loyalty_card")
                .put("total", loyalty.path("points").asLong()).put("object", "balance").put("points", delta)
                .put("balance", after);
        balance.putObject("related_object").put("id", card.path("id").asText()).put("type", "voucher");
        if (extraDetails != null) details.setAll(extraDetails);
        tx.putNull("related_transaction_id");
        tx.put("created_at", now);
        byCard.computeIfAbsent(card.path("code").asText(), k -> new ArrayList<>()).add(tx);
        all.add(tx);

        ObjectNode tierAfter = tier.apply(card, after);
        if (webhooks != null) {
            webhooks.send("voucher.loyalty_card.transaction.created", transactionEvent(card, tx, tierAfter),
                    card.path("id").asText(), channel, appId);
            String tierEvent = tierEvent(tierBefore, tierAfter);
            if (tierEvent != null) {
                ObjectNode data = JSON.createObjectNode();
                ObjectNode customer = holder.apply(card);
                data.set("customer", customer);
                data.set("campaign", campaign.apply(card));
                if (tierEvent.endsWith("joined")) data.set("loyalty_tier", tierAfter);
                else if (tierEvent.endsWith("left")) data.set("loyalty_tier", tierBefore);
                else {
                    data.set("loyalty_tier_from", tierBefore);
                    data.set("loyalty_tier_to", tierAfter);
                }
                data.put("created_at", now);
                webhooks.send(tierEvent, data, customer.path("id").asText(), channel, appId);
            }
        }
        return tx;
    }

    /** Which {@code customer.loyalty.tier.*} event a change of tier is, or null when the tier stayed. */
    static String tierEvent(JsonNode from, JsonNode to) {
        String a = from == null ? null : from.path("id").asText();
        String b = to == null ? null : to.path("id").asText();
        if (a == null && b == null || a != null && a.equals(b)) return null;
        if (a == null) return "customer.loyalty.tier.joined";
        if (b == null) return "customer.loyalty.tier.left";
        return to.path("points").path("from").asLong() > from.path("points").path("from").asLong()
                ? "customer.loyalty.tier.upgraded" : "customer.loyalty.tier.downgraded";
    }

    /** The data of {@code voucher.loyalty_card.transaction.created}, the fields an event of another kind has null. */
    private ObjectNode transactionEvent(ObjectNode card, ObjectNode tx, ObjectNode holderTier) {
        ObjectNode data = JSON.createObjectNode();
        data.set("transaction", tx.deepCopy());
        ObjectNode voucher = card.deepCopy();
        data.set("voucher", voucher);
        data.set("campaign", campaign.apply(card));
        data.set("holder", holder.apply(card));
        data.set("holder_loyalty_tier", holderTier);
        data.set("balance", tx.path("details").path("balance").deepCopy());
        for (String none : List.of("order", "event", "earning_rule", "segment", "loyalty_tier")) data.putNull(none);
        data.set("redemption", tx.path("details").has("redemption") ? tx.path("details").get("redemption").deepCopy() : null);
        data.putNull("rollback");
        data.set("reward", tx.path("details").has("reward") ? tx.path("details").get("reward").deepCopy() : null);
        for (String none : List.of("custom_event", "source_voucher", "destination_voucher")) data.putNull(none);
        return data;
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static boolean isoDate(String s) {
        try {
            LocalDate.parse(s);
            return true;
        } catch (DateTimeParseException notADate) {
            try {
                OffsetDateTime.parse(s);
                return true;
            } catch (DateTimeParseException notADateTime) {
                return false;
            }
        }
    }
}
