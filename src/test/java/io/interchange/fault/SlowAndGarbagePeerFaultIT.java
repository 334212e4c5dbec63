package io.interchange.fault;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Peers that post and then answer too late, and peers that answer garbage. For a while S/4HANA, then the legacy ERP,
 * answers only after 3 s while the runtime gives up after 2 s (INTERCHANGE_ERP_*_TIMEOUT=PT2S): the entry is posted,
 * the answer lost, and the runtime retries. Neither ERP forgives a second entry (no UUID idempotency, references
 * unique), so each retry first reads what the ledger holds and records the entry found. Then both answer garbage
 * for a while (a proxy's 502/504 page, a 500 without an envelope, SOAP Server faults), which is transient. In the end
 * each event is posted exactly once, no attempt took longer than the timeout plus a redelivery delay, and no posting
 * longer than the slow window it met plus one attempt.
 */
class SlowAndGarbagePeerFaultIT extends FaultScenario {

    private static final Duration PEER_DELAY = Duration.ofSeconds(3);
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final Duration MAX_DELAY = Duration.ofSeconds(1);

    @Test
    void lateAndGarbageAnswersAreRetriedAndStillPostExactlyOnce() throws Exception {
        environment("slow-and-garbage");
        RuntimeProcess rt = runtime("a", Map.of(
                "INTERCHANGE_ERP_S4_TIMEOUT", "PT2S",
                "INTERCHANGE_ERP_LEGACY_TIMEOUT", "PT2S",
                "INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_MAX_ATTEMPTS", "100",
                "INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_INITIAL_DELAY", "PT0.2S",
                "INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_MAX_DELAY", "PT1S",
                // the subject is the route's retries meeting lost answers and garbage, bounded by its delays: the ERP
                // circuit breakers (which would hold the postings for an open-wait instead, see ErpOutageFaultIT)
                // judge more calls than this scenario makes
                "INTERCHANGE_ERP_BREAKER_WINDOW", "100000",
                "INTERCHANGE_ERP_BREAKER_MINIMUM_CALLS", "100000")).awaitReady(READY);
        load("SlowAndGarbagePeerFaultIT", 7L, List.of(rt.webhookUrl()));
        Duration window = FaultSettings.scaled(Duration.ofSeconds(8), Duration.ofSeconds(60));

        generator.awaitProgress(0.15, streamTimeout());
        awaitPostings(0, 20, Duration.ofSeconds(120));
        long s4SlowFrom = System.currentTimeMillis();
        env.s4.setDelay(PEER_DELAY);
        sleep(window);
        env.s4.setDelay(Duration.ZERO);
        long s4SlowTo = System.currentTimeMillis();

        generator.awaitProgress(0.45, streamTimeout());
        long legacySlowFrom = System.currentTimeMillis();
        env.legacy.setDelay(PEER_DELAY);
        sleep(window);
        env.legacy.setDelay(Duration.ZERO);
        long legacySlowTo = System.currentTimeMillis();

        generator.awaitProgress(0.75, streamTimeout());
        // garbage only once the posting caught in the slow window got through, so no posting meets both
        awaitPostings(postings(), 20, Duration.ofSeconds(120));
        // a few at a time: each garbage answer costs the posting that meets it one redelivery
        env.s4.failNext(4, 502);
        env.s4.serverFaultNext(4);
        env.legacy.failNext(4, 500);
        env.legacy.serverFaultNext(4);
        sleep(Duration.ofSeconds(3));
        env.legacy.failNext(3, 504);

        assertThat(generator.awaitFinished(streamTimeout())).as("stream finished").isTrue();
        LedgerCheck.Result r = check.drain(drainTimeout(), stallTimeout());

        long[] timeoutsAndGarbage = new long[2];
        rt.forEachLogLine(l -> {
            if (!l.contains("after transient failure")) return;
            if (l.contains("imeout") || l.contains("timed out")) timeoutsAndGarbage[0]++;
            if (l.contains("HTTP 50") || l.contains("SOAP fault")) timeoutsAndGarbage[1]++;
        });
        long timeouts = timeoutsAndGarbage[0];
        long garbage = timeoutsAndGarbage[1];
        PostingTimeline timeline = new PostingTimeline(rt);
        // one attempt is bounded by the ERP timeout plus the longest redelivery delay (+15% jitter)
        Duration attemptBound = TIMEOUT.plus(MAX_DELAY.multipliedBy(115).dividedBy(100)).plusSeconds(1);
        // a posting caught in a slow window waits it out, plus one attempt; one that meets the garbage retries through
        // up to 11 answers (one consumer thread: the same posting meets them all)
        Duration garbageBound = MAX_DELAY.multipliedBy(115).dividedBy(100).plusMillis(100).multipliedBy(11);
        Duration postingBound = (window.compareTo(garbageBound) > 0 ? window : garbageBound).plus(attemptBound).plusSeconds(3);
        check.extra("S/4 slow (answers after " + PEER_DELAY.toSeconds() + " s) for (s)", seconds(s4SlowFrom, s4SlowTo));
        check.extra("legacy slow for (s)", seconds(legacySlowFrom, legacySlowTo));
        check.extra("retries after an ERP timeout (log lines)", timeouts);
        check.extra("retries after garbage answers (log lines)", garbage);
        check.extra("garbage answers injected (S/4 / legacy)", "8 / 11");
        check.extra("postings retried / most attempts of one", timeline.retried() + " / " + timeline.maxAttempts());
        check.extra("longest wait between attempts (ms, bound)", timeline.maxAttemptGapMillis() + " (" + attemptBound.toMillis() + ")");
        check.extra("longest posting, first try -> confirmed (ms, bound)", timeline.maxProcessingMillis() + " ("
                + postingBound.toMillis() + ")");
        check.extra("postings timed in the log", timeline.postings().size());
        String table = check.report(r);

        LedgerCheck.assertExactlyOnce(r, table);
        assertThat(r.s4Reads).as("S/4 answers lost after posting, settled by reading the ledger\n" + table).isPositive();
        assertThat(r.legacyReads).as("legacy answers lost after posting, settled by FindJournal\n" + table).isPositive();
        assertThat(timeouts).as("the runtime timed out on the slow peers\n" + table).isPositive();
        assertThat(timeline.maxAttemptGapMillis()).as("longest wait between two attempts of a posting (ms)\n" + table)
                .isLessThanOrEqualTo(attemptBound.toMillis());
        assertThat(timeline.maxProcessingMillis()).as("longest posting (ms)\n" + table)
                .isLessThanOrEqualTo(postingBound.toMillis());
    }
}
