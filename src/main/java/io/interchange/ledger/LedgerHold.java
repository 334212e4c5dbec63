package io.interchange.ledger;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.DefaultKafkaManualCommit;
import org.apache.camel.component.kafka.consumer.errorhandler.KafkaConsumerListener;
import org.apache.camel.component.kafka.consumer.support.ProcessingResult;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Predicate;

/**
 * How a target's ledger consumer waits while its ERP's circuit breaker is open, without losing its place: the events
 * it cannot post now are <em>held</em>. Their partitions are sought back to the first held record (never forward),
 * nothing at or after it is committed, and the consumer pauses every partition it holds. It keeps polling (so it keeps
 * its partitions and never exceeds {@code max.poll.interval.ms}); after each poll, the Pausable EIP's listener
 * ({@link #listener()}, on the consumer's own thread) resumes it once the breaker lets calls through again, and the
 * held records are read again and posted in their order.
 *
 * <p>Why not Camel's own {@link KafkaConsumerListener} as it is: with {@code batching=true} (Camel 4.18) its
 * {@code afterProcess} is never called, so nothing pauses the consumer, and when its check says "not yet" the records
 * that poll returned are dropped without a seek (the position has moved past them, and a later batch's commit would
 * skip them). It also keeps one consumer for all of the route's consumer threads. This listener never drops a poll's
 * records; pausing and seeking happen in {@link #hold}, on the batch's thread, which is the consumer's.
 *
 * <p>Records a batch holds may still be in Camel's batch buffer when the consumer is sought back: a poll can return
 * more than fits the batch being completed, and the rest waits for the next one. Such a record was read before its
 * partition was sought back below it, so it comes again; {@link #notReadAgainYet} drops the first copy.
 */
public final class LedgerHold {

    private static final Logger LOG = LoggerFactory.getLogger(LedgerHold.class);
    /**
     * A held consumer is not resumed sooner than this after it was held: long enough that records left in Camel's batch
     * buffer (completed after a batching interval of 10 ms) reach a batch, and are dropped as read before the seek,
     * before the first poll after the resume reads them again.
     */
    static final long RESUME_NOT_BEFORE_MS = 100;
    private static final Duration POSITION_TIMEOUT = Duration.ofSeconds(5);

    private final String target;
    /** Consumers holding events, and since when (millis). Consumers are replaced on reconnect: weak keys. */
    private final Map<Consumer<?, ?>, Long> held = Collections.synchronizedMap(new WeakHashMap<>());

    public LedgerHold(String target) {
        this.target = target;
    }

    /** Consumers of this target that hold events right now. */
    public int heldConsumers() {
        return held.size();
    }

    /**
     * The records of a batch that have not been read again since: drops a record its consumer's position is at or
     * before (its partition was sought back below it after it was read, so it will come again), and, where one
     * partition's records go back in offset within the batch, those read before that going back.
     */
    public static List<Exchange> notReadAgainYet(List<Exchange> records) {
        Map<Consumer<?, ?>, Map<TopicPartition, Long>> positions = new IdentityHashMap<>();
        // the last index in the batch at which each partition's offsets went back (-1: never)
        Map<TopicPartition, Integer> lastRewind = new HashMap<>();
        Map<TopicPartition, Long> previous = new HashMap<>();
        for (int i = 0; i < records.size(); i++) {
            DefaultKafkaManualCommit c = commit(records.get(i));
            if (c == null) continue;
            Long before = previous.put(c.getPartition(), c.getRecordOffset());
            if (before != null && c.getRecordOffset() <= before) lastRewind.put(c.getPartition(), i);
        }
        List<Exchange> out = new ArrayList<>(records.size());
        int dropped = 0;
        for (int i = 0; i < records.size(); i++) {
            Exchange record = records.get(i);
            DefaultKafkaManualCommit c = commit(record);
            if (c == null) {
                out.add(record);
                continue;
            }
            TopicPartition tp = c.getPartition();
            if (i < lastRewind.getOrDefault(tp, -1)) {
                dropped++;
                continue;
            }
            Long position = positions.computeIfAbsent(c.getConsumer(), k -> new HashMap<>())
                    .computeIfAbsent(tp, p -> position(c.getConsumer(), p));
            if (position != null && position <= c.getRecordOffset()) {
                dropped++;
                continue;
            }
            out.add(record);
        }
        if (dropped > 0) {
            LOG.debug("Batch of {} record(s): {} read before their partition was sought back are left to be read again",
                    records.size(), dropped);
        }
        return out;
    }

