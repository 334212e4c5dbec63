package io.interchange.store;

import io.interchange.testkit.TestClock;
import io.interchange.config.Settings;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Databases.Backend;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One migrated store per backend for a test class (a fresh database each), emptied and its clock reset before each
 * test by {@link #fresh(Backend)}.
 */
final class StoreFixture implements AutoCloseable {

    static final Instant START = Instant.parse("2025-03-01T10:00:00Z");
    static final Duration TTL = Duration.ofHours(1);
    static final Duration LEASE = Duration.ofMinutes(2);
    static final int POOL_SIZE = 20;

    final TestClock clock = new TestClock(START);
    private final Map<Backend, Store> stores = new EnumMap<>(Backend.class);

    /** The backend's store with every table empty and the clock back at {@link #START}. */
    synchronized Store fresh(Backend backend) {
        Store store = stores.computeIfAbsent(backend, b -> Store.open(Databases.config(b, Map.of(
                Settings.IDEMPOTENCY_TTL.key(), TTL.toString(),
                Settings.IDEMPOTENCY_LEASE.key(), LEASE.toString(),
                Settings.STORE_POOL_SIZE.key(), String.valueOf(POOL_SIZE))), clock));
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String table : List.of("reconciliation_dead_letter", "reconciliation_record", "reconciliation_difference",
                    "reconciliation_run",
                    "idempotency_key", "dead_letter_edit", "dead_letter", "audit_trail", "erp_confirmation",
                    "customer_identity_key", "customer_identity_owner", "customer_field", "customer_link", "customer",
                    "echo_ledger", "stream_position", "loyalty_standing", "loyalty_filing_item", "loyalty_filing",
                    "consent_state", "consent_change")) {
                s.executeUpdate("DELETE FROM " + table);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        clock.set(START);
        return store;
    }

    /** The backend's store as it is (after {@link #fresh(Backend)}). */
    synchronized Store store(Backend backend) {
        Store store = stores.get(backend);
        if (store == null) {
            throw new IllegalStateException("call fresh(" + backend + ") first");
        }
        return store;
    }

    @Override
    public synchronized void close() {
        stores.values().forEach(Store::close);
        stores.clear();
    }

    /** Runs the task on {@code threads} threads released at the same moment; returns every result (rethrows any failure). */
    static <T> List<T> race(int threads, Callable<T> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch ready = new CountDownLatch(threads);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                futures.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    return task.call();
                }));
            }
            ready.await();
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(30, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
