package io.interchange.connectors.http;

/**
 * A webhook refused with a 4xx status and a reason the sender can act on. Nothing has been stored or published when
 * this is thrown.
 */
public class WebhookRejection extends RuntimeException {

    private final int status;

    public WebhookRejection(int status, String reason) {
        super(reason, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
