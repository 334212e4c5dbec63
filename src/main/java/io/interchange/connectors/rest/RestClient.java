package io.interchange.connectors.rest;

import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.http.HttpClientConfigurer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client of one REST target: every request goes through the target's route (camel-http, throttled to its rate;
 * see {@code routes/RestTargetRoute}), and every answer is classified the same way for every system:
 * <ul>
 * <li>2xx is the answer ({@link RestResponse}); a 2xx body that is not JSON, read with {@link RestResponse#json()}, is
 * transient;</li>
 * <li>429 is waited out ({@code Retry-After}, else a doubling backoff) and asked again up to the target's
 * {@code rateLimitRetries}, then a {@link TransientFailure}: a rate limit alone never dead-letters anything;</li>
 * <li>rate-limit headers that say nothing is left close the target's window ({@link RateLimits}): callers wait for it
 * instead of spending a 429, or fail as transient at once when it is longer than the target's {@code maxWait};</li>
 * <li>401 fetches a new token once where the credential is a token, then is permanent;</li>
 * <li>408, 425, 5xx, 409 where the target says so, timeouts and unreachable are {@link TransientFailure};</li>
 * <li>400, 403, 404, 422 and every other 4xx are {@link PermanentFailure}, with the target's error message.</li>
 * </ul>
 * A request with an idempotency key carries it as {@code Idempotency-Key} on every attempt.
 */
public final class RestClient {

    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    private static final Logger LOG = LoggerFactory.getLogger(RestClient.class);
    private static final long FIRST_BACKOFF_MS = 500;
    /** {@code interchange_rest_rate_limit_total{system,event}}: {@link #RATE_LIMITED}, {@link #WAITED}, {@link #REFUSED}. */
    public static final String RATE_LIMIT_METRIC = "interchange.rest.rate.limit";
    /** The target answered 429. */
    public static final String RATE_LIMITED = "answered_429";
    /** A request waited for the target's rate-limit window before it was sent. */
    public static final String WAITED = "waited";
    /** A request was not sent: the window stays closed longer than the target's max wait. */
    public static final String REFUSED = "refused";

    private final RestTarget target;
    private final RateLimits limits = new RateLimits();
    private final Map<String, Counter> rateLimitCounters = new ConcurrentHashMap<>();
    private volatile ProducerTemplate template;

    public RestClient(RestTarget target) {
        this.target = target;
    }

    public RestTarget target() {
        return target;
    }

    /** Whether the target may be called (a credential is configured). */
    public boolean enabled() {
        return target.auth().configured();
    }

    /**
     * Binds the client to the started Camel context whose route {@link RestTarget#routeUri()} it sends through, and its
     * rate-limit counter to the context's meter registry, if it has one.
     */
    public void start(CamelContext context) {
        this.template = context.createProducerTemplate();
        MeterRegistry meters = context.getRegistry().findSingleByType(MeterRegistry.class);
        if (meters == null) meters = context.getRegistry().findByType(MeterRegistry.class).stream().findFirst().orElse(null);
        if (meters == null) return;
        // each event counted from zero, so a dashboard's rate shows 0 rather than nothing before the first 429
        for (String event : new String[]{RATE_LIMITED, WAITED, REFUSED}) {
            rateLimitCounters.put(event, Counter.builder(RATE_LIMIT_METRIC)
                    .description("the target's rate limit: 429 answers, waits for its window, requests refused for a "
                            + "window longer than the target's max wait")
                    .tag("system", target.system()).tag("event", event).register(meters));
        }
    }

    private void count(String event) {
        Counter c = rateLimitCounters.get(event);
        if (c != null) c.increment();
    }

    /**
     * The HTTP client's configuration, bound in the registry under {@link RestTarget#clientBean()}: the credential's
     * headers ({@link RestAuth#headers()}: {@code Authorization}, or a system's own such as {@code X-App-Token}) are
     * set on each request by an interceptor, and the client never retries on its own (the callers decide: 429 here,
     * everything else by the route policies).
     */
    public HttpClientConfigurer clientConfigurer() {
        RestAuth auth = target.auth();
        return builder -> builder.disableAutomaticRetries().addRequestInterceptorFirst((request, entity, context) ->
                auth.headers().forEach(request::setHeader));
    }

    /** Sends the request and returns its 2xx answer, or throws {@link TransientFailure} / {@link PermanentFailure}. */
    public RestResponse call(RestRequest request) {
        if (!enabled()) {
            throw new PermanentFailure(target.system() + " is not configured (no credential): " + request.describe()
                    + " not sent");
        }
        ProducerTemplate t = template;
        if (t == null) throw new TransientFailure(target.system() + " client is not started yet");
        boolean refreshed = false;
        int rateLimited = 0;
        long backoff = FIRST_BACKOFF_MS;
        while (true) {
            awaitWindow(request);
            String used = target.auth().authorization();
            Exchange answer = t.request(target.routeUri(), e -> prepare(e.getMessage(), request));
            String what = target.system() + " " + request.describe();
            if (answer.getException() != null) {
                throw new TransientFailure(what + " unreachable: " + FailureClassifier.reason(answer.getException()),
                        answer.getException());
            }
            Message m = answer.getMessage();
            int status = m.getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
            Map<String, String> headers = headers(m);
            byte[] body = m.getBody(byte[].class);
            RateLimits.Window told = limits.observe(status, headers);
            if (status >= 200 && status < 300) return new RestResponse(what, status, headers, body);
            String reason = what + " answered " + status + ErrorMessages.of(body);
            if (status == 401 && !refreshed && target.auth().rejected(used)) {
                refreshed = true;
                LOG.info("{}; fetching a new token and asking once more", reason);
                continue;
            }
            if (status == 429) {
                count(RATE_LIMITED);
                boolean vetoed = target.noRetryHeader() != null
                        && "false".equalsIgnoreCase(headers.getOrDefault(target.noRetryHeader(), "").strip());
                if (rateLimited < target.rateLimitRetries() && !vetoed) {
                    rateLimited++;
                    if (told == null) {
                        // neither Retry-After nor rate-limit headers: a doubling backoff
                        LOG.info("{}; waiting {} ms (attempt {} of {})", reason, backoff, rateLimited, target.rateLimitRetries() + 1);
                        sleep(Math.min(backoff, target.maxWait().toMillis()));
                        backoff *= 2;
                    }
                    continue; // the window the 429 closed is waited for before the next attempt
                }
                throw new TransientFailure(reason + (vetoed ? " (" + target.noRetryHeader() + ": false)"
                        : " (still after " + rateLimited + " waits)"));
            }
            if (status == 408 || status == 425 || status >= 500 || (status == 409 && target.conflictTransient())) {
                throw new TransientFailure(reason);
            }
            throw new PermanentFailure(reason);
        }
    }

    private void awaitWindow(RestRequest request) {
        RateLimits.Window closed = limits.closed();
        if (closed.length().isZero()) return;
        if (closed.length().compareTo(target.maxWait()) > 0) {
            count(REFUSED);
            throw new TransientFailure(target.system() + " " + request.describe() + " not sent: the rate limit allows "
                    + "no request for another " + closed.length().toSeconds() + " s (" + closed.why() + ")");
        }
        LOG.info("{} rate limit ({}): waiting {} ms before {}", target.system(), closed.why(), closed.length().toMillis(),
                request.describe());
        count(WAITED);
        sleep(closed.length().toMillis() + 1);
    }

    private static void prepare(Message m, RestRequest request) {
        m.setHeader(Exchange.HTTP_METHOD, request.method());
        m.setHeader(Exchange.HTTP_PATH, request.path());
        String query = request.queryString();
        if (query != null) m.setHeader(Exchange.HTTP_QUERY, query);
        request.headers().forEach(m::setHeader);
        if (request.idempotencyKey() != null) m.setHeader(IDEMPOTENCY_KEY, request.idempotencyKey());
        m.setHeader("Accept", "application/json");
        if (request.body() != null) {
            m.setHeader(Exchange.CONTENT_TYPE, request.body().contentType());
            m.setBody(request.body().bytes());
        }
    }

    private static Map<String, String> headers(Message m) {
        // header names are case-insensitive (RFC 9110 5.1), and servers do not all write them as documented
        Map<String, String> out = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        m.getHeaders().forEach((k, v) -> {
            if (!k.startsWith("Camel") && v != null) out.put(k, String.valueOf(v));
        });
        return out;
    }

    private void sleep(long ms) {
        try {
            Thread.sleep(Math.max(0, ms));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientFailure("interrupted while waiting out " + target.system() + "'s rate limit");
        }
    }

    /** For tests: how long the target's rate-limit window stays closed. */
    Duration closedFor() {
        return limits.closed().length();
    }
}
