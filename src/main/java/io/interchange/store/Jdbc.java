package io.interchange.store;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;

/** Small JDBC helpers shared by the store's tables: one statement per call, checked errors as StoreException. */
final class Jdbc {

    interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    interface RowBinder<T> {
        void bind(PreparedStatement ps, T row) throws SQLException;
    }

    interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /** Statements on one connection in one transaction: true commits them, false rolls them back. */
    interface Transaction {
        boolean run(Connection c) throws SQLException;
    }

    private final DataSource ds;

    Jdbc(DataSource ds) {
        this.ds = ds;
    }

    /** The database's name as its driver gives it: {@code PostgreSQL}, {@code H2}. */
    /**
     * Whether the store is PostgreSQL rather than H2, for the few statements whose best form differs (a take-over's
     * writable CTE, a spool's {@code COPY}); asked of the driver once.
     */
    boolean isPostgres() {
        Boolean known = postgres;
        if (known == null) {
            try (Connection c = ds.getConnection()) {
                known = "PostgreSQL".equals(c.getMetaData().getDatabaseProductName());
            } catch (SQLException e) {
                throw new StoreException("Store unreachable: " + e.getMessage(), e);
            }
            postgres = known;
        }
        return known;
    }

    private volatile Boolean postgres;

    int update(String sql, Binder binder) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("Store update failed: " + e.getMessage(), e);
        }
    }

    /**
     * Writes a row whether it exists or not, with statements that cannot fail on a race (no transaction to abort, on
     * PostgreSQL or H2): update it, else insert it ({@code ... ON CONFLICT DO NOTHING}), else (another writer inserted
     * it in between) update it.
     */
    void upsert(String updateSql, Binder update, String insertSql, Binder insert) {
        if (update(updateSql, update) == 0 && update(insertSql, insert) == 0) update(updateSql, update);
    }

    /** The statement once per row, in one transaction (one commit for all); the update count of each row. */
    <T> int[] updateAll(String sql, List<T> rows, RowBinder<T> binder) {
        if (rows.isEmpty()) return new int[0];
        int[][] counts = new int[1][];
        allOrNothing(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (T row : rows) {
                    binder.bind(ps, row);
                    ps.addBatch();
                }
                counts[0] = ps.executeBatch();
            }
            return true;
        });
        return counts[0];
    }

    /** Runs the work in one transaction, committed when it answers true and rolled back when false; its answer. */
    boolean allOrNothing(Transaction work) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                boolean commit = work.run(c);
                if (commit) c.commit();
                else c.rollback();
                return commit;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is broken; the pool discards it
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("Store update failed: " + e.getMessage(), e);
        }
    }

    long insertReturningId(String sql, Binder binder) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql, new String[]{"id"})) {
            binder.bind(ps);
            ps.executeUpdate();
            try (ResultSet rs = ps.getGeneratedKeys()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new StoreException("Store insert failed: " + e.getMessage(), e);
        }
    }

    <T> List<T> query(String sql, Binder binder, RowMapper<T> mapper) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(mapper.map(rs));
                }
                return out;
            }
        } catch (SQLException e) {
            throw new StoreException("Store query failed: " + e.getMessage(), e);
        }
    }

    /**
     * A lookup of many values at once: {@code sql} holds one {@code IN (%s)}, where the values' marks go, and runs
     * once per {@code chunk} of the distinct {@code values}, each time with the {@code leading} parameters first; the
     * rows of every run. For readers going through a page of ids at a time, where a query per id would be most of
     * the work.
     */
    <T> List<T> queryIn(String sql, List<String> leading, Collection<String> values, int chunk, RowMapper<T> mapper) {
        List<String> all = List.copyOf(new LinkedHashSet<>(values));
        List<T> out = new ArrayList<>();
        for (int from = 0; from < all.size(); from += chunk) {
            List<String> part = all.subList(from, Math.min(all.size(), from + chunk));
            out.addAll(query(sql.replace("%s", String.join(", ", Collections.nCopies(part.size(), "?"))), ps -> {
                for (int i = 0; i < leading.size(); i++) ps.setString(i + 1, leading.get(i));
                for (int i = 0; i < part.size(); i++) ps.setString(leading.size() + i + 1, part.get(i));
            }, mapper));
        }
        return out;
    }

    /** True when the statement was refused by a unique constraint (SQLSTATE 23505, on PostgreSQL and H2 alike). */
    static boolean uniqueViolation(StoreException e) {
        return e.getCause() instanceof SQLException sql && "23505".equals(sql.getSQLState());
    }

    // OffsetDateTime in UTC, not java.sql.Timestamp: Timestamp goes through the JVM's zone, and H2 then folds the
    // repeated daylight-saving hour, which would shorten leases.
    static OffsetDateTime ts(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
