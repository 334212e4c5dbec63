package io.interchange.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import org.flywaydb.core.Flyway;

import javax.sql.DataSource;
import java.time.Clock;

/** The one JDBC store (H2 by default, PostgreSQL by configuration) with its schema migrated at start-up. */
public final class Store implements AutoCloseable {

    private final HikariDataSource dataSource;
    private final IdempotencyStore idempotency;
    private final DeadLetterStore deadLetters;
    private final AuditTrail audit;
    private final ErpConfirmations confirmations;
    private final BillingReferences billingReferences;

    private Store(HikariDataSource dataSource, Config config, Clock clock) {
        this.dataSource = dataSource;
        this.idempotency = new IdempotencyStore(dataSource, clock,
                config.getDuration(Settings.IDEMPOTENCY_TTL), config.getDuration(Settings.IDEMPOTENCY_LEASE),
                config.getInt(Settings.IDEMPOTENCY_GROUP_COMMIT), config.getInt(Settings.IDEMPOTENCY_GROUP_WRITERS));
        this.deadLetters = new DeadLetterStore(dataSource, clock);
        this.audit = new AuditTrail(dataSource, clock);
        this.confirmations = new ErpConfirmations(dataSource, clock);
        this.billingReferences = new BillingReferences(dataSource, clock);
    }

    /** Connects, migrates the schema to the latest version and returns the store. */
    public static Store open(Config config) {
        return open(config, Clock.systemUTC());
    }

    public static Store open(Config config, Clock clock) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("interchange-store");
        hc.setJdbcUrl(config.get(Settings.STORE_URL));
        hc.setUsername(config.get(Settings.STORE_USER));
        hc.setPassword(config.get(Settings.STORE_PASSWORD));
        hc.setMaximumPoolSize(config.getInt(Settings.STORE_POOL_SIZE));
        hc.setConnectionTimeout(5_000);
        // short validation so a store outage fails requests quickly (the sender then retries) instead of hanging
        hc.setValidationTimeout(2_000);
        HikariDataSource ds = new HikariDataSource(hc);
        try {
            Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
            return new Store(ds, config, clock);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public IdempotencyStore idempotency() {
        return idempotency;
    }

    public DeadLetterStore deadLetters() {
        return deadLetters;
    }

    public AuditTrail audit() {
        return audit;
    }

    public BillingReferences billingReferences() {
        return billingReferences;
    }

    public ErpConfirmations confirmations() {
        return confirmations;
    }

    /** True when a connection can be had and answers a trivial query. */
    public boolean isHealthy() {
        try (var c = dataSource.getConnection(); var s = c.createStatement()) {
            return s.execute("SELECT 1");
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void close() {
        idempotency.close();
        dataSource.close();
    }
}
