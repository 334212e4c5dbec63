package io.interchange.connectors.billing;

import io.interchange.reliability.PermanentFailure;

/**
 * A genuine, correctly signed Stripe event this runtime cannot process yet (a type it does not handle, an API version
 * it does not know, no legal entity, a mapping gap, totals it cannot reconcile): acknowledged to the sender and kept
 * as a dead letter with this reason, to be replayed once the cause is fixed. Never a 4xx: Stripe would retry it for
 * three days and then drop it.
 */
public class ParkedEvent extends PermanentFailure {

    public ParkedEvent(String reason) {
        super(reason);
    }
}
