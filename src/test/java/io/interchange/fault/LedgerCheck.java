package io.interchange.fault;

import io.interchange.fault.LoadGenerator.Kind;
import io.interchange.fault.LoadGenerator.SentEvent;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4HanaPeer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The end-to-end verdict of a scenario, from the peers' own ledgers: every accepted event with a ledger effect
 * (invoice finalized, paid, refunded) must be posted exactly once — at S/4HANA, found by the MessageHeader/UUID derived
 * from its posting id, or at the legacy ERP, found by its reference ({@code posting:<event id>}) — or be waiting in
 * the dead-letter store. Also reports what the crash windows cost elsewhere: Kafka records published twice (allowed,
 * at-least-once), answers the ERPs replayed from their idempotency stores, and per-customer order at the ERPs.
 */
final class LedgerCheck {

    private static final Pattern HEADER_TEXT = Pattern.compile("<(?:\\w+:)?DocumentHeaderText>(\\w+)");

    private final String scenario;
    private final FaultEnvironment env;
    private final LoadGenerator generator;
    private final PostingWatcher watcher;
    private final Map<String, Supplier<?>> extras = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final long startedMillis = System.currentTimeMillis();

    LedgerCheck(String scenario, FaultEnvironment env, LoadGenerator generator, PostingWatcher watcher) {
        this.scenario = scenario;
        this.env = env;
        this.generator = generator;
        this.watcher = watcher;
    }

    /** A scenario-specific line of the report. */
    LedgerCheck extra(String label, Object value) {
        extras.put(label, () -> value);
        return this;
    }

    /** A scenario-specific line whose value is computed when the report is written. */
    LedgerCheck lazyExtra(String label, Supplier<?> value) {
        extras.put(label, value);
        return this;
    }

    LedgerCheck note(String line) {
        notes.add(line);
        return this;
    }

    /** What the ledgers say, right now. */
    static final class Result {
        long sent;
        long accepted;
        long gaveUp;
        long attempts;
        Map<Integer, Long> statuses;
        int expected;
        int s4Postings;
        int legacyPostings;
        int posted;
        int deadLetteredExpected;
        int deadLettersTotal;
        int lost;
        int duplicates;
        int unexpected;
        long kafkaRecords = -1;
        int kafkaDistinctIds;
        int kafkaDuplicateIds;
        long kafkaExtraRecords;
        int acceptedNotOnKafka;
        int s4IdempotentReplays;
        int s4DuplicateReferences;
        int legacyDuplicateReferences;
        int s4Reads;
        int legacyReads;
        /** Events posted on an ERP ledger for which the runtime recorded no confirmation, or another document. */
        int unconfirmed = -1;
        List<String> unconfirmedSamples = List.of();
        /** Events posted on an ERP ledger whose confirmation is not on the ledger topic. */
        int unpublished = -1;
        long ledgerRecords = -1;
        int s4Rejections;
        int legacyRejections;
        int customerOrderViolations;
        int invoiceOrderViolations;
        int headerTextMismatches;
        long latencyP50 = -1;
        long latencyP99 = -1;
        long latencyMax = -1;
        long lag = -1;
        List<SentEvent> lostEvents = List.of();
        List<String> duplicateSamples = List.of();
        List<String> deadLetterSamples = List.of();
        List<String> orderSamples = List.of();

        int missing() {
            return expected - posted;
        }
    }

