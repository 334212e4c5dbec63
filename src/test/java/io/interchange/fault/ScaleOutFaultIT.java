package io.interchange.fault;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two instances (own ports and data directories; same store, Kafka and consumer group) share the stream: the sender
 * spreads webhooks over both and Kafka spreads the partitions. Both post, and each customer's postings reach the ERPs
 * in the order its events were accepted. Then one instance is killed with SIGKILL mid-stream, the sender keeps going
 * to the survivor only, and the survivor takes over every partition: nothing lost, nothing posted twice.
 */
class ScaleOutFaultIT extends FaultScenario {

    private static final String LEDGER_ROUTE = "billing.ledger-posting";
    private static final String EXCHANGES = "camel_exchanges_total";
    /** Ledger consumer threads per instance: each is a member of the consumer group. */
    private static final int CONSUMERS = 2;

    @Test
    void twoInstancesShareTheWorkKeepOrderAndTheSurvivorTakesOver() throws Exception {
        environment("scale-out");
        Map<String, String> settings = Map.of("INTERCHANGE_LEDGER_CONSUMERS", String.valueOf(CONSUMERS));
        RuntimeProcess a = runtime("a", settings);
        RuntimeProcess b = runtime("b", settings);
        a.awaitReady(READY);
        b.awaitReady(READY);
        long groupFormed = awaitGroup(2 * CONSUMERS, Duration.ofSeconds(90));
        load("ScaleOutFaultIT", 2L, List.of(a.webhookUrl(), b.webhookUrl()));
        check.extra("consumer groups before the kill", describe(env.groupAssignments()));

        generator.awaitProgress(0.5, streamTimeout());
        awaitPostings(0, 50, Duration.ofSeconds(120));
        double metricA = a.metric(EXCHANGES, LEDGER_ROUTE);
        double metricB = b.metric(EXCHANGES, LEDGER_ROUTE);
        long postedA = a.countLogLines("confirmed by");
        long postedB = b.countLogLines("confirmed by");
        long acceptedB = b.countLogLines("published as");
        int postingsAtKill = postings();
        long eventsAtKill = generator.started();
        long killedAt = System.currentTimeMillis();
        b.kill9();
        generator.setTargets(List.of(a.webhookUrl()));
        long takenOver = awaitGroup(CONSUMERS, Duration.ofSeconds(120));
        Map<String, Map<String, Set<Integer>>> after = env.groupAssignments();

        assertThat(generator.awaitFinished(streamTimeout())).as("stream finished").isTrue();
        LedgerCheck.Result r = check.drain(drainTimeout(), stallTimeout());

        check.extra("groups of " + 2 * CONSUMERS + " consumers each (2 instances) formed after start",
                groupFormed < 0 ? "never" : "yes");
        check.extra(EXCHANGES + " " + LEDGER_ROUTE + " a / b", (long) metricA + " / " + (long) metricB);
        check.extra("postings confirmed before the kill a / b (log)", postedA + " / " + postedB);
        check.extra("webhooks published by b before the kill", acceptedB);
        check.extra("kill -9 of b at event", eventsAtKill + " of " + generator.total() + " (postings " + postingsAtKill + ")");
        check.extra("survivor holds all partitions of both groups after (s)", seconds(killedAt, takenOver));
        check.extra("consumer groups after the kill", describe(after));
        check.lazyExtra("postings of b's partitions resumed (s)", () -> seconds(killedAt, takenOver < 0 ? -1
                : watcher.firstPostingAfter(takenOver)));
        check.extra("postings confirmed by a in total (log)", a.countLogLines("confirmed by"));
        String table = check.report(r);

        LedgerCheck.assertExactlyOnce(r, table);
        assertThat(Math.max(metricA, postedA)).as("instance a posted before the kill\n" + table).isPositive();
        assertThat(Math.max(metricB, postedB)).as("instance b posted before the kill\n" + table).isPositive();
        assertThat(r.invoiceOrderViolations).as("INVOICE posted after its PAYMENT/REFUND\n" + table).isZero();
        assertThat(r.customerOrderViolations).as("a customer's postings out of order\n" + table).isZero();
        assertThat(takenOver).as("survivor took over every partition\n" + table).isPositive();
        assertThat(after).as("one consumer group per ERP target\n" + table).hasSize(2);
        for (Map<String, Set<Integer>> group : after.values()) {
            assertThat(group).as("consumer group after the kill: the survivor's consumers\n" + table).hasSize(CONSUMERS);
            assertThat(group.values().stream().mapToInt(Set::size).sum()).isEqualTo(FaultEnvironment.PARTITIONS);
        }
    }

    /**
     * Waits until each ledger group (one per ERP target) has exactly {@code members} members holding all partitions;
     * when, or -1.
     */
    private long awaitGroup(int members, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (Map<String, Set<Integer>> g : env.groupAssignments().values()) {
                all &= g.size() == members && g.values().stream().allMatch(s -> !s.isEmpty())
                        && g.values().stream().mapToInt(Set::size).sum() == FaultEnvironment.PARTITIONS;
            }
            if (all) return System.currentTimeMillis();
            Thread.sleep(250);
        }
        return -1;
    }

    private static String describe(Map<String, Map<String, Set<Integer>>> groups) {
        StringBuilder sb = new StringBuilder();
        groups.forEach((g, m) -> sb.append(sb.isEmpty() ? "" : "; ").append(g.substring(g.lastIndexOf('.') + 1))
                .append(' ').append(m.values()));
        return sb.toString();
    }
}
