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
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reconciliation runs, per legal entity and period, of each {@link Comparison} registered: billing against the ERP
 * ledger and our confirmations ({@link BillingErpComparison}), and whatever other systems a comparison reads. Each side
 * is read from the system itself and spooled into the store as it is read, the sides are compared there
 * ({@link ReconciliationRuns#compareByKey}), and every difference is kept with the run, none corrected. A finished run
 * is written as an HTML page and a CSV file, published as a canonical {@code reconciliation.completed} event and
 * counted in metrics; the daily job reconciles each entity's last closed day in every comparison that can run.
 */
public final class Reconciliation implements AutoCloseable {

    /** The comparison {@link #run(String, LocalDate, LocalDate)} and {@link #begin(String, LocalDate, LocalDate)} mean. */
    public static final String COMPARISON = BillingErpComparison.NAME;
    /** Gauge of the last run's differences, tags comparison, entity, kind. */
    public static final String DIFFERENCES_METRIC = "interchange.reconciliation.differences";
    /**
     * Gauge of the records the running (or last) run of a comparison has read so far, tags comparison, side (billing,
     * erp, confirmations, ...): progress of a long run, set back to 0 when a run starts.
     */
    public static final String RECORDS_READ_METRIC = "interchange.reconciliation.records.read";
    /** Counter of runs, tags comparison, outcome (clean, differences, failed). */
    public static final String RUNS_METRIC = "interchange.reconciliation.runs";
    /** The API version objects are read in when none is configured: the newest the runtime knows. */
    static final String NEWEST_API_VERSION = BillingErpComparison.NEWEST_API_VERSION;
    public static final String SOURCE = "/interchange/reconciliation";

    private static final Logger LOG = LoggerFactory.getLogger(Reconciliation.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a run found, as the JMX operation and the log say it; {@code sides} the labels of its comparison's sides. */
    public record Summary(ReconciliationRuns.Run run, Map<Kind, Long> differences, List<String> sides) {
        public long runId() {
            return run.id();
        }

        /** The records read per side, as {@code billing 4, ERP ledger 4, confirmations 4}. */
        public String read() {
            long[] counts = {run.billingRecords(), run.erpRecords(), run.confirmationRecords()};
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < sides.size() && i < counts.length; i++) {
                if (i > 0) sb.append(", ");
                sb.append(sides.get(i)).append(' ').append(counts[i]);
            }
            return sb.toString();
        }

        /** One line per fact: the run, its counts, the differences per kind. */
        public String text() {
            StringBuilder sb = new StringBuilder();
            sb.append("reconciliation run #").append(run.id()).append(' ').append(run.comparison()).append(' ')
                    .append(run.legalEntity()).append(" from ").append(run.from()).append(" to ").append(run.to())
                    .append(" (exclusive): ").append(run.status()).append('\n')
                    .append("read: ").append(read());
            if (run.unreadableRecords() > 0) sb.append(", records not compared ").append(run.unreadableRecords());
            sb.append('\n').append("matched ").append(run.matched()).append(", differences ").append(run.differences());
            differences.forEach((kind, n) -> sb.append("\n  ").append(kind).append(' ').append(n));
            if (run.detail() != null) sb.append('\n').append(run.detail());
            return sb.toString();
        }
    }

    private final ReconciliationRuns runs;
    private final LegalEntityTable entities;
    private final Clock clock;
    private final Duration margin;
    private final Duration delay;
    private final Duration retention;
    private final long progressEvery;
    private final List<String> dailyEntities;
    private final Path reportDir;
    private final Map<String, Comparison> comparisons = new LinkedHashMap<>();
    private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();
    private final Set<String> unavailableLogged = ConcurrentHashMap.newKeySet();
    private volatile ProducerTemplate template;
    private volatile MeterRegistry meters;
    private volatile String publishUri;
    private volatile String instance;
    private volatile java.util.concurrent.ScheduledFuture<?> gaugeRefresh;

    /** How often a run in progress says so in the store ({@link ReconciliationRuns#beat}). */
    static final Duration HEARTBEAT = Duration.ofSeconds(30);
    /**
     * A run RUNNING without a heartbeat this long was cut off (its instance stopped or died): marked FAILED when a run
     * begins or the runtime starts. Twenty heartbeats: a long pause of the store or the JVM is not a death.
     */
    static final Duration STALE_AFTER = HEARTBEAT.multipliedBy(20);
    /** Beats for the runs in progress in this JVM: one daemon thread, idle between beats. */
    private static final java.util.concurrent.ScheduledExecutorService HEARTBEATS =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "reconciliation-heartbeat");
                t.setDaemon(true);
                return t;
            });

    /** A reconciliation with no comparison yet: {@link #register} each. */
    public Reconciliation(Config config, ReconciliationRuns runs, LegalEntityTable entities, Clock clock) {
        this.runs = runs;
        this.entities = entities;
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

    /** A reconciliation of billing against the ERP ledger and our confirmations ({@link BillingErpComparison}). */
    public Reconciliation(Config config, ReconciliationRuns runs, ErpConfirmations confirmations,
                          LegalEntityTable entities, StripeApi api, BillingEventTranslator translator, ErpAccess access,
                          Clock clock) {
        this(config, runs, entities, clock);
        register(new BillingErpComparison(config, runs, confirmations, api, translator, access));
    }

    /** Adds a comparison runs can carry out, by its name; before {@link #start}. */
    public Reconciliation register(Comparison comparison) {
        if (comparison.sides().isEmpty() || comparison.sides().size() > 3) {
            throw new IllegalArgumentException("comparison " + comparison.name() + " has " + comparison.sides().size()
                    + " sides; a run counts one to three");
        }
        if (comparisons.putIfAbsent(comparison.name(), comparison) != null) {
            throw new IllegalArgumentException("comparison " + comparison.name() + " registered twice");
        }
        return this;
    }

    /** The comparisons registered, by name, in the order registered. */
    public Map<String, Comparison> comparisons() {
        return java.util.Collections.unmodifiableMap(comparisons);
    }

    /**
     * Binds the run to the started Camel context (the ERP reads go through its routes), its metrics to {@code meters}
     * (or none), and publishes each finished run's event through {@code publishUri} (or nowhere, when null).
     */
    public void start(CamelContext context, MeterRegistry meters, String publishUri) {
        start(context, meters, publishUri, null);
    }

    /**
     * As {@link #start(CamelContext, MeterRegistry, String)}, on the named instance (kept with each run it carries
     * out); marks FAILED the runs an instance was cut off from (no heartbeat for {@link #STALE_AFTER}).
     */
    public void start(CamelContext context, MeterRegistry meters, String publishUri, String instance) {
        this.template = context.createProducerTemplate();
        this.meters = meters;
        this.publishUri = publishUri;
        this.instance = instance;
        abandonStale();
        if (meters != null) {
            // every instance shows the newest run's differences, whichever instance made it (the daily job runs on one)
            gaugeRefresh = HEARTBEATS.scheduleWithFixedDelay(this::refreshDifferences, 0, HEARTBEAT.toMillis(),
                    java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    /** Sets the differences gauges from the newest completed run of each comparison and entity in the store. */
    void refreshDifferences() {
        MeterRegistry registry = meters;
        if (registry == null) return;
        try {
            Map<String, Map<Kind, Long>> latest = new LinkedHashMap<>();
            for (ReconciliationRuns.LatestCount c : runs.latestDifferenceCounts()) {
                Map<Kind, Long> counts = latest.computeIfAbsent(c.comparison() + "|" + c.legalEntity(),
                        k -> new EnumMap<>(Kind.class));
                if (c.kind() != null) counts.put(c.kind(), c.count());
            }
            latest.forEach((key, counts) -> {
                String[] parts = key.split("\\|", 2);
                Comparison comparison = comparisons.get(parts[0]);
                if (comparison == null) return; // a comparison this instance does not make
                for (Kind kind : comparison.kinds()) {
                    gauge(registry, parts[0], parts[1], kind).set(counts.getOrDefault(kind, 0L));
                }
            });
        } catch (RuntimeException e) {
            // the gauges keep their last values; the store's health check says why it cannot be read
            LOG.debug("Reconciliation differences not read for the metrics: {}", e.getMessage());
        }
    }

    /** Stops refreshing the metrics. */
    @Override
    public void close() {
        java.util.concurrent.ScheduledFuture<?> refresh = gaugeRefresh;
        if (refresh != null) refresh.cancel(false);
    }

    /** Marks FAILED the runs whose instance stopped carrying them out, saying so in the log. */
    private void abandonStale() {
        try {
            List<Long> cut = runs.abandonStale(clock.instant().minus(STALE_AFTER));
            if (!cut.isEmpty()) {
                LOG.warn("Reconciliation run(s) {} marked FAILED: RUNNING without a heartbeat for {}, their instance "
                        + "stopped or died while carrying them out; run them again", cut, STALE_AFTER);
            }
        } catch (RuntimeException e) {
            // the runs stay RUNNING until the next look; nothing else depends on them
            LOG.warn("Reconciliation: runs cut off by a stopped instance not looked for: {}", e.getMessage());
        }
    }

    /** Where run reports are written. */
    public Path reportDir() {
        return reportDir;
    }

    /** Reconciles billing against the ERP ledger and our confirmations: {@link #run(String, String, LocalDate, LocalDate)}. */
    public Summary run(String legalEntity, LocalDate from, LocalDate to) {
        return run(COMPARISON, legalEntity, from, to);
    }

    /**
     * Reconciles one legal entity over {@code [from, to)} in a comparison: reads and spools each side, compares, stores
     * the differences, writes the report, publishes the event and sets the metrics. A side that cannot be read fails
     * the run (recorded as FAILED with the reason, counted, published) and is thrown.
     */
    public Summary run(String comparison, String legalEntity, LocalDate from, LocalDate to) {
        return carryOut(begin(comparison, legalEntity, from, to));
    }

    /** A run recorded as RUNNING and not carried out yet ({@link #carryOut}). */
    public record Begun(long runId, String comparison, LegalEntity entity, LocalDate from, LocalDate to) {
    }

    /** Begins a run of billing against the ERP ledger: {@link #begin(String, String, LocalDate, LocalDate)}. */
    public Begun begin(String legalEntity, LocalDate from, LocalDate to) {
        return begin(COMPARISON, legalEntity, from, to);
    }

    /**
     * Checks what a run is asked for and records it as RUNNING, so that its id is known before it is carried out (an
     * operator's run in the background answers with it at once). An unknown comparison or one that cannot run now, a
     * wrong entity or period is an {@link IllegalArgumentException} naming it, and nothing is recorded.
     */
    public Begun begin(String comparison, String legalEntity, LocalDate from, LocalDate to) {
        Comparison c = comparison(comparison);
        String unavailable = c.unavailable();
        if (unavailable != null) throw new IllegalArgumentException("comparison " + c.name() + " cannot run: " + unavailable);
        LegalEntity entity = entities.find(legalEntity).orElseThrow(() -> new IllegalArgumentException(
                "unknown legal entity '" + legalEntity + "': not in mappings/legal-entities.csv"));
        if (!from.isBefore(to)) throw new IllegalArgumentException("the period's start " + from + " is not before its end " + to);
        if (template == null) throw new IllegalStateException("reconciliation not started");
        int deleted = runs.deleteBefore(clock.instant().minus(retention));
        if (deleted > 0) LOG.info("Reconciliation: {} run(s) older than {} deleted", deleted, retention);
        abandonStale();
        long runId = runs.start(c.name(), legalEntity, from, to, instance);
        LOG.info("Reconciliation run #{} of {} for {} from {} to {} (exclusive) started", runId, c.name(), legalEntity,
                from, to);
        return new Begun(runId, c.name(), entity, from, to);
    }

    /** A registered comparison by name, or an {@link IllegalArgumentException} listing those there are. */
    public Comparison comparison(String name) {
        Comparison c = comparisons.get(name == null ? "" : name.strip());
        if (c == null) {
            throw new IllegalArgumentException("unknown comparison '" + name + "'; this instance runs: "
                    + String.join(", ", comparisons.keySet()));
        }
        return c;
    }

    /** Carries out a run {@link #begin begun}: everything {@link #run} does after recording it. */
    public Summary carryOut(Begun begun) {
        long runId = begun.runId();
        Comparison comparison = comparison(begun.comparison());
        String legalEntity = begun.entity().id();
        resetReadGauges(comparison.name());
        java.util.concurrent.ScheduledFuture<?> beating = HEARTBEATS.scheduleAtFixedRate(() -> {
            try {
                runs.beat(runId);
            } catch (RuntimeException e) {
                // a beat missed is made up by the next; twenty missed in a row and the run counts as cut off
                LOG.debug("Reconciliation run #{}: heartbeat not recorded: {}", runId, e.getMessage());
            }
        }, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        try {
            return carryOut(begun, comparison, legalEntity);
        } finally {
            beating.cancel(false);
        }
    }

    private Summary carryOut(Begun begun, Comparison comparison, String legalEntity) {
        long runId = begun.runId();
        Comparison.Counts read;
        try {
            read = comparison.read(reading(begun));
        } catch (RuntimeException e) {
            runs.finish(runId, ReconciliationRuns.FAILED, 0, 0, 0, 0, 0, 0, "failed: " + e.getMessage());
            Summary failed = summary(runId);
            LOG.error("Reconciliation run #{} of {} for {} failed: {}", runId, comparison.name(), legalEntity,
                    e.getMessage());
            finished(failed, "failed");
            throw e;
        }
        long[] counts = Arrays.copyOf(read.bySide(), 3);
        long comparing = System.nanoTime();
        ReconciliationRuns.Outcome outcome = comparison.compare(runId);
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
        runs.finish(runId, ReconciliationRuns.COMPLETED, counts[0], counts[1], counts[2], read.unreadable(),
                outcome.matched(), outcome.total(), read.note());
        Summary summary = summary(runId);
        writeReports(runId);
        LOG.info("Reconciliation run #{} of {} for {} completed: {}, matched {}, differences {} {}", runId,
                comparison.name(), legalEntity, summary.read(), outcome.matched(), outcome.total(), outcome.differences());
        finished(summary, outcome.total() == 0 ? "clean" : "differences");
        return summary;
    }

    /** What a comparison's readers are given for a run. */
    private Comparison.Reading reading(Begun begun) {
        long days = Math.max(0, margin.toDays());
        return new RunReading(begun.runId(), begun.entity(), begun.from(), begun.to(), begun.from().minusDays(days),
                begun.to().plusDays(days), template, runs, side -> new Progress(begun.runId(), begun.comparison(), side));
    }

    /** A run's reading: its accessors are the interface's; spools and progress made by the run. */
    private record RunReading(long runId, LegalEntity entity, LocalDate from, LocalDate to, LocalDate readFrom,
                              LocalDate readTo, ProducerTemplate template, ReconciliationRuns runs,
                              java.util.function.Function<String, Comparison.Progress> progresses)
            implements Comparison.Reading {
        @Override
        public ReconciliationRuns.Spool spool() {
            return runs.spool(runId);
        }

        @Override
        public Comparison.Progress progress(String side) {
            return progresses.apply(side);
        }
    }

    /**
     * The daily job: for each comparison that can run and each entity, the last day that has closed in the entity's
     * time zone (plus the delay) is reconciled unless a completed run of it exists. A comparison that cannot run (a
     * system not configured) is skipped, said once in the log. A run that fails is logged and tried again at the next
     * check. Returns the runs made.
     */
    public List<Summary> runClosedDays() {
        List<Summary> done = new ArrayList<>();
        for (Comparison comparison : comparisons.values()) {
            String unavailable = comparison.unavailable();
            if (unavailable != null) {
                if (unavailableLogged.add(comparison.name())) {
                    LOG.warn("Daily reconciliation of {} skipped: {}", comparison.name(), unavailable);
                }
                continue;
            }
            unavailableLogged.remove(comparison.name());
            for (String id : dailyEntities) {
                LegalEntity entity = entities.find(id).orElse(null);
                if (entity == null) {
                    LOG.warn("Reconciliation: {} names legal entity {}, which mappings/legal-entities.csv does not have",
                            Settings.RECONCILIATION_ENTITIES.key(), id);
                    continue;
                }
                LocalDate day = ZonedDateTime.now(clock.withZone(entity.timeZone())).minus(delay).toLocalDate().minusDays(1);
                if (runs.completed(comparison.name(), id, day, day.plusDays(1))) continue;
                try {
                    done.add(run(comparison.name(), id, day, day.plusDays(1)));
                } catch (RuntimeException e) {
                    LOG.warn("Reconciliation {} of {} for {} failed, tried again at the next check: {}",
                            comparison.name(), id, day, e.getMessage());
                }
            }
        }
        return done;
    }

    /** The run as stored, with its differences per kind. */
    public Summary summary(long runId) {
        ReconciliationRuns.Run run = runs.find(runId).orElseThrow(() -> new IllegalArgumentException("no reconciliation run #" + runId));
        Comparison c = comparisons.get(run.comparison());
        List<String> sides = c == null ? List.of("first side", "second side", "third side")
                : c.sides().stream().map(Comparison.Side::label).toList();
        return new Summary(run, runs.countsByKind(runId), sides);
    }

    /** The comparison a stored run was made by, if this instance still runs it. */
    Comparison comparisonOf(ReconciliationRuns.Run run) {
        return comparisons.get(run.comparison());
    }

    /** The run's report as a self-contained HTML page. */
    public void html(long runId, Writer out) throws IOException {
        Summary s = summary(runId);
        new ReconciliationReport(runs, comparisonOf(s.run())).html(s, out);
    }

    /** The run's differences as CSV (RFC 4180). */
    public void csv(long runId, Writer out) throws IOException {
        Summary s = summary(runId);
        new ReconciliationReport(runs, comparisonOf(s.run())).csv(s, out);
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

    /** Counts one side's records as they are read: a log line every {@code progressEvery}, the gauge as it goes. */
    private final class Progress implements Comparison.Progress {
        private final long runId;
        private final String side;
        private final AtomicLong gauge;
        private final long started = System.nanoTime();
        private long n;

        Progress(long runId, String comparison, String side) {
            this.runId = runId;
            this.side = side;
            this.gauge = readGauge(comparison, side);
            gauge.set(0);
        }

        @Override
        public void run() {
            gauge.set(++n);
            if (n % progressEvery == 0) {
                LOG.info("Reconciliation run #{}: {} records read from {} ({} s)", runId, n, side, seconds());
            }
        }

        @Override
        public void done() {
            LOG.info("Reconciliation run #{}: {} read, {} records in {} s", runId, side, n, seconds());
        }

        private long seconds() {
            return (System.nanoTime() - started) / 1_000_000_000L;
        }
    }

    /** Sets the progress gauges of a comparison's sides back to 0 as a run of it starts. */
    private void resetReadGauges(String comparison) {
        String prefix = "read|" + comparison + "|";
        gauges.forEach((k, v) -> {
            if (k.startsWith(prefix)) v.set(0);
        });
    }

    /** The progress gauge of a side, registered with the metrics once they are bound (a plain counter before). */
    private AtomicLong readGauge(String comparison, String side) {
        return gauges.computeIfAbsent("read|" + comparison + "|" + side, k -> {
            AtomicLong value = new AtomicLong();
            MeterRegistry registry = meters;
            if (registry != null) {
                Gauge.builder(RECORDS_READ_METRIC, value, AtomicLong::doubleValue)
                        .description("Records the running (or last) reconciliation run has read so far from a side")
                        .tags("comparison", comparison, "side", side).register(registry);
            }
            return value;
        });
    }

    /** Metrics and the event of a finished run. */
    private void finished(Summary s, String outcome) {
        MeterRegistry registry = meters;
        if (registry != null) {
            String comparison = s.run().comparison();
            registry.counter(RUNS_METRIC, "comparison", comparison, "outcome", outcome).increment();
            Comparison c = comparisons.get(comparison);
            if (!"failed".equals(outcome) && c != null) {
                for (Kind kind : c.kinds()) {
                    gauge(registry, comparison, s.run().legalEntity(), kind).set(s.differences().getOrDefault(kind, 0L));
                }
            }
        }
        publish(s);
    }

    private AtomicLong gauge(MeterRegistry registry, String comparison, String entity, Kind kind) {
        return gauges.computeIfAbsent("differences|" + comparison + "|" + entity + "|" + kind, k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(DIFFERENCES_METRIC, value, AtomicLong::doubleValue)
                    .description("Differences found by the newest completed reconciliation run of the comparison and "
                            + "entity, per kind (the store's, the same on every instance)")
                    .tags("comparison", comparison, "entity", entity, "kind", kind.name().toLowerCase(java.util.Locale.ROOT))
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
                r.unreadableRecords(), r.matched(), r.differences(), byKind, r.detail(), recordsBySide(s));
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

    /** The records read per side, by the side's label. */
    private static Map<String, Long> recordsBySide(Summary s) {
        long[] counts = {s.run().billingRecords(), s.run().erpRecords(), s.run().confirmationRecords()};
        Map<String, Long> bySide = new LinkedHashMap<>();
        for (int i = 0; i < s.sides().size() && i < counts.length; i++) bySide.put(s.sides().get(i), counts[i]);
        return bySide;
    }

    /**
     * The kinds as the report lists them, with their counts (zero where none): the comparison's kinds, and any other
     * kind the run holds; every kind when the comparison is not known here.
     */
    static Map<Kind, Long> allKinds(Comparison comparison, Map<Kind, Long> counts) {
        Map<Kind, Long> all = new EnumMap<>(Kind.class);
        for (Kind k : comparison == null ? EnumSet.allOf(Kind.class) : comparison.kinds()) {
            all.put(k, counts.getOrDefault(k, 0L));
        }
        counts.forEach((k, v) -> all.putIfAbsent(k, v));
        return all;
    }
}
