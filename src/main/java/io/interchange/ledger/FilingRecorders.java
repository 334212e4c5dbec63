package io.interchange.ledger;

import io.interchange.connectors.kafka.ConsumerGroupRetirement;
import io.interchange.connectors.kafka.KafkaAdmin;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Who records the daily filing's transactions, as the filing job needs to know it: the ledger's consumer groups on the
 * loyalty topic, one per ERP target, each recording the transactions its entity and date route to it
 * ({@link LedgerBatch}).
 * <ul>
 * <li>{@link #behind}: how many records published to the loyalty topic before an instant a target's consumers have
 * yet to read (and so to record). The job closes no day before the consumers of its target have read everything
 * published up to the day's close: a backlog, or an ERP outage that holds the consumers, delays the filing rather than
 * moving the day's transactions to a later day's.</li>
 * <li>{@link #handOver}: the way over from the recorder group of earlier versions (they recorded on a group of their
 * own while the ledger's consumers read past the transactions): the transactions between that group's offsets and the
 * ledger groups' are recorded, then the group is deleted ({@link ConsumerGroupRetirement}). Run before every check
 * until done; recording is idempotent, so a transaction recorded twice is one item.</li>
 * </ul>
 */
public final class FilingRecorders {

    private final String bootstrapServers;
    private final String loyaltyTopic;
    private final String recorderGroup;
    /** The ledger's consumer group of each ERP target. */
    private final Map<String, String> ledgerGroups;
    private final LoyaltyDailyFiling filing;
    private volatile boolean handedOver;

    public FilingRecorders(String bootstrapServers, String loyaltyTopic, String recorderGroup,
                           Map<String, String> ledgerGroups, LoyaltyDailyFiling filing) {
        this.bootstrapServers = bootstrapServers;
        this.loyaltyTopic = loyaltyTopic;
        this.recorderGroup = recorderGroup;
        this.ledgerGroups = Map.copyOf(ledgerGroups);
        this.filing = filing;
    }

    /** The consumer group earlier versions recorded with: the instance's group with {@code .loyalty-filing} appended. */
    public static String recorderGroup(String group) {
        return group + ".loyalty-filing";
    }

    /** Hands the recorder group's gap over; once the group is gone, never again in this process. */
    public void handOver() {
        if (handedOver) return;
        handedOver = ConsumerGroupRetirement.retire(bootstrapServers, loyaltyTopic, recorderGroup,
                List.copyOf(ledgerGroups.values()), filing::recordRead);
    }

    /**
     * How many records published to the loyalty topic before {@code instant} the consumers of {@code target} have yet
     * to read: 0 when they have read (and recorded) all of them. Per partition, the group's committed offset against
     * the first record published at or after the instant (the end of the partition when there is none).
     */
    public long behind(String target, Instant instant) {
        String group = ledgerGroups.get(target);
        if (group == null) throw new IllegalArgumentException("no ledger consumer group for ERP target " + target);
        try (Admin admin = KafkaAdmin.open(bootstrapServers)) {
            List<TopicPartitionInfo> partitions = admin.describeTopics(List.of(loyaltyTopic)).allTopicNames()
                    .get(KafkaAdmin.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(loyaltyTopic).partitions();
            Map<TopicPartition, OffsetSpec> at = new HashMap<>();
            Map<TopicPartition, OffsetSpec> end = new HashMap<>();
            Map<TopicPartition, OffsetSpec> start = new HashMap<>();
            for (TopicPartitionInfo p : partitions) {
                TopicPartition tp = new TopicPartition(loyaltyTopic, p.partition());
                at.put(tp, OffsetSpec.forTimestamp(instant.toEpochMilli()));
                end.put(tp, OffsetSpec.latest());
                start.put(tp, OffsetSpec.earliest());
            }
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> first = admin.listOffsets(at).all()
                    .get(KafkaAdmin.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> last = admin.listOffsets(end).all()
                    .get(KafkaAdmin.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> kept = admin.listOffsets(start).all()
                    .get(KafkaAdmin.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetAndMetadata> committed = KafkaAdmin.committed(admin, group, loyaltyTopic);
            long behind = 0;
            for (TopicPartition tp : at.keySet()) {
                long before = first.get(tp).offset() >= 0 ? first.get(tp).offset() : last.get(tp).offset();
                // what retention removed is nobody's to read: without a commit, or below it, the group starts there
                OffsetAndMetadata read = committed.get(tp);
                long from = Math.max(kept.get(tp).offset(), read == null ? 0 : read.offset());
                behind += Math.max(0, before - from);
            }
            return behind;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("what the ledger's " + target + " consumers have read of " + loyaltyTopic
                    + " could not be asked: " + (e.getCause() != null ? e.getCause() : e) + "; no day is filed until "
                    + "it can be (the broker reachable, Describe allowed on " + group + " and the topic); the next "
                    + "check asks again", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
