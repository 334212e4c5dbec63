package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The billing platform's REST API as Stripe serves it, for the sandbox and tests: {@code GET /v1/invoices/{id}/lines}
 * (a list object: {@code limit} 1..100, default 10, {@code starting_after}, {@code has_more}, {@code url}) and
 * {@code GET /v1/customers/{id}}; bearer-key authentication (401 with Stripe's error object otherwise), 404
 * {@code resource_missing} for unknown objects, the {@code Request-Id} and {@code Stripe-Version} answer headers, and
 * injectable rate limiting (429 with {@code Stripe-Should-Retry}) and server errors. Objects are served as put, in
 * the shape of whatever API version the caller asks for (the caller puts them in that shape).
 */
public final class StripeApiPeer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StripeApiPeer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as received: path with query, and the API version asked for. */
    public record Request(String pathAndQuery, String stripeVersion) {
    }

    private final String apiKey;
    private final Map<String, List<JsonNode>> invoiceLines = new ConcurrentHashMap<>();
    private final Map<String, JsonNode> customers = new ConcurrentHashMap<>();
    private final List<Request> requests = new ArrayList<>();
    private final AtomicInteger rateLimitedLeft = new AtomicInteger();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile int failureStatus = 503;
    private volatile String retryAfter;
    private final HttpServer server;

    public StripeApiPeer(int port, String apiKey) throws IOException {
        this.apiKey = apiKey;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "stripe-api-peer");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/v1/", this::serve);
    }

    public StripeApiPeer start() {
        server.start();
        LOG.info("Stripe API peer listening on {}", url());
        return this;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The invoice's lines, in order, as {@code GET /v1/invoices/{id}/lines} lists them. */
    public void putInvoiceLines(String invoiceId, List<JsonNode> lines) {
        invoiceLines.put(invoiceId, List.copyOf(lines));
    }

    public void putCustomer(JsonNode customer) {
        customers.put(customer.path("id").asText(), customer);
    }

    /** The next {@code n} requests are answered 429, with {@code Retry-After} if given (seconds). */
    public void rateLimitNext(int n, String retryAfterSeconds) {
        this.retryAfter = retryAfterSeconds;
        rateLimitedLeft.set(n);
    }

    /** The next {@code n} requests are answered with this server error. */
    public void failNext(int n, int status) {
        this.failureStatus = status;
        failuresLeft.set(n);
    }

    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    private void serve(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getRawQuery();
        String version = exchange.getRequestHeaders().getFirst("Stripe-Version");
        synchronized (requests) {
            requests.add(new Request(path + (query == null ? "" : "?" + query), version));
        }
        exchange.getResponseHeaders().set("Request-Id", "req_" + UUID.randomUUID().toString().replace("-", "").substring(0, 14));
        if (version != null) exchange.getResponseHeaders().set("Stripe-Version", version);
        try {
            if (!("Bearer " + apiKey).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                error(exchange, 401, "invalid_request_error", null, "Invalid API Key provided");
            } else if (!"GET".equals(exchange.getRequestMethod())) {
                error(exchange, 405, "invalid_request_error", null, "Unrecognized request URL (" + exchange.getRequestMethod() + ")");
            } else if (rateLimitedLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                exchange.getResponseHeaders().set("Stripe-Should-Retry", "true");
                if (retryAfter != null) exchange.getResponseHeaders().set("Retry-After", retryAfter);
                error(exchange, 429, "invalid_request_error", "rate_limit", "Request rate limit exceeded.");
            } else if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                error(exchange, failureStatus, "api_error", null, "Injected failure");
            } else if (path.matches("/v1/invoices/[^/]+/lines")) {
                lines(exchange, path.split("/")[3], params(query));
            } else if (path.matches("/v1/customers/[^/]+")) {
                JsonNode customer = customers.get(path.split("/")[3]);
                if (customer == null) missing(exchange, "customer", path.split("/")[3]);
                else answer(exchange, 200, customer);
            } else {
                error(exchange, 404, "invalid_request_error", null, "Unrecognized request URL (GET: " + path + ")");
            }
        } finally {
            exchange.close();
        }
    }

    private void lines(HttpExchange exchange, String invoiceId, Map<String, String> params) throws IOException {
        List<JsonNode> all = invoiceLines.get(invoiceId);
        if (all == null) {
            missing(exchange, "invoice", invoiceId);
            return;
        }
        int limit;
        try {
            limit = Integer.parseInt(params.getOrDefault("limit", "10"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100) {
            error(exchange, 400, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: limit must be 1 to 100");
            return;
        }
        int from = 0;
        String after = params.get("starting_after");
        if (after != null) {
            from = -1;
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).path("id").asText().equals(after)) from = i + 1;
            }
            if (from < 0) {
                missing(exchange, "line_item", after);
                return;
            }
        }
        int to = Math.min(all.size(), from + limit);
        ObjectNode list = JSON.createObjectNode();
        list.put("object", "list");
        ArrayNode data = list.putArray("data");
        all.subList(from, to).forEach(data::add);
        list.put("has_more", to < all.size());
        list.put("url", "/v1/invoices/" + invoiceId + "/lines");
        answer(exchange, 200, list);
    }

    private static void missing(HttpExchange exchange, String object, String id) throws IOException {
        error(exchange, 404, "invalid_request_error", "resource_missing", "No such " + object + ": '" + id + "'");
    }

    private static void error(HttpExchange exchange, int status, String type, String code, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error");
        if (code != null) error.put("code", code);
        error.put("message", message);
        error.put("type", type);
        answer(exchange, status, body);
    }

    private static void answer(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static Map<String, String> params(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        if (query == null) return out;
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
