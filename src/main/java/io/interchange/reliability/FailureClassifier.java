package io.interchange.reliability;

import io.interchange.mapping.MappingException;
import io.interchange.store.StoreException;
import org.apache.kafka.common.errors.RetriableException;

import java.io.IOException;
import java.sql.SQLTransientException;
import java.util.concurrent.TimeoutException;

/** Decides whether a failure is transient (retry with backoff) or permanent (dead letter at once). */
public final class FailureClassifier {

    public static final String TRANSIENT = "TRANSIENT";
    public static final String PERMANENT = "PERMANENT";

    private FailureClassifier() {
    }

    /**
     * Transient: our own {@link TransientFailure}, I/O failures (connection refused, timeouts, reset), store outages,
     * Kafka's retriable errors. Permanent: {@link PermanentFailure}, mapping errors, TLS handshake failures (an
     * untrusted or mismatched certificate) and anything unrecognised, because
     * retrying an unknown error for minutes hides a bug that an operator should see in the dead-letter store.
     */
    public static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof PermanentFailure || t instanceof MappingException) return false;
            if (t instanceof StoreException se) return se.isTransient();
            // a certificate the peer cannot prove is a configuration problem; retrying would only hide it
            if (t instanceof javax.net.ssl.SSLHandshakeException || t instanceof javax.net.ssl.SSLPeerUnverifiedException) {
                return false;
            }
            if (t instanceof TransientFailure || t instanceof IOException || t instanceof StoreException
                    || t instanceof SQLTransientException || t instanceof RetriableException
                    || t instanceof TimeoutException) {
                return true;
            }
        }
        return false;
    }

    public static String kind(Throwable failure) {
        return isTransient(failure) ? TRANSIENT : PERMANENT;
    }

    /** The message of the most telling cause: ours if there is one, else the root cause's. */
    public static String reason(Throwable failure) {
        if (failure == null) return "unknown failure";
        Throwable root = failure;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof PermanentFailure || t instanceof TransientFailure || t instanceof MappingException) {
                return t.getMessage();
            }
            root = t;
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
