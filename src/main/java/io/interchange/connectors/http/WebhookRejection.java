package io.interchange.connectors.http;

/**
 * A webhook refused with a 4xx status and a reason the sender can act on. Nothing has been stored or published when
 * this is thrown.
 */
public class WebhookRejection extends RuntimeException {

    /** Longest reason given back (and logged): a reason quoting hostile input must not echo megabytes of it. */
    static final int MAX_REASON_CHARS = 1000;

    private final int status;

    public WebhookRejection(int status, String reason) {
        super(reason != null && reason.length() > MAX_REASON_CHARS
                ? reason.substring(0, MAX_REASON_CHARS) + "… (" + reason.length() + " characters)" : reason, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
