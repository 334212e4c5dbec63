package io.interchange.reliability;

import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.ExchangeHelper;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * Claims the exchange's idempotency key; the key becomes DONE when the exchange completes and is released when it
 * fails, is dead-lettered or is answered by an error policy, so a retry or a replay can claim it again.
 *
 * <p>Written instead of Camel's idempotent consumer, which gets both cases of a key held by another delivery wrong
 * for money: with {@code skipDuplicate} it skips the event (on a Kafka consumer the offset is then committed, and if
 * the holder died the event never takes effect); without it, it confirms the holder's key when the duplicate's
 * exchange completes, so the holder's failure can no longer release it. Here a held key never completes anything:
 * {@link #waitingForHolder} makes it a transient failure (the route's policy retries, and the key is taken over once
 * the holder's lease runs out); {@link #reportingHolder} sets {@link IdempotencyStore#DUPLICATE_STATE} for the route
 * to answer (a webhook answers 409 so the sender retries). A key already DONE sets {@link #ALREADY_DONE}.
 */
public final class IdempotentStep implements Processor {

    /** Exchange property set to true when the effect already happened. */
    public static final String ALREADY_DONE = "InterchangeAlreadyDone";
    /** Exchange property holding the key this exchange has claimed (and so may renew). */
    public static final String CLAIMED = "InterchangeClaimedKey";
    /** Exchange property an error policy sets when it answers a failure: the key is released, not confirmed. */
    public static final String RELEASE = "InterchangeReleaseKey";

    private final IdempotencyStore store;
    private final boolean waitForHolder;

    private IdempotentStep(IdempotencyStore store, boolean waitForHolder) {
        this.store = store;
        this.waitForHolder = waitForHolder;
    }

    /** For consumers that must not move on past a held key (Kafka): a held key is a transient failure. */
    public static IdempotentStep waitingForHolder(IdempotencyStore store) {
        return new IdempotentStep(store, true);
    }

    /** For request/response edges: a held key is reported in {@link IdempotencyStore#DUPLICATE_STATE}. */
    public static IdempotentStep reportingHolder(IdempotencyStore store) {
        return new IdempotentStep(store, false);
    }

    /** True when this exchange neither holds the key nor may act (done already, or held elsewhere). */
    public static boolean isDuplicate(Exchange exchange) {
        return exchange.getProperty(IdempotencyStore.DUPLICATE_STATE) != null;
    }

    @Override
    public void process(Exchange exchange) {
        String key = exchange.getProperty(ExchangeKeys.IDEMPOTENCY_KEY, String.class);
        if (key == null) {
            throw new PermanentFailure("no idempotency key on the exchange");
        }
        if (exchange.getProperty(CLAIMED) != null) {
            return;
        }
        exchange.removeProperty(IdempotencyStore.DUPLICATE_STATE);
        IdempotencyStore.DuplicateState state = store.claim(key);
        if (state == IdempotencyStore.DuplicateState.DONE) {
            exchange.setProperty(ALREADY_DONE, true);
            exchange.setProperty(IdempotencyStore.DUPLICATE_STATE, state);
            return;
        }
        if (state == IdempotencyStore.DuplicateState.IN_PROGRESS) {
            if (waitForHolder) {
                throw new TransientFailure("key " + key + " is held by another delivery; waiting for it to finish or for "
                        + "its lease to run out");
            }
            exchange.setProperty(IdempotencyStore.DUPLICATE_STATE, state);
            return;
        }
        exchange.setProperty(CLAIMED, key);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onComplete(Exchange done) {
                // handled failures (dead-lettered, or answered by an error policy) release the key like failures
                if (ExchangeHelper.isFailureHandled(done) || Boolean.TRUE.equals(done.getProperty(RELEASE))) {
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
