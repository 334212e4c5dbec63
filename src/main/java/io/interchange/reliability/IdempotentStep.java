package io.interchange.reliability;

import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.ExchangeHelper;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * Claims the exchange's idempotency key for a consumer that must not skip a key held by someone else.
 *
 * <p>Camel's idempotent consumer treats a key held by another delivery as a duplicate and skips it; for a Kafka
 * consumer that commits the offset, so if the holder died the event would never take effect. Here a held key is a
 * transient failure: the route's policy retries this step, which claims again and takes over once the holder's lease
 * has run out. A key already DONE sets {@link #ALREADY_DONE}. The key becomes DONE when the exchange completes, and is
 * released when it fails or is dead-lettered, so a replay can claim it again.
 */
public final class IdempotentStep implements Processor {

    /** Exchange property set to true when the effect already happened. */
    public static final String ALREADY_DONE = "InterchangeAlreadyDone";
    /** Exchange property holding the key this exchange has claimed (and so may renew). */
    public static final String CLAIMED = "InterchangeClaimedKey";

    private final IdempotencyStore store;

    public IdempotentStep(IdempotencyStore store) {
        this.store = store;
    }

    @Override
    public void process(Exchange exchange) {
        String key = exchange.getProperty(ExchangeKeys.IDEMPOTENCY_KEY, String.class);
        if (key == null) {
            throw new PermanentFailure("no idempotency key on the exchange");
        }
        if (Boolean.TRUE.equals(exchange.getProperty(ALREADY_DONE)) || exchange.getProperty(CLAIMED) != null) {
            return;
        }
        IdempotencyStore.DuplicateState state = store.claim(key);
        if (state == IdempotencyStore.DuplicateState.DONE) {
            exchange.setProperty(ALREADY_DONE, true);
            return;
        }
        if (state == IdempotencyStore.DuplicateState.IN_PROGRESS) {
            throw new TransientFailure("key " + key + " is held by another delivery; waiting for it to finish or for "
                    + "its lease to run out");
        }
        exchange.setProperty(CLAIMED, key);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onComplete(Exchange done) {
                if (ExchangeHelper.isFailureHandled(done)) {
                    store.remove(key);
                } else {
                    store.confirm(key);
                }
            }

            @Override
            public void onFailure(Exchange failed) {
                store.remove(key);
            }
        });
    }
}
