package io.interchange.store;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Reconciliation runs in the store: each side's records spooled into {@code reconciliation_record} as they are read
 * ({@link #spool}, batched inserts, nothing held in memory), compared in the database by key ({@link #compare}: each
 * side grouped by key, full outer join, streamed with a fetch size), the differences kept with the run. Runs the same
 * on PostgreSQL and H2.
 */
public class ReconciliationRuns {

    public static final String BILLING = "BILLING";
    public static final String ERP = "ERP";
    public static final String OURS = "OURS";
    /** The loyalty platform's points transactions. */
    public static final String LOYALTY = "LOYALTY";
    /** The CRM's customers. */
    public static final String CRM = "CRM";
    /** Every side a record may have, as the lookups of a difference's records name them (so they use the key index). */
    private static final String ALL_SIDES = "'" + BILLING + "', '" + ERP + "', '" + OURS + "', '" + LOYALTY + "', '"
            + CRM + "'";
    /** Kind of an ERP document that is not a billing document (loyalty, disputes, reversals): confirmation check only. */
    public static final String OTHER = "OTHER";

    public static final String RUNNING = "RUNNING";
    public static final String COMPLETED = "COMPLETED";
    public static final String FAILED = "FAILED";

    /** The kinds of difference, in the order a report lists them. */
    public enum Kind {
        MISSING_IN_ERP("held by the system compared, not by the ERP"),
        MISSING_IN_BILLING("held by the system compared, not by billing"),
        AMOUNT_DIFFERENCE("amounts differ"),
        CURRENCY_DIFFERENCE("currencies differ"),
        DUPLICATE("the same document more than once in one system"),
        CONFIRMATION_MISSING("posted on the ERP ledger, no confirmation recorded here"),
        CONFIRMATION_WITHOUT_POSTING("confirmation recorded here, no posting on the ERP ledger"),
        UNLINKED("a customer record the cross-reference links to no global customer"),
        MISSING_IN_CRM("a global customer held by billing or the ERP, with no record in the CRM"),
        DATA_DIFFERENCE("a synchronised field differs between systems (the owning system's value the reference)"),
        MISSING_IN_LOYALTY("in the ERP ledger, not on the loyalty platform");

        private final String meaning;

        Kind(String meaning) {
            this.meaning = meaning;
        }

        public String meaning() {
            return meaning;
        }
    }

    /** One run: what was compared, when, and what was found. */
    public record Run(long id, String comparison, String legalEntity, LocalDate from, LocalDate to, String status,
                      Instant startedAt, Instant finishedAt, long billingRecords, long erpRecords,
                      long confirmationRecords, long unreadableRecords, long matched, long differences, String detail,
                      String instanceId, Instant heartbeatAt) {
    }

    /**
     * One record of a side: {@code key} the billing document ({@code kind|reference}) or, for {@link #OURS}, the ERP
     * document; {@code recordId} the system's own id; amounts in minor units of {@code currency}.
     */
    public record Record(String side, String key, String kind, String recordId, String erpDocument,
                         String correlationId, String currency, Long amountMinor, LocalDate occurredOn,
                         boolean inPeriod, String detail) {
    }

    /**
     * One difference; {@code side} says which system holds a duplicate; {@code acknowledgement} is null until an
     * operator acknowledges it.
     */
    public record Difference(long id, long runId, Kind kind, String side, String key, String erpDocument,
                             String currency, Long billingAmountMinor, Long erpAmountMinor, int billingCount,
                             int erpCount, String detail, Acknowledgement acknowledgement) {
    }

    /** An operator's acknowledgement of a difference: who (the JMX user), when and why. */
    public record Acknowledgement(String by, Instant at, String reason) {
    }

    /** What asking to acknowledge a difference came to. */
    public enum Acknowledged { DONE, NO_SUCH_DIFFERENCE, ALREADY }

    /** What a comparison found: keys matched and differences recorded, per kind. */
    public record Outcome(long matched, java.util.Map<Kind, Long> differences) {
        public long total() {
            return differences.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Rows per insert batch and per fetch of a streamed query. */
    static final int BATCH = 1000;

    private final DataSource ds;
    private final Jdbc jdbc;
    private final Clock clock;

    ReconciliationRuns(DataSource ds, Clock clock) {
        this.ds = ds;
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    /** Starts a run on an instance ({@code instanceId}, kept with it); its id. */
    public long start(String comparison, String legalEntity, LocalDate from, LocalDate to, String instanceId) {
        return jdbc.insertReturningId("INSERT INTO reconciliation_run (comparison, legal_entity, period_from, period_to, "
                + "status, started_at, billing_records, erp_records, confirmation_records, unreadable_records, matched, "
                + "differences, instance_id, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, ?, ?)", ps -> {
            ps.setString(1, comparison);
            ps.setString(2, legalEntity);
            ps.setObject(3, from);
            ps.setObject(4, to);
            ps.setString(5, RUNNING);
            ps.setObject(6, Jdbc.ts(clock.instant()));
            ps.setString(7, clip(instanceId, 200));
            ps.setObject(8, Jdbc.ts(clock.instant()));
        });
    }

    /** Starts a run on an unnamed instance. */
    public long start(String comparison, String legalEntity, LocalDate from, LocalDate to) {
        return start(comparison, legalEntity, from, to, null);
    }

    /** Says a run is still being carried out: its heartbeat, now. */
    public void beat(long runId) {
        jdbc.update("UPDATE reconciliation_run SET heartbeat_at = ? WHERE id = ? AND status = ?", ps -> {
            ps.setObject(1, Jdbc.ts(clock.instant()));
            ps.setLong(2, runId);
            ps.setString(3, RUNNING);
        });
    }

    /**
     * Marks FAILED every run still RUNNING whose heartbeat (or, for a run of a version before heartbeats, its start) is
     * before {@code before}: its instance stopped or died while carrying it out. The detail names the instance and its
     * last heartbeat. The runs so marked, by id.
     */
    public List<Long> abandonStale(Instant before) {
        List<Long> stale = jdbc.query("SELECT id FROM reconciliation_run WHERE status = ? "
                + "AND COALESCE(heartbeat_at, started_at) < ?", ps -> {
            ps.setString(1, RUNNING);
            ps.setObject(2, Jdbc.ts(before));
        }, rs -> rs.getLong(1));
        List<Long> marked = new ArrayList<>();
        for (long id : stale) {
            // one conditional update per run: a run that beat or finished meanwhile is left as it is
            int updated = jdbc.update("UPDATE reconciliation_run SET status = ?, finished_at = ?, detail = "
                    + "'cut off: instance ' || COALESCE(instance_id, '(not recorded)') || ' stopped carrying it out; "
                    + "last heartbeat ' || CAST(COALESCE(heartbeat_at, started_at) AS VARCHAR(40)) || '; run it again' "
                    + "WHERE id = ? AND status = ? AND COALESCE(heartbeat_at, started_at) < ?", ps -> {
                ps.setString(1, FAILED);
                ps.setObject(2, Jdbc.ts(clock.instant()));
                ps.setLong(3, id);
                ps.setString(4, RUNNING);
                ps.setObject(5, Jdbc.ts(before));
            });
            if (updated == 1) marked.add(id);
        }
        return marked;
    }

    /** Ends a run with its counts ({@link #COMPLETED}) or its failure ({@link #FAILED}, {@code detail} the reason). */
    public void finish(long runId, String status, long billing, long erp, long confirmations, long unreadable,
                       long matched, long differences, String detail) {
        jdbc.update("UPDATE reconciliation_run SET status = ?, finished_at = ?, billing_records = ?, erp_records = ?, "
                + "confirmation_records = ?, unreadable_records = ?, matched = ?, differences = ?, detail = ? WHERE id = ?", ps -> {
            ps.setString(1, status);
            ps.setObject(2, Jdbc.ts(clock.instant()));
            ps.setLong(3, billing);
            ps.setLong(4, erp);
            ps.setLong(5, confirmations);
            ps.setLong(6, unreadable);
            ps.setLong(7, matched);
            ps.setLong(8, differences);
            ps.setString(9, detail == null ? null : detail.length() > 4000 ? detail.substring(0, 4000) : detail);
            ps.setLong(10, runId);
        });
    }

    public Optional<Run> find(long runId) {
        return jdbc.query("SELECT * FROM reconciliation_run WHERE id = ?", ps -> ps.setLong(1, runId),
                ReconciliationRuns::run).stream().findFirst();
    }

    /** Whether a completed run of the comparison for this entity and period exists. */
    public boolean completed(String comparison, String legalEntity, LocalDate from, LocalDate to) {
        return !jdbc.query("SELECT id FROM reconciliation_run WHERE comparison = ? AND legal_entity = ? AND period_from = ? "
                + "AND period_to = ? AND status = ? LIMIT 1", ps -> {
            ps.setString(1, comparison);
            ps.setString(2, legalEntity);
            ps.setObject(3, from);
            ps.setObject(4, to);
            ps.setString(5, COMPLETED);
        }, rs -> rs.getLong(1)).isEmpty();
    }

    /** The differences of the newest completed run of a comparison and entity, per kind (kind null: a clean run). */
    public record LatestCount(String comparison, String legalEntity, long runId, Kind kind, long count) {
    }

    /**
     * For each comparison and entity, the newest completed run's differences per kind, in one query: what the
     * differences gauge shows on every instance, whichever ran it.
     */
    public List<LatestCount> latestDifferenceCounts() {
        return jdbc.query("SELECT r.comparison, r.legal_entity, r.id, d.kind, COUNT(d.id) AS n FROM reconciliation_run r "
                + "LEFT JOIN reconciliation_difference d ON d.run_id = r.id WHERE r.id IN (SELECT MAX(id) FROM "
                + "reconciliation_run WHERE status = ? GROUP BY comparison, legal_entity) "
                + "GROUP BY r.comparison, r.legal_entity, r.id, d.kind", ps -> ps.setString(1, COMPLETED),
                rs -> new LatestCount(rs.getString(1), rs.getString(2), rs.getLong(3),
                        rs.getString(4) == null ? null : Kind.valueOf(rs.getString(4)), rs.getLong(5)));
    }

    /** The newest runs first, at most {@code limit}. */
    public List<Run> recent(int limit) {
        return jdbc.query("SELECT * FROM reconciliation_run ORDER BY id DESC LIMIT ?", ps -> ps.setInt(1, limit),
                ReconciliationRuns::run);
    }

    /**
     * Deletes the runs started before {@code before}, with their records and differences; the number of runs deleted.
     */
    public int deleteBefore(Instant before) {
        int[] deleted = {0};
        jdbc.allOrNothing(c -> {
            String runs = "SELECT id FROM reconciliation_run WHERE started_at < ?";
            for (String table : new String[]{"reconciliation_dead_letter", "reconciliation_record",
                    "reconciliation_difference"}) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE run_id IN (" + runs + ")")) {
                    ps.setObject(1, Jdbc.ts(before));
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM reconciliation_run WHERE started_at < ?")) {
                ps.setObject(1, Jdbc.ts(before));
                deleted[0] = ps.executeUpdate();
            }
            return true;
        });
        return deleted[0];
    }

    /**
     * A writer of one run's records: batches of {@value #SPOOL_BATCH}, one commit per batch, written with PostgreSQL's
     * {@code COPY} where the store is PostgreSQL (a million records a side: batched inserts cost several times as much)
     * and batched inserts elsewhere. Close it to write the rest.
     */
    public Spool spool(long runId) {
        return new Spool(runId);
    }

    /** Records per spool batch: one commit each; at most this many held in memory. */
    static final int SPOOL_BATCH = 5000;

    private static final String RECORD_COLUMNS = "run_id, side, match_key, seq, kind, record_id, erp_document, "
            + "correlation_id, currency, amount_minor, occurred_on, in_period, detail";

    /**
     * Writes a run's records in batches, each numbered in the order this spool got them. Records are keyed by side,
     * key and that number: sides read at once write through a spool each (one spool per side).
     */
    public final class Spool implements AutoCloseable {
        private final long runId;
        private final List<Record> pending = new ArrayList<>(SPOOL_BATCH);
        private final Batch<Record> inserts;
        private final boolean copy;
        private long seq;
        private final StringBuilder rows = new StringBuilder();

        private Spool(long runId) {
            this.runId = runId;
            this.copy = jdbc.isPostgres();
            this.inserts = new Batch<>("INSERT INTO reconciliation_record (" + RECORD_COLUMNS + ") "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", SPOOL_BATCH, (ps, r) -> {
                ps.setLong(1, runId);
                ps.setString(2, r.side());
                ps.setString(3, clip(r.key(), 300));
                ps.setLong(4, ++seq);
                ps.setString(5, r.kind());
                ps.setString(6, clip(r.recordId(), 300));
                ps.setString(7, clip(r.erpDocument(), 100));
                ps.setString(8, clip(r.correlationId(), 300));
                ps.setString(9, r.currency());
                ps.setObject(10, r.amountMinor(), Types.BIGINT);
                ps.setObject(11, r.occurredOn());
                ps.setBoolean(12, r.inPeriod());
                ps.setString(13, clip(r.detail(), 500));
            });
        }

        public void add(Record r) {
            Objects.requireNonNull(r);
            if (!copy) {
                inserts.add(r);
                return;
            }
            pending.add(r);
            if (pending.size() >= SPOOL_BATCH) flush();
        }

        public void flush() {
            if (!copy) {
                inserts.flush();
                return;
            }
            if (pending.isEmpty()) return;
            rows.setLength(0);
            for (Record r : pending) {
                rows.append(runId).append(',');
                csv(rows, r.side()).append(',');
                csv(rows, clip(r.key(), 300)).append(',').append(++seq).append(',');
                csv(rows, r.kind()).append(',');
                csv(rows, clip(r.recordId(), 300)).append(',');
                csv(rows, clip(r.erpDocument(), 100)).append(',');
                csv(rows, clip(r.correlationId(), 300)).append(',');
                csv(rows, r.currency()).append(',');
                if (r.amountMinor() != null) rows.append(r.amountMinor());
                rows.append(',');
                if (r.occurredOn() != null) rows.append(r.occurredOn());
                rows.append(',').append(r.inPeriod()).append(',');
                csv(rows, clip(r.detail(), 500)).append('\n');
            }
            byte[] bytes = rows.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            try (Connection c = ds.getConnection()) {
                new org.postgresql.copy.CopyManager(c.unwrap(org.postgresql.core.BaseConnection.class))
                        .copyIn("COPY reconciliation_record (" + RECORD_COLUMNS + ") FROM STDIN (FORMAT csv)",
                                new java.io.ByteArrayInputStream(bytes));
            } catch (SQLException | java.io.IOException e) {
                throw new StoreException("Reconciliation records not stored: " + e.getMessage(), e);
            }
            pending.clear();
        }

        @Override
        public void close() {
            flush();
        }
    }

    /** A value as a CSV field of {@code COPY}: null as nothing, anything else quoted (so "" is an empty string). */
    private static StringBuilder csv(StringBuilder out, String value) {
        if (value == null) return out;
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == '"') out.append('"');
            out.append(ch);
        }
        return out.append('"');
    }

    /** Rows inserted {@code size} at a time, each batch in one transaction. */
    private final class Batch<T> {
        private final String sql;
        private final int size;
        private final Jdbc.RowBinder<T> binder;
        private final List<T> pending;

        Batch(String sql, int size, Jdbc.RowBinder<T> binder) {
            this.sql = sql;
            this.size = size;
            this.binder = binder;
            this.pending = new ArrayList<>(size);
        }

        void add(T row) {
            pending.add(row);
            if (pending.size() >= size) flush();
        }

        void flush() {
            if (pending.isEmpty()) return;
            jdbc.updateAll(sql, pending, binder);
            pending.clear();
        }
    }

    /**
     * Two sides compared by key ({@link #compareByKey}): side {@code a} and side {@code b} as the store's records name
     * them and as a difference's detail names them ({@code "billing"}, {@code "the ERP ledger"}), and the kind of a key
     * found on the other side only. Amounts of side {@code a} are kept as a difference's first amount
     * ({@code billing_amount_minor}), those of {@code b} as its second.
     */
    public record Pair(String a, String aLabel, Kind missingInA, String b, String bLabel, Kind missingInB) {
    }

    /**
     * Side {@code a} against side {@code b} by key: both sides' records grouped by key in one pass, each side's count,
     * sum, currencies and period membership taken apart by its side (a full outer join of the two sides' groups,
     * written as one GROUP BY, which H2 and PostgreSQL both run). Records of kind {@link #OTHER} are left out.
     */
    private static String byKey(Pair p) {
        return "SELECT match_key AS k, " + side(p.a(), "b") + ", " + side(p.b(), "e")
                + ", MIN(CASE WHEN side = '" + p.b() + "' THEN erp_document END) AS edoc "
                + "FROM reconciliation_record WHERE run_id = ? AND side IN ('" + p.a() + "', '" + p.b() + "') "
                + "AND kind <> '" + OTHER + "' GROUP BY match_key";
    }

    /** The ERP ledger against our confirmations by ERP document, the same way. */
    private static final String BY_DOCUMENT = "SELECT erp_document AS d, "
            + "SUM(CASE WHEN side = 'ERP' THEN 1 ELSE 0 END) AS en, "
            + "MAX(CASE WHEN side = 'ERP' AND in_period THEN 1 ELSE 0 END) AS ei, "
            + "MIN(CASE WHEN side = 'ERP' THEN match_key END) AS ek, "
            + "SUM(CASE WHEN side = 'OURS' THEN 1 ELSE 0 END) AS onum, "
            + "MAX(CASE WHEN side = 'OURS' AND in_period THEN 1 ELSE 0 END) AS oi, "
            + "MIN(CASE WHEN side = 'OURS' THEN match_key END) AS ok "
            + "FROM reconciliation_record WHERE run_id = ? AND side IN ('" + ERP + "', '" + OURS + "') "
            + "AND erp_document IS NOT NULL GROUP BY erp_document";

    private static String side(String side, String p) {
        String is = "side = '" + side + "'";
        return "SUM(CASE WHEN " + is + " THEN 1 ELSE 0 END) AS " + p + "n, "
                + "SUM(CASE WHEN " + is + " THEN amount_minor END) AS " + p + "a, "
                + "MIN(CASE WHEN " + is + " THEN currency END) AS " + p + "c1, "
                + "MAX(CASE WHEN " + is + " THEN currency END) AS " + p + "c2, "
                + "MAX(CASE WHEN " + is + " AND in_period THEN 1 ELSE 0 END) AS " + p + "i";
    }

    /**
     * Compares two of the run's sides in the database by key and records every difference (counts, currency, amount
     * to the minor unit); then, when asked, the ERP ledger against our confirmations by ERP document. A key counts only
     * where a record of it lies in the period itself (the margin read around the period only finds partners for
     * records at its edges). Nothing is held in memory but a batch of differences.
     */
    public Outcome compareByKey(long runId, Pair pair, boolean confirmations) {
        java.util.EnumMap<Kind, Long> counts = new java.util.EnumMap<>(Kind.class);
        long[] matched = {0};
        try (Connection read = ds.getConnection(); DifferenceWriter out = new DifferenceWriter(runId, counts)) {
            // PostgreSQL streams a result set with a fetch size only inside a transaction
            read.setAutoCommit(false);
            try {
                try (PreparedStatement ps = read.prepareStatement(byKey(pair))) {
                    ps.setFetchSize(BATCH);
                    ps.setLong(1, runId);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            if (keyDifference(pair, rs, out)) continue;
                            matched[0]++;
                        }
                    }
                }
                if (confirmations) {
                    try (PreparedStatement ps = read.prepareStatement(BY_DOCUMENT)) {
                        ps.setFetchSize(BATCH);
                        ps.setLong(1, runId);
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) confirmationDifference(rs, out);
                        }
                    }
                }
            } finally {
                read.rollback();
                read.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("Reconciliation comparison failed: " + e.getMessage(), e);
        }
        return new Outcome(matched[0], counts);
    }

    /**
     * A writer of differences a comparison finds itself (one that compares otherwise than {@link #compareByKey}),
     * in batches, counted per kind; close it to write the rest.
     */
    public Differences differences(long runId) {
        return new Differences(new DifferenceWriter(runId, new java.util.EnumMap<>(Kind.class)));
    }

    /** Differences recorded by a comparison of its own, and their counts per kind. */
    public static final class Differences implements AutoCloseable {
        private final DifferenceWriter out;

        private Differences(DifferenceWriter out) {
            this.out = out;
        }

        /**
         * One difference: {@code side} the system holding a duplicate (or null), {@code key} the match key its records
         * have, the amounts of the first and second side with their counts.
         */
        public void add(Kind kind, String side, String key, String erpDocument, String currency, Long firstAmount,
                        Long secondAmount, int firstCount, int secondCount, String detail) {
            out.add(kind, side, key, erpDocument, currency, firstAmount, secondAmount, firstCount, secondCount, detail);
        }

        public java.util.Map<Kind, Long> counts() {
            return out.counts;
        }

        @Override
        public void close() {
            out.close();
        }
    }

    /** One page of the ERP documents of a run after {@code afterDocument} (null: from the first), in their order. */
    public List<String> erpDocuments(long runId, String afterDocument, int limit) {
        return jdbc.query("SELECT erp_document FROM reconciliation_record WHERE run_id = ? AND side = ? "
                + "AND erp_document > ? ORDER BY erp_document LIMIT ?", ps -> {
            ps.setLong(1, runId);
            ps.setString(2, ERP);
            ps.setString(3, afterDocument == null ? "" : afterDocument);
            ps.setInt(4, limit);
        }, rs -> rs.getString(1));
    }

    /** Records the difference of a key between the pair's two sides, if any; true if there was one. */
    private static boolean keyDifference(Pair p, ResultSet rs, DifferenceWriter out) throws SQLException {
        boolean aInPeriod = rs.getInt("bi") == 1;
        boolean bInPeriod = rs.getInt("ei") == 1;
        if (!aInPeriod && !bInPeriod) return true; // both only in the margin: another period's business
        String key = rs.getString("k");
        int an = rs.getInt("bn");
        int bn = rs.getInt("en");
        String doc = rs.getString("edoc");
        Long aa = an == 0 ? null : longOrNull(rs, "ba");
        Long ba = bn == 0 ? null : longOrNull(rs, "ea");
        String ac = rs.getString("bc1");
        String bc = rs.getString("ec1");
        if (an == 0) {
            out.add(p.missingInA(), null, key, doc, bc, null, ba, 0, bn, capital(p.bLabel()) + " holds " + bn
                    + " record(s) of it; " + p.aLabel() + " has no such record in the period or its margin");
            return true;
        }
        if (bn == 0) {
            out.add(p.missingInB(), null, key, null, ac, aa, null, an, 0, capital(p.aLabel()) + " holds it; "
                    + p.bLabel() + " has no record of it in the period or its margin");
            return true;
        }
        boolean found = false;
        if (an > 1) {
            out.add(Kind.DUPLICATE, p.a(), key, doc, ac, aa, ba, an, bn, capital(p.aLabel()) + " holds " + an
                    + " records of it");
            found = true;
        }
        if (bn > 1) {
            out.add(Kind.DUPLICATE, p.b(), key, doc, bc, aa, ba, an, bn, capital(p.bLabel()) + " holds " + bn
                    + " records of it" + (ERP.equals(p.b()) ? ", posted " + bn + " times" : ""));
            found = true;
        }
        if (!Objects.equals(ac, rs.getString("bc2")) || !Objects.equals(bc, rs.getString("ec2")) || !Objects.equals(ac, bc)) {
            out.add(Kind.CURRENCY_DIFFERENCE, null, key, doc, ac, aa, ba, an, bn,
                    p.aLabel() + " in " + ac + ", " + p.bLabel() + " in " + bc);
            return true;
        }
        if (found) return true; // the sums of a duplicate differ by its copies: the duplicate says it
        if (!Objects.equals(aa, ba)) {
            out.add(Kind.AMOUNT_DIFFERENCE, null, key, doc, ac, aa, ba, an, bn,
                    p.aLabel() + " " + aa + ", " + p.bLabel() + " " + ba + " (minor units of " + ac + ")");
            return true;
        }
        return false;
    }

    private static String capital(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /** Records the difference of an ERP document between the ERP ledger and our confirmations, if any. */
    private static void confirmationDifference(ResultSet rs, DifferenceWriter out) throws SQLException {
        String doc = rs.getString("d");
        int en = rs.getInt("en");
        int on = rs.getInt("onum");
        boolean erpInPeriod = rs.getInt("ei") == 1;
        boolean oursInPeriod = rs.getInt("oi") == 1;
        if (on == 0 && erpInPeriod) {
            out.add(Kind.CONFIRMATION_MISSING, null, rs.getString("ek"), doc, null, null, null, 0, en,
                    "the ERP ledger holds document " + doc + "; no confirmation of it is recorded here");
        } else if (en == 0 && oursInPeriod) {
            out.add(Kind.CONFIRMATION_WITHOUT_POSTING, null, rs.getString("ok"), doc, null, null, null, 0, 0,
                    "a confirmation names document " + doc + "; the ERP ledger holds no such document of the runtime's "
                            + "in the period or its margin");
        } else if (on > 1 && (erpInPeriod || oursInPeriod)) {
            out.add(Kind.DUPLICATE, OURS, rs.getString("ok"), doc, null, null, null, 0, en,
                    on + " confirmations here name document " + doc);
        }
    }

    /** Inserts differences in batches on its own connection, counting them per kind. */
    private final class DifferenceWriter implements AutoCloseable {
        private final long runId;
        private final java.util.Map<Kind, Long> counts;
        private final Batch<Difference> batch = new Batch<>("INSERT INTO reconciliation_difference (run_id, kind, side, "
                + "match_key, erp_document, currency, billing_amount_minor, erp_amount_minor, billing_count, erp_count, "
                + "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", BATCH, (ps, d) -> {
            ps.setLong(1, d.runId());
            ps.setString(2, d.kind().name());
            ps.setString(3, d.side());
            ps.setString(4, clip(d.key(), 300));
            ps.setString(5, d.erpDocument());
            ps.setString(6, d.currency());
            ps.setObject(7, d.billingAmountMinor(), Types.BIGINT);
            ps.setObject(8, d.erpAmountMinor(), Types.BIGINT);
            ps.setInt(9, d.billingCount());
            ps.setInt(10, d.erpCount());
            ps.setString(11, clip(d.detail(), 1000));
        });

        DifferenceWriter(long runId, java.util.Map<Kind, Long> counts) {
            this.runId = runId;
            this.counts = counts;
        }

        void add(Kind kind, String side, String key, String doc, String currency, Long billing, Long erp, int bn, int en,
                 String detail) {
            counts.merge(kind, 1L, Long::sum);
            batch.add(new Difference(0, runId, kind, side, key == null ? "" : key, doc, currency, billing, erp, bn, en, detail,
                    null));
        }

        @Override
        public void close() {
            batch.flush();
        }
    }

    /**
     * Every record of the run's {@code sides}, streamed in key order (then side, then as spooled), a page of
     * {@value #BATCH} at a time by keyset: a comparison that looks at all of one key's records together (customers,
     * whose differences are per field) holds one key's records, never a side.
     */
    public void eachRecordByKey(long runId, java.util.Collection<String> sides, Consumer<Record> each) {
        String in = String.join(", ", sides.stream().map(x -> "'" + x.replace("'", "") + "'").toList());
        String key = "";
        String side = "";
        long seq = -1;
        while (true) {
            String k = key;
            String sd = side;
            long sq = seq;
            List<Record> page = new ArrayList<>();
            List<Object[]> positions = new ArrayList<>();
            jdbc.query("SELECT * FROM reconciliation_record WHERE run_id = ? AND side IN (" + in + ") AND (match_key > ? "
                    + "OR match_key = ? AND (side > ? OR side = ? AND seq > ?)) ORDER BY match_key, side, seq LIMIT ?", ps -> {
                ps.setLong(1, runId);
                ps.setString(2, k);
                ps.setString(3, k);
                ps.setString(4, sd);
                ps.setString(5, sd);
                ps.setLong(6, sq);
                ps.setInt(7, BATCH);
            }, rs -> {
                positions.add(new Object[]{rs.getString("match_key"), rs.getString("side"), rs.getLong("seq")});
                return page.add(new Record(rs.getString("side"), rs.getString("match_key"), rs.getString("kind"),
                        rs.getString("record_id"), rs.getString("erp_document"), rs.getString("correlation_id"),
                        rs.getString("currency"), longOrNull(rs, "amount_minor"), rs.getObject("occurred_on", LocalDate.class),
                        rs.getBoolean("in_period"), rs.getString("detail")));
            });
            page.forEach(each);
            if (page.size() < BATCH) return;
            Object[] last = positions.get(positions.size() - 1);
            key = (String) last[0];
            side = (String) last[1];
            seq = (Long) last[2];
        }
    }

    /** The run's differences in report order (kind, then as found), after {@code afterId}, at most {@code limit}. */
    public List<Difference> differences(long runId, String kind, long afterId, int limit) {
        return jdbc.query("SELECT * FROM reconciliation_difference WHERE run_id = ? AND (CAST(? AS VARCHAR(30)) IS NULL OR kind = ?) AND id > ? "
                + "ORDER BY id LIMIT ?", ps -> {
            ps.setLong(1, runId);
            ps.setString(2, kind);
            ps.setString(3, kind);
            ps.setLong(4, afterId);
            ps.setInt(5, limit);
        }, ReconciliationRuns::difference);
    }

    /** Every difference of the run, streamed in id order (a report of any size). */
    public void eachDifference(long runId, Consumer<Difference> each) {
        long after = 0;
        while (true) {
            List<Difference> page = differences(runId, null, after, BATCH);
            page.forEach(each);
            if (page.size() < BATCH) return;
            after = page.get(page.size() - 1).id();
        }
    }

    /** The run's differences counted per kind. */
    public java.util.Map<Kind, Long> countsByKind(long runId) {
        java.util.EnumMap<Kind, Long> counts = new java.util.EnumMap<>(Kind.class);
        jdbc.query("SELECT kind, COUNT(*) FROM reconciliation_difference WHERE run_id = ? GROUP BY kind",
                ps -> ps.setLong(1, runId), rs -> counts.put(Kind.valueOf(rs.getString(1)), rs.getLong(2)));
        return counts;
    }

    /** How many of the run's differences an operator has acknowledged. */
    public long acknowledgedCount(long runId) {
        return jdbc.query("SELECT COUNT(*) FROM reconciliation_difference WHERE run_id = ? AND acknowledged_by IS NOT NULL",
                ps -> ps.setLong(1, runId), rs -> rs.getLong(1)).get(0);
    }

    /** Totals of a side's records in the period, per currency: currency, count, sum of amounts. */
    public record Total(String side, String currency, long count, long amountMinor) {
    }

    public List<Total> totals(long runId) {
        return jdbc.query("SELECT side, currency, COUNT(*) AS n, COALESCE(SUM(amount_minor), 0) AS amount "
                + "FROM reconciliation_record WHERE run_id = ? AND in_period = TRUE AND kind <> '" + OTHER + "' "
                + "AND side <> '" + OURS + "' GROUP BY side, currency ORDER BY currency, side", ps -> ps.setLong(1, runId),
                rs -> new Total(rs.getString("side"), rs.getString("currency"), rs.getLong("n"), rs.getLong("amount")));
    }

    /** One difference, if it exists. */
    public Optional<Difference> difference(long differenceId) {
        return jdbc.query("SELECT * FROM reconciliation_difference WHERE id = ?", ps -> ps.setLong(1, differenceId),
                ReconciliationRuns::difference).stream().findFirst();
    }

    /**
     * Marks a difference acknowledged by {@code actor} for {@code reason}, once: one conditional update, so of two
     * operators at once exactly one acknowledges it. The difference itself (kind, amounts, records) is not touched.
     */
    public Acknowledged acknowledge(long differenceId, String actor, String reason) {
        int updated = jdbc.update("UPDATE reconciliation_difference SET acknowledged_by = ?, acknowledged_at = ?, "
                + "acknowledged_reason = ? WHERE id = ? AND acknowledged_by IS NULL", ps -> {
            ps.setString(1, clip(actor, 200));
            ps.setObject(2, Jdbc.ts(clock.instant()));
            ps.setString(3, clip(reason, 4000));
            ps.setLong(4, differenceId);
        });
        if (updated == 1) return Acknowledged.DONE;
        return difference(differenceId).isPresent() ? Acknowledged.ALREADY : Acknowledged.NO_SUCH_DIFFERENCE;
    }

    /**
     * Links each difference of the run to the open dead letters of its records, in one statement: a dead letter about
     * the record's billing document ({@code document_key}) or object ({@code object_id}), under a confirmation's
     * posting key ({@code idempotency_key}) or with a record's correlation id. The number of links.
     */
    public int linkDeadLetters(long runId) {
        // the records of each difference as records() finds them, written as two joins that each use an index of
        // reconciliation_record (its key with the sides named, and its ERP document index), not one OR over the run
        String records = "SELECT d.id AS difference_id, r.match_key, r.record_id, r.correlation_id "
                + "FROM reconciliation_difference d JOIN reconciliation_record r ON r.run_id = d.run_id "
                + "AND r.side IN (" + ALL_SIDES + ") AND r.match_key = d.match_key "
                + "WHERE d.run_id = ? "
                + "UNION ALL SELECT d.id, r.match_key, r.record_id, r.correlation_id "
                + "FROM reconciliation_difference d JOIN reconciliation_record r ON r.run_id = d.run_id "
                + "AND r.side = '" + OURS + "' AND r.erp_document = d.erp_document "
                + "WHERE d.run_id = ? AND d.erp_document IS NOT NULL "
                + "UNION ALL SELECT d.id, r.match_key, r.record_id, r.correlation_id "
                + "FROM reconciliation_difference d JOIN reconciliation_record r ON r.run_id = d.run_id "
                + "AND r.side = '" + ERP + "' AND r.erp_document = d.erp_document "
                + "WHERE d.run_id = ? AND d.erp_document IS NOT NULL AND d.match_key = d.erp_document";
        return jdbc.update("INSERT INTO reconciliation_dead_letter (run_id, difference_id, dead_letter_id) "
                + "SELECT DISTINCT ?, x.difference_id, dl.id FROM (" + records + ") x "
                + "JOIN dead_letter dl ON dl.status = 'OPEN' AND (dl.document_key = x.match_key "
                + "OR dl.object_id = x.record_id OR dl.idempotency_key = x.record_id "
                + "OR dl.correlation_id = x.correlation_id)", ps -> {
            ps.setLong(1, runId);
            ps.setLong(2, runId);
            ps.setLong(3, runId);
            ps.setLong(4, runId);
        });
    }

    /**
     * The dead letters linked to the run's differences with ids in {@code (afterId, throughId]}, by difference, in one
     * query (a report's page or a whole report, never one query per difference).
     */
    public java.util.Map<Long, List<Long>> deadLetters(long runId, long afterId, long throughId) {
        java.util.Map<Long, List<Long>> out = new java.util.HashMap<>();
        jdbc.query("SELECT difference_id, dead_letter_id FROM reconciliation_dead_letter WHERE run_id = ? "
                + "AND difference_id > ? AND difference_id <= ? ORDER BY difference_id, dead_letter_id", ps -> {
            ps.setLong(1, runId);
            ps.setLong(2, afterId);
            ps.setLong(3, throughId);
        }, rs -> out.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getLong(2)));
        return out;
    }

    /**
     * The records of a difference on every side: those of its key; our confirmations of its ERP document; and, for a
     * difference keyed by the ERP document itself (one of our confirmations'), the ledger's records of that document.
     * Only then: a document holding many records of other keys (a loyalty filing, one per transaction) would otherwise
     * bring them all into each of its differences. Written as lookups with the sides named, each on an index of the
     * run's records (its primary key; its ERP document index): one OR over the run without the side reads all the
     * run's records, millions at scale, for each difference.
     */
    public List<Record> records(long runId, Difference d) {
        String document = d.erpDocument() == null ? "" : d.erpDocument();
        String documentSides = document.equals(d.key()) ? "'" + ERP + "', '" + OURS + "'" : "'" + OURS + "'";
        return jdbc.query("SELECT * FROM reconciliation_record WHERE run_id = ? AND side IN (" + ALL_SIDES
                + ") AND match_key = ? UNION SELECT * FROM reconciliation_record WHERE run_id = ? "
                + "AND side IN (" + documentSides + ") AND erp_document = ? ORDER BY side, seq", ps -> {
            ps.setLong(1, runId);
            ps.setString(2, d.key());
            ps.setLong(3, runId);
            ps.setString(4, document);
        }, rs -> new Record(rs.getString("side"), rs.getString("match_key"), rs.getString("kind"),
                rs.getString("record_id"), rs.getString("erp_document"), rs.getString("correlation_id"),
                rs.getString("currency"), longOrNull(rs, "amount_minor"),
                rs.getObject("occurred_on", LocalDate.class), rs.getBoolean("in_period"), rs.getString("detail")));
    }

    private static Run run(ResultSet rs) throws SQLException {
        return new Run(rs.getLong("id"), rs.getString("comparison"), rs.getString("legal_entity"),
                rs.getObject("period_from", LocalDate.class), rs.getObject("period_to", LocalDate.class),
                rs.getString("status"), Jdbc.instant(rs, "started_at"), Jdbc.instant(rs, "finished_at"),
                rs.getLong("billing_records"), rs.getLong("erp_records"), rs.getLong("confirmation_records"),
                rs.getLong("unreadable_records"), rs.getLong("matched"), rs.getLong("differences"), rs.getString("detail"),
                rs.getString("instance_id"), Jdbc.instant(rs, "heartbeat_at"));
    }

    private static Difference difference(ResultSet rs) throws SQLException {
        return new Difference(rs.getLong("id"), rs.getLong("run_id"), Kind.valueOf(rs.getString("kind")),
                rs.getString("side"), rs.getString("match_key"), rs.getString("erp_document"), rs.getString("currency"),
                longOrNull(rs, "billing_amount_minor"), longOrNull(rs, "erp_amount_minor"),
                rs.getInt("billing_count"), rs.getInt("erp_count"), rs.getString("detail"),
                rs.getString("acknowledged_by") == null ? null : new Acknowledgement(rs.getString("acknowledged_by"),
                        Jdbc.instant(rs, "acknowledged_at"), rs.getString("acknowledged_reason")));
    }

    /** A BIGINT or NUMERIC column (PostgreSQL sums BIGINT as NUMERIC) as a Long, or null. */
    private static Long longOrNull(ResultSet rs, String column) throws SQLException {
        java.math.BigDecimal v = rs.getBigDecimal(column);
        return v == null ? null : v.longValueExact();
    }

    private static String clip(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
