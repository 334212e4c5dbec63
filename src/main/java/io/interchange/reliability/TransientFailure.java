package io.interchange.reliability;

/** A failure that may pass on a later attempt (peer overloaded or down, timeout): retried with backoff. */
public class TransientFailure extends RuntimeException {
    public TransientFailure(String message) {
        super(message);
    }

    public TransientFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
