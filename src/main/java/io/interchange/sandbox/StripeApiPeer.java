package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.rest.RestPeerSupport;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The billing platform's REST API as Stripe serves it, for the sandbox and tests: {@code GET /v1/invoices/{id}/lines}
 * (a list object: {@code limit} 1..100, default 10, {@code starting_after}, {@code has_more}, {@code url}), the lists
 * {@code GET /v1/invoices}, {@code /v1/invoice_payments}, {@code /v1/refunds} and {@code /v1/credit_notes} (the same
 * paging, newest first, filtered by {@code created[gte|gt|lt|lte]}, of the objects {@link #putObject put}),
 * {@code GET /v1/customers/{id}}, the list {@code GET /v1/customers} (the same paging and filters, of the customers
 * created through the API or put), and {@code POST /v1/customers} and {@code /v1/customers/{id}} (form-encoded, nested
 * {@code metadata[...]} keys, metadata merged key by key, an empty value unsetting one) under Stripe's idempotency: a
 * request with an {@code Idempotency-Key} seen before with the same parameters is answered as the first time
 * ({@code Idempotent-Replayed: true}), with other parameters 400 {@code idempotency_error}. Bearer-key authentication
 * (401 with Stripe's error object otherwise), 404 {@code resource_missing} for unknown objects, the {@code Request-Id}
 * and {@code Stripe-Version} answer headers, and, from the shared REST peer support, injectable rate limiting (429 with
 * {@code Stripe-Should-Retry}), failures and delays. Objects are served as put, in the shape of whatever API version
 * the caller asks for (the caller puts them in that shape).
 */
public final class StripeApiPeer extends RestPeerSupport {

    /** One request as received: path with query, and the API version asked for. */
    public record Request(String pathAndQuery, String stripeVersion) {
    }

    /** What a key was first used for, and the answer then given. */
    private record Idempotent(String request, JsonNode params, Answer answer) {
    }

    private final Map<String, List<JsonNode>> invoiceLines = new ConcurrentHashMap<>();
    /** Objects served by the list endpoints, per list path ({@code /v1/invoices}, ...), by id. */
    private final Map<String, Map<String, JsonNode>> listed = new ConcurrentHashMap<>();
    private final Map<String, JsonNode> customers = new ConcurrentHashMap<>();
    private final Map<String, Idempotent> idempotency = new ConcurrentHashMap<>();
    private volatile boolean shouldRetry = true;

    public StripeApiPeer(int port, String apiKey) throws IOException {
        super("stripe-api", port);
        acceptBearer(apiKey);
    }

    @Override
    public StripeApiPeer start() {
        super.start();
        return this;
    }

    /** The invoice's lines, in order, as {@code GET /v1/invoices/{id}/lines} lists them. */
    public void putInvoiceLines(String invoiceId, List<JsonNode> lines) {
        invoiceLines.put(invoiceId, List.copyOf(lines));
    }

    /**
     * An object the list endpoint of its kind serves ({@code object}: invoice, invoice_payment, refund, credit_note), as
     * put: in the shape of the API version the caller asks for. Put again under its id, it replaces the earlier one.
     */
    public void putObject(JsonNode object) {
        if ("customer".equals(object.path("object").asText())) {
            putCustomer(object);
            return;
        }
        String path = LIST_PATHS.get(object.path("object").asText());
        if (path == null) throw new IllegalArgumentException("no list endpoint serves " + object.path("object").asText());
        listed.computeIfAbsent(path, p -> new ConcurrentHashMap<>()).put(object.path("id").asText(), object);
        versions.merge(path, 1L, Long::sum);
    }

    /** Whether a list endpoint serves objects of this kind ({@code object}: invoice, invoice_payment, ...). */
    public boolean lists(String objectKind) {
        return LIST_PATHS.containsKey(objectKind);
    }

    /** Takes an object off its list endpoint. */
    public void removeObject(String kind, String id) {
        Map<String, JsonNode> objects = listed.get(LIST_PATHS.get(kind));
        if (objects != null && objects.remove(id) != null) versions.merge(LIST_PATHS.get(kind), 1L, Long::sum);
        if ("customer".equals(kind)) customers.remove(id);
    }

    private static final Map<String, String> LIST_PATHS = Map.of("invoice", "/v1/invoices",
            "invoice_payment", "/v1/invoice_payments", "refund", "/v1/refunds", "credit_note", "/v1/credit_notes",
            "customer", "/v1/customers");

    /** A customer, served by {@code GET /v1/customers/{id}} and listed by {@code GET /v1/customers}. */
    public void putCustomer(JsonNode customer) {
        String id = customer.path("id").asText();
        customers.put(id, customer);
        listed.computeIfAbsent("/v1/customers", p -> new ConcurrentHashMap<>()).put(id, customer);
        versions.merge("/v1/customers", 1L, Long::sum);
    }

    /** The next {@code n} requests are answered 429 with {@code Stripe-Should-Retry} saying whether to retry. */
    public void rateLimitNext(int n, String retryAfterSeconds, boolean shouldRetry) {
        this.shouldRetry = shouldRetry;
        rateLimitNext(n, retryAfterSeconds);
    }

    /** Customers held, created through the API or put. */
    public List<JsonNode> customers() {
        return List.copyOf(customers.values());
    }

    /** Every request with the API version it asked for. */
    public List<Request> requests() {
        return requestLog().stream().map(r -> new Request(r.pathAndQuery(), r.header("Stripe-Version"))).toList();
    }

    @Override
    protected Answer handle(RestPeerSupport.Request request) throws IOException {
        String version = request.header("Stripe-Version");
        Answer answer = route(request);
        return version == null ? answer : answer.with("Stripe-Version", version);
    }

    private Answer route(RestPeerSupport.Request request) {
        String path = request.path();
        if ("POST".equals(request.method()) && path.matches("/v1/customers(/[^/]+)?")) {
            return idempotent(request, () -> writeCustomer(path, request.form()));
        }
        if (!"GET".equals(request.method())) {
            return error(404, null, "Unrecognized request URL (" + request.method() + ": " + path + ")");
        }
        if (path.matches("/v1/invoices/[^/]+/lines")) return lines(path.split("/")[3], request.queryParams());
        if (LIST_PATHS.containsValue(path)) return list(path, request.queryParams());
        if (path.matches("/v1/customers/[^/]+")) {
            JsonNode customer = customers.get(path.split("/")[3]);
            return customer == null ? missing("customer", path.split("/")[3]) : withRequestId(Answer.json(200, customer));
        }
        return error(404, null, "Unrecognized request URL (GET: " + path + ")");
    }

    /** Stripe keeps a key's first result and answers it again to the same request; another request under it is refused. */
    private Answer idempotent(RestPeerSupport.Request request, java.util.function.Supplier<Answer> perform) {
        String key = request.header("Idempotency-Key");
        if (key == null) return perform.get();
        ObjectNode params = request.form();
        String what = request.method() + " " + request.path();
        synchronized (idempotency) {
            Idempotent first = idempotency.get(key);
            if (first != null) {
                if (first.request().equals(what) && first.params().equals(params)) {
                    return first.answer().with("Idempotent-Replayed", "true");
                }
                return stripeError(400, "idempotency_error", null, "Keys for idempotent requests can only be used with "
                        + "the same parameters they were first used with. Try using a key other than '" + key
                        + "' if you meant to execute a different request.");
            }
            Answer answer = perform.get();
            idempotency.put(key, new Idempotent(what, params, answer));
            return answer;
        }
    }

    private Answer writeCustomer(String path, ObjectNode params) {
        ObjectNode customer;
        if (path.equals("/v1/customers")) {
            customer = JSON.createObjectNode().put("id", "cus_" + UUID.randomUUID().toString().replace("-", "").substring(0, 14))
                    .put("object", "customer").put("created", Instant.now().getEpochSecond());
            customer.putObject("metadata");
        } else {
            JsonNode existing = customers.get(path.substring("/v1/customers/".length()));
            if (existing == null) return missing("customer", path.substring("/v1/customers/".length()));
            customer = existing.deepCopy();
        }
        params.fields().forEachRemaining(f -> {
            if (f.getKey().equals("metadata") && f.getValue().isObject()) {
                ObjectNode metadata = customer.with("metadata");
                f.getValue().fields().forEachRemaining(m -> {
                    if (m.getValue().asText().isEmpty()) metadata.remove(m.getKey());
                    else metadata.set(m.getKey(), m.getValue());
                });
            } else {
                customer.set(f.getKey(), f.getValue());
            }
        });
        putCustomer(customer);
        return withRequestId(Answer.json(200, customer));
    }

    private Answer lines(String invoiceId, Map<String, String> params) {
        List<JsonNode> all = invoiceLines.get(invoiceId);
        if (all == null) return missing("invoice", invoiceId);
        return page(all, params, "/v1/invoices/" + invoiceId + "/lines", "line_item");
    }

    /**
     * One page of a list as Stripe pages it: {@code limit} 1..100 (default 10), after the object {@code starting_after}
     * names (404 naming {@code kind} when the list has none such), {@code has_more} and the list's {@code url}.
     */
    private Answer page(List<JsonNode> all, Map<String, String> params, String url, String kind) {
        int limit = limit(params);
        if (limit < 0) return badLimit();
        int from = 0;
        String after = params.get("starting_after");
        if (after != null) {
            from = -1;
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).path("id").asText().equals(after)) from = i + 1;
            }
            if (from < 0) return missing(kind, after);
        }
        return list(all.subList(from, Math.min(all.size(), from + limit + 1)), limit, url);
    }

    /** A list object: the first {@code limit} of {@code found}, {@code has_more} when there are more. */
    private Answer list(List<JsonNode> found, int limit, String url) {
        ObjectNode list = JSON.createObjectNode();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        found.subList(0, Math.min(limit, found.size())).forEach(data::add);
        list.put("has_more", found.size() > limit);
        list.put("url", url);
        return withRequestId(Answer.json(200, list));
    }

    /**
     * A list endpoint as Stripe serves it: newest first (by {@code created}, then id), {@code created[gte]},
     * {@code created[gt]}, {@code created[lt]} and {@code created[lte]} filters, {@code limit} 1..100 (default 10),
     * {@code starting_after} an object of the list (404 otherwise), {@code has_more} and {@code url}.
     */
    private Answer list(String path, Map<String, String> params) {
        long gte = Long.MIN_VALUE;
        long lte = Long.MAX_VALUE;
        try {
            if (params.containsKey("created[gte]")) gte = Long.parseLong(params.get("created[gte]"));
            if (params.containsKey("created[gt]")) gte = Long.parseLong(params.get("created[gt]")) + 1;
            if (params.containsKey("created[lte]")) lte = Long.parseLong(params.get("created[lte]"));
            if (params.containsKey("created[lt]")) lte = Long.parseLong(params.get("created[lt]")) - 1;
        } catch (NumberFormatException e) {
            return stripeError(400, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: created");
        }
        int limit = limit(params);
        if (limit < 0) return badLimit();
        String kind = path.substring(4, path.length() - 1);
        Listing listing = listings.get(path);
        if (listing == null) listing = this::stored;
        List<JsonNode> found = listing.page(path, gte, lte, params.get("starting_after"), limit + 1);
        if (found == null) return missing(kind, params.get("starting_after"));
        return list(found, limit, path);
    }

    /**
     * What a list endpoint serves: objects newest first (by {@code created}, then id) with {@code created} in
     * {@code [gte, lte]}, after the object {@code startingAfter} names (null: from the newest), at most {@code max};
     * null when the list has no object {@code startingAfter}.
     */
    @FunctionalInterface
    public interface Listing {
        List<JsonNode> page(String path, long gte, long lte, String startingAfter, int max);
    }

    private final Map<String, Listing> listings = new ConcurrentHashMap<>();

    /**
     * Serves a list endpoint ({@code /v1/invoices}, ...) from {@code listing} instead of the objects put (a volume of
     * objects made as they are asked for, which would not fit in memory as objects).
     */
    public void serveList(String path, Listing listing) {
        if (!LIST_PATHS.containsValue(path)) throw new IllegalArgumentException("no list endpoint " + path);
        listings.put(path, listing);
    }

    private static final Comparator<JsonNode> NEWEST_FIRST = Comparator
            .comparingLong((JsonNode o) -> o.path("created").asLong()).thenComparing(o -> o.path("id").asText()).reversed();

    /** The objects put, in list order (sorted once per change of the list, not once per page). */
    private List<JsonNode> stored(String path, long gte, long lte, String startingAfter, int max) {
        Sorted all;
        synchronized (sortedLists) {
            Map<String, JsonNode> objects = listed.getOrDefault(path, Map.of());
            Sorted cached = sortedLists.get(path);
            if (cached == null || cached.objects() != objects || cached.version() != versions.getOrDefault(path, 0L)) {
                List<JsonNode> copy = new ArrayList<>(objects.values());
                copy.sort(NEWEST_FIRST);
                Map<String, Integer> positions = new HashMap<>();
                for (int i = 0; i < copy.size(); i++) positions.put(copy.get(i).path("id").asText(), i);
                cached = new Sorted(objects, versions.getOrDefault(path, 0L), copy, positions);
                sortedLists.put(path, cached);
            }
            all = cached;
        }
        int from = 0;
        if (startingAfter != null) {
            Integer at = all.positions().get(startingAfter);
            if (at == null) return null;
            from = at + 1;
        }
        List<JsonNode> out = new ArrayList<>(max);
        for (int i = from; i < all.list().size() && out.size() < max; i++) {
            JsonNode o = all.list().get(i);
            long created = o.path("created").asLong();
            if (created >= gte && created <= lte) out.add(o);
        }
        return out;
    }

    private record Sorted(Map<String, JsonNode> objects, long version, List<JsonNode> list, Map<String, Integer> positions) {
    }

    private final Map<String, Sorted> sortedLists = new HashMap<>();
    private final Map<String, Long> versions = new ConcurrentHashMap<>();

    /** The {@code limit} asked for (default 10), or -1 when it is not 1 to 100. */
    private static int limit(Map<String, String> params) {
        try {
            int limit = Integer.parseInt(params.getOrDefault("limit", "10"));
            return limit < 1 || limit > 100 ? -1 : limit;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Answer badLimit() {
        return stripeError(400, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: limit must be 1 to 100");
    }

    private Answer missing(String object, String id) {
        return stripeError(404, "invalid_request_error", "resource_missing", "No such " + object + ": '" + id + "'");
    }

    @Override
    protected Answer error(int status, String code, String message) {
        if (status == 401) return stripeError(401, "invalid_request_error", null, "Invalid API Key provided");
        if (status == 429) return stripeError(429, "invalid_request_error", "rate_limit", message);
        return stripeError(status, status >= 500 ? "api_error" : "invalid_request_error", null, message);
    }

    @Override
    protected Map<String, String> rateLimitedHeaders() {
        return Map.of("Stripe-Should-Retry", String.valueOf(shouldRetry));
    }

    private static Answer stripeError(int status, String type, String code, String message) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error");
        if (code != null) error.put("code", code);
        error.put("message", message);
        error.put("type", type);
        return withRequestId(Answer.json(status, body));
    }

    private static Answer withRequestId(Answer answer) {
        return answer.with("Request-Id", "req_" + UUID.randomUUID().toString().replace("-", "").substring(0, 14));
    }
}
