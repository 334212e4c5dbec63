package io.interchange.testkit;

import io.interchange.sandbox.EmbeddedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An embedded broker with an admin client, for tests of consumer-group bookkeeping (seeding, retiring, how far a
 * group has read): topics made, offsets committed for a group as its consumers would, groups listed.
 */
public final class GroupsBroker implements AutoCloseable {

    public final EmbeddedKafka kafka;
    public final Admin admin;

    private GroupsBroker(EmbeddedKafka kafka) {
        this.kafka = kafka;
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    /** A broker in a directory of its own, removed when the JVM exits. */
    public static GroupsBroker start(String name) throws Exception {
        return new GroupsBroker(EmbeddedKafka.start(TempDirs.untilExit(name).resolve("kafka"), 0));
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public void createTopic(String topic, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }

    /** Commits offsets (partition to offset) for a group that has no members. */
    public void commit(String topic, String group, Map<Integer, Long> offsets) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
        offsets.forEach((p, o) -> m.put(new TopicPartition(topic, p), new OffsetAndMetadata(o)));
        admin.alterConsumerGroupOffsets(group, m).all().get(30, TimeUnit.SECONDS);
    }

    public List<String> groups() throws Exception {
        return admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream().map(ConsumerGroupListing::groupId).toList();
    }

    @Override
    public void close() {
        admin.close();
        kafka.close();
    }
}
