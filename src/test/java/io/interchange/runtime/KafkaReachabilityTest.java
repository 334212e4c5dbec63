package io.interchange.runtime;

import io.interchange.testkit.TempDirs;
import io.interchange.testkit.TestClock;
import io.interchange.sandbox.EmbeddedKafka;
import io.interchange.testkit.Ports;
import io.interchange.testkit.RuntimeKit;
import org.apache.camel.health.HealthCheck;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The Kafka check answers from the last background answer, bounded in time, and distrusts an answer grown stale. */
class KafkaReachabilityTest {

    // a period of an hour: only the answer start() asks for counts, none from the background thread
    static final Duration PERIOD = Duration.ofHours(1);
    static final Duration TIMEOUT = Duration.ofMillis(800);

    @Test
    void noBrokerIsDownWithinTheTimeoutAndSaysWhere() throws Exception {
        String nobody = "127.0.0.1:" + Ports.free();
        try (KafkaReachability kafka = new KafkaReachability(nobody, PERIOD, TIMEOUT, new TestClock(Instant.parse("2026-01-01T00:00:00Z")))) {
            HealthCheck.Result before = kafka.call();
            assertThat(before.getState()).isEqualTo(HealthCheck.State.DOWN);
            assertThat(before.getMessage()).hasValueSatisfying(m -> assertThat(m).contains("not asked yet"));

            long started = System.nanoTime();
            kafka.start();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(TIMEOUT.plusSeconds(2));
            HealthCheck.Result r = kafka.call();
            assertThat(r.getState()).isEqualTo(HealthCheck.State.DOWN);
            assertThat(r.getMessage()).hasValueSatisfying(m -> assertThat(m).contains("not reachable at " + nobody));
        }
    }

    @Test
    void aBrokerIsUpUntilItsAnswerGrowsStale() throws Exception {
        TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));
        try (EmbeddedKafka broker = EmbeddedKafka.start(TempDirs.untilExit("kafka-reachability"), 0);
             KafkaReachability kafka = new KafkaReachability(broker.bootstrapServers(), PERIOD, TIMEOUT, clock)) {
            kafka.start();
            HealthCheck.Result up = kafka.call();
            assertThat(up.getState()).as(up.getMessage().orElse("")).isEqualTo(HealthCheck.State.UP);
            assertThat(up.getDetails()).containsEntry("brokers", 1);

            // a probe reads the last answer and never asks Kafka itself: once that answer is older than maxAge, the
            // check says so (a probe that asked would have a fresh answer and stay UP)
            clock.advance(kafka.maxAge());
            assertThat(kafka.call().getState()).isEqualTo(HealthCheck.State.UP);
            clock.advance(Duration.ofSeconds(1));
            HealthCheck.Result stale = kafka.call();
            assertThat(stale.getState()).isEqualTo(HealthCheck.State.DOWN);
            assertThat(stale.getMessage()).hasValueSatisfying(m -> assertThat(m).contains("no answer for"));
        }
    }
}
