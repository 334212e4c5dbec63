package io.interchange.ledger;

import io.interchange.reliability.TransientFailure;
import org.apache.camel.Exchange;

/**
 * A request the ERP's open circuit breaker did not let through: nothing was sent, and the postings it carried wait
 * (their consumer holds them, see {@link LedgerHold}). Transient, should it ever reach a retrying route.
 */
public final class ErpHeld extends TransientFailure {

    public ErpHeld(String target) {
        super(target + " circuit breaker open: the request was not sent; its postings wait");
    }

    /** The hold the ERP route reported on this exchange, or null when it made its call. */
    static ErpHeld of(Exchange sent) {
        Object target = sent.getProperty(ErpBreakers.HELD);
        return target == null ? null : new ErpHeld(target.toString());
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // an expected outcome while an ERP is down, not a bug: no stack trace to collect
    }
}
