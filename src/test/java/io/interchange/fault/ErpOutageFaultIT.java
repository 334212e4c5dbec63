package io.interchange.fault;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * S/4HANA answers 503 for a while under load (about 20 s in the quick run, longer in the full one), then comes back.
 * The ledger route's policy is configured so the outage fits its retry budget; webhooks keep being accepted meanwhile,
 * and after recovery everything is posted, once.
 */
class ErpOutageFaultIT extends FaultScenario {

    @Test
    void postingsWaitOutAnS4OutageAndArePostedOnceAfterIt() throws Exception {
        environment("erp-outage");
        RuntimeProcess rt = runtime("a", Map.of(
                "INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_MAX_ATTEMPTS", "100",
                "INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_INITIAL_DELAY", "PT0.2S",
                "INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_MAX_DELAY", "PT5S")).awaitReady(READY);
        load("ErpOutageFaultIT", 20L, List.of(rt.webhookUrl()));
        Duration outage = FaultSettings.scaled(Duration.ofSeconds(20), Duration.ofSeconds(120));

        generator.awaitProgress(0.25, streamTimeout());
        awaitPostings(0, 20, Duration.ofSeconds(120));
        int s4Requests = env.s4.requestCount();
        long acceptedBefore = generator.accepted();
        long down = System.currentTimeMillis();
        env.s4.setAvailable(false);
        // a request already past the availability check may still post; count from a second later
        sleep(Duration.ofSeconds(1));
        watcher.poll();
        int s4Before = watcher.s4Count();
        int legacyBefore = watcher.legacyCount();
        sleep(outage.minusSeconds(1));
        watcher.poll();
        int s4During = watcher.s4Count() - s4Before;
        int legacyDuring = watcher.legacyCount() - legacyBefore;
        long acceptedDuring = generator.accepted() - acceptedBefore;
        int refused = env.s4.requestCount() - s4Requests;
        env.s4.setAvailable(true);
        long up = System.currentTimeMillis();

        assertThat(generator.awaitFinished(streamTimeout())).as("stream finished").isTrue();
        LedgerCheck.Result r = check.drain(drainTimeout(), stallTimeout());

        check.extra("S/4HANA unavailable (s)", seconds(down, up));
        check.extra("  S/4 requests refused with 503", refused);
        check.extra("  S/4 / legacy postings during the outage (from +1 s)", s4During + " / " + legacyDuring);
        check.extra("  webhooks accepted during the outage", acceptedDuring);
        check.extra("  S/4 postings resumed after (s)", seconds(up, firstS4PostingAfter(up)) + " after recovery");
        check.extra("transient-failure retries (log lines)", rt.countLogLines("after transient failure"));
        String table = check.report(r);

        LedgerCheck.assertExactlyOnce(r, table);
        assertThat(s4During).as("S/4 postings while it was unavailable\n" + table).isZero();
        assertThat(acceptedDuring).as("webhooks keep being accepted during an ERP outage\n" + table).isPositive();
    }

    private long firstS4PostingAfter(long millis) {
        return generator.events().stream().filter(e -> e.legalEntity.equals("DE01") || e.legalEntity.equals("US01"))
                .map(watcher::firstSeen).filter(t -> t != null && t > millis).mapToLong(Long::longValue).min().orElse(-1);
    }
}
