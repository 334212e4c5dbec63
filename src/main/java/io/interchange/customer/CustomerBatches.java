package io.interchange.customer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.kafka.KafkaBatches;
import io.interchange.model.CustomerChange;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A poll of the customer topic at once ({@link CustomerSync#syncAll}): each change claimed under its CloudEvents id
 * in one group commit, the batch synchronised with the targets' requests batched, the synchronised changes confirmed
 * in one commit, and the offsets committed once every change of the batch is done. A change the batch could not take
 * (another delivery holds it, it does not parse, it or its customer failed) goes, in its order, through the
 * single-change route, whose retry and dead-letter policy decides; its claim is released first, marked as possibly
 * done, and every step is safe to repeat.
 */
public final class CustomerBatches implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final CustomerSync sync;
    private final IdempotencyStore idempotency;
    private final Set<String> types;
    private final String singleUri;
    private final ExecutorService parallel;
    private final KafkaBatches.Template template = new KafkaBatches.Template();

    /**
     * @param types       the CloudEvents types of customer changes (others on the topic are passed over)
     * @param singleUri   the single-change route
     * @param concurrency requests to one target in flight at once for different customers
     */
    public CustomerBatches(CustomerSync sync, IdempotencyStore idempotency, Set<String> types, String singleUri,
                           int concurrency) {
        this.sync = sync;
        this.idempotency = idempotency;
        this.types = Set.copyOf(types);
        this.singleUri = singleUri;
        AtomicInteger n = new AtomicInteger();
        this.parallel = Executors.newFixedThreadPool(Math.max(1, concurrency), r -> {
            Thread t = new Thread(r, "customer-sync-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** The idempotency key of a change: its CloudEvents id (the single-change route uses the same). */
    public static String key(String cloudEventId) {
        return "customer:sync:" + cloudEventId;
    }

    public void process(Exchange batch) {
        List<?> polled = batch.getMessage().getBody(List.class);
        if (polled == null || polled.isEmpty()) return;
        // a batch has no one correlation id: each change's is in its own log lines and audit entries
        ExchangeKeys.mdc(batch);
        List<Exchange> records = KafkaBatches.stillOwned(polled);
        if (records.isEmpty()) return;
        ProducerTemplate single = template.get(batch.getContext());

        List<Exchange> changes = new ArrayList<>();
        for (Exchange r : records) {
            if (types.contains(r.getMessage().getHeader(CloudEventHeaders.TYPE, String.class))) changes.add(r);
        }
        List<String> keys = new ArrayList<>(changes.size());
        for (Exchange r : changes) keys.add(key(r.getMessage().getHeader(CloudEventHeaders.ID, String.class)));
        List<IdempotencyStore.DuplicateState> states = changes.isEmpty() ? List.of() : idempotency.claimAll(keys);

        // the changes of the batch in their order: claimed here (synchronised together) or left to the single route
        List<Exchange> claimed = new ArrayList<>();
        List<String> claimedKeys = new ArrayList<>();
        List<CustomerSync.Item> items = new ArrayList<>();
        boolean[] alone = new boolean[changes.size()];
        for (int i = 0; i < changes.size(); i++) {
            IdempotencyStore.DuplicateState state = states.get(i);
            if (state == IdempotencyStore.DuplicateState.DONE) continue;
            if (state != null) {
                alone[i] = true; // another delivery holds it: the single route waits for that holder
                continue;
            }
            Exchange r = changes.get(i);
            try {
                CustomerChange change = JSON.readValue(r.getMessage().getBody(byte[].class), CustomerChange.class);
                items.add(new CustomerSync.Item(change, r.getMessage().getHeader(CloudEventHeaders.CORRELATION_ID,
                        String.class)));
                claimed.add(r);
                claimedKeys.add(keys.get(i));
            } catch (IOException | RuntimeException e) {
                idempotency.releaseUnsettled(keys.get(i));
                alone[i] = true; // the single route refuses it with the reason, as a dead letter
            }
        }
        List<CustomerSync.ItemOutcome> outcomes = items.isEmpty() ? List.of() : sync.syncAll(items, parallel);
        List<String> done = new ArrayList<>();
        for (int i = 0; i < outcomes.size(); i++) {
            if (outcomes.get(i).failed()) {
                idempotency.releaseUnsettled(claimedKeys.get(i));
                alone[changes.indexOf(claimed.get(i))] = true;
            } else {
                done.add(claimedKeys.get(i));
            }
        }
        if (!done.isEmpty()) idempotency.confirmAll(done);
        for (int i = 0; i < changes.size(); i++) {
            if (alone[i]) KafkaBatches.forward(single, singleUri, changes.get(i));
        }
        KafkaBatches.commitOffsets(records);
    }

    @Override
    public void close() {
        template.close();
        parallel.shutdown();
        try {
            parallel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
