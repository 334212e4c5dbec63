package io.interchange.connectors.kafka;

import io.interchange.reliability.ExchangeKeys;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A poll of a topic at once, each record once: the records of the wanted CloudEvents types claimed under their
 * idempotency keys in one group commit, the claimed ones handed to the flow's batch handler together, those it
 * handled confirmed in one commit, and the offsets committed once every record of the poll is done. A record the
 * batch could not take (another delivery holds it, or the handler answered a failure for it) goes, in its order,
 * through the flow's single-record route, whose retry and dead-letter policy decides; its claim is released first,
 * marked as possibly done, so that route takes it over at once. The handler's steps must be safe to repeat.
 */
public final class ClaimedBatches implements AutoCloseable {

    /** Handles the claimed records of a poll together; answers, per record in order, null (done) or its failure. */
    @FunctionalInterface
    public interface Handler {
        List<RuntimeException> handle(List<Exchange> records);
    }

    private final IdempotencyStore idempotency;
    private final Set<String> types;
    private final Function<String, String> key;
    private final String singleUri;
    private final Handler handler;
    private final KafkaBatches.Template template = new KafkaBatches.Template();
    private boolean takenOverAlone;

    /**
     * @param types     the CloudEvents types the flow takes (others on the topic are passed over)
     * @param key       the idempotency key of a record, from its CloudEvents id (the single route uses the same)
     * @param singleUri the flow's single-record route
     */
    public ClaimedBatches(IdempotencyStore idempotency, Set<String> types, Function<String, String> key,
                          String singleUri, Handler handler) {
        this.idempotency = idempotency;
        this.types = Set.copyOf(types);
        this.key = key;
        this.singleUri = singleUri;
        this.handler = handler;
    }

    /**
     * Records whose claim is taken over from a delivery that did not finish (a process that died mid-effect) go through
     * the single-record route, which is told so ({@code IdempotentStep.TAKEN_OVER}) and can ask its target whether the
     * effect happened, instead of through the batch handler, which is not told. For targets whose effects cannot be
     * repeated safely and have no idempotency key of their own (loyalty points).
     */
    public ClaimedBatches takenOverAlone() {
        this.takenOverAlone = true;
        return this;
    }

    public void process(Exchange batch) {
        List<?> polled = batch.getMessage().getBody(List.class);
        if (polled == null || polled.isEmpty()) return;
        // a batch has no one correlation id: each record's is in its own log lines and audit entries
        ExchangeKeys.mdc(batch);
        List<Exchange> records = KafkaBatches.stillOwned(polled);
        if (records.isEmpty()) return;
        ProducerTemplate single = template.get(batch.getContext());

        List<Exchange> wanted = new ArrayList<>();
        for (Exchange r : records) {
            if (types.contains(r.getMessage().getHeader(CloudEventHeaders.TYPE, String.class))) wanted.add(r);
        }
        List<String> keys = new ArrayList<>(wanted.size());
        for (Exchange r : wanted) keys.add(key.apply(r.getMessage().getHeader(CloudEventHeaders.ID, String.class)));
        List<IdempotencyStore.DuplicateState> states = wanted.isEmpty() ? List.of()
                : takenOverAlone ? idempotency.claimAllNoting(keys) : idempotency.claimAll(keys);

        List<Integer> claimed = new ArrayList<>();
        boolean[] alone = new boolean[wanted.size()];
        for (int i = 0; i < wanted.size(); i++) {
            IdempotencyStore.DuplicateState state = states.get(i);
            if (state == IdempotencyStore.DuplicateState.TAKEN_OVER) {
                idempotency.releaseUnsettled(keys.get(i)); // the single route takes it over at once, and is told so
                alone[i] = true;
            } else if (state == null) claimed.add(i);
            else if (state != IdempotencyStore.DuplicateState.DONE) alone[i] = true; // held: the single route waits
        }
        List<RuntimeException> failures = claimed.isEmpty() ? List.of()
                : handler.handle(claimed.stream().map(wanted::get).toList());
        List<String> done = new ArrayList<>();
        for (int c = 0; c < claimed.size(); c++) {
            int i = claimed.get(c);
            if (failures.get(c) == null) {
                done.add(keys.get(i));
            } else {
                idempotency.releaseUnsettled(keys.get(i));
                alone[i] = true;
            }
        }
        if (!done.isEmpty()) idempotency.confirmAll(done);
        for (int i = 0; i < wanted.size(); i++) {
            if (alone[i]) KafkaBatches.forward(single, singleUri, wanted.get(i));
        }
        KafkaBatches.commitOffsets(records);
    }

    @Override
    public void close() {
        template.close();
    }
}
