package io.interchange.reliability;

import io.interchange.store.IdempotencyStore;
import org.apache.camel.AsyncCallback;
import org.apache.camel.AsyncProcessor;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.camel.support.ExchangeHelper;
import org.apache.camel.support.SynchronizationAdapter;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

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
    /**
     * Exchange property set to true when the key was taken over from an earlier delivery that did not finish (it
     * died, or its lease ran out): that delivery's effect may have happened, and a step whose target can tell asks it.
     */
    public static final String TAKEN_OVER = "InterchangeKeyTakenOver";
    /** Exchange property holding the {@link Claim} of the key, so an answer can release it before it is written. */
    private static final String CLAIM = "InterchangeClaim";
    /** Exchange property: the keys (a {@code List<String>}) {@link #reportingHolders} claims together. */
    public static final String KEYS = "InterchangeIdempotencyKeys";
    /**
     * Exchange property set by {@link #reportingHolders}: a {@code List<DuplicateState>}, one per key of {@link #KEYS};
     * null where this exchange now holds the key, else why it does not (DONE, IN_PROGRESS).
     */
    public static final String STATES = "InterchangeDuplicateStates";
    /** Exchange property holding the {@link Claims} of {@link #reportingHolders}. */
    private static final String CLAIMS = "InterchangeClaims";
    /** Exchange property set by {@link #confirmingHolders}: whether the store took the confirmation. */
    private static final String CONFIRMED = "InterchangeClaimsConfirmed";

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

    /**
     * For request/response edges whose requests carry several events (a webhook batch): claims the keys of
     * {@link #KEYS} in one group commit and reports each key's state in {@link #STATES}. The keys held are settled
     * together: confirmed by {@link #confirmingHolders} (one group commit), released by {@link #releaseNow} or, as with
     * a single key, when the exchange fails or is answered by an error policy. An exchange with no keys claims nothing.
     *
     * <p>Asynchronous: no thread waits for the commit. The route goes on on {@code executor} once the claims are
     * committed (a store failure is the exchange's exception).
     */
    public static AsyncProcessor reportingHolders(IdempotencyStore store, Executor executor) {
        return new AsyncProcessorSupport() {
            @Override
            public boolean process(Exchange exchange, AsyncCallback callback) {
                @SuppressWarnings("unchecked")
                List<String> keys = exchange.getProperty(KEYS, List.class);
                if (exchange.getProperty(CLAIMS) != null || keys == null || keys.isEmpty()) {
                    if (exchange.getProperty(STATES) == null) exchange.setProperty(STATES, List.of());
                    callback.done(true);
                    return true;
                }
                store.claimAllNotingAsync(keys, executor).whenComplete((noting, failure) -> {
                    try {
                        if (failure != null) exchange.setException(cause(failure));
                        else hold(exchange, store, keys, noting);
                    } catch (RuntimeException e) {
                        exchange.setException(e);
                    } finally {
                        callback.done(false);
                    }
                });
                return false;
            }
        };
    }

    /** The claims' outcome: the keys this exchange now holds are settled with it (see {@link #reportingHolders}). */
    private static void hold(Exchange exchange, IdempotencyStore store, List<String> keys,
                             List<IdempotencyStore.DuplicateState> noting) {
        List<IdempotencyStore.DuplicateState> states = new ArrayList<>(noting.size());
        List<String> held = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            IdempotencyStore.DuplicateState state = noting.get(i);
            // a key taken over from a holder that did not finish is this exchange's now, as a new one
            if (state == IdempotencyStore.DuplicateState.TAKEN_OVER) state = null;
            states.add(state);
            if (state == null) held.add(keys.get(i));
        }
        exchange.setProperty(STATES, states);
        if (held.isEmpty()) return;
        Claims claims = new Claims(store, held);
        exchange.setProperty(CLAIMS, claims);
        settleOnCompletion(exchange, claims);
    }

    /**
     * Confirms the keys {@link #reportingHolders} claimed, in one group commit, before the answer is written: the route
     * goes on on {@code executor} once they are committed, and {@link #confirmed} tells whether the store took them.
     * Done as a step of its own rather than by a completion hook, which on the HTTP edge runs where the answer is
     * written: a Vert.x event loop, where a durable statement stalls every connection of that loop (and while the store
     * was unreachable stalled them for the pool's connection timeout per request).
     */
    public static AsyncProcessor confirmingHolders(Executor executor) {
        return new AsyncProcessorSupport() {
            @Override
            public boolean process(Exchange exchange, AsyncCallback callback) {
                Claims claims = exchange.getProperty(CLAIMS, Claims.class);
                if (claims == null) {
                    callback.done(true);
                    return true;
                }
                claims.confirmAsync(executor).whenComplete((done, failure) -> {
                    exchange.setProperty(CONFIRMED, failure == null);
                    callback.done(false);
                });
                return false;
            }
        };
    }

    /**
     * False when the store could not take the confirmation of {@link #confirmingHolders}. The effect has happened by
     * then (the event is published): the keys stay pending until their lease runs out, and a redelivery after that
     * does the effect again, which the next step's own idempotency absorbs (the ledger claims each event id once).
     */
    public static boolean confirmed(Exchange exchange) {
        return !Boolean.FALSE.equals(exchange.getProperty(CONFIRMED));
    }

    private static Throwable cause(Throwable failure) {
        return failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
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
        IdempotencyStore.DuplicateState state = store.claimNoting(key);
        if (state == IdempotencyStore.DuplicateState.TAKEN_OVER) {
            exchange.setProperty(TAKEN_OVER, true);
            state = null;
        }
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
        Claim claim = new Claim(store, key, waitForHolder);
        exchange.setProperty(CLAIM, claim);
        settleOnCompletion(exchange, claim);
    }

    /** What an exchange holds: settled once, confirmed when it completes, released when it fails. */
    private interface Settlement {
        void confirm();

        void release();
    }

    private static void settleOnCompletion(Exchange exchange, Settlement settlement) {
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onComplete(Exchange done) {
                // handled failures (dead-lettered, or answered by an error policy) release the key like failures
                if (ExchangeHelper.isFailureHandled(done) || Boolean.TRUE.equals(done.getProperty(RELEASE))) {
                    settlement.release();
                } else {
                    settlement.confirm();
                }
            }

            @Override
            public void onFailure(Exchange failed) {
                settlement.release();
            }
        });
    }

    /**
     * Releases the key this exchange holds at once, before its answer is written, so a sender retrying as soon as it
     * reads the answer finds the key free (completion hooks run after the answer is on its way). The exchange's
     * completion then leaves the key alone: a second removal could delete another delivery's fresh claim.
     */
    public static void releaseNow(Exchange exchange) {
        exchange.setProperty(RELEASE, true);
        Claim claim = exchange.getProperty(CLAIM, Claim.class);
        Claims claims = exchange.getProperty(CLAIMS, Claims.class);
        try {
            if (claim != null) claim.release();
            if (claims != null) claims.release();
        } catch (RuntimeException e) {
            // the store is what failed: the key's lease runs out instead, and the retry takes it over then
        }
    }

    /** The keys of one exchange claimed together ({@link #reportingHolders}), settled together exactly once. */
    private static final class Claims implements Settlement {
        private final IdempotencyStore store;
        private final List<String> keys;
        private final AtomicBoolean settled = new AtomicBoolean();

        Claims(IdempotencyStore store, List<String> keys) {
            this.store = store;
            this.keys = List.copyOf(keys);
        }

        public void confirm() {
            if (settled.compareAndSet(false, true)) store.confirmAll(keys);
        }

        java.util.concurrent.CompletableFuture<Void> confirmAsync(Executor executor) {
            if (!settled.compareAndSet(false, true)) return java.util.concurrent.CompletableFuture.completedFuture(null);
            return store.confirmAllAsync(keys, executor);
        }

        public void release() {
            if (!settled.compareAndSet(false, true)) return;
            for (String key : keys) store.remove(key);
        }
    }

    /**
     * A claimed key, settled (confirmed or released) exactly once. On a consumer ({@link #waitingForHolder}) a failed
     * attempt may have had its effect (an ERP that posted and then timed out), so its key is released as unsettled:
     * the next claim (a redelivery, a replay) is told it took the key over, and a step that can ask its target does.
     */
    private static final class Claim implements Settlement {
        private final IdempotencyStore store;
        private final String key;
        private final boolean unsettledOnRelease;
        private final AtomicBoolean settled = new AtomicBoolean();

        Claim(IdempotencyStore store, String key, boolean unsettledOnRelease) {
            this.store = store;
            this.key = key;
            this.unsettledOnRelease = unsettledOnRelease;
        }

        public void confirm() {
            if (settled.compareAndSet(false, true)) store.confirm(key);
        }

        public void release() {
            if (!settled.compareAndSet(false, true)) return;
            if (unsettledOnRelease) store.releaseUnsettled(key);
            else store.remove(key);
        }
    }
}
