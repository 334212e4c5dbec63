package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.http.HttpClientConfigurer;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.message.BasicHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the billing platform's REST API (Stripe's {@code /v1}) where an event is not enough: the rest of an invoice's
 * lines, a customer. Requests go through the route {@link #ROUTE} (camel-http, throttled to the configured rate); the
 * secret key is given to the HTTP client as a default header, never put in a URI or message header. Each request
 * names the API version the objects are to be rendered in ({@code Stripe-Version}), so they have the shape of the
 * event they complete.
 *
 * <p>Answers are classified: 200 is read; 429 is waited out ({@code Retry-After} if given, else backoff) and retried a
 * few times unless Stripe says {@code Stripe-Should-Retry: false}; 5xx, timeouts and unreachable are transient
 * ({@link TransientFailure}: the webhook answers 503 and Stripe retries, the stream route retries); 401/403/404 and
 * other 4xx are permanent ({@link PermanentFailure}), which the translator parks with the reason.
 */
public final class StripeApi {

    public static final String ROUTE = "direct:billing.stripe-api";
    public static final String ROUTE_ID = "billing.stripe-api";
    /** Registry name of the client configurer that carries the key. */
    public static final String CLIENT_BEAN = "stripeApiHttpClient";

    private static final Logger LOG = LoggerFactory.getLogger(StripeApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = 100;
    /** Pages read for one list at most (10,000 invoice lines): a bound, not a limit anyone meets. */
    private static final int MAX_PAGES = 100;
    private static final int RATE_LIMIT_RETRIES = 3;
    private static final long MAX_WAIT_MS = 10_000;

    private final URI baseUrl;
    private final String apiKey;
    private final Duration timeout;
    private final int maxRate;
    private final Map<String, List<JsonNode>> linesCache = lruCache(1_000);
    private volatile ProducerTemplate template;

    public StripeApi(String baseUrl, String apiKey, Duration timeout, int maxRate) {
        this.baseUrl = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
        if (this.baseUrl.getScheme() == null || !this.baseUrl.getScheme().startsWith("http")) {
            throw new IllegalArgumentException("interchange.billing.api-url must be http or https: " + baseUrl);
        }
        this.apiKey = apiKey == null ? "" : apiKey.strip();
        this.timeout = timeout;
        if (maxRate < 1) throw new IllegalArgumentException("interchange.billing.api-max-rate must be at least 1");
        this.maxRate = maxRate;
    }

    /** Whether the API may be read (a key is configured). */
    public boolean enabled() {
        return !apiKey.isEmpty();
    }

    /** Binds the client to the started Camel context whose route {@link #ROUTE} it sends through. */
    public void start(CamelContext context) {
        this.template = context.createProducerTemplate();
    }

    public int maxRate() {
        return maxRate;
    }

    /** The camel-http endpoint of the API's base URL (paths and queries come per request). */
    public String endpointUri() {
        long ms = timeout.toMillis();
        return baseUrl + "?throwExceptionOnFailure=false&httpMethod=GET&connectTimeout=" + ms + "&responseTimeout=" + ms
                + "&soTimeout=" + ms + "&connectionRequestTimeout=" + ms + "&httpClientConfigurer=#" + CLIENT_BEAN;
    }

    public HttpClientConfigurer clientConfigurer() {
        // the route's callers decide about retries (429 here, everything else by the route policies)
        return builder -> builder.setDefaultHeaders(List.of(new BasicHeader(HttpHeaders.AUTHORIZATION, "Bearer " + apiKey)))
                .disableAutomaticRetries();
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
        ProducerTemplate t = template;
        if (t == null) throw new TransientFailure("the billing API client is not started yet");
        long backoff = 500;
        for (int attempt = 1; ; attempt++) {
            Exchange answer = t.request(ROUTE, e -> {
                e.getMessage().setHeader(Exchange.HTTP_PATH, path);
                e.getMessage().setHeader(Exchange.HTTP_QUERY, query(query));
                if (apiVersion != null) e.getMessage().setHeader("Stripe-Version", apiVersion);
            });
            if (answer.getException() != null) {
                throw new TransientFailure("Stripe API " + path + " unreachable: " + FailureClassifier.reason(answer.getException()),
                        answer.getException());
            }
            int status = answer.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
            byte[] body = answer.getMessage().getBody(byte[].class);
            if (status == 200) {
                try {
                    return JSON.readTree(body);
                } catch (IOException e) {
                    throw new TransientFailure("Stripe API " + path + " answered 200 with a body that is not JSON", e);
                }
            }
            String reason = "Stripe API " + path + " answered " + status + errorMessage(body);
            if (status == 429 && attempt <= RATE_LIMIT_RETRIES
                    && !"false".equalsIgnoreCase(answer.getMessage().getHeader("Stripe-Should-Retry", String.class))) {
                long wait = Math.min(MAX_WAIT_MS, retryAfterMs(answer.getMessage().getHeader("Retry-After", String.class), backoff));
                LOG.info("{}; waiting {} ms before asking again (attempt {} of {})", reason, wait, attempt, RATE_LIMIT_RETRIES + 1);
                sleep(wait);
                backoff *= 2;
                continue;
            }
            if (status == 429 || status == 409 || status >= 500) throw new TransientFailure(reason);
            throw new PermanentFailure(reason);
        }
    }

    private static long retryAfterMs(String retryAfter, long backoff) {
        if (retryAfter == null) return backoff;
        try {
            return Math.max(0, Long.parseLong(retryAfter.strip()) * 1000);
        } catch (NumberFormatException e) {
            return backoff; // an HTTP date: rare from an API; the backoff is as good
        }
    }

    private static String errorMessage(byte[] body) {
        try {
            String message = JSON.readTree(body).path("error").path("message").asText("");
            return message.isEmpty() ? "" : ": " + (message.length() > 200 ? message.substring(0, 200) + "…" : message);
        } catch (Exception e) {
            return "";
        }
    }

    private static String query(Map<String, String> query) {
        StringBuilder sb = new StringBuilder();
        query.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : "&").append(encode(k)).append('=').append(encode(v)));
        return sb.toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientFailure("interrupted while waiting out Stripe's rate limit");
        }
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
