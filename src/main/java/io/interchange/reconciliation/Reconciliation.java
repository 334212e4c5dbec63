package io.interchange.reconciliation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.StripeApi;
import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.ReconciliationCompleted;
import io.interchange.store.ErpConfirmations;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Kind;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reconciliation runs of billing against the ERP ledger and our confirmations, per legal entity and period: each side
 * read from the system itself (the billing platform's list APIs, the ERP ledger's range read, the confirmations the
 * ledger flow recorded), spooled into the store as it is read, compared there by document to the minor unit per
 * currency ({@link ReconciliationRuns#compare}), and every difference kept with the run, none corrected. A finished run
 * is written as an HTML page and a CSV file, published as a canonical {@code reconciliation.completed} event and
 * counted in metrics.
 */
public final class Reconciliation {

    /** The comparison this class runs, as runs, metrics and events name it. */
    public static final String COMPARISON = "billing-erp";
    /** Gauge of the last run's differences, tags comparison, entity, kind. */
    public static final String DIFFERENCES_METRIC = "interchange.reconciliation.differences";
    /**
     * Gauge of the records the running (or last) run has read so far, tags comparison, side (billing, erp,
     * confirmations): progress of a long run, set back to 0 when a run starts.
     */
    public static final String RECORDS_READ_METRIC = "interchange.reconciliation.records.read";
    /** Counter of runs, tags comparison, outcome (clean, differences, failed). */
    public static final String RUNS_METRIC = "interchange.reconciliation.runs";
    /** The API version objects are read in when none is configured: the newest the runtime knows. */
    static final String NEWEST_API_VERSION = "2026-07-29.dahlia";
    public static final String SOURCE = "/interchange/reconciliation";
    /** ERP documents whose confirmations are looked up at a time. */
    private static final int CONFIRMATION_LOOKUP = 200;

    private static final Logger LOG = LoggerFactory.getLogger(Reconciliation.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a run found, as the JMX operation and the log say it. */
    public record Summary(ReconciliationRuns.Run run, Map<Kind, Long> differences) {
        public long runId() {
            return run.id();
        }

        /** One line per fact: the run, its counts, the differences per kind. */
        public String text() {
            StringBuilder sb = new StringBuilder();
            sb.append("reconciliation run #").append(run.id()).append(' ').append(run.comparison()).append(' ')
                    .append(run.legalEntity()).append(" from ").append(run.from()).append(" to ").append(run.to())
                    .append(" (exclusive): ").append(run.status()).append('\n')
                    .append("read: billing ").append(run.billingRecords()).append(", ERP ledger ").append(run.erpRecords())
                    .append(", confirmations ").append(run.confirmationRecords());
            if (run.unreadableRecords() > 0) sb.append(", billing objects not compared ").append(run.unreadableRecords());
            sb.append('\n').append("matched ").append(run.matched()).append(", differences ").append(run.differences());
            differences.forEach((kind, n) -> sb.append("\n  ").append(kind).append(' ').append(n));
            if (run.detail() != null) sb.append('\n').append(run.detail());
            return sb.toString();
        }
    }

    private final ReconciliationRuns runs;
    private final ErpConfirmations confirmations;
    private final LegalEntityTable entities;
    private final BillingDocuments billing;
    private final ErpLedger erp;
    private final Clock clock;
    private final Duration margin;
    private final Duration delay;
    private final Duration retention;
    private final long progressEvery;
    private final List<String> dailyEntities;
    private final Path reportDir;
    private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();
    private volatile ProducerTemplate template;
    private volatile MeterRegistry meters;
    private volatile String publishUri;
    private final StripeApi billingApi;
    private volatile boolean billingOffLogged;

    public Reconciliation(Config config, ReconciliationRuns runs, ErpConfirmations confirmations,
                          LegalEntityTable entities, StripeApi api, BillingEventTranslator translator, ErpAccess access,
                          Clock clock) {
        this.runs = runs;
        this.confirmations = confirmations;
        this.entities = entities;
        String version = config.get(Settings.RECONCILIATION_API_VERSION);
        if (version.isBlank()) version = config.get(Settings.BILLING_API_VERSION);
        if (version.isBlank()) version = NEWEST_API_VERSION;
        if (translator.shape(version) == null) {
            throw new IllegalArgumentException(Settings.RECONCILIATION_API_VERSION.key() + ": Stripe API version "
                    + version + " is not in mappings/stripe/api-versions.csv");
        }
        this.billingApi = api;
        this.billing = new BillingDocuments(api, translator, translator.references(), version,
                config.getInt(Settings.RECONCILIATION_BILLING_PAGE));
        this.erp = new ErpLedger(access, config.getInt(Settings.RECONCILIATION_ERP_PAGE));
        this.clock = clock;
        this.margin = config.getDuration(Settings.RECONCILIATION_MARGIN);
        this.delay = config.getDuration(Settings.RECONCILIATION_DELAY);
        this.retention = config.getDuration(Settings.RECONCILIATION_RETENTION);
        this.progressEvery = Math.max(1, config.getInt(Settings.RECONCILIATION_PROGRESS));
        String listed = config.get(Settings.RECONCILIATION_ENTITIES);
        this.dailyEntities = listed.isBlank() ? List.copyOf(entities.all().keySet())
                : Arrays.stream(listed.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        String dir = config.get(Settings.RECONCILIATION_REPORT_DIR);
        this.reportDir = dir.isBlank() ? config.getPath(Settings.DATA_DIR).resolve("reconciliation") : Path.of(dir);
    }

    /**
     * Binds the run to the started Camel context (the ERP reads go through its routes), its metrics to {@code meters}
     * (or none), and publishes each finished run's event through {@code publishUri} (or nowhere, when null).
     */
    public void start(CamelContext context, MeterRegistry meters, String publishUri) {
        this.template = context.createProducerTemplate();
        this.meters = meters;
        this.publishUri = publishUri;
    }

    /** Where run reports are written. */
    public Path reportDir() {
        return reportDir;
    }

    /**
     * Reconciles one legal entity over {@code [from, to)}: reads and spools each side, compares, stores the
     * differences, writes the report, publishes the event and sets the metrics. A side that cannot be read fails the run
     * (recorded as FAILED with the reason, counted, published) and is thrown.
     */
    public Summary run(String legalEntity, LocalDate from, LocalDate to) {
        return carryOut(begin(legalEntity, from, to));
    }

    /** A run recorded as RUNNING and not carried out yet ({@link #carryOut}). */
    public record Begun(long runId, LegalEntity entity, LocalDate from, LocalDate to) {
    }

    /**
     * Checks what a run is asked for and records it as RUNNING, so that its id is known before it is carried out (an
     * operator's run in the background answers with it at once). A wrong entity or period is an
     * {@link IllegalArgumentException} naming it, and nothing is recorded.
     */
    public Begun begin(String legalEntity, LocalDate from, LocalDate to) {
        LegalEntity entity = entities.find(legalEntity).orElseThrow(() -> new IllegalArgumentException(
                "unknown legal entity '" + legalEntity + "': not in mappings/legal-entities.csv"));
        if (!from.isBefore(to)) throw new IllegalArgumentException("the period's start " + from + " is not before its end " + to);
        if (template == null) throw new IllegalStateException("reconciliation not started");
        int deleted = runs.deleteBefore(clock.instant().minus(retention));
        if (deleted > 0) LOG.info("Reconciliation: {} run(s) older than {} deleted", deleted, retention);
        long runId = runs.start(COMPARISON, legalEntity, from, to);
        LOG.info("Reconciliation run #{} of {} for {} from {} to {} (exclusive) started", runId, COMPARISON, legalEntity,
                from, to);
        return new Begun(runId, entity, from, to);
    }

    /** Carries out a run {@link #begin begun}: everything {@link #run} does after recording it. */
    public Summary carryOut(Begun begun) {
        long runId = begun.runId();
        LegalEntity entity = begun.entity();
        String legalEntity = entity.id();
        LocalDate from = begun.from();
        LocalDate to = begun.to();
        long days = Math.max(0, margin.toDays());
        LocalDate readFrom = from.minusDays(days);
        LocalDate readTo = to.plusDays(days);
        ZoneId zone = entity.timeZone();
        long[] counts = new long[4]; // billing, erp, ours, unreadable
        for (String side : SIDES) readGauge(side).set(0);
        // billing and the ERP ledger are read at once, each into its own spool: two remote systems, each read page by
        // page, so a run takes as long as the slower of them rather than both together
        ExecutorService ledgerReader = Executors.newSingleThreadExecutor(r -> new Thread(r, "reconciliation-" + runId
                + "-erp"));
        Future<Long> ledger = null;
        try {
            ledger = ledgerReader.submit(() -> {
                Progress erpProgress = progress(runId, "erp");
                long n = 0;
                try (ReconciliationRuns.Spool spool = runs.spool(runId)) {
                    // the entity's ledger is at the legacy ERP before its cut-over date, at S/4HANA from it
                    LocalDate cutover = entity.s4CutoverDate();
                    if (cutover == null || readFrom.isBefore(cutover)) {
                        LocalDate end = cutover == null || readTo.isBefore(cutover) ? readTo : cutover;
                        n += erp.read(template, LegalEntity.LEGACY, entity.legacyCompany(), readFrom, end, from, to,
                                spool::add, erpProgress);
                    }
                    if (cutover != null && readTo.isAfter(cutover)) {
                        LocalDate start = readFrom.isBefore(cutover) ? cutover : readFrom;
                        n += erp.read(template, LegalEntity.S4HANA, entity.companyCode(), start, readTo, from, to,
                                spool::add, erpProgress);
                    }
                }
                erpProgress.done();
                return n;
            });
            try (ReconciliationRuns.Spool spool = runs.spool(runId)) {
                Progress billingProgress = progress(runId, "billing");
                BillingDocuments.Counts b = billing.read(legalEntity, zone, readFrom, readTo, from, to, spool::add,
                        billingProgress);
                billingProgress.done();
                counts[0] = b.kept;
                counts[3] = b.unreadable;
            }
            counts[1] = result(ledger);
            try (ReconciliationRuns.Spool spool = runs.spool(runId)) {
                counts[2] = readConfirmations(runId, legalEntity, zone, readFrom, readTo, from, to, spool);
            }
        } catch (RuntimeException e) {
            if (ledger != null) ledger.cancel(true);
            runs.finish(runId, ReconciliationRuns.FAILED, counts[0], counts[1], counts[2], counts[3], 0, 0,
                    "failed: " + e.getMessage());
            Summary failed = summary(runId);
            LOG.error("Reconciliation run #{} of {} failed: {}", runId, legalEntity, e.getMessage());
            finished(failed, "failed");
            throw e;
        } finally {
            ledgerReader.shutdownNow();
        }
        long comparing = System.nanoTime();
        ReconciliationRuns.Outcome outcome = runs.compare(runId);
        LOG.info("Reconciliation run #{}: compared in {} ms: matched {}, differences {}", runId,
                (System.nanoTime() - comparing) / 1_000_000, outcome.matched(), outcome.total());
        if (outcome.total() > 0) {
            try {
                int links = runs.linkDeadLetters(runId);
                if (links > 0) LOG.info("Reconciliation run #{}: {} link(s) from differences to open dead letters", runId, links);
            } catch (RuntimeException e) {
                // the differences stand; only the pointers to dead letters are missing
                LOG.warn("Reconciliation run #{}: differences not linked to dead letters: {}", runId, e.getMessage());
            }
        }
        runs.finish(runId, ReconciliationRuns.COMPLETED, counts[0], counts[1], counts[2], counts[3], outcome.matched(),
                outcome.total(), counts[3] > 0 ? counts[3] + " billing object(s) could not be translated (see the log)" : null);
        Summary summary = summary(runId);
        writeReports(runId);
        LOG.info("Reconciliation run #{} of {} for {} completed: billing {}, ERP ledger {}, confirmations {}, matched {}, "
                        + "differences {} {}", runId, COMPARISON, legalEntity, counts[0], counts[1], counts[2],
                outcome.matched(), outcome.total(), outcome.differences());
        finished(summary, outcome.total() == 0 ? "clean" : "differences");
        return summary;
    }

    /** What the ledger's reader answered, or its failure as it was thrown there. */
    private static long result(Future<Long> read) {
        try {
            return read.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException("ERP ledger not read: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the ERP ledger was read", e);
        }
    }

    /**
     * Our side: the confirmations recorded in the period and its margin (for those without a posting), and those of the
     * ERP documents read, whenever recorded (a day's postings are confirmed when the ledger flow gets to them, which
     * after an outage or a replay may be days later). The number read.
     */
    private long readConfirmations(long runId, String legalEntity, ZoneId zone, LocalDate readFrom, LocalDate readTo,
                                   LocalDate from, LocalDate to, ReconciliationRuns.Spool spool) {
        Progress oursProgress = progress(runId, "confirmations");
        Instant windowFrom = readFrom.atStartOfDay(zone).toInstant();
        Instant windowTo = readTo.atStartOfDay(zone).toInstant();
        long n = confirmations.eachRecorded(legalEntity, windowFrom, windowTo, c -> {
            oursProgress.run();
            spool.add(confirmation(c, zone, from, to));
        });
        String after = null;
        while (true) {
            List<String> documents = runs.erpDocuments(runId, after, CONFIRMATION_LOOKUP);
            if (documents.isEmpty()) break;
            for (ErpConfirmations.Confirmation c : confirmations.findByDocuments(documents)) {
                if (!c.createdAt().isBefore(windowFrom) && c.createdAt().isBefore(windowTo)) continue; // read above
                oursProgress.run();
                spool.add(confirmation(c, zone, from, to));
                n++;
            }
            after = documents.get(documents.size() - 1);
        }
        oursProgress.done();
        return n;
    }

    /** A confirmation as a record of our side, keyed by the ERP document it names; in period when recorded in it. */
    private static ReconciliationRuns.Record confirmation(ErpConfirmations.Confirmation c, ZoneId zone, LocalDate from,
                                                          LocalDate to) {
        String document = c.companyCode() + "/" + c.fiscalYear() + "/" + c.accountingDocument();
        LocalDate recorded = c.createdAt().atZone(zone).toLocalDate();
        return new ReconciliationRuns.Record(ReconciliationRuns.OURS, document, "CONFIRMATION", c.postingKey(), document,
                c.correlationId(), null, null, recorded, !recorded.isBefore(from) && recorded.isBefore(to),
                c.erpTarget() + " confirmation of event " + c.eventId());
    }

    /**
     * The daily job: for each entity, the last day that has closed in its time zone (plus the delay) is reconciled
     * unless a completed run of it exists. A run that fails is logged and tried again at the next check. Returns the
     * runs made.
     */
    public List<Summary> runClosedDays() {
        List<Summary> done = new ArrayList<>();
        if (!billingApi.enabled()) {
            if (!billingOffLogged) {
                LOG.warn("Daily reconciliation skipped: the billing platform's API is not configured "
                        + "(interchange.billing.api-key), and billing is read from it");
                billingOffLogged = true;
            }
            return done;
        }
        for (String id : dailyEntities) {
            LegalEntity entity = entities.find(id).orElse(null);
            if (entity == null) {
                LOG.warn("Reconciliation: {} names legal entity {}, which mappings/legal-entities.csv does not have",
                        Settings.RECONCILIATION_ENTITIES.key(), id);
                continue;
            }
            LocalDate day = ZonedDateTime.now(clock.withZone(entity.timeZone())).minus(delay).toLocalDate().minusDays(1);
            if (runs.completed(COMPARISON, id, day, day.plusDays(1))) continue;
            try {
                done.add(run(id, day, day.plusDays(1)));
            } catch (RuntimeException e) {
                LOG.warn("Reconciliation of {} for {} failed, tried again at the next check: {}", id, day, e.getMessage());
            }
        }
        return done;
    }

    /** The run as stored, with its differences per kind. */
    public Summary summary(long runId) {
        ReconciliationRuns.Run run = runs.find(runId).orElseThrow(() -> new IllegalArgumentException("no reconciliation run #" + runId));
        return new Summary(run, runs.countsByKind(runId));
    }

    /** The run's report as a self-contained HTML page. */
    public void html(long runId, Writer out) throws IOException {
        new ReconciliationReport(runs).html(summary(runId), out);
    }

    /** The run's differences as CSV (RFC 4180). */
    public void csv(long runId, Writer out) throws IOException {
        new ReconciliationReport(runs).csv(summary(runId), out);
    }

    /** The report files of a run: HTML and CSV, under {@link #reportDir}. */
    public Path[] reportFiles(long runId) {
        return new Path[]{reportDir.resolve("reconciliation-" + runId + ".html"),
                reportDir.resolve("reconciliation-" + runId + ".csv")};
    }

    /** Writes the run's report files again (after an acknowledgement), as a finished run first wrote them. */
    public void rewriteReports(long runId) {
        writeReports(runId);
    }

    /**
     * Each file is written beside its place and moved there whole, so that a reader never opens half a page and two
     * writers of one run's report (two acknowledgements at once) leave one whole report, not an interleaving.
     */
    private void writeReports(long runId) {
        Path[] files = reportFiles(runId);
        try {
            Files.createDirectories(reportDir);
            replace(files[0], w -> html(runId, w));
            replace(files[1], w -> csv(runId, w));
        } catch (IOException e) {
            // the run and its differences are in the store; the files can be rendered again over JMX
            LOG.warn("Reconciliation run #{}: report not written to {}: {}", runId, reportDir, e.getMessage());
        }
    }

    private interface Render {
        void to(Writer w) throws IOException;
    }

    private void replace(Path file, Render render) throws IOException {
        Path part = Files.createTempFile(reportDir, file.getFileName().toString(), ".part");
        try {
            try (Writer w = Files.newBufferedWriter(part, StandardCharsets.UTF_8)) {
                render.to(w);
            }
            Files.move(part, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /** The sides as the progress log and {@link #RECORDS_READ_METRIC} name them. */
    private static final List<String> SIDES = List.of("billing", "erp", "confirmations");

    /** Counts one side's records as they are read: a log line every {@code progressEvery}, the gauge as it goes. */
    private final class Progress implements Runnable {
        private final long runId;
        private final String side;
        private final AtomicLong gauge;
        private final long started = System.nanoTime();
        private long n;

        Progress(long runId, String side) {
            this.runId = runId;
            this.side = side;
            this.gauge = readGauge(side);
        }

        @Override
        public void run() {
            gauge.set(++n);
            if (n % progressEvery == 0) {
                LOG.info("Reconciliation run #{}: {} records read from {} ({} s)", runId, n, side, seconds());
            }
        }

        void done() {
            LOG.info("Reconciliation run #{}: {} read, {} records in {} s", runId, side, n, seconds());
        }

        private long seconds() {
            return (System.nanoTime() - started) / 1_000_000_000L;
        }
    }

    private Progress progress(long runId, String side) {
        return new Progress(runId, side);
    }

    /** The progress gauge of a side, registered with the metrics once they are bound (a plain counter before). */
    private AtomicLong readGauge(String side) {
        return gauges.computeIfAbsent("read|" + side, k -> {
            AtomicLong value = new AtomicLong();
            MeterRegistry registry = meters;
            if (registry != null) {
                Gauge.builder(RECORDS_READ_METRIC, value, AtomicLong::doubleValue)
                        .description("Records the running (or last) reconciliation run has read so far from a side")
                        .tags("comparison", COMPARISON, "side", side).register(registry);
            }
            return value;
        });
    }

    /** Metrics and the event of a finished run. */
    private void finished(Summary s, String outcome) {
        MeterRegistry registry = meters;
        if (registry != null) {
            registry.counter(RUNS_METRIC, "comparison", COMPARISON, "outcome", outcome).increment();
            if (!"failed".equals(outcome)) {
                for (Kind kind : Kind.values()) {
                    gauge(registry, s.run().legalEntity(), kind).set(s.differences().getOrDefault(kind, 0L));
                }
            }
        }
        publish(s);
    }

    private AtomicLong gauge(MeterRegistry registry, String entity, Kind kind) {
        return gauges.computeIfAbsent(entity + "|" + kind, k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(DIFFERENCES_METRIC, value, AtomicLong::doubleValue)
                    .description("Differences found by the last reconciliation run of the entity, per kind")
                    .tags("comparison", COMPARISON, "entity", entity, "kind", kind.name().toLowerCase(java.util.Locale.ROOT))
                    .register(registry);
            return value;
        });
    }

    private void publish(Summary s) {
        String uri = publishUri;
        if (uri == null || template == null) return;
        ReconciliationRuns.Run r = s.run();
        Map<String, Long> byKind = new LinkedHashMap<>();
        s.differences().forEach((k, v) -> byKind.put(k.name(), v));
        ReconciliationCompleted event = new ReconciliationCompleted(r.id(), r.comparison(), r.legalEntity(),
                r.from().toString(), r.to().toString(), r.status(), String.valueOf(r.startedAt()),
                String.valueOf(r.finishedAt()), r.billingRecords(), r.erpRecords(), r.confirmationRecords(),
                r.unreadableRecords(), r.matched(), r.differences(), byKind, r.detail());
        CanonicalType type = CanonicalType.RECONCILIATION_COMPLETED;
        Envelope envelope = new Envelope("reconciliation-" + r.id(), SOURCE, type.ceType(), r.legalEntity(),
                String.valueOf(r.finishedAt()), type.dataSchema(), "reconciliation-" + r.id(), r.legalEntity());
        try {
            byte[] body = JSON.writeValueAsBytes(event);
            Exception failure = template.send(uri, exchange -> {
                CloudEventHeaders.write(envelope, exchange.getMessage());
                exchange.getMessage().setHeader(org.apache.camel.component.kafka.KafkaConstants.KEY, r.legalEntity());
                exchange.getMessage().setBody(body);
            }).getException();
            if (failure != null) throw new IllegalStateException(failure.getMessage(), failure);
        } catch (JsonProcessingException | RuntimeException e) {
            // the run stands in the store; only its announcement is missing
            LOG.warn("Reconciliation run #{}: event not published: {}", r.id(), e.getMessage());
        }
    }

    /** The kinds as the report and metrics list them, with their counts (zero where none). */
    static Map<Kind, Long> allKinds(Map<Kind, Long> counts) {
        Map<Kind, Long> all = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) all.put(k, counts.getOrDefault(k, 0L));
        return all;
    }
}
