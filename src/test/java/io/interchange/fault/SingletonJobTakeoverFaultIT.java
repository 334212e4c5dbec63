package io.interchange.fault;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.LegacyErpPeer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two instances share a cluster lock directory, the store and Kafka, both running the billing ledger with the daily
 * loyalty filing of FR01 (a singleton job, {@code master:} over Camel's file-lock cluster service). While both run,
 * only one ever runs the job, once per period; kill -9 of that one and the other takes the lock and runs the job within
 * the bound the lock settings give; the closed day is filed once and posted once at the legacy ERP across the takeover.
 * Who runs the job is read from outside: each run logs one line naming its instance.
 */
class SingletonJobTakeoverFaultIT extends FaultScenario {

    static final String RUN_LINE = "Loyalty filing check on instance ";
    static final Duration CHECK = Duration.ofSeconds(2);
    static final Duration LOCK_INTERVAL = Duration.ofSeconds(1);
    /** Camel's heartbeatTimeoutMultiplier as the runtime sets it: a holder silent this many intervals is taken for dead. */
    static final int HEARTBEAT_INTERVALS = 5;
    static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    @Test
    void onlyOneInstanceRunsTheJobAndTheOtherTakesOverAfterAKillNine() throws Exception {
        environment("singleton-takeover");
        LoyaltyPlatform platform = new LoyaltyPlatform();
        Map<String, String> settings = Map.of("INTERCHANGE_FLOWS", "loyalty-webhook,billing-ledger",
                "INTERCHANGE_LOYALTY_WEBHOOK_SECRET", platform.secret,
                // FR01 is filed daily (mappings/loyalty/point-values.csv); the store has no customer master
                "INTERCHANGE_LOYALTY_DEFAULT_LEGAL_ENTITY", "FR01",
                "INTERCHANGE_LOYALTY_FILING_CHECK", CHECK.toString(),
                "INTERCHANGE_LOYALTY_FILING_GRACE", "PT0S",
                "INTERCHANGE_CLUSTER_LOCK_DIR", env.work.resolve("cluster").toString(),
                "INTERCHANGE_CLUSTER_LOCK_INTERVAL", LOCK_INTERVAL.toString());
        RuntimeProcess a = runtime("a", settings);
        RuntimeProcess b = runtime("b", settings);
        a.awaitReady(READY);
        b.awaitReady(READY);

        // transactions of two days ago, sent to both instances: yesterday's filing takes them once recorded
        int total = 60;
        Random random = new Random(13);
        Instant twoDaysAgo = Instant.now().minus(Duration.ofDays(2));
        List<ObjectNode> transactions = new ArrayList<>();
        for (int i = 0; i < total; i++) transactions.add(LoyaltyPlatform.transaction(i, random, twoDaysAgo));
        ExecutorService senders = Executors.newFixedThreadPool(4);
        for (int i = 0; i < total; i++) {
            URI url = loyaltyUrl(i % 2 == 0 ? a : b);
            ObjectNode t = transactions.get(i);
            senders.submit(() -> platform.deliver(url, t, false));
        }
        senders.shutdown();
        assertThat(senders.awaitTermination(2, TimeUnit.MINUTES)).as("every transaction delivered").isTrue();

        // both run side by side for a while: long enough for several periods of the job
        RuntimeProcess holder = awaitRun(List.of(a, b), Duration.ofSeconds(60));
        assertThat(holder).as("a run of the job on either instance").isNotNull();
        RuntimeProcess other = holder == a ? b : a;
        String filingId = "loyalty-filing:FR01:" + LocalDate.now(PARIS).minusDays(1) + ":1";
        awaitFiling(filingId, Duration.ofSeconds(60));
        Thread.sleep(CHECK.multipliedBy(5).toMillis());

        List<LocalTime> holderRuns = runTimes(holder);
        long otherRunsBefore = other.countLogLines(RUN_LINE);
        Duration holderSpan = span(holderRuns);
        holder.kill9();
        long killedAt = System.currentTimeMillis();

        long takeover = -1;
        while (System.currentTimeMillis() - killedAt < 120_000) {
            if (other.countLogLines(RUN_LINE) > otherRunsBefore) {
                takeover = System.currentTimeMillis() - killedAt;
                break;
            }
            Thread.sleep(100);
        }
        // the other instance's heartbeat check comes every interval; it tries the lock once the dead holder's heartbeat
        // is more than HEARTBEAT_INTERVALS intervals old, then the job's timer fires after its first delay (one period)
        Duration bound = LOCK_INTERVAL.multipliedBy(HEARTBEAT_INTERVALS + 1).plus(CHECK).plusSeconds(10);
        Thread.sleep(CHECK.multipliedBy(5).toMillis());
        List<LocalTime> survivorRuns = runTimes(other);

        // the effects: yesterday filed once, published once, posted once at the legacy ERP (FR01's)
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (legacyPostings("posting:" + filingId).isEmpty() && System.nanoTime() < deadline) Thread.sleep(250);
        Thread.sleep(CHECK.multipliedBy(2).toMillis());
        List<String[]> filings = filings();
        Map<String, Integer> filedPerTransaction = new HashMap<>();
        List<LegacyErpPeer.Posting> posted = legacyPostings("posting:" + filingId);
        for (ObjectNode t : transactions) {
            String id = LoyaltyPlatform.transactionId(t);
            // vtx_fault_1 is not vtx_fault_10
            Pattern named = Pattern.compile(Pattern.quote(id) + "(?![0-9])");
            for (LegacyErpPeer.Posting p : posted) {
                if (named.matcher(p.rawXml()).find()) filedPerTransaction.merge(id, 1, Integer::sum);
            }
        }
        long postedAlone = transactions.stream()
                .filter(t -> !legacyPostings("posting:" + LoyaltyPlatform.eventId(t)).isEmpty()).count();
        int filed = filings.isEmpty() ? 0 : Integer.parseInt(filings.get(0)[1]);

        String report = "job run on " + holder.name + " " + holderRuns.size() + " time(s) in " + holderSpan.toMillis()
                + " ms before the kill (period " + CHECK.toMillis() + " ms), on " + other.name + " " + otherRunsBefore
                + " time(s); " + other.name + " ran it " + takeover + " ms after kill -9 of " + holder.name + " (bound "
                + bound.toMillis() + " ms), then " + survivorRuns.size() + " time(s); filings of FR01 " + filingsText(filings)
                + "; legacy entries of " + filingId + ": " + posted.size() + ", transactions in it " + filed + " of "
                + total + ", transactions posted on their own " + postedAlone + ", published by the survivor (log) "
                + other.countLogLines("Published ");
        System.out.println(report);
        Path file = FaultSettings.reportFile();
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        Files.writeString(file, "SingletonJobTakeoverFaultIT: " + report + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);

        assertThat(otherRunsBefore).as("only the holder ran the job while both were up: " + report).isZero();
        assertThat(holderRuns.size()).as("the holder ran the job at its period: " + report).isGreaterThanOrEqualTo(3);
        assertRunsAtPeriod(holderRuns, report);
        assertThat(takeover).as("the other instance took over: " + report).isPositive();
        assertThat(Duration.ofMillis(takeover)).as("takeover within the lock settings' bound: " + report)
                .isLessThanOrEqualTo(bound);
        assertThat(survivorRuns.size()).as("the survivor runs the job at its period: " + report).isGreaterThanOrEqualTo(3);
        assertRunsAtPeriod(survivorRuns, report);
        assertThat(filings).as("yesterday filed once, its filing published: " + report).hasSize(1);
        assertThat(filings.get(0)[0]).isEqualTo(filingId);
        assertThat(filings.get(0)[2]).as("published").isNotNull();
        assertThat(posted).as("the filing posted once at the legacy ERP: " + report).hasSize(1);
        assertThat(posted.get(0).lines()).as("one line pair per filed transaction").hasSize(2 * filed);
        assertThat(filedPerTransaction).as("filed transactions named in the entry: " + report).hasSize(filed);
        assertThat(unfiled() + filed).as("each transaction filed or waiting for a later day: " + report).isEqualTo(total);
        assertThat(postedAlone).as("no FR01 transaction posted on its own").isZero();
        assertThat(env.deadLetters()).as("no dead letters").isEmpty();
    }

    private static URI loyaltyUrl(RuntimeProcess p) {
        return URI.create("http://127.0.0.1:" + p.httpPort + "/webhooks/loyalty");
    }

    /** The first of {@code processes} to log a run of the job, or null. */
    private static RuntimeProcess awaitRun(List<RuntimeProcess> processes, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (RuntimeProcess p : processes) if (p.countLogLines(RUN_LINE) > 0) return p;
            Thread.sleep(100);
        }
        return null;
    }

    private void awaitFiling(String filingId, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (filings().stream().anyMatch(f -> f[0].equals(filingId))) return;
            Thread.sleep(100);
        }
        throw new AssertionError(filingId + " not made within " + timeout);
    }

    /** The log's time of each run of the job on {@code p} (the log pattern starts with HH:mm:ss.SSS). */
    private static List<LocalTime> runTimes(RuntimeProcess p) {
        List<LocalTime> times = new ArrayList<>();
        p.forEachLogLine(l -> {
            if (l.contains(RUN_LINE)) times.add(LocalTime.parse(l.substring(0, 12)));
        });
        return times;
    }

    private static Duration span(List<LocalTime> times) {
        return times.size() < 2 ? Duration.ZERO : gap(times.get(0), times.get(times.size() - 1));
    }

    private static Duration gap(LocalTime from, LocalTime to) {
        Duration d = Duration.between(from, to);
        return d.isNegative() ? d.plusDays(1) : d;
    }

    /**
     * Once per period, not twice: the runs fit the span they cover at one per period (one more for the slack of a run
     * that took long: the line is logged at its end and the timer counts the period from its start), and no gap is
     * longer than two and a half periods.
     */
    private static void assertRunsAtPeriod(List<LocalTime> runs, String report) {
        assertThat((long) runs.size() - 1).as("runs in " + span(runs) + ": " + report)
                .isLessThanOrEqualTo(span(runs).toMillis() / CHECK.toMillis() + 1);
        for (int i = 1; i < runs.size(); i++) {
            assertThat(gap(runs.get(i - 1), runs.get(i))).as("gap between runs " + i + " and " + (i + 1) + ": " + report)
                    .isLessThanOrEqualTo(CHECK.multipliedBy(5).dividedBy(2));
        }
    }

    /** FR01's filings in the store: id, transactions, published at. */
    private List<String[]> filings() throws Exception {
        List<String[]> out = new ArrayList<>();
        try (Connection c = env.storeConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT filing_id, transactions, published_at FROM loyalty_filing WHERE legal_entity = 'FR01' ORDER BY filing_id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.add(new String[]{rs.getString(1), rs.getString(2), rs.getString(3)});
        }
        return out;
    }

    private int unfiled() throws Exception {
        try (Connection c = env.storeConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM loyalty_filing_item WHERE legal_entity = 'FR01' AND filing_id IS NULL");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String filingsText(List<String[]> filings) {
        List<String> out = new ArrayList<>();
        for (String[] f : filings) out.add(f[0] + " (" + f[1] + " transactions, published " + (f[2] != null) + ")");
        return out.toString();
    }

    private List<LegacyErpPeer.Posting> legacyPostings(String reference) {
        return env.legacy.postings().stream().filter(p -> reference.equals(p.reference())).toList();
    }
}
