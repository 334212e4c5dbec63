package io.interchange.connectors.rest;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a target's requests authenticate. The credential is given to the HTTP client (a request interceptor that sets
 * {@link #headers()} on every request), never put in a URI or in a message header, so it appears in no exchange, trace
 * or dead letter. Most systems take one {@code Authorization} value (a bearer key, an OAuth token); others take their
 * own headers ({@link #appKeys}: Voucherify's application id and token).
 */
public interface RestAuth {

    /** The standard header a bearer key or token goes in. */
    String AUTHORIZATION = "Authorization";

    /** Whether a credential is configured at all. */
    boolean configured();

    /**
     * The {@code Authorization} value to send now, obtaining a token first if there is none or it is about to expire
     * (callers then wait for one shared refresh); empty for a credential that sends no {@code Authorization} header
     * ({@link #appKeys}). Called before every attempt; what it returns is what {@link #rejected} is later asked about.
     * Throws {@link io.interchange.reliability.TransientFailure} or {@link io.interchange.reliability.PermanentFailure}
     * when no token can be had.
     */
    String authorization();

    /** The value last obtained by {@link #authorization()}, without asking for a new one (for the request interceptor). */
    String current();

    /**
     * Every header the request interceptor sets on a request, from what is held now (never fetching): by default
     * {@code Authorization: <current()>}, or nothing while there is no value. A credential made of other headers
     * overrides it.
     */
    default Map<String, String> headers() {
        String value = current();
        return value == null || value.isEmpty() ? Map.of() : Map.of(AUTHORIZATION, value);
    }

    /**
     * The target refused {@code used} with a 401: whether asking again may help (a token that can be refreshed, and was
     * not already). A fixed key cannot be refreshed.
     */
    boolean rejected(String used);

    /**
     * A fixed user and password sent as {@code Authorization: Basic <base64(user:password)>} (Mailchimp's Marketing
     * API: any user name, the API key as password).
     */
    static RestAuth basic(String user, String password) {
        String secret = password == null ? "" : password.strip();
        String header = "Basic " + java.util.Base64.getEncoder().encodeToString(
                ((user == null ? "" : user) + ":" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return new RestAuth() {
            @Override
            public boolean configured() {
                return !secret.isEmpty();
            }

            @Override
            public String authorization() {
                return header;
            }

            @Override
            public String current() {
                return configured() ? header : "";
            }

            @Override
            public boolean rejected(String used) {
                return false;
            }

            @Override
            public String toString() {
                return "Basic (password masked)";
            }
        };
    }

    /** A fixed key sent as {@code Authorization: Bearer <key>} (Stripe's secret key, a HubSpot private app's token). */
    static RestAuth bearer(String key) {
        String value = key == null ? "" : key.strip();
        String header = "Bearer " + value;
        return new RestAuth() {
            @Override
            public boolean configured() {
                return !value.isEmpty();
            }

            @Override
            public String authorization() {
                return header;
            }

            @Override
            public String current() {
                return header;
            }

            @Override
            public boolean rejected(String used) {
                return false;
            }
        };
    }

    /**
     * A fixed pair of application keys sent as the two headers {@code X-App-Id: <appId>} and
     * {@code X-App-Token: <appToken>}, and no {@code Authorization} header: Voucherify's server-side API keys (its
     * OpenAPI's security schemes {@code X-App-Id} and {@code X-App-Token}). Configured only when both are given; a 401
     * is not asked again (a fixed key cannot be refreshed).
     */
    static RestAuth appKeys(String appId, String appToken) {
        String id = appId == null ? "" : appId.strip();
        String token = appToken == null ? "" : appToken.strip();
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-App-Id", id);
        headers.put("X-App-Token", token);
        Map<String, String> fixed = Collections.unmodifiableMap(headers);
        return new RestAuth() {
            @Override
            public boolean configured() {
                return !id.isEmpty() && !token.isEmpty();
            }

            @Override
            public String authorization() {
                return "";
            }

            @Override
            public String current() {
                return "";
            }

            @Override
            public Map<String, String> headers() {
                return configured() ? fixed : Map.of();
            }

            @Override
            public boolean rejected(String used) {
                return false;
            }

            @Override
            public String toString() {
                return "app keys of " + id; // never the token
            }
        };
    }
}
