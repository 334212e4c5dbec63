package io.interchange.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Group commit of single-row statements: the keys that concurrent deliveries submit while a commit is under way are
 * written together by the next one, one JDBC batch per statement in one transaction, so N waiting callers share one
 * durable commit (one WAL flush on PostgreSQL) instead of paying one each. Each caller still gets its own row's update
 * count and waits until its row is committed, so the semantics of a single statement per key are kept. Statements in
 * one transaction are independent rows (a claim of one key, the confirmation of another): none depends on another's
 * outcome in the same batch.
 *
 * <p>Hand-written because neither Camel nor HikariCP batches across threads: Camel's aggregator would batch, but it
 * releases the caller before the commit, which is the one thing an idempotency claim must not do. Batches form by
 * themselves: under light load a batch holds one key and costs one commit as before; under load it grows with the
 * commit latency, up to {@code maxBatch}.
 *
 * <p>A batch that fails on a data error (SQLSTATE classes 22, 23, 42) is retried one row per transaction, so a bad
 * key fails alone and the others are not refused for it; any other failure (store unreachable) fails the whole batch,
 * and every caller sees it as the transient {@link StoreException} it is.
 */
final class GroupCommit implements AutoCloseable {

    interface RowBinder {
        void bind(PreparedStatement ps, String key, Instant now) throws SQLException;
    }

    /** One single-row statement and how a key is bound to it. */
    record Statement(String sql, RowBinder binder) { }

    private record Pending(Statement statement, String key, CompletableFuture<Integer> result) { }

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

    private final DataSource ds;
    private final Clock clock;
    private final int maxBatch;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean running = true;

    /**
     * @param writers threads that each take the waiting rows and commit them; more than one lets the next batch be
     *                written while the previous one waits for its flush (PostgreSQL flushes concurrent commits together)
     */
    GroupCommit(String name, DataSource ds, Clock clock, int maxBatch, int writers) {
        this.ds = ds;
        this.clock = clock;
        this.maxBatch = Math.max(1, maxBatch);
        for (int i = 0; i < Math.max(1, writers); i++) {
            Thread writer = new Thread(this::run, "interchange-group-commit-" + name + "-" + i);
            writer.setDaemon(true);
            writer.start();
            this.writers.add(writer);
        }
    }

    /** Runs the statement for this key in the next group commit; returns its update count once committed. */
    int submit(Statement statement, String key) {
        return submitAll(statement, List.of(key))[0];
    }

    /** Runs the statement for each key (usually in one group commit); returns their update counts once committed. */
    int[] submitAll(Statement statement, List<String> keys) {
        try {
            return submitAllAsync(statement, keys).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof StoreException se) {
                // a new exception in this caller's stack, with the writer thread's as its cause
                throw new StoreException(se.getMessage(), se);
            }
            throw e;
        }
    }

    /**
     * Queues the statement for each key (usually run in one group commit) without waiting: the future completes with
     * their update counts once committed, or with the {@link StoreException} the commit failed with. It completes on
     * a writer thread: a caller that has more than a few microseconds of work to do then hands it to its own threads
     * (the writers' next commit waits for whatever runs there).
     */
    CompletableFuture<int[]> submitAllAsync(Statement statement, List<String> keys) {
        if (!running) return CompletableFuture.failedFuture(new StoreException("Store is closing", null));
        CompletableFuture<?>[] results = new CompletableFuture<?>[keys.size()];
        for (int i = 0; i < results.length; i++) {
            CompletableFuture<Integer> result = new CompletableFuture<>();
            results[i] = result;
            queue.add(new Pending(statement, keys.get(i), result));
        }
        return CompletableFuture.allOf(results).thenApply(done -> {
            int[] counts = new int[results.length];
            for (int i = 0; i < counts.length; i++) counts[i] = (Integer) results[i].join();
            return counts;
        });
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        while (running || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                write(batch);
            } catch (InterruptedException e) {
                if (!running) break;
            } catch (RuntimeException | Error e) {
                // never leave a caller waiting forever
                for (Pending p : batch) p.result.completeExceptionally(e);
                LOG.error("Group commit failed unexpectedly", e);
            } finally {
                batch.clear();
            }
        }
        StoreException closed = new StoreException("Store closed before the statement ran", null);
        for (Pending p; (p = queue.poll()) != null; ) p.result.completeExceptionally(closed);
    }

    private void write(List<Pending> batch) {
        Instant now = clock.instant();
        Map<Statement, List<Pending>> byStatement = new LinkedHashMap<>();
        for (Pending p : batch) byStatement.computeIfAbsent(p.statement(), k -> new ArrayList<>()).add(p);
        // rows in key order: two writers' transactions then lock the same keys in the same order and cannot deadlock
        byStatement.values().forEach(rows -> rows.sort(java.util.Comparator.comparing(Pending::key)));
        try (Connection c = ds.getConnection()) {
            Map<Pending, Integer> counts = new HashMap<>();
            try {
                c.setAutoCommit(false);
                for (var e : byStatement.entrySet()) {
                    try (PreparedStatement ps = c.prepareStatement(e.getKey().sql())) {
                        for (Pending p : e.getValue()) {
                            e.getKey().binder().bind(ps, p.key(), now);
                            ps.addBatch();
                        }
                        int[] n = ps.executeBatch();
                        for (int i = 0; i < n.length; i++) {
                            if (n[i] == java.sql.Statement.SUCCESS_NO_INFO) {
                                throw new SQLException("the JDBC driver reported no update count per row "
                                        + "(reWriteBatchedInserts must stay off for the store)");
                            }
                            counts.put(e.getValue().get(i), n[i]);
                        }
                    }
                }
                c.commit();
            } catch (SQLException e) {
                rollbackQuietly(c);
                if (batch.size() > 1 && !StoreException.isTransient(e)) {
                    // each row in a transaction of its own: on PostgreSQL one failed statement aborts the whole
                    // transaction, so rows written before it in the same one would be rolled back with it
                    c.setAutoCommit(true);
                    writeOneByOne(c, batch, now);
                    return;
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            for (Pending p : batch) p.result().complete(counts.get(p));
        } catch (SQLException e) {
            StoreException failure = new StoreException("Store update failed: " + e.getMessage(), e);
            for (Pending p : batch) p.result().completeExceptionally(failure);
        }
    }

    /** On a connection in auto-commit mode: every row is committed or refused alone. */
    private void writeOneByOne(Connection c, List<Pending> batch, Instant now) throws SQLException {
        for (Pending p : batch) {
            try (PreparedStatement ps = c.prepareStatement(p.statement().sql())) {
                p.statement().binder().bind(ps, p.key(), now);
                p.result().complete(ps.executeUpdate());
            } catch (SQLException e) {
                p.result().completeExceptionally(new StoreException("Store update failed: " + e.getMessage(), e));
            }
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool discards it
        }
    }

    @Override
    public void close() {
        running = false;
        writers.forEach(Thread::interrupt);
        for (Thread writer : writers) {
            try {
                writer.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
