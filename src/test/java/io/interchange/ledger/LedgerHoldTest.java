package io.interchange.ledger;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.DefaultKafkaManualSyncCommit;
import org.apache.camel.component.kafka.consumer.KafkaManualCommitFactory;
import org.apache.camel.component.kafka.consumer.errorhandler.KafkaConsumerListener;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How a ledger consumer holds events while its ERP's breaker is open, on Kafka's MockConsumer: its partitions are
 * sought back to the first held record and never forward, it is paused, records read before the seek are dropped
 * (they come again), and the Pausable EIP's listener resumes it only once the breaker lets calls through.
 */
class LedgerHoldTest {

    private static final TopicPartition P0 = new TopicPartition("billing", 0);
    private static final TopicPartition P1 = new TopicPartition("billing", 1);

    private final CamelContext camel = new DefaultCamelContext();

    @Test
    void aHoldSeeksBackNeverForwardPausesAndDropsRecordsReadBeforeTheSeek() {
        MockConsumer<String, byte[]> consumer = consumer(10, 20);
        LedgerHold hold = new LedgerHold("S4HANA");

        // a batch of P0@5..9 holds from P0@7 on
        var held = LedgerHold.firstOffsets(List.of(record(consumer, P0, 7), record(consumer, P0, 9)));
        hold.hold(held);
        assertThat(consumer.position(P0)).isEqualTo(7);
        assertThat(consumer.position(P1)).as("a partition without held records stays where it is").isEqualTo(20);
        assertThat(consumer.paused()).containsExactlyInAnyOrder(P0, P1);
        assertThat(hold.heldConsumers()).isEqualTo(1);

        // the rest of the same poll (P0@10, 11), left in Camel's batch buffer, reaches a later batch: held from P0@10,
        // it must not move the partition forward past 7..9
        hold.hold(LedgerHold.firstOffsets(List.of(record(consumer, P0, 10), record(consumer, P0, 11))));
        assertThat(consumer.position(P0)).isEqualTo(7);

        // that buffered rest, read before the seek, is dropped: it comes again; P1's records are not
        Exchange p0at10 = record(consumer, P0, 10);
        Exchange p1at19 = record(consumer, P1, 19);
        assertThat(LedgerHold.notReadAgainYet(List.of(p0at10, p1at19))).containsExactly(p1at19);
    }

    @Test
    void withinABatchRecordsBeforeTheirPartitionGoesBackAreDropped() {
        // the buffered P0@8, 9 (read before a seek back to 7) and the records read again from 7 in one batch
        MockConsumer<String, byte[]> consumer = consumer(9, 20);
        Exchange stale8 = record(consumer, P0, 8);
        Exchange stale9 = record(consumer, P0, 9);
        Exchange again7 = record(consumer, P0, 7);
        Exchange again8 = record(consumer, P0, 8);
        Exchange p1 = record(consumer, P1, 19);
        assertThat(LedgerHold.notReadAgainYet(List.of(stale8, p1, stale9, again7, again8)))
                .containsExactly(p1, again7, again8);
        // without a seek nothing is dropped
        Exchange p0at8 = record(consumer, P0, 8);
        assertThat(LedgerHold.notReadAgainYet(List.of(p0at8, p1))).containsExactly(p0at8, p1);
    }

    @Test
    void theListenerResumesAHeldConsumerOnlyOnceTheBreakerLetsCallsThroughAndNeverSkipsAPoll() throws Exception {
        MockConsumer<String, byte[]> consumer = consumer(10, 20);
        LedgerHold hold = new LedgerHold("S4HANA");
        AtomicBoolean permits = new AtomicBoolean(false);
        KafkaConsumerListener listener = hold.listener();
        listener.setResumableCheck(x -> permits.get());

        // a consumer that holds nothing is never touched, and no poll's records are ever dropped
        assertThat(listener.afterConsume(consumer)).isTrue();
        hold.hold(LedgerHold.firstOffsets(List.of(record(consumer, P0, 8))));
        Thread.sleep(LedgerHold.RESUME_NOT_BEFORE_MS + 50);
        assertThat(listener.afterConsume(consumer)).isTrue();
        assertThat(consumer.paused()).as("breaker still open").containsExactlyInAnyOrder(P0, P1);

        permits.set(true);
        assertThat(listener.afterConsume(consumer)).isTrue();
        assertThat(consumer.paused()).isEmpty();
        assertThat(hold.heldConsumers()).isZero();
        assertThat(consumer.position(P0)).as("read again from the first held record").isEqualTo(8);
    }

    private static MockConsumer<String, byte[]> consumer(long p0, long p1) {
        MockConsumer<String, byte[]> consumer = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        consumer.assign(List.of(P0, P1));
        consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
        consumer.seek(P0, p0);
        consumer.seek(P1, p1);
        assertThat(consumer.assignment()).isEqualTo(Set.of(P0, P1));
        return consumer;
    }

    /** A record exchange as Camel's batching consumer builds it. */
    private Exchange record(MockConsumer<String, byte[]> consumer, TopicPartition tp, long offset) {
        Exchange e = new DefaultExchange(camel);
        e.getMessage().setHeader(KafkaConstants.PARTITION, tp.partition());
        e.getMessage().setHeader(KafkaConstants.OFFSET, offset);
        e.getMessage().setHeader(KafkaConstants.MANUAL_COMMIT, new DefaultKafkaManualSyncCommit(
                new KafkaManualCommitFactory.CamelExchangePayload(e, consumer, "test", null),
                new KafkaManualCommitFactory.KafkaRecordPayload(tp, offset, 5000), null));
        return e;
    }
}
