package io.interchange.store;

import java.sql.SQLException;

/**
 * A store operation failed. Transient when the database was unreachable or busy (the caller retries); permanent when
 * the data itself was refused (SQLSTATE class 22 data exception, 23 integrity violation, 42 syntax or access), which
 * no retry can change.
 */
public class StoreException extends RuntimeException {

    private final boolean transientFailure;

    public StoreException(String message, Throwable cause) {
        super(message, cause);
        this.transientFailure = cause instanceof StoreException se ? se.transientFailure
                : !(cause instanceof SQLException sql) || isTransient(sql);
    }

    /** False for SQLSTATE classes 22, 23 and 42: the data or the statement was refused. */
    static boolean isTransient(SQLException e) {
        String state = e.getSQLState();
        return state == null || !(state.startsWith("22") || state.startsWith("23") || state.startsWith("42"));
    }

    public boolean isTransient() {
        return transientFailure;
    }
}
