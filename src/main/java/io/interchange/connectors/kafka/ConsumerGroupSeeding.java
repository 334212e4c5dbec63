package io.interchange.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts new consumer groups where an existing group left off, so that moving a flow to new groups neither reads its
 * topic again nor skips any of it: a new group that has no committed offset on the topic yet gets the old group's
 * committed offsets ({@code listConsumerGroupOffsets}, then {@code alterConsumerGroupOffsets}) before its consumers
 * start. A new group that has offsets already (seeded or used before) is left alone; without an old group, the new
 * ones start as the old one did ({@code autoOffsetReset=earliest}).
 */
public final class ConsumerGroupSeeding {

    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroupSeeding.class);

    private ConsumerGroupSeeding() {
    }

    /** Seeds each of {@code newGroups} from {@code oldGroup}'s committed offsets on {@code topic}, where it has none. */
    public static void seed(String bootstrapServers, String topic, String oldGroup, List<String> newGroups) {
        try (Admin admin = KafkaAdmin.open(bootstrapServers)) {
            Map<TopicPartition, OffsetAndMetadata> old = KafkaAdmin.committed(admin, oldGroup, topic);
            if (old.isEmpty()) {
                LOG.debug("Consumer group {} has no offsets on {}: {} start as it did", oldGroup, topic, newGroups);
                return;
            }
            for (String group : newGroups) {
                if (!KafkaAdmin.committed(admin, group, topic).isEmpty()) continue;
                try {
                    admin.alterConsumerGroupOffsets(group, old).all().get(KafkaAdmin.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    // another instance seeded it (or its consumers joined) meanwhile: fine as long as it has offsets now
                    if (KafkaAdmin.committed(admin, group, topic).isEmpty()) throw e;
                    continue;
                }
                LOG.info("Consumer group {} starts where {} left off on {}: offsets {}", group, oldGroup, topic,
                        describe(old));
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("consumer groups " + newGroups + " could not be seeded from " + oldGroup
                    + " on " + topic + ": " + (e.getCause() != null ? e.getCause() : e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while seeding consumer groups " + newGroups, e);
        }
    }

    private static String describe(Map<TopicPartition, OffsetAndMetadata> offsets) {
        StringBuilder sb = new StringBuilder();
        offsets.forEach((tp, o) -> sb.append(sb.isEmpty() ? "" : ", ").append(tp.partition()).append('@').append(o.offset()));
        return sb.toString();
    }
}
