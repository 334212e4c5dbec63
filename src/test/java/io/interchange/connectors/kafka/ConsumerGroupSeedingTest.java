package io.interchange.connectors.kafka;

import io.interchange.testkit.GroupsBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Moving the ledger to a consumer group per ERP target on a deployment that has read with one group: the new groups
 * start at the old group's committed offsets (nothing read again, nothing skipped), are never seeded twice, and without
 * an old group start empty (earliest), on a real broker.
 */
class ConsumerGroupSeedingTest {

    static GroupsBroker broker;
    static final String TOPIC = "billing";

    @BeforeAll
    static void start() throws Exception {
        broker = GroupsBroker.start("seeding");
        broker.createTopic(TOPIC, 3);
    }

    @AfterAll
    static void stop() {
        if (broker != null) broker.close();
    }

    @Test
    void newGroupsStartWhereTheOldGroupLeftOffAndAreSeededOnlyOnce() throws Exception {
        commit("app", Map.of(0, 5L, 1, 2L));
        ConsumerGroupSeeding.seed(broker.bootstrapServers(), TOPIC, "app", List.of("app.s4hana", "app.legacy"));
        assertThat(offsets("app.s4hana")).isEqualTo(Map.of(0, 5L, 1, 2L));
        assertThat(offsets("app.legacy")).isEqualTo(Map.of(0, 5L, 1, 2L));

        // the new groups move on (their own commits); the old one is no longer read and must not pull them back
        commit("app.s4hana", Map.of(0, 9L, 1, 4L, 2, 1L));
        commit("app", Map.of(0, 6L, 1, 3L));
        ConsumerGroupSeeding.seed(broker.bootstrapServers(), TOPIC, "app", List.of("app.s4hana", "app.legacy"));
        assertThat(offsets("app.s4hana")).isEqualTo(Map.of(0, 9L, 1, 4L, 2, 1L));
        assertThat(offsets("app.legacy")).isEqualTo(Map.of(0, 5L, 1, 2L));
    }

    @Test
    void withoutAnOldGroupTheNewGroupsStartWithoutOffsets() throws Exception {
        ConsumerGroupSeeding.seed(broker.bootstrapServers(), TOPIC, "fresh", List.of("fresh.s4hana", "fresh.legacy"));
        assertThat(offsets("fresh.s4hana")).isEmpty();
        assertThat(offsets("fresh.legacy")).isEmpty();
    }

    private static void commit(String group, Map<Integer, Long> offsets) throws Exception {
        broker.commit(TOPIC, group, offsets);
    }

    private static Map<Integer, Long> offsets(String group) throws Exception {
        Map<Integer, Long> out = new TreeMap<>();
        KafkaAdmin.committed(broker.admin, group, TOPIC).forEach((tp, o) -> out.put(tp.partition(), o.offset()));
        return out;
    }
}
