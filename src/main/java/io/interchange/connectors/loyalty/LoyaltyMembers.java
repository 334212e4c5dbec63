package io.interchange.connectors.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.rest.RestAuth;
import io.interchange.connectors.rest.RestBody;
import io.interchange.connectors.rest.RestClient;
import io.interchange.connectors.rest.RestRequest;
import io.interchange.connectors.rest.RestTarget;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The loyalty platform's members (Voucherify's API v1), a REST target of the connector kit ({@link RestClient}, route
 * {@link #ROUTE_ID}, throttled to the configured rate, authenticated with the project's {@code X-App-Id} and
 * {@code X-App-Token} given to the HTTP client, never put in a URI or message header). For each global customer it keeps
 * one customer and one loyalty card in the configured loyalty program ({@code interchange.loyalty.campaign-id}).
 *
 * <p>Voucherify takes no idempotency key, so every write here is safe to ask again by construction:
 * <ul>
 * <li>the customer is written with {@code POST /v1/customers} and our global id as its {@code source_id}: Voucherify
 * documents this as an upsert (a {@code source_id} that exists answers that customer, with the fields updated), so a
 * retry updates the customer it created the first time;</li>
 * <li>adding a member ({@code POST /v1/loyalties/{campaignId}/members}) is not an upsert: each call assigns another card.
 * So every attempt first reads the customer's cards in the program ({@code GET /v1/loyalties/{campaignId}/members?customer=
 * <id>}) and adds one only when there is none: a retry after an answer was lost finds the card the first attempt
 * assigned. Two callers racing for one customer could both add one; the caller prevents that with its claim in the
 * store before it calls.</li>
 * </ul>
 * Answers are classified by the kit: 429 waited out (Voucherify's {@code Retry-After} and {@code X-Rate-Limit-*}
 * headers honoured), 5xx, timeouts and unreachable transient; 400 (a program without a card left to assign:
 * {@code no_voucher_suitable_for_publication}), 401 (wrong keys), 403, 404 permanent, with Voucherify's
 * {@code key: message (details)} in the reason.
 */
public final class LoyaltyMembers {

    public static final String ROUTE_ID = "loyalty.api";
    /** Metadata key under which the customer carries our global id, besides its {@code source_id}. */
    public static final String GLOBAL_ID_METADATA = "global_customer_id";
    /** Cards read per list request: Voucherify's largest page (a customer holds one card per program, or a few). */
    static final int PAGE = 100;