    private static Long position(Consumer<?, ?> consumer, TopicPartition tp) {
        try {
            return consumer.position(tp, POSITION_TIMEOUT);
        } catch (RuntimeException e) {
            return null; // not assigned any more, or unknown: the batch's other checks decide
        }
    }

    /**
     * Holds records from the given offsets on: each partition is sought back to its first held offset (unless the
     * consumer is already at or before it), and the consumer pauses all its partitions. Call on the batch's thread.
     */
    public void hold(Map<Consumer<?, ?>, Map<TopicPartition, Long>> firstHeld) {
        for (var e : firstHeld.entrySet()) {
            Consumer<?, ?> consumer = e.getKey();
            Set<TopicPartition> assignment = consumer.assignment();
            for (var p : e.getValue().entrySet()) {
                if (!assignment.contains(p.getKey())) continue; // another reader's now, from its committed offset
                Long position = position(consumer, p.getKey());
                if (position == null || position > p.getValue()) consumer.seek(p.getKey(), p.getValue());
            }
            consumer.pause(assignment);
            if (held.put(consumer, System.currentTimeMillis()) == null) {
                LOG.info("Ledger consumer for {} holds its events at {} while the {} circuit breaker is open; "
                        + "paused, still polling", target, e.getValue(), target);
            }
        }
    }

    /** The first offset of each partition of these records, per consumer: the whole batch held. */
    public static Map<Consumer<?, ?>, Map<TopicPartition, Long>> firstOffsets(List<Exchange> records) {
        Map<Consumer<?, ?>, Map<TopicPartition, Long>> out = new IdentityHashMap<>();
        for (Exchange r : records) add(out, r);
        return out;
    }

    /** Adds a record as held from its offset on, unless an earlier record of its partition is held already. */
    public static void add(Map<Consumer<?, ?>, Map<TopicPartition, Long>> firstHeld, Exchange record) {
        DefaultKafkaManualCommit c = commit(record);
        if (c == null) {
            throw new IllegalStateException("a held record must carry its consumer: allowManualCommit=true");
        }
        firstHeld.computeIfAbsent(c.getConsumer(), k -> new HashMap<>()).merge(c.getPartition(), c.getRecordOffset(),
                Math::min);
    }

    /** True when the record is at or after a held offset of its partition. */
    public static boolean isHeld(Map<Consumer<?, ?>, Map<TopicPartition, Long>> firstHeld, Exchange record) {
        DefaultKafkaManualCommit c = commit(record);
        if (c == null) return false;
        Map<TopicPartition, Long> m = firstHeld.get(c.getConsumer());
        Long from = m == null ? null : m.get(c.getPartition());
        return from != null && c.getRecordOffset() >= from;
    }

    private static DefaultKafkaManualCommit commit(Exchange record) {
        return record.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT) instanceof DefaultKafkaManualCommit c ? c : null;
    }

    /**
     * The Pausable EIP's listener for this target's consumer route: after every poll, on the consumer's thread, it
     * resumes a consumer that holds events once the check (the breaker lets calls through) says so. It never tells
     * Camel to skip a poll's records.
     */
    public KafkaConsumerListener listener() {
        return new KafkaConsumerListener() {
            private volatile Predicate<?> resumable = x -> true;

            @Override
            public void setResumableCheck(Predicate<?> check) {
                super.setResumableCheck(check);
                this.resumable = check;
            }

            @Override
            @SuppressWarnings({"unchecked", "rawtypes"})
            public boolean afterConsume(Object polledBy) {
                // Camel passes the consumer that polled; the listener's own field is shared by all consumer threads
                if (!(polledBy instanceof Consumer<?, ?> consumer)) return true;
                Long since = held.get(consumer);
                if (since == null || System.currentTimeMillis() - since < RESUME_NOT_BEFORE_MS) return true;
                if (((Predicate) resumable).test(null)) {
                    consumer.resume(consumer.paused());
                    held.remove(consumer);
                    LOG.info("Ledger consumer for {} resumes: the {} circuit breaker lets calls through", target, target);
                }
                return true;
            }

            @Override
            public boolean afterProcess(ProcessingResult result) {
                return true;
            }
        };
    }
}
