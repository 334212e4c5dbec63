package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.rest.FormBody;
import io.interchange.connectors.rest.IdempotencyKeys;
import io.interchange.connectors.rest.RestAuth;
import io.interchange.connectors.rest.RestClient;
import io.interchange.connectors.rest.RestRequest;
import io.interchange.connectors.rest.RestTarget;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.apache.camel.CamelContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The billing platform's REST API (Stripe's {@code /v1}), a REST target of the connector kit ({@link RestClient}, route
 * {@link #ROUTE_ID}, throttled to the configured rate, the secret key given to the HTTP client, never put in a URI or
 * message header). It reads where an event is not enough (the rest of an invoice's lines, a customer), each read naming
 * the API version the objects are to be rendered in ({@code Stripe-Version}) so they have the shape of the event they
 * complete; and it creates and updates customers, each write under an {@code Idempotency-Key} the caller derives from
 * what is written, so a retry after a crash is performed once.
 *
 * <p>Answers are classified by the kit: a 429 is waited out and retried a few times unless Stripe says
 * {@code Stripe-Should-Retry: false}; 409 (a request with the same idempotency key in flight), 5xx, timeouts and
 * unreachable are transient ({@link TransientFailure}: the webhook answers 503 and Stripe retries, the stream route
 * retries); 400 (an {@code idempotency_error} among them), 401, 403, 404 are permanent ({@link PermanentFailure}), which
 * the translator parks with Stripe's reason.
 */
public final class StripeApi {

    public static final String ROUTE_ID = "billing.stripe-api";

    private static final int PAGE = 100;
    /** Pages read for one list at most (10,000 invoice lines): a bound, not a limit anyone meets. */
    private static final int MAX_PAGES = 100;

    private final RestClient client;
    private final Map<String, List<JsonNode>> linesCache = lruCache(1_000);

    public StripeApi(String baseUrl, String apiKey, Duration timeout, int maxRate) {
        if (maxRate < 1) throw new IllegalArgumentException("interchange.billing.api-max-rate must be at least 1");
        RestTarget target;
        try {
            target = RestTarget.of(ROUTE_ID, "Stripe API", baseUrl, timeout, maxRate, RestAuth.bearer(apiKey));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("interchange.billing.api-url must be http or https: " + baseUrl, e);
        }
        this.client = new RestClient(target.withConflictTransient(true).withNoRetryHeader("Stripe-Should-Retry"));
    }

    /** The client of the configured API ({@code interchange.billing.api-*}). */
    public static StripeApi from(Config config) {
        return new StripeApi(config.get(Settings.BILLING_API_URL), config.get(Settings.BILLING_API_KEY),
                config.getDuration(Settings.BILLING_API_TIMEOUT), config.getInt(Settings.BILLING_API_MAX_RATE));
    }

    /** The kit's client of this target: its route and HTTP client configuration are the runtime's to install. */
    public RestClient client() {
        return client;
    }

    /** Whether the API may be read (a key is configured). */
    public boolean enabled() {
        return client.enabled();
    }

    /** Binds the client to the started Camel context whose route it sends through. */
    public void start(CamelContext context) {
        client.start(context);
    }

    /**
     * Every line of an invoice after {@code startingAfter} (the last line the event embeds), all pages, rendered in
     * {@code apiVersion}. A finalized invoice's lines do not change, so they are kept (for a thousand invoices).
     */
    public List<JsonNode> invoiceLines(String invoiceId, String startingAfter, String apiVersion) {
        String key = invoiceId + "|" + startingAfter + "|" + apiVersion;
        synchronized (linesCache) {
            List<JsonNode> cached = linesCache.get(key);
            if (cached != null) return cached;
        }
        List<JsonNode> lines = list("/v1/invoices/" + encode(invoiceId) + "/lines", startingAfter, apiVersion);
        synchronized (linesCache) {
            linesCache.put(key, lines);
        }
        return lines;
    }

    /** A customer, as the API renders it in {@code apiVersion}. */
    public JsonNode customer(String customerId, String apiVersion) {
        return get("/v1/customers/" + encode(customerId), Map.of(), apiVersion);
    }

    /**
     * Every object of a list endpoint ({@code /v1/invoices}, {@code /v1/invoice_payments}, {@code /v1/refunds},
     * {@code /v1/credit_notes}) created from {@code createdGte} up to, not including, {@code createdLt} (Unix seconds),
     * rendered in {@code apiVersion}, handed to {@code each} page by page as Stripe pages them: {@code limit} objects
     * (1 to 100) a page, newest first, the next page {@code starting_after} the last object of the one before while
     * {@code has_more} says there is one. Nothing is held beyond a page. Returns the number of objects read.
     */
    public long listCreated(String path, long createdGte, long createdLt, String apiVersion, int pageSize,
                            java.util.function.Consumer<JsonNode> each) {
        return listCreatedPages(path, createdGte, createdLt, apiVersion, pageSize, page -> page.forEach(each));
    }

    /** As {@link #listCreated}, each page handed on whole (its objects in list order). */
    public long listCreatedPages(String path, long createdGte, long createdLt, String apiVersion, int pageSize,
                                 java.util.function.Consumer<List<JsonNode>> each) {
        if (pageSize < 1 || pageSize > PAGE) throw new IllegalArgumentException("a Stripe list page holds 1 to 100 objects");
        long read = 0;
        String after = null;
        while (true) {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("limit", String.valueOf(pageSize));
            query.put("created[gte]", String.valueOf(createdGte));
            query.put("created[lt]", String.valueOf(createdLt));
            if (after != null) query.put("starting_after", after);
            JsonNode list = get(path, query, apiVersion);
            JsonNode data = list.path("data");
            if (!"list".equals(list.path("object").asText()) || !data.isArray()) {
                throw new PermanentFailure("Stripe API " + path + " answered something that is not a list");
            }
            List<JsonNode> page = new ArrayList<>(data.size());
            data.forEach(page::add);
            each.accept(page);
            read += page.size();
            if (!list.path("has_more").asBoolean(false) || data.isEmpty()) return read;
            after = data.get(data.size() - 1).path("id").asText();
        }
    }

    /**
     * Every customer created before {@code createdLt} (Unix seconds; deleted customers are not listed), rendered in
     * {@code apiVersion}, page by page ({@code GET /v1/customers}, {@code limit} 1 to 100, {@code starting_after}), as
     * {@link #listCreatedPages}; the number read.
     */
    public long listCustomerPages(long createdLt, String apiVersion, int pageSize,
                                  java.util.function.Consumer<List<JsonNode>> each) {
        return listCreatedPages("/v1/customers", 0, createdLt, apiVersion, pageSize, each);
    }

    /**
     * Creates a customer ({@code POST /v1/customers}, form-encoded: {@code email}, {@code name},
     * {@code metadata[global_customer_id]} and whatever else {@code params} holds, nested maps as Stripe's bracketed
     * keys) under {@code idempotencyKey}: asked again with the same key and parameters, Stripe answers the customer it
     * created the first time; with other parameters, 400 {@code idempotency_error} (permanent).
     *
     * @param idempotencyKey derived from what is created, e.g. {@link #customerCreateKey}
     */
    public JsonNode createCustomer(Map<String, ?> params, String idempotencyKey) {
        return post("/v1/customers", params, idempotencyKey);
    }

    /** Updates a customer ({@code POST /v1/customers/{id}}), with the same form encoding and idempotency as a create. */
    public JsonNode updateCustomer(String customerId, Map<String, ?> params, String idempotencyKey) {
        return post("/v1/customers/" + encode(customerId), params, idempotencyKey);
    }

    /**
     * The idempotency key of creating the customer of a global customer id with these parameters: the same creation
     * asked again (a retry, a replay after a crash) carries the same key, so Stripe creates one customer.
     */
    public static String customerCreateKey(String globalCustomerId, Map<String, ?> params) {
        return IdempotencyKeys.derive("customer-create", globalCustomerId, FormBody.of(params).text());
    }

    private JsonNode post(String path, Map<String, ?> params, String idempotencyKey) {
        if (idempotencyKey == null || idempotencyKey.isBlank()) {
            throw new IllegalArgumentException("a write to the Stripe API needs an idempotency key");
        }
        return client.call(RestRequest.post(path, FormBody.of(params)).idempotencyKey(idempotencyKey)).json();
    }

    private List<JsonNode> list(String path, String startingAfter, String apiVersion) {
        List<JsonNode> out = new ArrayList<>();
        String after = startingAfter;
        for (int page = 0; page < MAX_PAGES; page++) {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("limit", String.valueOf(PAGE));
            if (after != null) query.put("starting_after", after);
            JsonNode list = get(path, query, apiVersion);
            JsonNode data = list.path("data");
            if (!data.isArray()) throw new PermanentFailure("Stripe API " + path + " answered a list without data");
            data.forEach(out::add);
            if (!list.path("has_more").asBoolean(false) || data.isEmpty()) return out;
            after = data.get(data.size() - 1).path("id").asText();
        }
        throw new PermanentFailure("Stripe API " + path + " has more than " + MAX_PAGES * PAGE + " items");
    }

    JsonNode get(String path, Map<String, String> query, String apiVersion) {
        if (!enabled()) {
            throw new PermanentFailure("the billing platform's API is not configured (interchange.billing.api-key)");
        }
        return client.call(RestRequest.get(path).query(query).header("Stripe-Version", apiVersion)).json();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static <V> Map<String, V> lruCache(int size) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > size;
            }
        };
    }
}
