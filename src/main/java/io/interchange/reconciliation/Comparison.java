package io.interchange.reconciliation;

import io.interchange.mapping.LegalEntity;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Kind;
import org.apache.camel.ProducerTemplate;

import java.time.LocalDate;
import java.util.List;
import java.util.Set;

/**
 * One comparison a reconciliation run carries out for a legal entity and a period: which systems it compares (its
 * sides), how each is read from the system itself, and how the sides are compared once spooled into the store. The
 * run around it ({@link Reconciliation}) is the same for every comparison: it records the run, times and counts it,
 * stores the differences, writes the HTML and CSV report, publishes the {@code reconciliation.completed} event, sets
 * the metrics and offers the run over JMX and to the daily job.
 *
 * <p>A new comparison is a class of this interface, registered with {@link Reconciliation#register}: its readers
 * write {@link ReconciliationRuns.Record records} (side, match key, amount in minor units or the data compared) into
 * the run's spools ({@link Reading#spool}), and {@link #compare} records the differences, mostly through the store's
 * by-key comparison of two sides ({@link ReconciliationRuns#compareByKey}).
 */
public interface Comparison {

    /** As runs, metrics, events and JMX name it: {@code billing-erp}, {@code loyalty-erp}, {@code customers}. */
    String name();

    /** What is compared with what, one line for the report: "billing against the ERP ledger and our confirmations". */
    String description();

    /**
     * Its sides in the order a run counts them: the run keeps the records read of up to three sides (the first, the
     * second and the third count of {@link ReconciliationRuns.Run}).
     */
    List<Side> sides();

    /** The kinds of difference it can find, in the order its report lists them. */
    Set<Kind> kinds();

    /**
     * What a kind of difference means in this comparison, as its report says it ("billing holds the document, the ERP
     * ledger does not"); by default the kind's own, system-neutral meaning.
     */
    default String meaning(Kind kind) {
        return kind.meaning();
    }

    /**
     * Why it cannot run now (a system it reads is not configured), or null when it can. The daily job skips it,
     * saying so once in the log; a run asked for over JMX is refused with the reason.
     */
    default String unavailable() {
        return null;
    }

    /**
     * Reads every side of a run into the store through {@link Reading#spool}, each from the system itself; a side
     * that cannot be read is thrown (the run is recorded as FAILED with the reason).
     */
    Counts read(Reading reading);

    /** Compares the run's spooled sides in the store and records every difference; what it found. */
    ReconciliationRuns.Outcome compare(long runId);

    /**
     * One side: {@code id} as the store's records name it ({@code BILLING}, {@code ERP}, {@code OURS}, {@code LOYALTY},
     * {@code CRM}), {@code label} as the report and the log name it ({@code billing}, {@code ERP ledger}).
     */
    record Side(String id, String label) {
    }

    /**
     * What a run read: records per side, in {@link #sides()} order; records that could not be compared (logged and
     * counted, never dropped silently); and a note for the report, or null.
     */
    record Counts(long[] bySide, long unreadable, String note) {
    }

    /**
     * What a comparison's readers are given: the run, the entity and period, the period's margin read around it, the
     * Camel context's template (the ERP is read through its routes), a spool of the run per side, and progress.
     */
    interface Reading {
        long runId();

        LegalEntity entity();

        LocalDate from();

        LocalDate to();

        /** The first day read: the period's start less the margin (a posting dated just before may match). */
        LocalDate readFrom();

        /** The day after the last read: the period's end plus the margin. */
        LocalDate readTo();

        ProducerTemplate template();

        /** A writer of the run's records; one per side read at once (close it to write the rest). */
        ReconciliationRuns.Spool spool();

        /** A counter of one side's records as they are read: the progress log and gauge. */
        Progress progress(String side);

        /** The run's records of one side's documents, for a lookup page by page: the ERP documents read so far. */
        ReconciliationRuns runs();

        /**
         * Starts reading {@code side} on a thread of its own, while the caller reads another; close it (try with
         * resources) so that a run failing on the caller's thread stops it too.
         */
        default <T> Alongside<T> alongside(String side, java.util.concurrent.Callable<T> read) {
            return new Alongside<>(runId(), side, read);
        }
    }

    /** Progress of one side: {@link #run} per record read, {@link #done} at the end. */
    interface Progress extends Runnable {
        void done();
    }
}
