package io.interchange.connectors.kafka;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.CommitManager;
import org.apache.camel.component.kafka.consumer.DefaultKafkaManualSyncCommit;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.apache.camel.component.kafka.consumer.KafkaManualCommitFactory;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link KafkaBatches#stillOwned} against the two ways a rebalance makes a kept batch stale (see
 * {@link KafkaBatchRebalanceTest} for Camel's batching consumer doing it against a broker).
 */
class KafkaBatchesTest {

    private static final TopicPartition KEPT = new TopicPartition("billing", 0);
    private static final TopicPartition GIVEN_BACK = new TopicPartition("billing", 1);
    private static final TopicPartition TAKEN = new TopicPartition("billing", 2);

    private final CamelContext camel = new DefaultCamelContext();

    @Test
    void aBatchKeepsNeitherRecordsOfAPartitionAnotherConsumerTookNorRecordsReadAgainBelowItsOwnCommit() {
        MockConsumer<String, byte[]> consumer = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        consumer.assign(List.of(KEPT, GIVEN_BACK, TAKEN));
        consumer.updateBeginningOffsets(Map.of(KEPT, 0L, GIVEN_BACK, 0L, TAKEN, 0L));
        // a batch handled and committed: GIVEN_BACK up to offset 5
        List<Exchange> handled = List.of(record(consumer, GIVEN_BACK, 3), record(consumer, GIVEN_BACK, 4));
        assertThat(KafkaBatches.stillOwned(handled)).containsExactlyElementsOf(handled);
        KafkaBatches.commitOffsets(handled);
        assertThat(consumer.committed(Set.of(GIVEN_BACK))).containsEntry(GIVEN_BACK, new OffsetAndMetadata(5));

        // the rebalance: TAKEN went to another consumer; GIVEN_BACK came back and is read again from an older committed
        // offset (3: the commit of 5 above came after the rebalance had restarted the partition)
        consumer.assign(List.of(KEPT, GIVEN_BACK));
        Exchange k7 = record(consumer, KEPT, 7);
        Exchange g3 = record(consumer, GIVEN_BACK, 3);
        Exchange g4 = record(consumer, GIVEN_BACK, 4);
        Exchange g5 = record(consumer, GIVEN_BACK, 5);
        Exchange t9 = record(consumer, TAKEN, 9);

        assertThat(KafkaBatches.stillOwned(List.of(k7, g3, t9, g4, g5))).containsExactly(k7, g5);
    }

    @Test
    void aBatchWithoutARebalanceIsKeptWhole() {
        MockConsumer<String, byte[]> consumer = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        consumer.assign(List.of(KEPT));
        List<Exchange> first = List.of(record(consumer, KEPT, 0), record(consumer, KEPT, 1));
        assertThat(KafkaBatches.stillOwned(first)).containsExactlyElementsOf(first);
        KafkaBatches.commitOffsets(first);
        List<Exchange> next = List.of(record(consumer, KEPT, 2), record(consumer, KEPT, 3));

        assertThat(KafkaBatches.stillOwned(next)).containsExactlyElementsOf(next);
    }

    @Test
    void whatAConsumerCommittedDoesNotHideRecordsFromAnotherConsumer() {
        MockConsumer<String, byte[]> first = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        first.assign(List.of(KEPT));
        KafkaBatches.commitOffsets(List.of(record(first, KEPT, 10)));
        // e.g. the consumer Camel creates again after a failure, reading from the group's committed offset
        MockConsumer<String, byte[]> second = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        second.assign(List.of(KEPT));
        List<Exchange> batch = List.of(record(second, KEPT, 8), record(second, KEPT, 9));

        assertThat(KafkaBatches.stillOwned(batch)).containsExactlyElementsOf(batch);
    }

    @Test
    void aBatchOfTwoTopicsCommitsEachTopicsPartitionsNotOneInTheOthersPlace() {
        // the ledger's consumers read billing and loyalty: each has a partition 0
        TopicPartition loyalty = new TopicPartition("loyalty", 0);
        MockConsumer<String, byte[]> consumer = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        consumer.assign(List.of(KEPT, loyalty));
        List<Exchange> batch = List.of(record(consumer, KEPT, 4), record(consumer, loyalty, 11),
                record(consumer, KEPT, 5), record(consumer, loyalty, 12));

        KafkaBatches.commitOffsets(batch);

        assertThat(consumer.committed(Set.of(KEPT, loyalty)))
                .containsEntry(KEPT, new OffsetAndMetadata(6)).containsEntry(loyalty, new OffsetAndMetadata(13));
        // and neither topic's commit hides the other's next records
        List<Exchange> next = List.of(record(consumer, KEPT, 6), record(consumer, loyalty, 13));
        assertThat(KafkaBatches.stillOwned(next)).containsExactlyElementsOf(next);
    }

    /** A record exchange as Camel's batching consumer builds it, with a manual commit that commits synchronously. */
    private Exchange record(MockConsumer<String, byte[]> consumer, TopicPartition tp, long offset) {
        Exchange e = new DefaultExchange(camel);
        e.getMessage().setHeader(KafkaConstants.TOPIC, tp.topic());
        e.getMessage().setHeader(KafkaConstants.PARTITION, tp.partition());
        e.getMessage().setHeader(KafkaConstants.OFFSET, offset);
        e.getMessage().setHeader(KafkaConstants.MANUAL_COMMIT, new DefaultKafkaManualSyncCommit(
                new KafkaManualCommitFactory.CamelExchangePayload(e, consumer, "test", null),
                new KafkaManualCommitFactory.KafkaRecordPayload(tp, offset, 5000), new SyncCommits(consumer)));
        return e;
    }

    /** What Camel's sync commit manager does on a forced commit. */
    private record SyncCommits(MockConsumer<String, byte[]> consumer) implements CommitManager {
        @Override
        public void forceCommit(TopicPartition partition, long recordOffset) {
            consumer.commitSync(Map.of(partition, new OffsetAndMetadata(recordOffset + 1)));
        }

        @Override
        public KafkaManualCommit getManualCommit(Exchange exchange, TopicPartition partition,
                                                 ConsumerRecord<Object, Object> record) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void commit() {
        }

        @Override
        public void commit(TopicPartition partition) {
        }

        @Override
        public void recordOffset(TopicPartition partition, long recordOffset) {
        }
    }
}
