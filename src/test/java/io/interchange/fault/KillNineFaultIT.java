package io.interchange.fault;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of the packaged runtime under a steady stream, twice (at about 35% and 70% of it), each time started again
 * on the same store, Kafka and consumer group: the sender retries whatever the dead process did not answer, keys the
 * dead process left PENDING are taken over after their (short) lease, and every accepted event is posted exactly once.
 */
class KillNineFaultIT extends FaultScenario {

    @Test
    void everyAcceptedEventIsPostedExactlyOnceAcrossTwoKillNines() throws Exception {
        environment("kill-nine");
        RuntimeProcess rt = runtime("a", Map.of("INTERCHANGE_IDEMPOTENCY_LEASE", "PT5S")).awaitReady(READY);
        load("KillNineFaultIT", 35L, List.of(rt.webhookUrl()));

        int kill = 0;
        for (double at : new double[]{0.35, 0.70}) {
            generator.awaitProgress(at, streamTimeout());
            if (kill == 0) {
                // the first kill hits postings under way (later ones may meet a group still waiting for a dead member)
                awaitPostings(0, 20, Duration.ofSeconds(120));
            }
            kill++;
            int postingsBefore = postings();
            long eventsBefore = generator.started();
            long killedAt = System.currentTimeMillis();
            rt.kill9();
            boolean posting = watcher.firstPostingAfter(killedAt - 1000) > 0;
            rt.start().awaitReady(READY);
            long readyAt = System.currentTimeMillis();
            check.extra("kill #" + kill + " at event", eventsBefore + " of " + generator.total()
                    + " (postings so far " + postingsBefore + (posting ? ", consumer posting" : ", consumer idle") + ")");
            check.extra("kill #" + kill + ": restarted and ready after (s)", seconds(killedAt, readyAt));
            final long k = killedAt;
            check.lazyExtra("kill #" + kill + ": webhooks accepted again after (s)",
                    () -> seconds(k, firstAcceptedAfter(k)));
            check.lazyExtra("kill #" + kill + ": postings resumed after (s)",
                    () -> seconds(k, watcher.firstPostingAfter(readyAt)));
        }
        assertThat(generator.awaitFinished(streamTimeout())).as("stream finished").isTrue();

        LedgerCheck.Result r = check.drain(drainTimeout(), stallTimeout());
        check.extra("PENDING keys taken over (log lines)", rt.countLogLines("taken over"));
        String table = check.report(r);

        LedgerCheck.assertExactlyOnce(r, table);
        assertThat(rt.starts()).isEqualTo(3);
    }
}
