package io.interchange.store;

/** A store operation failed (connection lost, database down); callers treat it as transient. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
