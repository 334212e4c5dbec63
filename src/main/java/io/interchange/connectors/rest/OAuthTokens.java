package io.interchange.connectors.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * OAuth 2.0 access tokens for a target (RFC 6749): the client credentials grant (section 4.4: client id, secret and
 * scope), or, where a refresh token is configured, the refresh token grant (section 6: HubSpot's OAuth apps). A token
 * is kept until shortly before its {@code expires_in} and then fetched again; a token the target refuses with a 401 is
 * dropped once, so the next request fetches a new one. Callers needing a token while one is being fetched wait for that
 * one (a single refresh, whoever asked).
 *
 * <p>The exchange is written here rather than taken from Nimbus' oauth2-oidc-sdk, which the project's Maven registry
 * does not serve (only nimbus-jose-jwt, which has no token client): it is one form-encoded POST and a JSON answer. It
 * uses the JDK's HTTP client, not the target's route: the token endpoint is another host with its own limits, and a
 * token request must not wait behind the target's throttle.
 */
public final class OAuthTokens implements RestAuth {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Refreshed this long before the token expires (at most a tenth of its lifetime), so no request carries a dying one. */
    private static final Duration EARLY = Duration.ofSeconds(60);

    private final URI tokenUrl;
    private final String clientId;
    private final String clientSecret;
    private final String scope;
    private final String refreshToken;
    private final Duration timeout;
    private final HttpClient http;
    private final LongSupplier nanoTime;

    private final Object lock = new Object();
    private volatile String header;
    /** nanoTime.getAsLong() after which the token is fetched again; Long.MAX_VALUE when the server gave no lifetime. */
    private long refreshAt;
    private int fetched;

    public OAuthTokens(String tokenUrl, String clientId, String clientSecret, String scope, String refreshToken,
                       Duration timeout) {
        this(tokenUrl, clientId, clientSecret, scope, refreshToken, timeout, System::nanoTime);
    }

    /** With the monotonic clock given (tests step it past a token's lifetime instead of waiting for it). */
    OAuthTokens(String tokenUrl, String clientId, String clientSecret, String scope, String refreshToken,
                Duration timeout, LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.tokenUrl = URI.create(tokenUrl.strip());
        this.clientId = clientId == null ? "" : clientId.strip();
        this.clientSecret = clientSecret == null ? "" : clientSecret.strip();
        this.scope = scope == null ? "" : scope.strip();
        this.refreshToken = refreshToken == null ? "" : refreshToken.strip();
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    @Override
    public boolean configured() {
        return !clientId.isEmpty() && !clientSecret.isEmpty();
    }

    /** Tokens fetched since start (for tests and health). */
    public int fetched() {
        synchronized (lock) {
            return fetched;
        }
    }

    @Override
    public String authorization() {
        synchronized (lock) {
            if (header == null || nanoTime.getAsLong() - refreshAt >= 0) fetch();
            return header;
        }
    }

    @Override
    public String current() {
        String h = header;
        return h == null ? "" : h;
    }

    @Override
    public boolean rejected(String used) {
        synchronized (lock) {
            // another caller may already have replaced the refused token: then asking again is worth it, without a fetch
            if (used != null && used.equals(header)) header = null;
            return true;
        }
    }

    private void fetch() {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", refreshToken.isEmpty() ? "client_credentials" : "refresh_token");
        if (!refreshToken.isEmpty()) form.put("refresh_token", refreshToken);
        form.put("client_id", clientId);
        form.put("client_secret", clientSecret);
        if (!scope.isEmpty()) form.put("scope", scope);
        HttpRequest request = HttpRequest.newBuilder(tokenUrl).timeout(timeout)
                .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(FormBody.of(form).text(), StandardCharsets.UTF_8)).build();
        HttpResponse<byte[]> answer;
        long started = nanoTime.getAsLong();
        try {
            answer = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new TransientFailure("token endpoint " + tokenUrl + " unreachable: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientFailure("interrupted while fetching a token from " + tokenUrl, e);
        }
        int status = answer.statusCode();
        String reason = "token endpoint " + tokenUrl + " answered " + status + ErrorMessages.of(answer.body());
        if (status == 400 || status == 401 || status == 403) throw new PermanentFailure(reason); // wrong client or grant
        if (status / 100 != 2) throw new TransientFailure(reason);
        JsonNode token;
        try {
            token = JSON.readTree(answer.body());
        } catch (IOException e) {
            throw new TransientFailure("token endpoint " + tokenUrl + " answered " + status + " with a body that is not JSON", e);
        }
        // RFC 6749 names them access_token and expires_in; HubSpot's newer token API answers accessToken and expiresIn
        String access = token.path("access_token").asText(token.path("accessToken").asText(""));
        if (access.isEmpty()) throw new TransientFailure("token endpoint " + tokenUrl + " answered without an access_token");
        long expiresIn = token.path("expires_in").asLong(token.path("expiresIn").asLong(0));
        header = "Bearer " + access;
        fetched++;
        if (expiresIn <= 0) {
            refreshAt = started + Long.MAX_VALUE / 2; // no lifetime given (Salesforce): kept until the target refuses it
        } else {
            long early = Math.min(EARLY.toSeconds(), expiresIn / 10);
            refreshAt = started + Duration.ofSeconds(expiresIn - early).toNanos();
        }
    }
}
