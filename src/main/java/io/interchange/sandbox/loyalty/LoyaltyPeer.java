package io.interchange.sandbox.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.rest.RestPeerSupport;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The loyalty platform (Voucherify's API v1) as far as the runtime uses it, for the sandbox and tests, over an in-memory
 * store:
 * <ul>
 * <li>{@code POST /v1/customers}: an upsert by {@code source_id} (a known one answers that customer with the fields
 * given updated, metadata merged key by key; without one, a new customer every time), answering the customer
 * ({@code cust_...});</li>
 * <li>{@code POST /v1/loyalties/{campaignId}/members}: assigns a new loyalty card (8-character code, {@code v_...} id,
 * balance 0) of the program to the customer named by {@code customer} (an id or {@code source_id}, as a string or an
 * object; an unknown {@code source_id} creates the customer), every call another card, as Voucherify publishes one per
 * call; 404 {@code not_found} for an unknown program;</li>
 * <li>{@code GET /v1/loyalties/{campaignId}/members} ({@code customer}, {@code limit} 1..100, default 10,
 * {@code order} {@code created_at} or {@code -created_at}, the default): {@code {"object":"list","data_ref":"vouchers",
 * "vouchers":[...],"total":n}};</li>
 * <li>{@code GET /v1/loyalties/members/{memberId}} and {@code /v1/loyalties/{campaignId}/members/{memberId}}: the card
 * by its code; {@code GET /v1/loyalties/members/{memberId}/tiers}: the program's tier whose points range holds the
 * card's balance, if any (the sandbox's programs qualify tiers by the balance);</li>
 * <li>{@code GET /v1/vouchers/{code}}: a card by its code or its {@code v_...} id; {@code GET /v1/customers/{id}}: a
 * customer by its id or {@code source_id};</li>
 * <li>{@code GET /v1/loyalties/{campaignId}/transactions} (List Loyalty Campaign Transactions): every card's
 * transactions in the program, paged as a member's are ({@code limit} 1..100, {@code order} {@code id} or {@code -id},
 * {@code starting_after_id}; {@code has_more}, {@code more_starting_after});</li>
 * <li>the member's points ({@link LoyaltyLedger}): {@code POST .../members/{memberId}/balance},
 * {@code GET .../members/{memberId}/transactions}, {@code POST .../members/{memberId}/redemption}, each also under
 * {@code /v1/loyalties/{campaignId}/}; points the platform expires on its own through {@link #expire}; and, once
 * {@link #sendWebhooks} names a target, the project's signed webhooks for every transaction and tier change
 * ({@link LoyaltyWebhookSender}).</li>
 * </ul>
 * Authentication by {@code X-App-Id} and {@code X-App-Token} (401 otherwise); errors in Voucherify's shape
 * ({@code code}, {@code key}, {@code message}, {@code details}, {@code request_id}); the rate limit announced in
 * {@code X-Rate-Limit-Limit}, {@code -Remaining} and {@code -Retry} (epoch seconds) and enforced with Voucherify's 429
 * body; and, from the shared REST peer support, injected 429s, failures, garbage, delays and lost answers.
 */
public final class LoyaltyPeer extends RestPeerSupport {

    private static final Pattern PROGRAM_MEMBERS = Pattern.compile("/v1/loyalties/([^/]+)/members");
    private static final Pattern MEMBER = Pattern.compile("/v1/loyalties/(?:([^/]+)/)?members/([^/]+)");
    private static final Pattern MEMBER_TIERS = Pattern.compile("/v1/loyalties/members/([^/]+)/tiers");
    private static final Pattern MEMBER_BALANCE = Pattern.compile("/v1/loyalties/(?:([^/]+)/)?members/([^/]+)/balance");
    private static final Pattern MEMBER_TRANSACTIONS =
            Pattern.compile("/v1/loyalties/(?:([^/]+)/)?members/([^/]+)/transactions");
    private static final Pattern MEMBER_REDEMPTION = Pattern.compile("/v1/loyalties/(?:([^/]+)/)?members/([^/]+)/redemption");
    private static final Pattern PROGRAM_TRANSACTIONS = Pattern.compile("/v1/loyalties/([^/]+)/transactions");
    private static final Pattern VOUCHER = Pattern.compile("/v1/vouchers/([^/]+)");
    private static final Pattern CUSTOMER = Pattern.compile("/v1/customers/([^/]+)");
    private static final String CODE_CHARACTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    private record Program(String id, String name, List<ObjectNode> tiers, String createdAt) {
    }

    private final String appId;
    private final String appToken;
    private final SecureRandom random = new SecureRandom();
    private final Object lock = new Object();
    /** Customers by id, in order of creation. */
    private final Map<String, ObjectNode> customers = new LinkedHashMap<>();
    /** Loyalty cards by code, in order of assignment. */
    private final Map<String, ObjectNode> cards = new LinkedHashMap<>();
    private final Map<String, Program> programs = new LinkedHashMap<>();
    private final LoyaltyLedger ledger = new LoyaltyLedger(this::holderOf, this::campaignOf, this::tierOf,
            this::transactionId, this::now, this::error);
    /** The time transactions are made at: the system's, unless a test sets another. */
    private volatile java.time.Clock clock = java.time.Clock.systemUTC();
    private volatile LoyaltyWebhookSender webhooks;
    /** Transactions made so far, for their ids. */
    private long transactions;

    public LoyaltyPeer(int port, String appId, String appToken) throws IOException {
        super("loyalty", port);
        this.appId = appId;
        this.appToken = appToken;
        // Voucherify's Organization plan: 2,000 requests per minute, announced in every answer
        limitWindow(2_000, Duration.ofMinutes(1));
    }

    @Override
    public LoyaltyPeer start() {
        super.start();
        return this;
    }

    /**
     * The clock the platform stamps transactions with ({@code created_at}), e.g. a fixed day's for a test of a
     * closed period. Their ids still grow with every transaction, so that ordering by id is ordering by creation: a
     * test moves the clock forward only, as time goes.
     */
    public LoyaltyPeer clock(java.time.Clock clock) {
        this.clock = clock;
        return this;
    }

    private Instant now() {
        return clock.instant();
    }

    /** A loyalty program (campaign) customers may join. */
    public LoyaltyPeer program(String campaignId, String name) {
        synchronized (lock) {
            programs.putIfAbsent(campaignId, new Program(campaignId, name, new ArrayList<>(), Instant.now().toString()));
        }
        return this;
    }

    /** A tier of a program, reached by a card whose points are within {@code from..to}. */
    public LoyaltyPeer tier(String campaignId, String tierId, String name, long from, long to) {
        synchronized (lock) {
            Program p = programs.get(campaignId);
            if (p == null) throw new IllegalArgumentException("no program " + campaignId);
            ObjectNode tier = JSON.createObjectNode().put("id", tierId).put("name", name).put("campaign_id", campaignId);
            tier.putObject("metadata");
            tier.put("created_at", Instant.now().toString()).putNull("updated_at");
            tier.putObject("earning_rules");
            tier.putObject("rewards");
            tier.putObject("config").putObject("points").put("from", from).put("to", to);
            tier.putObject("points").put("from", from).put("to", to);
            tier.put("object", "loyalty_tier");
            p.tiers().add(tier);
        }
        return this;
    }

    /**
     * Adds points on a card as an earning rule of the program would (a {@code POINTS_ACCRUAL}, source
     * {@code Automation}), or with a negative number subtracts them as the dashboard would (a {@code POINTS_REMOVAL});
     * recorded, tiers recomputed and webhooks sent like any change of the balance.
     */
    public void addPoints(String code, long points) {
        synchronized (lock) {
            ObjectNode card = cards.get(code);
            if (card == null) throw new IllegalArgumentException("no card " + code);
            ledger.change(card, points, points > 0 ? "POINTS_ACCRUAL" : "POINTS_REMOVAL", points > 0 ? "Automation" : null,
                    null, null, null, "USER_PORTAL");
        }
    }

    /**
     * Makes {@code points} of a card's balance expire now (at most its balance), as the platform does on its own when
     * their expiration date passes: a {@code POINTS_EXPIRATION} transaction with the points negative.
     *
     * @return the points that expired
     */
    public long expire(String code, long points) {
        synchronized (lock) {
            ObjectNode card = cards.get(code);
            if (card == null) throw new IllegalArgumentException("no card " + code);
            long expiring = Math.min(points, card.path("loyalty_card").path("balance").asLong());
            if (expiring <= 0) return 0;
            ledger.change(card, -expiring, "POINTS_EXPIRATION", null, null, null, null, "INTERNAL");
            return expiring;
        }
    }

    /**
     * Sends the project's webhook (envelope v2024-01-01, signed with {@code secret}) to {@code target} for every
     * transaction and tier change from now on; off until called, so the peer's other users get no traffic. One minute
     * of Voucherify's retry schedule is {@code retryUnit} here.
     */
    public LoyaltyPeer sendWebhooks(java.net.URI target, String secret, Duration retryUnit) {
        synchronized (lock) {
            if (webhooks != null) webhooks.close();
            webhooks = new LoyaltyWebhookSender(target, secret, "proj_" + token(8), "wh_" + token(24), retryUnit);
            ledger.webhooks(webhooks, appId);
        }
        return this;
    }

    /**
     * Stops sending the project's webhooks ({@code false}) or sends them again ({@code true}), as when Voucherify
     * disables a webhook whose deliveries kept failing until someone enables it again: the transactions made
     * meanwhile are never announced.
     */
    public LoyaltyPeer webhooksEnabled(boolean enabled) {
        synchronized (lock) {
            ledger.webhooks(enabled ? webhooks : null, appId);
        }
        return this;
    }

    /** The webhook sender, or null while webhooks are off. */
    public LoyaltyWebhookSender webhooks() {
        return webhooks;
    }

    /** A card's transactions, oldest first (copies). */
    public List<ObjectNode> transactions(String code) {
        synchronized (lock) {
            return ledger.transactions(code).stream().map(ObjectNode::deepCopy).toList();
        }
    }

    /** A card by its code now (a copy), or null. */
    public ObjectNode member(String code) {
        synchronized (lock) {
            ObjectNode card = cards.get(code);
            return card == null ? null : card.deepCopy();
        }
    }

    /** Every customer held, in order of creation (copies). */
    public List<ObjectNode> customers() {
        synchronized (lock) {
            return customers.values().stream().map(ObjectNode::deepCopy).toList();
        }
    }

    /**
     * A change made at the loyalty platform itself (by the loyalty app, not through this API): the customer with
     * this {@code source_id}, made if there is none, takes these fields and metadata keys (the others are kept), as an
     * upsert would. No webhook is sent (the caller sends the {@code customer.updated} the platform would). Answers a
     * copy.
     */
    public ObjectNode changeCustomer(String sourceId, Map<String, ?> fields, Map<String, ?> metadata) {
        synchronized (lock) {
            String now = Instant.now().toString();
            ObjectNode customer = bySourceId(sourceId);
            if (customer == null) customer = newCustomer(sourceId, now);
            ObjectNode c = customer;
            fields.forEach((k, v) -> c.set(k, JSON.valueToTree(v)));
            ObjectNode m = c.with("metadata");
            metadata.forEach((k, v) -> m.set(k, JSON.valueToTree(v)));
            c.put("updated_at", now);
            return c.deepCopy();
        }
    }

    /** Every loyalty card assigned, in every program, in order of assignment (copies). */
    public List<ObjectNode> members() {
        synchronized (lock) {
            return cards.values().stream().map(ObjectNode::deepCopy).toList();
        }
    }

    @Override
    protected boolean authenticated(Request request) {
        return same(appId, request.header("X-App-Id")) && same(appToken, request.header("X-App-Token"));
    }

    private static boolean same(String expected, String given) {
        return expected != null && given != null
                && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    protected Answer handle(Request request) throws IOException {
        String path = request.path();
        String method = request.method();
        Matcher m;
        synchronized (lock) {
            if ("/v1/customers".equals(path)) {
                return "POST".equals(method) ? upsertCustomer(request) : notAllowed(request);
            }
            if ((m = CUSTOMER.matcher(path)).matches()) {
                if (!"GET".equals(method)) return notAllowed(request);
                String id = decode(m.group(1));
                ObjectNode customer = customers.containsKey(id) ? customers.get(id) : bySourceId(id);
                return customer == null ? error(404, "not_found", "Resource not found", "Cannot find customer with id "
                        + id) : Answer.json(200, customer.deepCopy());
            }
            if ((m = VOUCHER.matcher(path)).matches()) {
                if (!"GET".equals(method)) return notAllowed(request);
                ObjectNode card = byCodeOrId(decode(m.group(1)));
                return card == null ? voucherNotFound(decode(m.group(1))) : Answer.json(200, card.deepCopy());
            }
            if ((m = PROGRAM_TRANSACTIONS.matcher(path)).matches()) {
                if (!"GET".equals(method)) return notAllowed(request);
                Program program = programs.get(decode(m.group(1)));
                if (program == null) return error(404, "not_found", "Resource not found", "Cannot find campaign with id "
                        + decode(m.group(1)));
                return ledger.listProgram(program.id(), request.queryParams());
            }
            if ((m = PROGRAM_MEMBERS.matcher(path)).matches()) {
                Program program = programs.get(decode(m.group(1)));
                if (program == null) return error(404, "not_found", "Resource not found", "Cannot find campaign with id "
                        + decode(m.group(1)));
                return switch (method) {
                    case "POST" -> addMember(program, request);
                    case "GET" -> listMembers(program, request);
                    default -> notAllowed(request);
                };
            }
            if ((m = MEMBER_BALANCE.matcher(path)).matches()) {
                if (!"POST".equals(method)) return notAllowed(request);
                ObjectNode card = card(m);
                return card == null ? voucherNotFound(decode(m.group(2))) : ledger.balance(card, request);
            }
            if ((m = MEMBER_TRANSACTIONS.matcher(path)).matches()) {
                if (!"GET".equals(method)) return notAllowed(request);
                ObjectNode card = card(m);
                return card == null ? voucherNotFound(decode(m.group(2))) : ledger.list(card, request.queryParams());
            }
            if ((m = MEMBER_REDEMPTION.matcher(path)).matches()) {
                if (!"POST".equals(method)) return notAllowed(request);
                ObjectNode card = card(m);
                return card == null ? voucherNotFound(decode(m.group(2))) : ledger.redeem(card, request);
            }
            if ((m = MEMBER_TIERS.matcher(path)).matches() && "GET".equals(method)) {
                ObjectNode card = cards.get(decode(m.group(1)));
                if (card == null) return voucherNotFound(decode(m.group(1)));
                return Answer.json(200, tiersOf(card));
            }
            if ((m = MEMBER.matcher(path)).matches() && "GET".equals(method)) {
                ObjectNode card = cards.get(decode(m.group(2)));
                if (card == null || (m.group(1) != null && !decode(m.group(1)).equals(card.path("campaign_id").asText()))) {
                    return voucherNotFound(decode(m.group(2)));
                }
                return Answer.json(200, card.deepCopy());
            }
        }
        return error(404, "not_found", "Resource not found", "Cannot route " + method + " " + path);
    }

    private Answer upsertCustomer(Request request) {
        JsonNode body;
        try {
            body = request.json();
        } catch (IOException e) {
            return error(400, "invalid_payload", "Invalid payload", "the body is not JSON");
        }
        if (body == null || !body.isObject()) return error(400, "invalid_payload", "Invalid payload", "expected an object");
        String sourceId = body.path("source_id").asText(null);
        ObjectNode customer = sourceId == null ? null : bySourceId(sourceId);
        String now = Instant.now().toString();
        if (customer == null) customer = newCustomer(sourceId, now);
        for (String field : List.of("name", "description", "email", "phone", "birthdate")) {
            if (body.has(field)) customer.set(field, body.get(field));
        }
        if (body.path("address").isObject()) {
            ObjectNode address = customer.path("address").isObject() ? (ObjectNode) customer.get("address")
                    : customer.putObject("address");
            body.get("address").fields().forEachRemaining(f -> address.set(f.getKey(), f.getValue()));
        }
        if (body.path("metadata").isObject()) {
            ObjectNode metadata = customer.with("metadata");
            body.get("metadata").fields().forEachRemaining(f -> metadata.set(f.getKey(), f.getValue()));
        }
        customer.put("updated_at", now);
        return Answer.json(200, customer.deepCopy());
    }

    private ObjectNode newCustomer(String sourceId, String now) {
        ObjectNode customer = JSON.createObjectNode();
        customer.put("id", "cust_" + token(24));
        if (sourceId == null) customer.putNull("source_id"); else customer.put("source_id", sourceId);
        customer.putObject("metadata");
        customer.put("created_at", now).put("object", "customer");
        customers.put(customer.get("id").asText(), customer);
        return customer;
    }

    private ObjectNode bySourceId(String sourceId) {
        for (ObjectNode c : customers.values()) {
            if (sourceId.equals(c.path("source_id").asText(null))) return c;
        }
        return null;
    }

    private Answer addMember(Program program, Request request) {
        JsonNode body;
        try {
            body = request.json();
        } catch (IOException e) {
            return error(400, "invalid_payload", "Invalid payload", "the body is not JSON");
        }
        JsonNode named = body == null ? null : body.get("customer");
        String id = named == null ? null : named.isTextual() ? named.asText() : named.path("id").asText(null);
        String sourceId = named == null || named.isTextual() ? null : named.path("source_id").asText(null);
        ObjectNode holder = null;
        if (id != null) {
            holder = customers.get(id);
            if (holder == null && named.isTextual()) holder = bySourceId(id); // a string may be either
            if (holder == null && sourceId == null) {
                return error(404, "not_found", "Resource not found", "Cannot find customer with id " + id);
            }
        }
        if (holder == null && sourceId != null) {
            holder = bySourceId(sourceId);
            if (holder == null) holder = newCustomer(sourceId, Instant.now().toString());
        }
        if (holder == null) {
            return error(400, "missing_customer", "Missing customer", "customer.id or customer.source_id is required");
        }
        String now = Instant.now().toString();
        String code = token(8);
        while (cards.containsKey(code)) code = token(8);
        ObjectNode card = JSON.createObjectNode().put("id", "v_" + token(32)).put("code", code)
                .put("campaign", program.name()).put("campaign_id", program.id()).put("type", "LOYALTY_CARD");
        card.putObject("loyalty_card").put("points", 0).put("balance", 0).put("expired_points", 0)
                .put("subtracted_points", 0);
        card.put("active", true);
        card.putObject("metadata");
        card.put("created_at", now).put("holder_id", holder.path("id").asText());
        card.putObject("publish").put("object", "list").put("count", 1);
        card.put("object", "voucher");
        cards.put(code, card);
        return Answer.json(200, card.deepCopy());
    }

    private Answer listMembers(Program program, Request request) {
        Map<String, String> q = request.queryParams();
        int limit;
        try {
            limit = Integer.parseInt(q.getOrDefault("limit", "10"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100) return error(400, "invalid_query_params", "Invalid query params", "limit must be 1 to 100");
        String order = q.getOrDefault("order", "-created_at");
        if (!order.equals("created_at") && !order.equals("-created_at")) {
            return error(400, "invalid_query_params", "Invalid query params", "order " + order + " is not supported here");
        }
        String customer = q.get("customer");
        String holderId = customer;
        if (customer != null && !customers.containsKey(customer)) {
            ObjectNode bySource = bySourceId(customer);
            holderId = bySource == null ? "" : bySource.path("id").asText();
        }
        List<ObjectNode> matching = new ArrayList<>();
        for (ObjectNode card : cards.values()) {
            if (program.id().equals(card.path("campaign_id").asText())
                    && (holderId == null || holderId.equals(card.path("holder_id").asText()))) {
                matching.add(card);
            }
        }
        if (order.startsWith("-")) Collections.reverse(matching); // held in order of assignment
        ObjectNode list = JSON.createObjectNode().put("object", "list").put("data_ref", "vouchers");
        ArrayNode vouchers = list.putArray("vouchers");
        matching.stream().limit(limit).forEach(c -> vouchers.add(c.deepCopy()));
        list.put("total", matching.size());
        return Answer.json(200, list);
    }

    /** A card by its code or its {@code v_...} id, as {@code GET /v1/vouchers/{code}} takes either; or null. */
    private ObjectNode byCodeOrId(String codeOrId) {
        ObjectNode card = cards.get(codeOrId);
        if (card != null) return card;
        for (ObjectNode c : cards.values()) if (codeOrId.equals(c.path("id").asText())) return c;
        return null;
    }

    /** The card a member path names ({@code group(1)} the campaign, optional; {@code group(2)} the code), or null. */
    private ObjectNode card(Matcher m) {
        ObjectNode card = cards.get(decode(m.group(2)));
        if (card == null || (m.group(1) != null && !decode(m.group(1)).equals(card.path("campaign_id").asText()))) {
            return null;
        }
        return card;
    }

    private ObjectNode holderOf(ObjectNode card) {
        ObjectNode c = customers.get(card.path("holder_id").asText());
        ObjectNode holder = JSON.createObjectNode().put("id", card.path("holder_id").asText());
        holder.set("name", c == null ? null : c.get("name"));
        holder.set("email", c == null ? null : c.get("email"));
        holder.set("source_id", c == null ? null : c.get("source_id"));
        holder.set("metadata", c == null ? JSON.createObjectNode() : c.path("metadata").deepCopy());
        holder.put("object", "customer");
        for (String f : List.of("name", "email", "source_id")) if (holder.get(f) == null) holder.putNull(f);
        return holder;
    }

    private ObjectNode campaignOf(ObjectNode card) {
        Program p = programs.get(card.path("campaign_id").asText());
        ObjectNode c = JSON.createObjectNode().put("id", card.path("campaign_id").asText())
                .put("name", p == null ? card.path("campaign").asText() : p.name())
                .put("campaign_type", "LOYALTY_PROGRAM").put("type", "AUTO_UPDATE").put("is_referral_code", false);
        ObjectNode voucher = c.putObject("voucher").put("type", "LOYALTY_CARD");
        voucher.putObject("loyalty_card").put("points", 0);
        voucher.putObject("redemption").putNull("quantity").put("redeemed_quantity", 0);
        c.put("auto_join", false).put("join_once", true).put("active", true).putNull("category_id").putNull("category");
        c.putObject("metadata");
        c.putNull("start_date").putNull("expiration_date").putNull("description");
        c.put("created_at", p == null ? null : p.createdAt()).putNull("updated_at").put("object", "campaign");
        return c;
    }

    /** The tier a balance falls in, in the card's program (of several, the highest threshold), or null. */
    private ObjectNode tierOf(ObjectNode card, long balance) {
        Program program = programs.get(card.path("campaign_id").asText());
        ObjectNode best = null;
        if (program == null) return null;
        for (ObjectNode tier : program.tiers()) {
            JsonNode range = tier.path("points");
            if (balance >= range.path("from").asLong() && balance <= range.path("to").asLong()
                    && (best == null || range.path("from").asLong() > best.path("points").path("from").asLong())) {
                best = tier;
            }
        }
        return best == null ? null : best.deepCopy();
    }

    /** {@code vtx_} and 18 hex digits, growing with every transaction, so ordering by id is ordering by creation. */
    private String transactionId() {
        transactions++;
        return "vtx_" + String.format("%011x%07x", System.currentTimeMillis(), transactions & 0xfffffff);
    }

    private ObjectNode tiersOf(ObjectNode card) {
        ObjectNode list = JSON.createObjectNode().put("object", "list").put("data_ref", "data");
        ArrayNode data = list.putArray("data");
        Program program = programs.get(card.path("campaign_id").asText());
        // the sandbox's programs qualify tiers by the balance, so expiring and spending points can move a member down
        long points = card.path("loyalty_card").path("balance").asLong();
        if (program != null) {
            for (ObjectNode tier : program.tiers()) {
                JsonNode range = tier.path("points");
                if (points >= range.path("from").asLong() && points <= range.path("to").asLong()) data.add(tier.deepCopy());
            }
        }
        list.put("total", data.size());
        return list;
    }

    private Answer voucherNotFound(String code) {
        return error(404, "not_found", "Resource not found", "Cannot find voucher with id " + code);
    }

    private Answer notAllowed(Request request) {
        return error(405, "method_not_allowed", "Method not allowed", request.method() + " " + request.path());
    }

    @Override
    protected Answer error(int status, String key, String message) {
        String k = key != null ? key : switch (status) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 409 -> "conflict";
            case 422 -> "unprocessable_entity";
            case 429 -> "too_many_requests";
            default -> status >= 500 ? "internal_server_error" : "error";
        };
        return error(status, k, message, null);
    }

    Answer error(int status, String key, String message, String details) {
        ObjectNode body = JSON.createObjectNode().put("code", status).put("key", key).put("message", message);
        if (details != null) body.put("details", details);
        body.put("request_id", "v-" + token(18).toLowerCase());
        return Answer.json(status, body);
    }

    /** Voucherify's documented answer over the limit: a code and a message, no key. */
    @Override
    protected Answer overLimit() {
        return Answer.json(429, JSON.createObjectNode().put("code", 429)
                .put("message", "Too many requests hit the API too quickly.")).with("X-Rate-Limit-Type", "api_calls");
    }

    @Override
    protected Map<String, String> windowHeaders(int max, int remaining, Duration interval, Duration resetIn) {
        // the second the window has ended by: rounded up, with the milliseconds the wall clock and the truncation of
        // the window's rest drop (a request at that second, as announced, must not meet the window still closed)
        long retry = (System.currentTimeMillis() + resetIn.toMillis() + 2 + 999) / 1000;
        return Map.of("X-Rate-Limit-Limit", String.valueOf(max), "X-Rate-Limit-Remaining", String.valueOf(remaining),
                "X-Rate-Limit-Retry", String.valueOf(retry));
    }

    private String token(int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) sb.append(CODE_CHARACTERS.charAt(random.nextInt(CODE_CHARACTERS.length())));
        return sb.toString();
    }

    @Override
    public void close() {
        super.close();
        LoyaltyWebhookSender w = webhooks;
        if (w != null) w.close();
    }

    private static String decode(String segment) {
        return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
