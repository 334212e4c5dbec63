package io.interchange.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Kafka's admin client as the consumer-group bookkeeping uses it ({@link ConsumerGroupSeeding},
 * {@link ConsumerGroupRetirement}, the daily filing's progress check): opened for one piece of work, with bounded
 * waits, and the committed offsets of a group on a topic.
 */
public final class KafkaAdmin {

    /** How long one admin call may take before the work fails with the reason. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    private KafkaAdmin() {
    }

    /** An admin client whose calls give up after {@link #TIMEOUT}; the caller closes it. */
    public static Admin open(String bootstrapServers) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    }

    /** The group's committed offsets on the topic (partitions without one left out), by partition. */
    public static Map<TopicPartition, OffsetAndMetadata> committed(Admin admin, String group, String topic)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetAndMetadata> all = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetAndMetadata> out = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
        all.forEach((tp, o) -> {
            if (o != null && tp.topic().equals(topic)) out.put(tp, o);
        });
        return out;
    }
}
