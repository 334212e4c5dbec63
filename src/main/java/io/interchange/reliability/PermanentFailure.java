package io.interchange.reliability;

/** A failure that retrying cannot fix (validation, business rejection, unknown legal entity): dead-lettered at once. */
public class PermanentFailure extends RuntimeException {
    public PermanentFailure(String message) {
        super(message);
    }

    public PermanentFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
