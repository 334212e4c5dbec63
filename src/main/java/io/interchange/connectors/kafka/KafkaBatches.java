package io.interchange.connectors.kafka;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.DefaultKafkaManualCommit;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the batch-consuming flows (a poll's records in one exchange, {@code batching=true}) share: keeping only the
 * records the consumer still owns after a rebalance, handing a record to the flow's single-event route, and committing
 * a finished batch's offsets by hand.
 */
public final class KafkaBatches {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBatches.class);

    /**
     * Consumer endpoint option: a record's value as the bytes it was written as (every canonical event is UTF-8 JSON,
     * and every flow reads it as bytes). Camel's Kafka consumer otherwise decodes each value to a String, which the flow
     * then has encoded back to bytes, through Camel's default charset at that. The runtime sets it for every consumer
     * ({@code InterchangeRuntime}); a route also used outside the runtime names it itself.
     */
    public static final String BYTE_VALUES = "&valueDeserializer="
            + org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName();

    private KafkaBatches() {
    }

    /**
     * Per consumer (Camel reconnects with a new one), the offset it last committed in each partition: where it has
     * handled every record before.
     */
    private static final Map<Consumer<?, ?>, Map<TopicPartition, Long>> COMMITTED =
            Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * The records of a batch that its consumer may handle: those of partitions still assigned to it, from the offset it
     * last committed there on. The others are left, unhandled and uncommitted, to the partition's reader.
     *
     * <p>Camel 4.18's batching consumer keeps the records a poll returns and hands them to the route at a later poll,
     * when the batch interval has run out or the batch is full. A rebalance completed inside that later poll (Kafka's
     * default, eager protocol revokes every partition, then assigns them again) does not drop them, and whoever reads
     * their partition next starts again at its committed offset, which this batch has not moved yet:
     * <ul>
     * <li>another consumer (thread or instance) took the partition: it reads them too, so here they are another
     * consumer's records;</li>
     * <li>the partition was given back to this consumer: it restarts at the committed offset and reads them once more,
     * in a later batch, after this one has handled them and committed past them; there they are below the offset this
     * consumer committed.</li>
     * </ul>
     * Handled twice, an event the ERP answered with a failure is dead-lettered, its key released, and sent to the ERP
     * again by the second reading (and dead-lettered twice). A consumer joining or leaving the group is enough: an
     * instance starting or stopping, or the ledger's second consumer thread joining after the first has started
     * reading (a new group forms at once on a broker without initial rebalance delay, as the embedded one).
     */
    public static List<Exchange> stillOwned(List<?> records) {
        List<Exchange> owned = new ArrayList<>(records.size());
        Map<Consumer<?, ?>, Set<TopicPartition>> assigned = new IdentityHashMap<>();
        int elsewhere = 0;
        int again = 0;
        for (Object o : records) {
            Exchange record = (Exchange) o;
            if (!(record.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT) instanceof DefaultKafkaManualCommit commit)) {
                owned.add(record); // no consumer to ask (commitOffsets refuses such a batch anyway)
                continue;
            }
            // the batch runs inside its consumer's poll loop, on that consumer's thread: asking it is safe
            Consumer<?, ?> consumer = commit.getConsumer();
            if (!assigned.containsKey(consumer)) learnGroupCommitsAfterRebalance(consumer);
            TopicPartition partition = commit.getPartition();
            Long committed = committed(consumer).get(partition);
            if (!assigned.computeIfAbsent(consumer, Consumer::assignment).contains(partition)) {
                elsewhere++;
            } else if (committed != null && commit.getRecordOffset() < committed) {
                again++;
            } else {
                owned.add(record);
            }
        }
        if (elsewhere + again > 0) {
            LOG.info("Batch of {} record(s) after a rebalance: {} of partitions now another consumer's and {} read again "
                    + "below this consumer's commit are left to the partitions' reader", records.size(), elsewhere, again);
        }
        return owned;
    }

    /** Per consumer, the group generation of its last batch: a new one means a rebalance happened in between. */
    private static final Map<Consumer<?, ?>, Integer> GENERATION = Collections.synchronizedMap(new WeakHashMap<>());
    private static final Duration COMMITTED_TIMEOUT = Duration.ofSeconds(5);

    /**
     * After a rebalance (the group's generation moved on since the consumer's last batch), the offsets the group has
     * committed for the consumer's partitions, taken where they are past the consumer's own: a partition that went to
     * another consumer and came back carries that consumer's commits, and the records below them, fetched here before
     * the partition left, were handled there. Asked of the broker once per rebalance, not per batch; if it does not
     * answer in time, the consumer's own commits stand (the idempotency keys still absorb a record handled twice).
     */
    private static void learnGroupCommitsAfterRebalance(Consumer<?, ?> consumer) {
        int generation;
        try {
            generation = consumer.groupMetadata().generationId();
        } catch (RuntimeException e) {
            return; // no group (manual assignment): no rebalances
        }
        Integer before = GENERATION.put(consumer, generation);
        if (before == null || before == generation) return;
        Set<TopicPartition> partitions = consumer.assignment();
        if (partitions.isEmpty()) return;
        try {
            Map<TopicPartition, Long> own = committed(consumer);
            consumer.committed(partitions, COMMITTED_TIMEOUT).forEach((tp, offset) -> {
                if (offset != null) own.merge(tp, offset.offset(), Math::max);
            });
        } catch (RuntimeException e) {
            LOG.debug("Group's committed offsets after a rebalance not read ({}); the consumer's own stand", e.toString());
        }
    }

    private static Map<TopicPartition, Long> committed(Consumer<?, ?> consumer) {
        return COMMITTED.computeIfAbsent(consumer, c -> new ConcurrentHashMap<>());
    }

    /**
     * Sends one record of a batch through a single-event route (which retries or dead-letters it under its policy),
     * with its headers (Kafka's and Camel's left out) and its payload as bytes. Throws when even that route failed
     * (the dead-letter store did not take it): the batch then fails and its offsets stay uncommitted.
     */
    public static void forward(ProducerTemplate template, String uri, Exchange record) {
        forward(template, uri, record, Map.of());
    }

    /** As {@link #forward(ProducerTemplate, String, Exchange)}, with exchange properties for the single-event route. */
    public static void forward(ProducerTemplate template, String uri, Exchange record, Map<String, Object> properties) {
        forwardForResult(template, uri, record, properties);
    }

    /**
     * As {@link #forward(ProducerTemplate, String, Exchange, Map)}, returning the single-event route's exchange, whose
     * properties may say what became of the record.
     */
    public static Exchange forwardForResult(ProducerTemplate template, String uri, Exchange record,
                                            Map<String, Object> properties) {
        Exchange result = template.send(uri, e -> {
            record.getMessage().getHeaders().forEach((k, v) -> {
                if (!k.startsWith("kafka.") && !k.startsWith("Camel")) e.getMessage().setHeader(k, v);
            });
            e.getMessage().setBody(record.getMessage().getBody(byte[].class));
            properties.forEach(e::setProperty);
        });
        if (result.getException() != null) {
            throw new IllegalStateException("record at offset " + record.getMessage().getHeader(KafkaConstants.OFFSET)
                    + " of partition " + record.getMessage().getHeader(KafkaConstants.PARTITION)
                    + " could not be handled: " + result.getException().getMessage(), result.getException());
        }
        return result;
    }

    /**
     * Commits, per partition, the offset of the batch's last record there, and remembers it for {@link #stillOwned}.
     * Camel's automatic batch commit is not used: in 4.18 it commits the consumer's position, past records fetched but
     * not yet processed (CAMEL-23994).
     */
    public static void commitOffsets(List<?> records) {
        // by topic and partition: a consumer of several topics (the ledger's: billing and loyalty) has a partition 0
        // in each, and keyed by the number alone one topic's commit took the other's place
        Map<TopicPartition, Exchange> lastPerPartition = new LinkedHashMap<>();
        for (Object o : records) {
            Exchange e = (Exchange) o;
            Message m = e.getMessage();
            lastPerPartition.put(m.getHeader(KafkaConstants.MANUAL_COMMIT) instanceof DefaultKafkaManualCommit c
                    ? c.getPartition() : new TopicPartition(m.getHeader(KafkaConstants.TOPIC, String.class),
                    m.getHeader(KafkaConstants.PARTITION, Integer.class)), e);
        }
        for (Exchange last : lastPerPartition.values()) {
            KafkaManualCommit commit = last.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class);
            if (commit == null) {
                throw new IllegalStateException("no manual commit on the batch's record: the consumer must run with "
                        + "allowManualCommit=true and autoCommitEnable=false");
            }
            commit.commit();
            if (commit instanceof DefaultKafkaManualCommit c) {
                committed(c.getConsumer()).put(c.getPartition(), c.getRecordOffset() + 1);
            }
        }
    }

    /**
     * One producer template for a flow's life, created when first needed: a template's producers (a Kafka client
     * each) start when first used, so a template per batch would start a Kafka producer per batch.
     */
    public static final class Template {
        private volatile ProducerTemplate template;

        public ProducerTemplate get(CamelContext context) {
            ProducerTemplate t = template;
            if (t == null) {
                synchronized (this) {
                    if (template == null) template = context.createProducerTemplate();
                    t = template;
                }
            }
            return t;
        }

        public void close() {
            ProducerTemplate t = template;
            if (t != null) {
                try {
                    t.stop();
                } catch (RuntimeException e) {
                    LOG.debug("Stopping a batch flow's producer template: {}", e.getMessage());
                }
            }
        }
    }
}
