package io.interchange.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Retires a consumer group whose work other groups of the same topic have taken over, without a record falling between
 * them. Before the change the successors read the records and passed them by (the retired group did the work); after
 * it they do the work themselves. What neither did is every record at or after the retired group's committed offset
 * and before the furthest successor's: those are read once more here, with a consumer of no group, and handed to the
 * caller (whose work must be idempotent: some of them may have been done already). Then the retired group is deleted.
 *
 * <p>A group that still has members (an instance of the earlier version still running, in a rolling upgrade) cannot be
 * deleted; its records are caught up all the same and {@link #retire} says it is not done, to be called again later
 * (the earlier instances keep doing the work meanwhile). Kafka's admin API does the bookkeeping; there is no Camel
 * component for consumer-group administration.
 */
public final class ConsumerGroupRetirement {

    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroupRetirement.class);
    /** How long the catch-up may read without getting closer to its end before it gives up (to be run again). */
    private static final Duration STALL = Duration.ofSeconds(60);

    /** The retired group's work on records read again: called once per poll, with the records of the ranges only. */
    @FunctionalInterface
    public interface Work {
        void handle(List<ConsumerRecord<byte[], byte[]>> records);
    }

    private ConsumerGroupRetirement() {
    }

    /**
     * Hands {@code retired}'s unfinished records on {@code topic} to {@code work} and deletes the group. Returns true
     * when the group is gone (or never was), false when it still has members and must be retired again later.
     */
    public static boolean retire(String bootstrapServers, String topic, String retired, List<String> successors, Work work) {
        try (Admin admin = KafkaAdmin.open(bootstrapServers)) {
            Map<TopicPartition, OffsetAndMetadata> from = KafkaAdmin.committed(admin, retired, topic);
            Map<TopicPartition, Long> caughtUp = new HashMap<>();
            from.forEach((tp, o) -> caughtUp.put(tp, o.offset()));
            long read = catchUp(bootstrapServers, admin, topic, successors, caughtUp, work);
            boolean deleted = delete(admin, retired);
            if (deleted && !from.isEmpty()) {
                // a successor of an earlier instance may have moved on between the offsets read above and the delete
                read += catchUp(bootstrapServers, admin, topic, successors, caughtUp, work);
                LOG.info("Consumer group {} retired on {}: {} record(s) between its offsets and {}'s read again and "
                        + "handed over; the group is deleted", retired, topic, read, successors);
            } else if (!deleted) {
                LOG.info("Consumer group {} still has members (an instance of an earlier version?): {} record(s) between "
                        + "its offsets and {}'s handed over; it is retired once they have left", retired, read, successors);
            }
            return deleted;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("consumer group " + retired + " could not be retired on " + topic + ": "
                    + (e.getCause() != null ? e.getCause() : e) + "; it is kept, to be retired again once the broker "
                    + "answers and lets this principal Describe and Delete the group and Read the topic", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while retiring consumer group " + retired, e);
        }
    }

    /**
     * Reads, per partition of {@code caughtUp} (the offset read up to), the records up to the furthest successor's
     * committed offset and hands them to {@code work}; moves {@code caughtUp} to where it read. Returns the records read.
     */
    private static long catchUp(String bootstrapServers, Admin admin, String topic, List<String> successors,
                                Map<TopicPartition, Long> caughtUp, Work work)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, Long> end = new HashMap<>();
        for (String group : successors) {
            KafkaAdmin.committed(admin, group, topic).forEach((tp, o) -> end.merge(tp, o.offset(), Math::max));
        }
        // a partition the retired group never committed on it would have read from the start
        if (!caughtUp.isEmpty()) end.keySet().forEach(tp -> caughtUp.putIfAbsent(tp, 0L));
        Map<TopicPartition, Long> ranges = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
        caughtUp.forEach((tp, at) -> {
            Long to = end.get(tp);
            if (to != null && to > at) ranges.put(tp, to);
        });
        if (ranges.isEmpty()) return 0;
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // a range whose start the topic's retention has removed starts at what is left
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        long read = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(ranges.keySet());
            ranges.keySet().forEach(tp -> consumer.seek(tp, caughtUp.get(tp)));
            Map<TopicPartition, Long> open = new HashMap<>(ranges);
            long lastProgress = System.nanoTime();
            while (!open.isEmpty()) {
                List<ConsumerRecord<byte[], byte[]>> inRange = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    Long to = open.get(tp);
                    if (to != null && r.offset() < to) inRange.add(r);
                }
                if (!inRange.isEmpty()) {
                    work.handle(inRange);
                    read += inRange.size();
                    lastProgress = System.nanoTime();
                }
                for (TopicPartition tp : new ArrayList<>(open.keySet())) {
                    long position = consumer.position(tp, KafkaAdmin.TIMEOUT);
                    caughtUp.put(tp, Math.min(position, open.get(tp)));
                    if (position >= open.get(tp)) {
                        open.remove(tp);
                        consumer.pause(List.of(tp));
                    }
                }
                if (System.nanoTime() - lastProgress > STALL.toNanos()) {
                    throw new TimeoutException("reading " + open + " of " + topic + " made no progress for " + STALL);
                }
            }
        }
        return read;
    }

    /** Deletes the group; false when it has members. */
    private static boolean delete(Admin admin, String group)
            throws ExecutionException, InterruptedException, TimeoutException {
        try {
            admin.deleteConsumerGroups(List.of(group)).all().get(KafkaAdmin.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) return true;
            if (e.getCause() instanceof GroupNotEmptyException) return false;
            throw e;
        }
    }
}
