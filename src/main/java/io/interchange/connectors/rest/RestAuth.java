package io.interchange.connectors.rest;

/**
 * How a target's requests authenticate. The credential is given to the HTTP client (a request interceptor), never put
 * in a URI or in a message header, so it appears in no exchange, trace or dead letter.
 */
public interface RestAuth {

    /** Whether a credential is configured at all. */
    boolean configured();

    /**
     * The {@code Authorization} value to send now, obtaining a token first if there is none or it is about to expire
     * (callers then wait for one shared refresh). Throws {@link io.interchange.reliability.TransientFailure} or
     * {@link io.interchange.reliability.PermanentFailure} when no token can be had.
     */
    String authorization();

    /** The value last obtained by {@link #authorization()}, without asking for a new one (for the request interceptor). */
    String current();

    /**
     * The target refused {@code used} with a 401: whether asking again may help (a token that can be refreshed, and was
     * not already). A fixed key cannot be refreshed.
     */
    boolean rejected(String used);

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
}
