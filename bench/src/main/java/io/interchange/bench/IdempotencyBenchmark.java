package io.interchange.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.interchange.config.Config;
import io.interchange.store.IdempotencyStore;
import io.interchange.store.Store;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Idempotency keys on a real PostgreSQL 18, embedded but durable as in production: every commit waits for its WAL
 * flush. zonky's EmbeddedPostgres turns that off twice, {@code synchronous_commit=off} in its defaults and
 * {@code fsync=off} through the postmaster's {@code -F} flag; both are set back on here and checked before measuring.
 * One thread, a new key per message; scores are keys per second.
 *
 * <ul>
 *   <li>{@code claimConfirm_ours}: the product's per-message cost, {@code claim(key)} then {@code confirm(key)}.</li>
 *   <li>{@code claim_ours}: diagnostic, the claim alone (one INSERT ... ON CONFLICT through the store's pool).</li>
 *   <li>{@code claimConfirmAll100_ours}: the stream flow's path, 100 keys claimed in one group commit and confirmed
 *       in another; against {@code insert_jdbcBatch100}, which claims only.</li>
 *   <li>{@code claimConfirm_ours16Threads}: the webhook path under load, 16 threads whose claims and confirmations
 *       share group commits (scores summed over the threads).</li>
 *   <li>{@code insert_jdbcPerTx}: plain JDBC, the same INSERT with the same parameters, one transaction per key.</li>
 *   <li>{@code insert_jdbcBatch100}: plain JDBC, the same INSERT batched, 100 keys per transaction.</li>
 *   <li>{@code add_camelJdbcMessageIdRepository}: Camel's JdbcMessageIdRepository ({@code add} = SELECT COUNT then
 *       INSERT in one transaction; {@code confirm} is a no-op there), on a HikariCP pool like the store's.</li>
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class IdempotencyBenchmark {

    /** The store's claim statement (IdempotencyStore.claim), verbatim. */
    static final String CLAIM_SQL = "INSERT INTO idempotency_key (key_value, state, created_at, updated_at, expires_at) "
            + "VALUES (?, 'PENDING', ?, ?, ?) ON CONFLICT DO NOTHING";
    static final Duration TTL = Duration.ofDays(30); // interchange.idempotency.ttl default
    static final int BATCH = 100;

    /** One embedded PostgreSQL per fork, its schema migrated by the product's own Store.open (Flyway). */
    @State(Scope.Benchmark)
    public static class Postgres {
        EmbeddedPostgres server;
        String url;
        Store store;

        @Setup(Level.Trial)
        public void start() throws IOException {
            server = EmbeddedPostgres.builder()
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("fsync", "on") // -c fsync=on comes after zonky's -F, so it wins
                    .start();
            url = server.getJdbcUrl("postgres", "postgres");
            store = Store.open(Config.of(Map.of(
                    "interchange.store.url", url,
                    "interchange.store.user", "postgres",
                    "interchange.store.password", "")));
            for (String setting : new String[]{"synchronous_commit", "fsync"}) {
                String value = show(setting);
                if (!"on".equals(value)) {
                    throw new IllegalStateException(setting + " is " + value + ": commits would not wait for the disk "
                            + "and the figures would mean nothing");
                }
            }
        }

        private String show(String setting) {
            try (Connection c = DriverManager.getConnection(url, "postgres", "");
                 var rs = c.createStatement().executeQuery("SHOW " + setting)) {
                rs.next();
                return rs.getString(1);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws IOException {
            store.close();
            server.close();
        }
    }

    /** Distinct keys: a claimed key is never offered twice, so every INSERT writes (and every commit flushes). */
    @State(Scope.Thread)
    public static class Keys {
        private long next;
        private String prefix;

        @Setup(Level.Trial)
        public void setUp() {
            prefix = "evt_bench_" + Long.toHexString(System.nanoTime()) + "_";
        }

        String next() {
            return prefix + next++;
        }
    }

    @State(Scope.Thread)
    public static class PlainJdbc {
        Connection perTx;
        PreparedStatement perTxInsert;
        Connection batched;
        PreparedStatement batchedInsert;

        @Setup(Level.Trial)
        public void open(Postgres pg) throws SQLException {
            perTx = DriverManager.getConnection(pg.url, "postgres", "");
            perTx.setAutoCommit(true); // each executeUpdate is its own transaction
            perTxInsert = perTx.prepareStatement(CLAIM_SQL);
            batched = DriverManager.getConnection(pg.url, "postgres", "");
            batched.setAutoCommit(false);
            batchedInsert = batched.prepareStatement(CLAIM_SQL);
        }

        @TearDown(Level.Trial)
        public void close() throws SQLException {
            perTx.close();
            batched.close();
        }
    }

    @State(Scope.Benchmark)
    public static class CamelRepository {
        HikariDataSource dataSource;
        JdbcMessageIdRepository repository;

        @Setup(Level.Trial)
        public void start(Postgres pg) {
            // a pool configured like the store's (Store.open), so pooling is not what differs
            HikariConfig hc = new HikariConfig();
            hc.setPoolName("camel-idempotent");
            hc.setJdbcUrl(pg.url);
            hc.setUsername("postgres");
            hc.setPassword("");
            hc.setMaximumPoolSize(10);
            hc.setConnectionTimeout(5_000);
            hc.setValidationTimeout(2_000);
            dataSource = new HikariDataSource(hc);
            repository = new JdbcMessageIdRepository(dataSource, "billing.webhook-ingest");
            repository.start(); // creates CAMEL_MESSAGEPROCESSED
        }

        @TearDown(Level.Trial)
        public void stop() {
            repository.stop();
            dataSource.close();
        }
    }

    @Benchmark
    public void claimConfirm_ours(Postgres pg, Keys keys, Blackhole bh) {
        IdempotencyStore store = pg.store.idempotency();
        String key = keys.next();
        IdempotencyStore.DuplicateState refused = store.claim(key);
        if (refused != null) throw new IllegalStateException("fresh key refused: " + refused);
        bh.consume(store.confirm(key));
    }

    @Benchmark
    public IdempotencyStore.DuplicateState claim_ours(Postgres pg, Keys keys) {
        IdempotencyStore.DuplicateState refused = pg.store.idempotency().claim(keys.next());
        if (refused != null) throw new IllegalStateException("fresh key refused: " + refused);
        return refused;
    }

    /** A stream batch: 100 keys claimed in one group commit, then confirmed in another (BillingEventStream's path). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void claimConfirmAll100_ours(Postgres pg, Keys keys, Blackhole bh) {
        IdempotencyStore store = pg.store.idempotency();
        java.util.List<String> batch = new java.util.ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) batch.add(keys.next());
        for (IdempotencyStore.DuplicateState refused : store.claimAll(batch)) {
            if (refused != null) throw new IllegalStateException("fresh key refused: " + refused);
        }
        store.confirmAll(batch);
        bh.consume(batch);
    }

    /** The webhook path under load: 16 concurrent deliveries, each claim + confirm, sharing group commits. */
    @Benchmark
    @Threads(16)
    public void claimConfirm_ours16Threads(Postgres pg, Keys keys, Blackhole bh) {
        claimConfirm_ours(pg, keys, bh);
    }

    @Benchmark
    public int insert_jdbcPerTx(PlainJdbc jdbc, Keys keys) throws SQLException {
        bind(jdbc.perTxInsert, keys.next(), Instant.now());
        int inserted = jdbc.perTxInsert.executeUpdate();
        if (inserted != 1) throw new IllegalStateException("fresh key not inserted");
        return inserted;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int[] insert_jdbcBatch100(PlainJdbc jdbc, Keys keys) throws SQLException {
        Instant now = Instant.now();
        for (int i = 0; i < BATCH; i++) {
            bind(jdbc.batchedInsert, keys.next(), now);
            jdbc.batchedInsert.addBatch();
        }
        int[] counts = jdbc.batchedInsert.executeBatch();
        jdbc.batched.commit();
        return counts;
    }

    @Benchmark
    public void add_camelJdbcMessageIdRepository(CamelRepository camel, Keys keys, Blackhole bh) {
        String key = keys.next();
        if (!camel.repository.add(key)) throw new IllegalStateException("fresh key refused");
        bh.consume(camel.repository.confirm(key));
    }

    /** The same parameters IdempotencyStore.claim binds: key, now, now, now + ttl as UTC OffsetDateTime. */
    private static void bind(PreparedStatement ps, String key, Instant now) throws SQLException {
        OffsetDateTime ts = now.atOffset(ZoneOffset.UTC);
        ps.setString(1, key);
        ps.setObject(2, ts);
        ps.setObject(3, ts);
        ps.setObject(4, now.plus(TTL).atOffset(ZoneOffset.UTC));
    }
}
