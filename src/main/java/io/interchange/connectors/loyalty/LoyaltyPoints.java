package io.interchange.connectors.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.rest.RestBody;
import io.interchange.connectors.rest.RestClient;
import io.interchange.connectors.rest.RestRequest;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A loyalty member's points on the platform (Voucherify's Loyalties API v1), through the same REST target as
 * {@link LoyaltyMembers} (one route, one rate limit, the project's application keys): points added or subtracted
 * ({@code POST /v1/loyalties/members/{memberId}/balance}), the balance read, the member's transactions listed.
 *
 * <p>Voucherify takes no idempotency key and does not promise that {@code source_id} is unique, so a repeated add adds
 * twice. Every add carries our own id as its {@code source_id}, and an add whose outcome is unknown is settled by
 * reading the member's transactions for that {@code source_id} before anything is sent again:
 * <ul>
 * <li>an add that fails as transient (timeout, connection reset, 5xx, an answer that is not JSON) is looked up at once;
 * found, it is the answer; not found, the failure stands and the caller's policy retries;</li>
 * <li>a caller that cannot know whether an earlier attempt reached the platform (a redelivery, a claim taken over from
 * a process that died) asks with {@code checkFirst}: the lookup comes before the add.</li>
 * </ul>
 * The lookup pages the transactions newest first ({@code order=-id}, 100 a page, {@code starting_after_id}) and stops at
 * the first transaction older than {@code notBefore} (the add cannot be older than the event it is for), or at the end.
 */
public final class LoyaltyPoints {

    /** Transactions read per page while looking for a {@code source_id}: Voucherify's largest page. */
    static final int PAGE = 100;
    private static final Logger LOG = LoggerFactory.getLogger(LoyaltyPoints.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One transaction of a member's card.
     *
     * @param points  signed ({@code details.balance.points}): negative for removals, redemptions, expirations
     * @param balance the card's balance after it
     */
    public record Transaction(String id, String sourceId, String type, long points, long balance, String reason,
                              Instant createdAt) {
    }

    /** A page of transactions, and the id to ask the next page after (null at the end). */
    public record Page(List<Transaction> transactions, boolean hasMore, String moreStartingAfter) {
    }

    /**
     * The outcome of an add.
     *
     * @param points        the points added (negative: subtracted)
     * @param balance       the card's balance after the add, as the platform answered it (or as the transaction
     *                      found says it was right after)
     * @param transactionId the transaction, when it was found by its {@code source_id} (the add's own answer names none)
     * @param found         true when the add had already happened and nothing was sent
     */
    public record Added(long points, long balance, String transactionId, boolean found) {
    }

    /** A card's points now: every point ever added, and the balance available. */
    public record Balance(String memberId, long points, long balance) {
    }

    private final RestClient client;

    public LoyaltyPoints(RestClient client) {
        this.client = Objects.requireNonNull(client);
    }

    public RestClient client() {
        return client;
    }

    /**
     * Adds {@code points} (negative: subtracts) to a member's card under our {@code sourceId}, at most once as far as
     * the platform's transactions can tell (see the class). {@code notBefore} bounds the lookup (null: read to the
     * end); the points never expire unless the program's rules say so ({@code expiration_type PROGRAM_RULES}).
     */
    public Added add(String memberId, long points, String sourceId, String reason, boolean checkFirst, Instant notBefore) {
        Objects.requireNonNull(memberId);
        Objects.requireNonNull(sourceId);
        if (points == 0) throw new IllegalArgumentException("no points to add");
        if (checkFirst) {
            Transaction done = find(memberId, sourceId, notBefore);
            if (done != null) return found(done, "an earlier attempt");
        }
        ObjectNode body = JSON.createObjectNode().put("points", points).put("expiration_type", "PROGRAM_RULES")
                .put("source_id", sourceId);
        if (reason != null) body.put("reason", reason);
        String path = "/v1/loyalties/members/" + segment(memberId) + "/balance";
        JsonNode answer;
        try {
            answer = client.call(RestRequest.post(path, RestBody.json(body))).json();
        } catch (TransientFailure unknown) {
            // the platform may have applied it (the answer lost, a 5xx after the write): look before anyone adds again
            Transaction done;
            try {
                done = find(memberId, sourceId, notBefore);
            } catch (RuntimeException lookupFailed) {
                unknown.addSuppressed(lookupFailed);
                throw new TransientFailure(FailureClassifier.reason(unknown) + "; whether the points were added is not "
                        + "known yet (looking up source_id " + sourceId + " failed too)", unknown);
            }
            if (done != null) return found(done, "an attempt whose answer was lost (" + FailureClassifier.reason(unknown) + ")");
            throw unknown;
        }
        if (!answer.path("points").isIntegralNumber() || !answer.path("balance").isIntegralNumber()) {
            throw new TransientFailure("Voucherify API POST " + path + " answered without points and balance for "
                    + sourceId + "; the next attempt looks it up first");
        }
        return new Added(answer.path("points").asLong(), answer.path("balance").asLong(), null, false);
    }

    /** The member's transaction with this {@code source_id}, newest first, or null (see the class for the bound). */
    public Transaction find(String memberId, String sourceId, Instant notBefore) {
        String after = null;
        int pages = 0;
        while (true) {
            Page page = transactions(memberId, PAGE, "-id", after);
            pages++;
            for (Transaction t : page.transactions()) {
                if (sourceId.equals(t.sourceId())) return t;
                if (notBefore != null && t.createdAt() != null && t.createdAt().isBefore(notBefore)) return null;
            }
            if (!page.hasMore() || page.moreStartingAfter() == null) return null;
            if (page.moreStartingAfter().equals(after)) {
                throw new TransientFailure("Voucherify API transactions of " + memberId + " page after " + after
                        + " named itself as the next page");
            }
            after = page.moreStartingAfter();
            if (pages % 10 == 0) LOG.info("Looking for source_id {} in member {}'s transactions: {} pages read", sourceId,
                    memberId, pages);
        }
    }

    /** One page of a member's transactions ({@code order} {@code -id}: newest first, or {@code id}). */
    public Page transactions(String memberId, int limit, String order, String startingAfterId) {
        Listed listed = list("/v1/loyalties/members/" + segment(memberId) + "/transactions", limit, order,
                startingAfterId);
        List<Transaction> out = new ArrayList<>();
        for (JsonNode t : listed.data()) {
            JsonNode balance = t.path("details").path("balance");
            out.add(new Transaction(t.path("id").asText(), t.hasNonNull("source_id") ? t.get("source_id").asText() : null,
                    t.path("type").asText(null), balance.path("points").asLong(0), balance.path("balance").asLong(0),
                    t.hasNonNull("reason") ? t.get("reason").asText() : null, instant(t.path("created_at").asText(null))));
        }
        return new Page(out, listed.hasMore(), listed.moreStartingAfter());
    }

    /**
     * One page of a whole loyalty program's transactions, every member's ({@code GET /v1/loyalties/{campaignId}/
     * transactions}, Voucherify's List Loyalty Campaign Transactions: {@code limit} 1..100, {@code order} {@code id} or
     * {@code -id}, {@code starting_after_id}), each as the platform gives it ({@code id}, {@code source_id},
     * {@code voucher_id}, {@code campaign_id}, {@code source}, {@code reason}, {@code type}, {@code details},
     * {@code related_transaction_id}, {@code created_at}; no holder: that is the card's, {@link #card}).
     */
    public Listed campaignTransactions(String campaignId, int limit, String order, String startingAfterId) {
        return list("/v1/loyalties/" + segment(campaignId) + "/transactions", limit, order, startingAfterId);
    }

    /** A page of a Voucherify list: its objects as given, whether more follow, and the id to ask the next page after. */
    public record Listed(List<JsonNode> data, boolean hasMore, String moreStartingAfter) {
    }

    /**
     * Voucherify's transaction lists answer {@code {"object":"list","data_ref":"data","data":[...],"has_more":b,
     * "more_starting_after":id}}; an answer without {@code more_starting_after} but with more goes on after the page's
     * last id, which is what the cursor means.
     */
    private Listed list(String path, int limit, String order, String startingAfterId) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("limit", String.valueOf(limit));
        query.put("order", order);
        if (startingAfterId != null) query.put("starting_after_id", startingAfterId);
        JsonNode list = client.call(RestRequest.get(path).query(query)).json();
        JsonNode data = list.path(list.path("data_ref").asText("data"));
        if (!data.isArray()) throw new TransientFailure("Voucherify API GET " + path + " answered a list without data");
        List<JsonNode> out = new ArrayList<>();
        data.forEach(out::add);
        boolean more = list.path("has_more").asBoolean(false);
        String next = list.hasNonNull("more_starting_after") ? list.get("more_starting_after").asText()
                : more && !out.isEmpty() ? out.get(out.size() - 1).path("id").asText(null) : null;
        return new Listed(out, more, next);
    }

    /**
     * A loyalty card by its code or its {@code v_...} id ({@code GET /v1/vouchers/{code}}, which takes either) and
     * its holder ({@code GET /v1/customers/{holder_id}}): the card's code and the holder as a loyalty webhook names it
     * ({@code id}, {@code source_id}, the global customer id where the runtime linked it). Two requests.
     */
    public Card card(String voucherIdOrCode) {
        String path = "/v1/vouchers/" + segment(voucherIdOrCode);
        JsonNode voucher = client.call(RestRequest.get(path)).json();
        String holderId = voucher.hasNonNull("holder_id") ? voucher.get("holder_id").asText() : null;
        JsonNode holder = null;
        if (holderId != null && !holderId.isBlank()) {
            holder = client.call(RestRequest.get("/v1/customers/" + segment(holderId))).json();
        }
        return new Card(voucher.path("id").asText(voucherIdOrCode), voucher.path("code").asText(null),
                voucher.path("campaign_id").asText(null), holderId,
                holder != null && holder.hasNonNull("source_id") ? holder.get("source_id").asText() : null);
    }

    /** A card: its {@code v_...} id, code and program, and its holder's id and {@code source_id} (either may be null). */
    public record Card(String voucherId, String code, String campaignId, String holderId, String holderSourceId) {
    }

    /** The card's points and balance now ({@code GET /v1/loyalties/members/{memberId}}). */
    public Balance balance(String memberId) {
        String path = "/v1/loyalties/members/" + segment(memberId);
        JsonNode card = client.call(RestRequest.get(path)).json();
        JsonNode loyalty = card.path("loyalty_card");
        if (!loyalty.isObject()) {
            throw new PermanentFailure("Voucherify API GET " + path + " answered a " + card.path("type").asText("voucher")
                    + " that is not a loyalty card");
        }
        return new Balance(card.path("code").asText(memberId), loyalty.path("points").asLong(0),
                loyalty.path("balance").asLong(0));
    }

    private static Added found(Transaction t, String what) {
        LOG.info("Points of source_id {} already on the card ({}, by {}): not added again", t.sourceId(), t.id(), what);
        return new Added(t.points(), t.balance(), t.id(), true);
    }

    /** A Voucherify time ({@code created_at}), or null when absent or not ISO-8601. */
    public static Instant instant(String s) {
        if (s == null) return null;
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
