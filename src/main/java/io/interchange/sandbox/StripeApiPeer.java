package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.rest.RestPeerSupport;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The billing platform's REST API as Stripe serves it, for the sandbox and tests: {@code GET /v1/invoices/{id}/lines}
 * (a list object: {@code limit} 1..100, default 10, {@code starting_after}, {@code has_more}, {@code url}),
 * {@code GET /v1/customers/{id}}, and {@code POST /v1/customers} and {@code /v1/customers/{id}} (form-encoded, nested
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

    public void putCustomer(JsonNode customer) {
        customers.put(customer.path("id").asText(), customer);
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
        customers.put(customer.path("id").asText(), customer);
        return withRequestId(Answer.json(200, customer));
    }

    private Answer lines(String invoiceId, Map<String, String> params) {
        List<JsonNode> all = invoiceLines.get(invoiceId);
        if (all == null) return missing("invoice", invoiceId);
        int limit;
        try {
            limit = Integer.parseInt(params.getOrDefault("limit", "10"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100) {
            return stripeError(400, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: limit must be 1 to 100");
        }
        int from = 0;
        String after = params.get("starting_after");
        if (after != null) {
            from = -1;
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).path("id").asText().equals(after)) from = i + 1;
            }
            if (from < 0) return missing("line_item", after);
        }
        int to = Math.min(all.size(), from + limit);
        ObjectNode list = JSON.createObjectNode();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        all.subList(from, to).forEach(data::add);
        list.put("has_more", to < all.size());
        list.put("url", "/v1/invoices/" + invoiceId + "/lines");
        return withRequestId(Answer.json(200, list));
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
