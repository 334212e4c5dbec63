package io.interchange.fault;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Under a steady stream, Kafka is stopped and started again on the same log directory and port, later PostgreSQL on
 * the same data directory and port. The runtime is never restarted: it must find both again by itself. While the store
 * is down a webhook is answered 503 (the sender retries), never 200 and then forgotten.
 */
class BrokerAndStoreRestartFaultIT extends FaultScenario {

    @Test
    void theRuntimeRidesOutABrokerAndAStoreRestartWithoutLosingOrDoublingAPosting() throws Exception {
        environment("broker-and-store");
        RuntimeProcess rt = runtime("a", Map.of()).awaitReady(READY);
        load("BrokerAndStoreRestartFaultIT", 42L, List.of(rt.webhookUrl()));
        Duration outage = FaultSettings.scaled(Duration.ofSeconds(8), Duration.ofSeconds(30));

        generator.awaitProgress(0.30, streamTimeout());
        long kafkaDown = System.currentTimeMillis();
        env.stopKafka();
        long kafkaStopped = System.currentTimeMillis();
        sleep(outage);
        long kafkaStarting = System.currentTimeMillis();
        env.startKafka();
        long kafkaUp = System.currentTimeMillis();

        generator.awaitProgress(0.65, streamTimeout());
        awaitPostings(postings(), 20, Duration.ofSeconds(120));
        long storeDown = System.currentTimeMillis();
        env.stopPostgres();
        long storeStopped = System.currentTimeMillis();
        sleep(outage);
        // PostgreSQL accepts connections before startPostgres() returns (it waits until it can connect itself):
        // "down" ends when the start begins, not when it is confirmed
        long storeStarting = System.currentTimeMillis();
        env.startPostgres();
        long storeUp = System.currentTimeMillis();

        assertThat(generator.awaitFinished(streamTimeout())).as("stream finished").isTrue();
        LedgerCheck.Result r = check.drain(drainTimeout(), stallTimeout());

        List<LoadGenerator.Attempt> attempts = generator.attempts();
        long kafka503 = attempts.stream().filter(a -> a.status() == 503 && a.endMillis() >= kafkaDown
                && a.endMillis() <= kafkaUp + 10_000).count();
        long store503 = attempts.stream().filter(a -> a.status() == 503 && a.endMillis() >= storeDown
                && a.endMillis() <= storeUp + 10_000).count();
        // an attempt that began after the store was gone and was answered before it was back had no store at all
        long storeAccepted = attempts.stream().filter(a -> a.status() / 100 == 2 && a.startMillis() >= storeStopped
                && a.endMillis() < storeStarting).count();
        long kafkaAccepted = attempts.stream().filter(a -> a.status() / 100 == 2 && a.startMillis() >= kafkaStopped
                && a.endMillis() < kafkaStarting).count();
        check.extra("Kafka down (stop .. started again) (s)", seconds(kafkaDown, kafkaUp));
        check.extra("  503 answers while Kafka down (+10 s)", kafka503);
        check.extra("  2xx answers entirely while Kafka down", kafkaAccepted);
        check.extra("  webhooks accepted again after Kafka start (s)", seconds(kafkaUp, firstAcceptedAfter(kafkaUp)));
        check.extra("  postings resumed after Kafka start (s)", seconds(kafkaUp, watcher.firstPostingAfter(kafkaUp)));
        check.extra("PostgreSQL down (stop .. started again) (s)", seconds(storeDown, storeUp));
        check.extra("  503 answers while store down (+10 s)", store503);
        check.extra("  2xx answers entirely while store down", storeAccepted);
        check.extra("  webhooks accepted again after store start (s)", seconds(storeUp, firstAcceptedAfter(storeUp)));
        check.extra("  postings resumed after store start (s)", seconds(storeUp, watcher.firstPostingAfter(storeUp)));
        check.extra("runtime starts / alive at the end", rt.starts() + " / " + rt.alive());
        check.extra("transient-failure retries (log lines)", rt.countLogLines("after transient failure"));
        String table = check.report(r);

        LedgerCheck.assertExactlyOnce(r, table);
        assertThat(rt.starts()).as("the runtime was never restarted\n" + table).isEqualTo(1);
        assertThat(rt.alive()).as("runtime still running\n" + table).isTrue();
        assertThat(storeAccepted).as("webhooks answered 2xx while the store was down\n" + table).isZero();
        assertThat(store503).as("503 answers while the store was down\n" + table).isPositive();
    }
}
