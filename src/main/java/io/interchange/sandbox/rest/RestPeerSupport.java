package io.interchange.sandbox.rest;

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
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shared plumbing of the simulated REST systems: an HTTP server on loopback, authentication (a fixed bearer key or
 * token, or OAuth 2.0 access tokens the peer issues from its own token endpoint by the client credentials or refresh
 * token grant, or the system's own headers), a rate limit per rolling window announced in headers and enforced with 429, and what tests inject:
 * 429s with {@code Retry-After}, failures with a status and message, garbage answers, delays. Every request is logged.
 * Answers to chosen writes can be lost after they were performed ({@link #loseAnswerNext}). A system brings its answers
 * ({@link #handle}), its error body ({@link #error}), its rate-limit headers and, where it has its own scheme, its
 * authentication ({@link #authenticated}).
 */
public abstract class RestPeerSupport implements AutoCloseable {

    protected static final ObjectMapper JSON = new ObjectMapper();
    private static final int THREADS = 8;
    private static final Pattern BRACKET = Pattern.compile("\\[([^\\]]*)]");

    /** One request as received; header names in any case. */
    public record Request(String method, String path, String query, Map<String, String> headers, String body) {

        public String header(String name) {
            return headers.get(name);
        }

        public String pathAndQuery() {
            return path + (query == null ? "" : "?" + query);
        }

        public Map<String, String> queryParams() {
            return pairs(query);
        }

        public JsonNode json() throws IOException {
            return JSON.readTree(body);
        }

        /** The form-encoded body as nested JSON: {@code a[b]=1&l[0]=x} is {@code {"a":{"b":"1"},"l":["x"]}}. */
        public ObjectNode form() {
            ObjectNode root = JSON.createObjectNode();
            pairs(body).forEach((key, value) -> put(root, key, value));
            return root;
        }
    }

    /** An answer: status, JSON body (or raw bytes, for garbage) and extra headers. */
    public record Answer(int status, JsonNode body, byte[] raw, String contentType, Map<String, String> headers) {

        public static Answer json(int status, JsonNode body) {
            return new Answer(status, body, null, "application/json", Map.of());
        }

        public static Answer raw(int status, String contentType, String body) {
            return new Answer(status, null, body.getBytes(StandardCharsets.UTF_8), contentType, Map.of());
        }

        public Answer with(String header, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(header, value);
            return new Answer(status, body, raw, contentType, h);
        }
    }

    private final Logger log = LoggerFactory.getLogger(getClass());
    private final String name;
    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Request> requests = new ArrayList<>();

    private volatile Set<String> bearerTokens = Set.of();
    private volatile String tokenPath;
    private volatile String clientId = "";
    private volatile String clientSecret = "";
    private volatile String refreshToken;
    private volatile long tokenLifetimeSeconds = 1800;
    private final Set<String> issued = ConcurrentHashMap.newKeySet();
    private final AtomicInteger tokensIssued = new AtomicInteger();
    private volatile boolean refuseTokens;

    private final AtomicInteger rateLimitedLeft = new AtomicInteger();
    private volatile String retryAfter;
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile int failureStatus = 503;
    private volatile String failureMessage = "Injected failure";
    private final AtomicInteger garbageLeft = new AtomicInteger();
    private final AtomicInteger delayedLeft = new AtomicInteger();
    private volatile Duration delay = Duration.ZERO;
    private volatile long latencyMinMillis;
    private volatile long latencyMaxMillis;
    private final AtomicInteger served429 = new AtomicInteger();
    private final AtomicInteger lostLeft = new AtomicInteger();
    private volatile String lostMethod = "";
    private volatile Pattern lostPath = Pattern.compile("");

    private final Object windowLock = new Object();
    private int windowMax;
    private long windowNanos;
    private long windowStart;
    private int windowUsed;

    protected RestPeerSupport(String name, int port) throws IOException {
        this.name = name;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        this.executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, name + "-peer");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::serve);
    }

    /** Answers an authenticated request that no injection took: the system's own behaviour. */
    protected abstract Answer handle(Request request) throws IOException;

    /** The system's error body for a status, a code (may be null) and a message. */
    protected abstract Answer error(int status, String code, String message);

    /** Headers announcing the rolling window: {@code max} per {@code interval}, {@code remaining} left in it. */
    protected Map<String, String> windowHeaders(int max, int remaining, Duration interval, Duration resetIn) {
        return Map.of("X-RateLimit-Limit", String.valueOf(max), "X-RateLimit-Remaining", String.valueOf(remaining),
                "X-RateLimit-Reset", String.valueOf(Math.max(1, (resetIn.toMillis() + 999) / 1000)));
    }

    /** The answer to a request over the window's limit (HubSpot's body differs from Stripe's). */
    protected Answer overLimit() {
        return error(429, "rate_limit", "Request rate limit exceeded.");
    }

    /** Headers of an injected 429 besides {@code Retry-After} (Stripe: {@code Stripe-Should-Retry}). */
    protected Map<String, String> rateLimitedHeaders() {
        return Map.of();
    }

    public RestPeerSupport start() {
        server.start();
        log.info("{} peer listening on {}", name, url());
        return this;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Accepts these fixed bearer values ({@code Authorization: Bearer <value>}). */
    public void acceptBearer(String... values) {
        bearerTokens = Set.of(values);
    }

    /**
     * Serves an OAuth 2.0 token endpoint at {@code path} for this client: the client credentials grant, or the
     * refresh token grant when {@code refreshToken} is not null. Issued tokens live {@code lifetime}.
     */
    public void serveTokens(String path, String clientId, String clientSecret, String refreshToken, Duration lifetime) {
        this.tokenPath = path;
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.refreshToken = refreshToken;
        this.tokenLifetimeSeconds = lifetime.toSeconds();
    }

    public String tokenUrl() {
        return url() + tokenPath;
    }

    /** Every token issued so far is refused from now on (as if expired or revoked before its time). */
    public void revokeTokens() {
        issued.clear();
    }

    /** While on, every request to the API is refused 401, whatever its credential. */
    public void refuseAll(boolean on) {
        refuseTokens = on;
    }

    public int tokensIssued() {
        return tokensIssued.get();
    }

    /** The next {@code n} requests are answered 429, with {@code Retry-After} if given (seconds or an HTTP date). */
    public void rateLimitNext(int n, String retryAfter) {
        this.retryAfter = retryAfter;
        rateLimitedLeft.set(n);
    }

    /** The next {@code n} requests are answered with this status and the system's error body. */
    public void failNext(int n, int status) {
        failNext(n, status, "Injected failure");
    }

    public void failNext(int n, int status, String message) {
        this.failureStatus = status;
        this.failureMessage = message;
        failuresLeft.set(n);
    }

    /** The next {@code n} requests are answered 200 with an HTML page (a proxy's, a truncated answer). */
    public void garbageNext(int n) {
        garbageLeft.set(n);
    }

    /**
     * Every API request from now on (token requests excepted) is answered after a delay drawn uniformly from
     * {@code [min, max]}, as a remote system on the internet answers (a benchmark's "realistic latency"; the peer on
     * the loopback interface would otherwise answer in well under a millisecond). The waiting requests each hold one
     * of the peer's threads, so the pool grows to {@code concurrency}: that many requests can wait at once, as a
     * real API serves many clients in parallel; more queue, as at a saturated server. Zero min and max turn it off.
     */
    public RestPeerSupport latency(Duration min, Duration max, int concurrency) {
        if (min.isNegative() || max.compareTo(min) < 0 || concurrency < 1) {
            throw new IllegalArgumentException("latency needs 0 <= min <= max and a concurrency >= 1");
        }
        ThreadPoolExecutor pool = (ThreadPoolExecutor) executor;
        if (concurrency > pool.getMaximumPoolSize()) {
            pool.setMaximumPoolSize(concurrency); // the maximum first: a core size above it is refused
            pool.setCorePoolSize(concurrency);
        } else {
            pool.setCorePoolSize(concurrency);
            pool.setMaximumPoolSize(concurrency);
        }
        latencyMinMillis = min.toMillis();
        latencyMaxMillis = max.toMillis();
        return this;
    }

    /** The next {@code n} requests are answered only after {@code delay} (a slow system, a client timeout). */
    public void delayNext(int n, Duration delay) {
        this.delay = delay;
        delayedLeft.set(n);
    }

    /**
     * The next {@code n} requests with this method whose path matches {@code pathRegex} are performed (their effect is
     * kept) but get no answer: the connection is closed before the status line, as when the network fails after the
     * system committed. The caller cannot tell whether its write happened; only answers of 2xx are lost this way.
     */
    public void loseAnswerNext(int n, String method, String pathRegex) {
        lostMethod = method;
        lostPath = Pattern.compile(pathRegex);
        lostLeft.set(n);
    }

    /** At most {@code max} requests per rolling {@code interval}, announced in every answer; more are answered 429. */
    public void limitWindow(int max, Duration interval) {
        synchronized (windowLock) {
            windowMax = max;
            windowNanos = interval.toNanos();
            windowStart = System.nanoTime();
            windowUsed = 0;
        }
    }

    /** 429s answered so far, injected or over the window. */
    public int served429() {
        return served429.get();
    }

    /** Requests to the API (the token endpoint's excluded), in order of arrival. */
    public List<Request> requestLog() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    private void serve(HttpExchange exchange) throws IOException {
        try {
            Request request = read(exchange);
            Answer answer;
            if (tokenPath != null && tokenPath.equals(request.path())) {
                answer = token(request);
            } else {
                synchronized (requests) {
                    requests.add(request);
                }
                answer = api(request);
                if (lose(request, answer)) {
                    log.info("{} peer performed {} and drops its answer", name, request.pathAndQuery());
                    return; // closed without a status line (finally)
                }
            }
            if (answer.status() == 429) served429.incrementAndGet();
            write(exchange, answer);
        } catch (RuntimeException | IOException e) {
            log.error("{} peer failed on a request", name, e);
            try {
                write(exchange, error(500, null, "Internal error, try again"));
            } catch (IOException ignored) {
                // the client is gone
            }
        } finally {
            exchange.close();
        }
    }

    private boolean lose(Request request, Answer answer) {
        if (answer.status() / 100 != 2 || !lostMethod.equals(request.method())
                || !lostPath.matcher(request.path()).matches()) {
            return false;
        }
        return lostLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    }

    private Answer api(Request request) throws IOException {
        // decided on arrival, waited out before the answer: a request the client gave up on takes no later injection
        boolean delayed = delayedLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        Answer answer = decide(request);
        if (delayed) sleep(delay);
        long lo = latencyMinMillis;
        long hi = latencyMaxMillis;
        if (hi > 0) sleep(Duration.ofMillis(lo == hi ? lo : ThreadLocalRandom.current().nextLong(lo, hi + 1)));
        return answer;
    }

    private Answer decide(Request request) throws IOException {
        if (refuseTokens || !authenticated(request)) {
            return error(401, null, "Authentication credentials are invalid or expired");
        }
        if (rateLimitedLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            Answer a = overLimit();
            for (Map.Entry<String, String> h : rateLimitedHeaders().entrySet()) a = a.with(h.getKey(), h.getValue());
            return retryAfter == null ? a : a.with("Retry-After", retryAfter);
        }
        if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) return error(failureStatus, null, failureMessage);
        if (garbageLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return Answer.raw(200, "text/html", "<html><body>502 Bad Gateway</body></html>");
        }
        Map<String, String> windowHeaders;
        synchronized (windowLock) {
            if (windowMax == 0) {
                windowHeaders = Map.of();
            } else {
                long now = System.nanoTime();
                if (now - windowStart >= windowNanos) {
                    windowStart = now;
                    windowUsed = 0;
                }
                Duration resetIn = Duration.ofNanos(windowNanos - (now - windowStart));
                if (windowUsed >= windowMax) {
                    Answer a = overLimit();
                    for (Map.Entry<String, String> h : windowHeaders(windowMax, 0, Duration.ofNanos(windowNanos), resetIn).entrySet()) {
                        a = a.with(h.getKey(), h.getValue());
                    }
                    return a;
                }
                windowUsed++;
                windowHeaders = windowHeaders(windowMax, windowMax - windowUsed, Duration.ofNanos(windowNanos), resetIn);
            }
        }
        Answer a = handle(request);
        for (Map.Entry<String, String> h : windowHeaders.entrySet()) a = a.with(h.getKey(), h.getValue());
        return a;
    }

    /**
     * Whether the request carries an accepted credential: by default {@code Authorization: Bearer <value>} with a value
     * given to {@link #acceptBearer} or a token this peer issued. A system that authenticates otherwise (Voucherify's
     * {@code X-App-Id} and {@code X-App-Token}) overrides it; {@link #refuseAll} refuses every request either way.
     */
    protected boolean authenticated(Request request) {
        String authorization = request.header("Authorization");
        if (authorization == null || !authorization.startsWith("Bearer ")) return false;
        String value = authorization.substring("Bearer ".length());
        for (String accepted : bearerTokens) {
            if (MessageDigest.isEqual(accepted.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8))) {
                return true;
            }
        }
        return issued.contains(value);
    }

    private Answer token(Request request) {
        ObjectNode error = JSON.createObjectNode();
        if (!"POST".equals(request.method())) return Answer.json(405, error.put("error", "invalid_request"));
        Map<String, String> form = pairs(request.body());
        String grant = form.getOrDefault("grant_type", "");
        boolean client = clientId.equals(form.get("client_id")) && clientSecret.equals(form.get("client_secret"));
        if (!client) {
            return Answer.json(401, error.put("error", "invalid_client").put("error_description", "client authentication failed"));
        }
        boolean grantOk = refreshToken == null ? "client_credentials".equals(grant)
                : "refresh_token".equals(grant) && refreshToken.equals(form.get("refresh_token"));
        if (!grantOk) {
            return Answer.json(400, error.put("error", "invalid_grant").put("error_description", "grant " + grant + " refused"));
        }
        String token = "at-" + UUID.randomUUID();
        issued.add(token);
        tokensIssued.incrementAndGet();
        ObjectNode body = JSON.createObjectNode().put("access_token", token).put("token_type", "bearer")
                .put("expires_in", tokenLifetimeSeconds);
        if (form.containsKey("scope")) body.put("scope", form.get("scope"));
        if (refreshToken != null) body.put("refresh_token", refreshToken);
        return Answer.json(200, body);
    }

    private static Request read(HttpExchange exchange) throws IOException {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        exchange.getRequestHeaders().forEach((k, v) -> {
            if (!v.isEmpty()) headers.put(k, v.get(0));
        });
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        return new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                exchange.getRequestURI().getRawQuery(), headers, body);
    }

    private static void write(HttpExchange exchange, Answer answer) throws IOException {
        byte[] bytes = answer.raw() != null ? answer.raw() : JSON.writeValueAsBytes(answer.body());
        exchange.getResponseHeaders().set("Content-Type", answer.contentType());
        answer.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        exchange.sendResponseHeaders(answer.status(), bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) exchange.getResponseBody().write(bytes);
    }

    private static Map<String, String> pairs(String encoded) {
        Map<String, String> out = new LinkedHashMap<>();
        if (encoded == null || encoded.isEmpty()) return out;
        for (String pair : encoded.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            out.put(k, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }

    private static void put(ObjectNode root, String key, String value) {
        int open = key.indexOf('[');
        List<String> path = new ArrayList<>();
        path.add(open < 0 ? key : key.substring(0, open));
        if (open >= 0) {
            Matcher m = BRACKET.matcher(key.substring(open));
            while (m.find()) path.add(m.group(1));
        }
        JsonNode node = root;
        for (int i = 0; i < path.size(); i++) {
            String part = path.get(i);
            boolean last = i == path.size() - 1;
            boolean nextIsIndex = !last && path.get(i + 1).matches("\\d*");
            if (node instanceof ObjectNode o) {
                if (last) {
                    o.put(part, value);
                } else {
                    JsonNode child = o.get(part);
                    if (child == null) child = nextIsIndex ? o.putArray(part) : o.putObject(part);
                    node = child;
                }
            } else if (node instanceof ArrayNode a) {
                int index = part.isEmpty() ? a.size() : Integer.parseInt(part);
                while (a.size() <= index) a.addNull();
                if (last) {
                    a.set(index, JSON.getNodeFactory().textNode(value));
                } else {
                    if (a.get(index).isNull()) a.set(index, nextIsIndex ? JSON.createArrayNode() : JSON.createObjectNode());
                    node = a.get(index);
                }
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
