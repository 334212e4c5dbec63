package io.interchange.connectors.kafka;

import io.interchange.testkit.GroupsBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retiring a consumer group whose work other groups took over, on a real broker: exactly the records between its
 * offsets and the furthest successor's are handed over, per partition; a partition it never committed on counts from
 * the start; the group is deleted, and a group with members is caught up but kept until they leave.
 */
class ConsumerGroupRetirementTest {

    static GroupsBroker broker;

    @BeforeAll
    static void start() throws Exception {
        broker = GroupsBroker.start("retirement");
    }

    @AfterAll
    static void stop() {
        if (broker != null) broker.close();
    }

    @Test
    void theRecordsNoGroupHandledAreHandedOverOnceAndTheGroupIsDeleted() throws Exception {
        String topic = topic("gap", 3, 10);
        commit(topic, "old", Map.of(0, 3L, 1, 7L));
        commit(topic, "old.s4hana", Map.of(0, 8L, 1, 5L, 2, 3L));
        commit(topic, "old.legacy", Map.of(0, 6L));
        List<String> handed = new ArrayList<>();

        boolean retired = ConsumerGroupRetirement.retire(broker.bootstrapServers(), topic, "old",
                List.of("old.s4hana", "old.legacy"), records -> records.forEach(r -> handed.add(name(r))));

        assertThat(retired).isTrue();
        // partition 0: from the retired group's 3 to the furthest successor's 8; partition 1: the successors are behind
        // it (they read those records again themselves); partition 2: never committed by it, so from the start
        assertThat(handed).containsExactlyInAnyOrder("0@3", "0@4", "0@5", "0@6", "0@7", "2@0", "2@1", "2@2");
        assertThat(groups()).doesNotContain("old").contains("old.s4hana", "old.legacy");

        handed.clear();
        assertThat(ConsumerGroupRetirement.retire(broker.bootstrapServers(), topic, "old",
                List.of("old.s4hana", "old.legacy"), records -> records.forEach(r -> handed.add(name(r))))).isTrue();
        assertThat(handed).as("a retired group hands nothing over again").isEmpty();
    }

    @Test
    void aGroupWithMembersIsCaughtUpButKeptUntilTheyLeave() throws Exception {
        String topic = topic("busy", 1, 6);
        commit(topic, "next", Map.of(0, 4L));
        List<String> handed = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> member = member("busy-old", topic)) {
            member.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(2)));

            assertThat(ConsumerGroupRetirement.retire(broker.bootstrapServers(), topic, "busy-old", List.of("next"),
                    records -> records.forEach(r -> handed.add(name(r))))).isFalse();
            assertThat(handed).containsExactly("0@2", "0@3");
            assertThat(groups()).contains("busy-old");
        }
        handed.clear();
        assertThat(ConsumerGroupRetirement.retire(broker.bootstrapServers(), topic, "busy-old", List.of("next"),
                records -> records.forEach(r -> handed.add(name(r))))).isTrue();
        assertThat(handed).as("the same gap, again: the work must be idempotent").containsExactly("0@2", "0@3");
        assertThat(groups()).doesNotContain("busy-old");
    }

    @Test
    void withoutTheOldGroupNothingIsHandedOver() throws Exception {
        String topic = topic("fresh", 1, 3);
        commit(topic, "fresh.s4hana", Map.of(0, 3L));
        List<String> handed = new ArrayList<>();
        assertThat(ConsumerGroupRetirement.retire(broker.bootstrapServers(), topic, "never", List.of("fresh.s4hana"),
                records -> records.forEach(r -> handed.add(name(r))))).isTrue();
        assertThat(handed).isEmpty();
    }

    /** A topic of {@code partitions}, {@code perPartition} records in each. */
    private static String topic(String name, int partitions, int perPartition) throws Exception {
        broker.createTopic(name, partitions);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int partition = 0; partition < partitions; partition++) {
                for (int i = 0; i < perPartition; i++) {
                    producer.send(new ProducerRecord<>(name, partition, null, (partition + "@" + i).getBytes(StandardCharsets.UTF_8)));
                }
            }
            producer.flush();
        }
        return name;
    }

    private static String name(ConsumerRecord<byte[], byte[]> r) {
        String value = new String(r.value(), StandardCharsets.UTF_8);
        assertThat(value).isEqualTo(r.partition() + "@" + r.offset());
        return value;
    }

    private static void commit(String topic, String group, Map<Integer, Long> offsets) throws Exception {
        broker.commit(topic, group, offsets);
    }

    private static List<String> groups() throws Exception {
        return broker.groups();
    }

    /** A member of the group, joined (its partitions assigned). */
    private static KafkaConsumer<byte[], byte[]> member(String group, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        c.subscribe(List.of(topic));
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (c.assignment().isEmpty() && System.nanoTime() < until) c.poll(Duration.ofMillis(100));
        assertThat(c.assignment()).as("the member joined").isNotEmpty();
        return c;
    }
}
