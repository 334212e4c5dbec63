package io.interchange.management;

import io.interchange.reconciliation.Reconciliation;
import io.interchange.store.AuditTrail;
import io.interchange.store.ReconciliationRuns;
import org.apache.camel.api.management.ManagedOperation;
import org.apache.camel.api.management.ManagedResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reconciliation on demand, registered as {@code io.interchange:type=Reconciliation}: run a legal entity over a period
 * in one of the instance's comparisons ({@code run}/{@code start} mean billing against the ERP ledger), read a run's
 * summary, differences and report, and acknowledge a difference with a reason (the privileged JMX user
 * only, {@link OperatorRole#PRIVILEGED}). Refusals (an unknown entity, a date that is not one, an unknown run or
 * difference, a blank reason, a second acknowledgement) are answered starting with {@code refused:}, like the
 * dead-letter console's, and change nothing. Every run asked for and every acknowledgement is written to the audit
 * trail with the JMX user.
 */
@ManagedResource(description = "Reconciliation: run a comparison (billing against the ERP ledger and our confirmations, "
        + "and the others comparisons() lists) for a legal entity and period, and read the runs' summaries, differences "
        + "and reports")
public class ReconciliationOperations implements AutoCloseable {

    public static final String OBJECT_NAME = "io.interchange:type=Reconciliation";
    private static final Logger LOG = LoggerFactory.getLogger(ReconciliationOperations.class);
    private static final int MAX_LIST = 1000;

    private final Reconciliation reconciliation;
    private final ReconciliationRuns runs;
    private final AuditTrail audit;
    /** Runs started with {@link #start}: one at a time, on a thread that does not keep the JVM alive. */
    private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "reconciliation-operator");
        t.setDaemon(true);
        return t;
    });

    public ReconciliationOperations(Reconciliation reconciliation, ReconciliationRuns runs, AuditTrail audit) {
        this.reconciliation = reconciliation;
        this.runs = runs;
        this.audit = audit;
    }

    @ManagedOperation(description = "Reconciles a legal entity (e.g. DE01) from a date up to, not including, another "
            + "(yyyy-MM-dd, the entity's calendar): reads billing, the ERP ledger and our confirmations, stores the "
            + "differences and writes the report; answers the run id and its summary once the run is done")
    public String run(String legalEntity, String from, String to) {
        return runComparison(Reconciliation.COMPARISON, legalEntity, from, to);
    }

    @ManagedOperation(description = "The comparisons this instance can run (for runComparison and startComparison), one "
            + "line each: its name, what it compares, and why it cannot run now if it cannot")
    public String comparisons() {
        return reconciliation.comparisons().values().stream().map(c -> c.name() + ": " + c.description()
                + (c.unavailable() == null ? "" : " (cannot run now: " + c.unavailable() + ")"))
                .collect(Collectors.joining("\n"));
    }

    @ManagedOperation(description = "Reconciles a legal entity in one comparison (see comparisons(), e.g. billing-erp) "
            + "from a date up to, not including, another (yyyy-MM-dd, the entity's calendar): reads each side from its "
            + "system, stores the differences and writes the report; answers the run id and its summary once done")
    public String runComparison(String comparison, String legalEntity, String from, String to) {
        Period period = Period.of(comparison, legalEntity, from, to);
        if (period.refusal() != null) return period.refusal();
        String actor = DeadLetterOperations.actor();
        try {
            Reconciliation.Summary s = reconciliation.run(period.comparison(), period.entity(), period.from(), period.to());
            audited(actor, "reconciliation:" + s.runId(), period, s.run().status() + ", differences "
                    + s.run().differences());
            LOG.info("Operator {} ran reconciliation #{} of {}", actor, s.runId(), period);
            Path[] files = reconciliation.reportFiles(s.runId());
            return "run id " + s.runId() + "\n" + s.text() + "\nreport: " + files[0] + "\ncsv: " + files[1];
        } catch (IllegalArgumentException e) {
            return "refused: " + e.getMessage();
        } catch (RuntimeException e) {
            audited(actor, "reconciliation:" + period.entity(), period, "failed: " + e.getMessage());
            return "failed: " + e.getMessage();
        }
    }

    @ManagedOperation(description = "Starts the same run as run(entity, from, to) in the background and answers at once "
            + "with its run id (a long period takes minutes, longer than a JMX client waits); follow it with "
            + "report(runId) or runs(limit): RUNNING until it completes or fails. One background run at a time; "
            + "the others wait their turn")
    public String start(String legalEntity, String from, String to) {
        return startComparison(Reconciliation.COMPARISON, legalEntity, from, to);
    }

    @ManagedOperation(description = "Starts the same run as runComparison(comparison, entity, from, to) in the background "
            + "and answers at once with its run id; follow it with report(runId) or runs(limit)")
    public String startComparison(String comparison, String legalEntity, String from, String to) {
        Period period = Period.of(comparison, legalEntity, from, to);
        if (period.refusal() != null) return period.refusal();
        String actor = DeadLetterOperations.actor();
        Reconciliation.Begun begun;
        try {
            begun = reconciliation.begin(period.comparison(), period.entity(), period.from(), period.to());
        } catch (IllegalArgumentException e) {
            return "refused: " + e.getMessage();
        }
        audit.record(actor, "reconciliation-start", "reconciliation:" + begun.runId(), period.toString());
        LOG.info("Operator {} started reconciliation #{} of {} in the background", actor, begun.runId(), period);
        background.execute(() -> {
            try {
                Reconciliation.Summary s = reconciliation.carryOut(begun);
                audited(actor, "reconciliation:" + s.runId(), period, s.run().status() + ", differences "
                        + s.run().differences());
            } catch (RuntimeException e) {
                // recorded as FAILED with its reason by the run itself; the audit says who asked for it
                audited(actor, "reconciliation:" + begun.runId(), period, "failed: " + e.getMessage());
            }
        });
        return "started run id " + begun.runId() + ": RUNNING; follow it with report(" + begun.runId()
                + ") or runs(5)";
    }

    /**
     * Stops the background runs with the runtime: a run under way is interrupted, fails and is recorded FAILED with the
     * reason (rather than cut off without a word when the JVM exits); those waiting their turn are not begun.
     */
    @Override
    public void close() {
        List<Runnable> waiting = background.shutdownNow();
        if (!waiting.isEmpty()) LOG.warn("{} background reconciliation run(s) waiting their turn not carried out: the "
                + "runtime stops; they stay RUNNING until marked cut off", waiting.size());
    }

    /** A run's outcome in the audit trail, with who asked for it. */
    private void audited(String actor, String target, Period period, String outcome) {
        audit.record(actor, "reconciliation-run", target, period + ": " + outcome);
    }

    /** What an operator asked to reconcile, or why it is refused (dates not yyyy-MM-dd). */
    private record Period(String comparison, String entity, LocalDate from, LocalDate to, String refusal) {
        static Period of(String comparison, String legalEntity, String from, String to) {
            String c = comparison == null ? "" : comparison.strip();
            String entity = legalEntity == null ? "" : legalEntity.strip();
            try {
                return new Period(c, entity, LocalDate.parse(from.strip()), LocalDate.parse(to.strip()), null);
            } catch (DateTimeParseException | NullPointerException e) {
                return new Period(c, entity, null, null, "refused: from and to must be dates in yyyy-MM-dd format, not '"
                        + from + "' and '" + to + "'");
            }
        }

        @Override
        public String toString() {
            // the first comparison's audit lines keep the shape they had before there were others
            return (Reconciliation.COMPARISON.equals(comparison) ? "" : comparison + " ") + entity + " " + from + " to " + to;
        }
    }

    @ManagedOperation(description = "The summary of a run: entity, period, status, records read per side, matched, "
            + "differences per kind, and where its report files are")
    public String report(long runId) {
        if (runs.find(runId).isEmpty()) return "refused: no reconciliation run #" + runId;
        Path[] files = reconciliation.reportFiles(runId);
        return reconciliation.summary(runId).text() + "\nreport: " + files[0] + "\ncsv: " + files[1];
    }

    @ManagedOperation(description = "Differences of a run, one line each, of one kind (e.g. MISSING_IN_ERP; empty or '*' "
            + "for all), at most limit; after: 0 for the first page, else the last difference id of the page before")
    public String differences(long runId, String kind, int limit, long after) {
        if (runs.find(runId).isEmpty()) return "refused: no reconciliation run #" + runId;
        String k = kind == null || kind.isBlank() || kind.strip().equals("*") ? null : kind.strip().toUpperCase(Locale.ROOT);
        if (k != null) {
            try {
                ReconciliationRuns.Kind.valueOf(k);
            } catch (IllegalArgumentException e) {
                return "refused: unknown kind '" + kind + "'; kinds: " + java.util.Arrays.stream(
                        ReconciliationRuns.Kind.values()).map(Enum::name).collect(Collectors.joining(", "));
            }
        }
        int pageSize = Math.max(1, Math.min(limit, MAX_LIST));
        List<ReconciliationRuns.Difference> page = runs.differences(runId, k, Math.max(0, after), pageSize);
        if (page.isEmpty()) return "no differences" + (k == null ? "" : " of kind " + k) + " in run #" + runId;
        // the page's dead letters in one query
        Map<Long, List<Long>> deadLetters = runs.deadLetters(runId, Math.max(0, after), page.get(page.size() - 1).id());
        String lines = page.stream().map(d -> "#" + d.id() + " " + d.kind() + (d.side() == null ? "" : " " + d.side())
                + " " + d.key() + (d.erpDocument() == null ? "" : " erp " + d.erpDocument()) + ": " + d.detail()
                + "; records: " + runs.records(runId, d).stream().map(r -> r.side() + " " + r.recordId()
                + (r.correlationId() == null ? "" : " (" + r.correlationId() + ")")).collect(Collectors.joining(", "))
                + (deadLetters.containsKey(d.id()) ? "; open dead letters: " + deadLetters.get(d.id()).stream()
                        .map(id -> "#" + id).collect(Collectors.joining(" ")) : "")
                + (d.acknowledgement() == null ? "" : "; acknowledged by " + d.acknowledgement().by() + " at "
                        + d.acknowledgement().at() + ": " + d.acknowledgement().reason()))
                .collect(Collectors.joining("\n"));
        return page.size() < pageSize ? lines
                : lines + "\n(more may follow: next page with after=" + page.get(page.size() - 1).id() + ")";
    }

    @ManagedOperation(description = "Acknowledges a difference (its id from differences or the report) with a reason: kept "
            + "with the difference and shown in the report, audited with the JMX user; the difference is neither deleted "
            + "nor corrected. Only the privileged JMX user may; a blank reason, an unknown or an already acknowledged "
            + "difference is refused")
    public String acknowledge(long differenceId, String reason) {
        if (reason == null || reason.isBlank()) {
            return "refused: a reason is required to acknowledge difference #" + differenceId + "; nothing changed";
        }
        if (!DeadLetterOperations.reveal()) {
            return "refused: only the privileged JMX user (interchange.jmx.privileged-user) may acknowledge a difference; "
                    + "difference #" + differenceId + " unchanged";
        }
        String actor = DeadLetterOperations.actor();
        String why = reason.strip();
        ReconciliationRuns.Acknowledged outcome = runs.acknowledge(differenceId, actor, why);
        if (outcome == ReconciliationRuns.Acknowledged.NO_SUCH_DIFFERENCE) {
            return "refused: no reconciliation difference #" + differenceId;
        }
        ReconciliationRuns.Difference d = runs.difference(differenceId).orElseThrow();
        if (outcome == ReconciliationRuns.Acknowledged.ALREADY) {
            ReconciliationRuns.Acknowledgement a = d.acknowledgement();
            return "refused: difference #" + differenceId + " was acknowledged by " + a.by() + " at " + a.at() + " ("
                    + a.reason() + "); unchanged";
        }
        audit.record(actor, "reconciliation-acknowledge", "reconciliation-difference:" + differenceId, "run #"
                + d.runId() + " " + d.kind() + " " + d.key() + "; reason: " + why);
        LOG.info("Operator {} acknowledged reconciliation difference #{} of run #{} ({} {}): {}", actor, differenceId,
                d.runId(), d.kind(), d.key(), why);
        reconciliation.rewriteReports(d.runId());
        return "acknowledged difference #" + differenceId + " of run #" + d.runId() + " (" + d.kind() + " " + d.key()
                + ") by " + actor + ": " + why;
    }

    @ManagedOperation(description = "The newest runs, one line each, at most limit")
    public String runs(int limit) {
        List<ReconciliationRuns.Run> recent = runs.recent(Math.max(1, Math.min(limit, MAX_LIST)));
        if (recent.isEmpty()) return "no reconciliation runs";
        return recent.stream().map(r -> "#" + r.id() + " " + r.comparison() + " " + r.legalEntity() + " " + r.from()
                + " to " + r.to() + " " + r.status() + " matched " + r.matched() + " differences " + r.differences()
                + " started " + r.startedAt() + (ReconciliationRuns.RUNNING.equals(r.status()) && r.instanceId() != null
                ? " on " + r.instanceId() + ", last heartbeat " + r.heartbeatAt() : "")).collect(Collectors.joining("\n"));
    }

    @ManagedOperation(description = "A run's report as a self-contained HTML page")
    public String html(long runId) {
        if (runs.find(runId).isEmpty()) return "refused: no reconciliation run #" + runId;
        StringWriter out = new StringWriter();
        try {
            reconciliation.html(runId, out);
        } catch (IOException e) {
            return "failed: " + e.getMessage();
        }
        return out.toString();
    }

    @ManagedOperation(description = "A run's differences as CSV (RFC 4180), with each difference's records")
    public String csv(long runId) {
        if (runs.find(runId).isEmpty()) return "refused: no reconciliation run #" + runId;
        StringWriter out = new StringWriter();
        try {
            reconciliation.csv(runId, out);
        } catch (IOException e) {
            return "failed: " + e.getMessage();
        }
        return out.toString();
    }
}