    /**
     * Waits until every expected posting is at an ERP or dead-lettered and the consumer group has committed the whole
     * billing topic (or until {@code timeout}, or until nothing moved for {@code stall}), lets late effects settle,
     * and returns the final result, Kafka included.
     */
    Result drain(Duration timeout, Duration stall) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastChange = System.nanoTime();
        int lastDone = -1;
        long drainStart = System.currentTimeMillis();
        while (true) {
            watcher.poll();
            Result r = snapshot(false);
            long lag = env.consumerLag();
            if (r.lost == 0 && lag == 0) break;
            int done = r.posted + r.deadLetteredExpected;
            if (done != lastDone) {
                lastDone = done;
                lastChange = System.nanoTime();
            }
            if (System.nanoTime() > deadline) {
                note("drain timed out after " + timeout + " with " + r.lost + " postings missing, consumer lag " + lag);
                break;
            }
            // everything on Kafka consumed and committed, and still nothing new: what is missing will not come
            if (lag == 0 && System.nanoTime() - lastChange > Duration.ofSeconds(20).toNanos()) {
                note("drain ended: consumer lag 0 and no posting for 20 s, " + r.lost + " missing");
                break;
            }
            if (System.nanoTime() - lastChange > stall.toNanos() && r.lost > 0) {
                note("drain stalled: no posting for " + stall + ", " + r.lost + " missing, consumer lag " + lag);
                break;
            }
            Thread.sleep(1000);
        }
        extra("drain after the stream (s)", String.format("%.1f", (System.currentTimeMillis() - drainStart) / 1000.0));
        // a duplicate would come from a re-read or a late retry: give it time to show
        Thread.sleep(3000);
        watcher.poll();
        Result r = snapshot(true);
        r.lag = env.consumerLag();
        return r;
    }

    Result snapshot(boolean withKafka) throws SQLException {
        Result r = new Result();
        List<SentEvent> events = generator.events();
        r.sent = events.size();
        r.accepted = events.stream().filter(SentEvent::accepted).count();
        r.gaveUp = generator.gaveUp();
        r.attempts = events.stream().mapToLong(SentEvent::attempts).sum();
        r.statuses = generator.statusCounts();

        Map<String, SentEvent> byUuid = new HashMap<>();
        Map<String, SentEvent> byReference = new HashMap<>();
        Set<String> expectedIds = new java.util.HashSet<>();
        for (SentEvent e : events) {
            byUuid.put(e.s4Uuid(), e);
            byReference.put(e.postingId(), e);
            if (e.accepted() && e.kind != Kind.NONE) expectedIds.add(e.eventId);
        }
        r.expected = expectedIds.size();

        // S/4HANA postings keep arrival order; position = first arrival
        List<S4HanaPeer.Posting> s4 = env.s4.postings();
        List<LegacyErpPeer.Posting> legacy = env.legacy.postings();
        r.s4Postings = s4.size();
        r.legacyPostings = legacy.size();
        Map<String, Integer> position = new HashMap<>();
        Map<String, Integer> postedCount = new HashMap<>();
        Map<String, String> documents = new HashMap<>();
        List<String> dupSamples = new ArrayList<>();
        int unexpected = 0;
        int headerMismatch = 0;
        for (int i = 0; i < s4.size(); i++) {
            S4HanaPeer.Posting p = s4.get(i);
            SentEvent e = p.uuid() == null ? null : byUuid.get(p.uuid());
            if (e == null || !expectedIds.contains(e.eventId)) {
                unexpected++;
                continue;
            }
            position.putIfAbsent(e.eventId, i);
            documents.putIfAbsent(e.eventId, p.accountingDocument());
            if (postedCount.merge(e.eventId, 1, Integer::sum) == 2 && dupSamples.size() < 10) {
                dupSamples.add("S/4HANA " + e + " documents " + s4.stream().filter(x -> e.s4Uuid().equals(x.uuid()))
                        .map(S4HanaPeer.Posting::accountingDocument).toList());
            }
            // rawXml is the whole request, which may carry several entries: read this entry's header text, the first
            // after its MessageHeader ID
            int entry = Math.max(0, p.rawXml().indexOf(">" + p.messageId() + "<"));
            Matcher m = HEADER_TEXT.matcher(p.rawXml());
            if (!m.find(entry) || !m.group(1).equals(e.kind.name())) headerMismatch++;
        }
        for (int i = 0; i < legacy.size(); i++) {
            LegacyErpPeer.Posting p = legacy.get(i);
            SentEvent e = byReference.get(p.reference());
            if (e == null || !expectedIds.contains(e.eventId)) {
                unexpected++;
                continue;
            }
            position.putIfAbsent(e.eventId, i);
            documents.putIfAbsent(e.eventId, p.documentNumber());
            if (postedCount.merge(e.eventId, 1, Integer::sum) == 2 && dupSamples.size() < 10) {
                dupSamples.add("legacy " + e + " documents " + legacy.stream().filter(x -> e.postingId().equals(x.reference()))
                        .map(LegacyErpPeer.Posting::documentNumber).toList());
            }
        }
        r.unexpected = unexpected;
        r.headerTextMismatches = headerMismatch;
        r.posted = postedCount.size();
        r.duplicates = postedCount.values().stream().mapToInt(n -> n - 1).sum();
        r.duplicateSamples = dupSamples;

        List<FaultEnvironment.DeadLetterRow> deadLetters = env.deadLetters();
        r.deadLettersTotal = deadLetters.size();
        Set<String> deadLettered = new java.util.HashSet<>();
        List<String> dlSamples = new ArrayList<>();
        for (FaultEnvironment.DeadLetterRow d : deadLetters) {
            if (d.idempotencyKey() != null && d.idempotencyKey().startsWith("ledger:")) {
                deadLettered.add(d.idempotencyKey().substring("ledger:".length()));
            }
            if (dlSamples.size() < 5) dlSamples.add("#" + d.id() + " " + d.routeId() + " " + d.status() + " "
                    + d.idempotencyKey() + " " + d.kind() + ": " + d.error());
        }
        r.deadLetterSamples = dlSamples;
        List<SentEvent> lost = new ArrayList<>();
        int deadLetteredExpected = 0;
        for (SentEvent e : events) {
            if (!expectedIds.contains(e.eventId) || postedCount.containsKey(e.eventId)) continue;
            if (deadLettered.contains(e.eventId)) deadLetteredExpected++;
            else lost.add(e);
        }
        r.deadLetteredExpected = deadLetteredExpected;
        r.lost = lost.size();
        r.lostEvents = lost;

        r.s4IdempotentReplays = env.s4.idempotentReplays();
        r.s4DuplicateReferences = env.s4.duplicateReferences();
        r.legacyDuplicateReferences = env.legacy.duplicateReferences();
        r.s4Reads = env.s4.readCount();
        r.legacyReads = env.legacy.finds();

        // every entry on an ERP ledger has its confirmation recorded, naming the document the ledger holds
        Map<String, String> confirmations = env.confirmations();
        List<String> unconfirmed = new ArrayList<>();
        for (var posted : documents.entrySet()) {
            String recorded = confirmations.get(posted.getKey());
            if (!posted.getValue().equals(recorded)) {
                unconfirmed.add(posted.getKey() + " posted as " + posted.getValue() + ", recorded "
                        + (recorded == null ? "nothing" : recorded));
            }
        }
        r.unconfirmed = unconfirmed.size();
        r.unconfirmedSamples = unconfirmed.stream().limit(5).toList();
        r.s4Rejections = env.s4.rejections().size();
        r.legacyRejections = env.legacy.rejections().size();

        // order at the ERPs: a customer's postings arrive in the order its events were accepted
        Map<Integer, List<SentEvent>> byCustomer = events.stream().filter(e -> position.containsKey(e.eventId))
                .collect(Collectors.groupingBy(e -> e.customer));
        List<String> orderSamples = new ArrayList<>();
        for (List<SentEvent> list : byCustomer.values()) {
            list.sort(Comparator.comparingInt(e -> e.seqInCustomer));
            for (int i = 1; i < list.size(); i++) {
                SentEvent a = list.get(i - 1);
                SentEvent b = list.get(i);
                if (position.get(a.eventId) > position.get(b.eventId)) {
                    r.customerOrderViolations++;
                    if (a.invoiceId.equals(b.invoiceId)) r.invoiceOrderViolations++;
                    if (orderSamples.size() < 5) orderSamples.add(b + " posted before " + a);
                }
            }
        }
        r.orderSamples = orderSamples;

        List<Long> latencies = new ArrayList<>();
        for (SentEvent e : events) {
            if (!postedCount.containsKey(e.eventId)) continue;
            Long seen = watcher.firstSeen(e);
            if (seen != null) latencies.add(Math.max(0, seen - e.acceptedMillis()));
        }
        if (!latencies.isEmpty()) {
            latencies.sort(null);
            r.latencyP50 = latencies.get(latencies.size() / 2);
            r.latencyP99 = latencies.get(Math.min(latencies.size() - 1, (int) Math.ceil(latencies.size() * 0.99) - 1));
            r.latencyMax = latencies.get(latencies.size() - 1);
        }

        if (withKafka) {
            Map<String, Integer> perId = env.billingRecordsPerEventId();
            r.kafkaRecords = perId.values().stream().mapToLong(Integer::longValue).sum();
            r.kafkaDistinctIds = perId.size();
            r.kafkaDuplicateIds = (int) perId.values().stream().filter(n -> n > 1).count();
            r.kafkaExtraRecords = perId.values().stream().mapToLong(n -> n - 1).sum();
            r.acceptedNotOnKafka = (int) events.stream().filter(e -> e.accepted() && !perId.containsKey(e.eventId)).count();
            Map<String, Integer> ledger = env.ledgerRecordsPerPostingId();
            r.ledgerRecords = ledger.values().stream().mapToLong(Integer::longValue).sum();
            r.unpublished = (int) documents.keySet().stream().filter(id -> !ledger.containsKey("posting:" + id)).count();
        }
        return r;
    }

    /** The report table: printed and appended to the fault.report file. */
    String report(Result r) {
        StringBuilder sb = new StringBuilder();
        String title = "=== " + scenario + ": " + FaultSettings.events() + " events at " + FaultSettings.rate()
                + "/s, " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + " ";
        sb.append(title).append("=".repeat(Math.max(3, 100 - title.length()))).append('\n');
        row(sb, "webhooks sent (events)", r.sent);
        row(sb, "accepted (2xx)", r.accepted);
        row(sb, "given up by the sender", r.gaveUp);
        row(sb, "HTTP attempts (by status; 0 = no answer)", r.attempts + "  " + r.statuses);
        row(sb, "expected postings", r.expected);
        row(sb, "posted (distinct expected)", r.posted);
        row(sb, "  S/4HANA postings / legacy postings", r.s4Postings + " / " + r.legacyPostings);
        row(sb, "LOST (not posted, not dead-lettered)", r.lost);
        row(sb, "DUPLICATE ERP postings", r.duplicates);
        row(sb, "unexpected postings (unknown id)", r.unexpected);
        row(sb, "dead letters (expected ones / all)", r.deadLetteredExpected + " / " + r.deadLettersTotal);
        row(sb, "Kafka records on " + FaultEnvironment.BILLING_TOPIC, r.kafkaRecords);
        row(sb, "Kafka duplicate ce_ids (extra records)", r.kafkaDuplicateIds + " (" + r.kafkaExtraRecords + ")");
        row(sb, "accepted but not on Kafka", r.acceptedNotOnKafka);
        row(sb, "ERP postings without their confirmation", r.unconfirmed);
        row(sb, "  ... nor their record on " + FaultEnvironment.LEDGER_TOPIC, r.unpublished + " (records: " + r.ledgerRecords + ")");
        row(sb, "ledger reads (S/4 OData / legacy FindJournal)", r.s4Reads + " / " + r.legacyReads);
        row(sb, "duplicate references refused (S/4 / legacy)", r.s4DuplicateReferences + " / " + r.legacyDuplicateReferences);
        row(sb, "S/4HANA idempotent replays (UUID; off here)", r.s4IdempotentReplays);
        row(sb, "ERP business rejections (S/4 / legacy)", r.s4Rejections + " / " + r.legacyRejections);
        row(sb, "order violations (customer / invoice)", r.customerOrderViolations + " / " + r.invoiceOrderViolations);
        row(sb, "S/4 DocumentHeaderText kind mismatches", r.headerTextMismatches);
        row(sb, "accepted -> posted ms (p50 / p99 / max)", r.latencyP50 + " / " + r.latencyP99 + " / " + r.latencyMax);
        row(sb, "consumer lag at the end", r.lag);
        row(sb, "stream duration (s)", String.format("%.1f", generator.streamMillis() / 1000.0));
        row(sb, "scenario duration (s)", String.format("%.1f", (System.currentTimeMillis() - startedMillis) / 1000.0));
        if (!extras.isEmpty()) {
            sb.append("  --- scenario\n");
            extras.forEach((k, v) -> row(sb, k, v.get()));
        }
        List<String> all = new ArrayList<>(notes);
        r.lostEvents.stream().limit(10).forEach(e -> all.add("lost: " + e));
        r.duplicateSamples.forEach(s -> all.add("duplicate: " + s));
        r.deadLetterSamples.forEach(s -> all.add("dead letter: " + s));
        r.orderSamples.forEach(s -> all.add("order: " + s));
        for (SentEvent e : r.lostEvents.stream().limit(3).toList()) {
            env.grepLogs(e.eventId, 12).forEach(l -> all.add("  log " + e.eventId + ": " + l));
        }
        if (!all.isEmpty()) {
            sb.append("  --- notes\n");
            all.forEach(n -> sb.append("  ").append(n).append('\n'));
        }
        String table = sb.toString();
        System.out.println(table);
        Path file = FaultSettings.reportFile();
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            Files.writeString(file, table + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return table;
    }

    private static void row(StringBuilder sb, String label, Object value) {
        sb.append(String.format("  %-46s %s%n", label, value));
    }

    /** Nothing lost, nothing posted twice, every accepted event on Kafka, nothing dead-lettered. */
    static void assertExactlyOnce(Result r, String table) {
        assertThat(r.gaveUp).as("events the sender gave up on\n" + table).isZero();
        assertThat(r.accepted).as("accepted events\n" + table).isEqualTo(r.sent).isEqualTo(FaultSettings.events());
        assertThat(r.acceptedNotOnKafka).as("events answered 2xx but not on Kafka\n" + table).isZero();
        assertThat(r.lost).as("lost postings\n" + table).isZero();
        assertThat(r.deadLettersTotal).as("dead letters\n" + table).isZero();
        assertThat(r.duplicates).as("duplicate ERP postings\n" + table).isZero();
        assertThat(r.unexpected).as("postings of events never accepted\n" + table).isZero();
        assertThat(r.posted).as("posted\n" + table).isEqualTo(r.expected);
        assertThat(r.headerTextMismatches).as("postings with the wrong kind\n" + table).isZero();
        assertThat(r.unconfirmed).as("ERP postings without their recorded confirmation " + r.unconfirmedSamples
                + "\n" + table).isZero();
        if (r.unpublished >= 0) {
            assertThat(r.unpublished).as("ERP postings without a record on the ledger topic\n" + table).isZero();
        }
    }
}
