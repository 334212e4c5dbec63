package io.interchange.connectors.rest;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * One system the runtime calls over REST: where it is, how fast it may be asked, how requests authenticate, and the
 * few points where systems differ in how they answer. Every request to it goes through one route ({@link #routeUri()},
 * route id {@link #name()}), throttled to {@link #maxRate()} per second.
 *
 * @param name              route id, e.g. {@code billing.stripe-api}; the outbound call's id is {@code <name>-call}
 * @param system            how reasons name the system, e.g. {@code Stripe API}
 * @param baseUrl           scheme, host and any path prefix; request paths are appended
 * @param timeout           connect and response timeout of one request
 * @param maxRate           most requests per second from one instance
 * @param auth              how requests authenticate
 * @param rateLimitRetries  how often a 429 is waited out and asked again before the call fails as transient
 * @param maxWait           the longest the client waits for a rate-limit window (or a 429's Retry-After) on a caller's
 *                          thread; a longer one fails the call as transient at once, without asking
 * @param conflictTransient whether a 409 means "try again" (Stripe: a request with the same idempotency key is in
 *                          flight) rather than a real conflict
 * @param noRetryHeader     a header with which the system forbids retrying a 429 ({@code Stripe-Should-Retry: false}),
 *                          or null
 */
public record RestTarget(String name, String system, URI baseUrl, Duration timeout, int maxRate, RestAuth auth,
                         int rateLimitRetries, Duration maxWait, boolean conflictTransient, String noRetryHeader) {

    public static final int DEFAULT_RATE_LIMIT_RETRIES = 3;
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(10);

    public RestTarget {
        Objects.requireNonNull(name);
        Objects.requireNonNull(system);
        Objects.requireNonNull(auth);
        String url = baseUrl.toString();
        if (url.endsWith("/")) baseUrl = URI.create(url.substring(0, url.length() - 1));
        if (baseUrl.getScheme() == null || !baseUrl.getScheme().startsWith("http")) {
            throw new IllegalArgumentException(system + " URL must be http or https: " + url);
        }
        if (maxRate < 1) throw new IllegalArgumentException(system + " rate must be at least 1 request per second");
        if (rateLimitRetries < 0) throw new IllegalArgumentException("rateLimitRetries must not be negative");
    }

    /** A target with the usual rate-limit handling (3 retries of a 429, waits of up to 10 s), 409 permanent. */
    public static RestTarget of(String name, String system, String baseUrl, Duration timeout, int maxRate, RestAuth auth) {
        return new RestTarget(name, system, URI.create(baseUrl.strip()), timeout, maxRate, auth, DEFAULT_RATE_LIMIT_RETRIES,
                DEFAULT_MAX_WAIT, false, null);
    }

    public RestTarget withConflictTransient(boolean transientConflict) {
        return new RestTarget(name, system, baseUrl, timeout, maxRate, auth, rateLimitRetries, maxWait, transientConflict,
                noRetryHeader);
    }

    public RestTarget withNoRetryHeader(String header) {
        return new RestTarget(name, system, baseUrl, timeout, maxRate, auth, rateLimitRetries, maxWait, conflictTransient,
                header);
    }

    public RestTarget withRateLimits(int retries, Duration wait) {
        return new RestTarget(name, system, baseUrl, timeout, maxRate, auth, retries, wait, conflictTransient, noRetryHeader);
    }

    /** The route every request to this target goes through. */
    public String routeUri() {
        return "direct:" + name;
    }

    /** Id of the route's outbound call. */
    public String callId() {
        return name + "-call";
    }

    /** Registry name of the HTTP client configurer that authenticates this target's requests. */
    public String clientBean() {
        return name + "-http-client";
    }

    /** The camel-http endpoint of the base URL (method, path, query and body come per request). */
    public String endpointUri() {
        long ms = timeout.toMillis();
        return baseUrl + (baseUrl.getRawQuery() == null ? "?" : "&") + "throwExceptionOnFailure=false&connectTimeout=" + ms
                + "&responseTimeout=" + ms + "&soTimeout=" + ms + "&connectionRequestTimeout=" + ms
                + "&httpClientConfigurer=#" + clientBean();
    }
}