    private static final Logger LOG = LoggerFactory.getLogger(LoyaltyMembers.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A global customer's membership in the loyalty program.
     *
     * @param memberId   the loyalty card's code (e.g. {@code 8KBUE0M6}), not its {@code v_...} id: Voucherify's member
     *                   endpoints ({@code /v1/loyalties/members/{memberId}}, its balance, transactions and tiers) name
     *                   the member by the code, and its loyalty webhooks carry the code too
     * @param customerId Voucherify's id of the customer ({@code cust_...}) holding the card
     * @param created    whether this call assigned the card (false: the customer already held one)
     */
    public record Member(String memberId, String customerId, boolean created) {
        public Member {
            Objects.requireNonNull(memberId);
            Objects.requireNonNull(customerId);
        }
    }

    /** A loyalty tier: Voucherify's id ({@code ltr_...}) and name. */
    public record Tier(String id, String name) {
    }

    /**
     * A loyalty card as the platform holds it now.
     *
     * @param memberId   the card's code
     * @param customerId the holder ({@code holder_id})
     * @param campaignId the program the card belongs to
     * @param points     every point added over the card's life ({@code loyalty_card.points})
     * @param balance    points available now ({@code loyalty_card.balance}: points less expired, subtracted and
     *                   redeemed ones)
     * @param tier       the member's tier, or null where the program has none or the member has not reached one
     */
    public record MemberCard(String memberId, String customerId, String campaignId, long points, long balance, Tier tier) {
    }

    private final RestClient client;
    private final String campaignId;

    public LoyaltyMembers(RestTarget target, String campaignId) {
        this.client = new RestClient(target);
        this.campaignId = campaignId == null ? "" : campaignId.strip();
    }

    /** The target of the configuration ({@code interchange.loyalty.*}). */
    public static LoyaltyMembers from(Config config) {
        RestAuth auth = RestAuth.appKeys(config.get(Settings.LOYALTY_APP_ID), config.get(Settings.LOYALTY_APP_TOKEN));
        RestTarget target;
        try {
            target = RestTarget.of(ROUTE_ID, "Voucherify API", config.get(Settings.LOYALTY_API_URL),
                    config.getDuration(Settings.LOYALTY_API_TIMEOUT), config.getInt(Settings.LOYALTY_API_MAX_RATE), auth);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("interchange.loyalty.api-url / api-max-rate: " + e.getMessage(), e);
        }
        return new LoyaltyMembers(target, config.get(Settings.LOYALTY_CAMPAIGN_ID));
    }

    /** The kit's client of this target: its route and HTTP client configuration are the runtime's to install. */
    public RestClient client() {
        return client;
    }

    /** Whether the platform may be called (both application keys are configured). */
    public boolean enabled() {
        return client.enabled();
    }

    /** The loyalty program members join; empty while not configured. */
    public String campaignId() {
        return campaignId;
    }

    /**
     * Creates or updates the customer of a global id ({@code POST /v1/customers}): {@code source_id} the global id,
     * {@code name} (a person's first and last name, an organisation's company name), {@code email}, {@code phone},
     * {@code address} from the billing address ({@code line_1} street and house number, {@code postal_code},
     * {@code city}, {@code state} the region, {@code country} the ISO code as held) and {@code metadata.global_customer_id}.
     * Fields the customer does not have are left out, so they keep whatever the platform holds. Asked again, it updates
     * the same customer (Voucherify's upsert by {@code source_id}).
     *
     * @return Voucherify's id of the customer ({@code cust_...})
     */
    public String upsertCustomer(String globalId, Customer customer) {
        requireGlobalId(globalId, customer);
        JsonNode answer = client.call(RestRequest.post("/v1/customers", RestBody.json(customerBody(globalId, customer))))
                .json();
        String id = answer.path("id").asText("");
        if (id.isEmpty()) {
            throw new TransientFailure("Voucherify API POST /v1/customers answered a customer without an id for "
                    + globalId);
        }
        if (!globalId.equals(answer.path("source_id").asText(globalId))) {
            // the platform matched another customer: writing on would mix two customers' loyalty
            throw new PermanentFailure("Voucherify API POST /v1/customers answered customer " + id + " with source_id "
                    + answer.path("source_id").asText() + " for " + globalId);
        }
        return id;
    }

    /**
     * Makes sure the global customer is a member of the loyalty program, holding one card: upserts the customer
     * ({@link #upsertCustomer}), reads the cards the customer holds in the program, and adds the customer as a member
     * ({@code POST /v1/loyalties/{campaignId}/members}, the customer by its id and {@code source_id}, the global id in
     * the publication's metadata) only when there is none. Read before every create, so a retry after a lost answer
     * finds the first card instead of assigning a second. Should the customer hold several cards (added outside this
     * runtime, or by racing callers), the oldest is the member and the others are logged.
     */
    public Member ensureMember(String globalId, Customer customer) {
        if (campaignId.isEmpty()) {
            throw new PermanentFailure("the loyalty program is not configured (interchange.loyalty.campaign-id): "
                    + globalId + " not added");
        }
        String customerId = upsertCustomer(globalId, customer);
        List<JsonNode> cards = cardsOf(customerId);
        if (!cards.isEmpty()) {
            if (cards.size() > 1) {
                LOG.warn("Voucherify customer {} ({}) holds {} cards in {}: {}; {} is taken as the member", customerId,
                        globalId, cards.size(), campaignId, cards.stream().map(c -> c.path("code").asText())
                                .collect(Collectors.joining(", ")), cards.get(0).path("code").asText());
            }
            return new Member(cards.get(0).path("code").asText(), customerId, false);
        }
        ObjectNode body = JSON.createObjectNode();
        body.putObject("customer").put("id", customerId).put("source_id", globalId);
        body.putObject("metadata").put(GLOBAL_ID_METADATA, globalId);
        JsonNode card = client.call(RestRequest.post("/v1/loyalties/" + segment(campaignId) + "/members",
                RestBody.json(body))).json();
        String code = card.path("code").asText("");
        if (code.isEmpty()) {
            // whether a card was assigned is not known: the next attempt reads before it adds
            throw new TransientFailure("Voucherify API POST /v1/loyalties/" + campaignId + "/members answered without "
                    + "a card code for " + globalId);
        }
        return new Member(code, customerId, true);
    }

    /**
     * The loyalty card of a member now ({@code GET /v1/loyalties/members/{memberId}}) and its tier
     * ({@code GET /v1/loyalties/members/{memberId}/tiers}; of several, the one with the highest points threshold): two
     * requests. A code that is not a loyalty card is permanent, as is one Voucherify does not know (404).
     */
    public MemberCard member(String memberId) {
        Objects.requireNonNull(memberId);
        String path = "/v1/loyalties/members/" + segment(memberId);
        JsonNode card = client.call(RestRequest.get(path)).json();
        JsonNode loyalty = card.path("loyalty_card");
        if (!loyalty.isObject()) {
            throw new PermanentFailure("Voucherify API GET " + path + " answered a " + card.path("type").asText("voucher")
                    + " that is not a loyalty card");
        }
        Tier tier = null;
        long threshold = Long.MIN_VALUE;
        for (JsonNode t : client.call(RestRequest.get(path + "/tiers")).json().path("data")) {
            long from = t.path("points").path("from").asLong(0);
            if (tier == null || from > threshold) {
                tier = new Tier(t.path("id").asText(), t.path("name").asText(null));
                threshold = from;
            }
        }
        return new MemberCard(card.path("code").asText(memberId), card.path("holder_id").asText(null),
                card.path("campaign_id").asText(null), loyalty.path("points").asLong(0), loyalty.path("balance").asLong(0),
                tier);
    }

    /** The customer's cards in the program, oldest first (Voucherify lists the newest first unless asked). */
    List<JsonNode> cardsOf(String customerId) {
        String path = "/v1/loyalties/" + segment(campaignId) + "/members";
        JsonNode list = client.call(RestRequest.get(path).query(Map.of("customer", customerId,
                "limit", String.valueOf(PAGE), "order", "created_at"))).json();
        JsonNode vouchers = list.path("vouchers");
        if (!vouchers.isArray()) {
            throw new TransientFailure("Voucherify API GET " + path + " answered a list without vouchers");
        }
        List<JsonNode> cards = new ArrayList<>();
        for (JsonNode v : vouchers) {
            // the list is the program's and filtered by holder; checked again, a card of anyone else is never taken
            boolean ours = customerId.equals(v.path("holder_id").asText())
                    && (!v.hasNonNull("campaign_id") || campaignId.equals(v.path("campaign_id").asText()))
                    && !v.path("code").asText("").isEmpty();
            if (ours) cards.add(v);
        }
        return cards;
    }

    /** The body of {@code POST /v1/customers} for a global customer. */
    static ObjectNode customerBody(String globalId, Customer c) {
        ObjectNode body = JSON.createObjectNode();
        body.put("source_id", globalId);
        String name = "organisation".equals(c.kind()) && present(c.companyName()) ? c.companyName()
                : join(" ", c.firstName(), c.lastName());
        if (name.isEmpty() && present(c.companyName())) name = c.companyName().strip();
        if (!name.isEmpty()) body.put("name", name);
        if (present(c.email())) body.put("email", c.email().strip());
        if (present(c.phone())) body.put("phone", c.phone().strip());
        Customer.PostalAddress a = c.billingAddress();
        if (a != null) {
            ObjectNode address = JSON.createObjectNode();
            String line1 = join(" ", a.street(), a.houseNumber());
            if (!line1.isEmpty()) address.put("line_1", line1);
            if (present(a.postalCode())) address.put("postal_code", a.postalCode().strip());
            if (present(a.city())) address.put("city", a.city().strip());
            if (present(a.region())) address.put("state", a.region().strip());
            if (present(a.country())) address.put("country", a.country().strip());
            if (!address.isEmpty()) body.set("address", address);
        }
        body.putObject("metadata").put(GLOBAL_ID_METADATA, globalId);
        return body;
    }

    private static void requireGlobalId(String globalId, Customer customer) {
        if (globalId == null || globalId.isBlank()) throw new IllegalArgumentException("a global customer id is needed");
        if (customer.globalId() != null && !customer.globalId().equals(globalId)) {
            throw new IllegalArgumentException("customer " + customer.globalId() + " written as " + globalId);
        }
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    private static String join(String separator, String... parts) {
        return Stream.of(parts).filter(LoyaltyMembers::present).map(String::strip).collect(Collectors.joining(separator));
    }

    /** One path segment, percent-encoded (a code may hold characters a path cannot). */
    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
