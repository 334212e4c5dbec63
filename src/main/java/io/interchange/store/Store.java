package io.interchange.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.config.ConfigurationException;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;

/** The one JDBC store (H2 by default, PostgreSQL by configuration) with its schema migrated at start-up. */
public final class Store implements AutoCloseable {

    private final HikariDataSource dataSource;
    private final IdempotencyStore idempotency;
    private final DeadLetterStore deadLetters;
    private final AuditTrail audit;
    private final ErpConfirmations confirmations;
    private final ReconciliationRuns reconciliationRuns;
    private final LoyaltyFilings loyaltyFilings;
    private final BillingReferences billingReferences;
    private final CrossReferences crossReferences;
    private final IdentityIndex identityIndex;
    private final CustomerFields customerFields;
    private final EchoLedger echoLedger;
    private final StreamPositions streamPositions;
    private final LoyaltyStandings loyaltyStandings;
    private final ConsentStates consentStates;

    private Store(HikariDataSource dataSource, Config config, Clock clock) {
        this.dataSource = dataSource;
        this.idempotency = new IdempotencyStore(dataSource, clock,
                config.getDuration(Settings.IDEMPOTENCY_TTL), config.getDuration(Settings.IDEMPOTENCY_LEASE),
                config.getInt(Settings.IDEMPOTENCY_GROUP_COMMIT), config.getInt(Settings.IDEMPOTENCY_GROUP_WRITERS));
        this.deadLetters = new DeadLetterStore(dataSource, clock);
        this.audit = new AuditTrail(dataSource, clock);
        this.confirmations = new ErpConfirmations(dataSource, clock);
        this.reconciliationRuns = new ReconciliationRuns(dataSource, clock);
        this.loyaltyFilings = new LoyaltyFilings(dataSource, clock);
        this.billingReferences = new BillingReferences(dataSource, clock);
        // a creation claimed in a target is a pending effect like an idempotency key: its lease
        Duration lease = config.getDuration(Settings.IDEMPOTENCY_LEASE);
        this.crossReferences = new CrossReferences(dataSource, clock, lease);
        this.identityIndex = new IdentityIndex(dataSource, clock, crossReferences);
        this.customerFields = new CustomerFields(dataSource, clock);
        this.echoLedger = new EchoLedger(dataSource, clock, config.getDuration(Settings.CUSTOMER_ECHO_WINDOW));
        this.streamPositions = new StreamPositions(dataSource, clock);
        this.loyaltyStandings = new LoyaltyStandings(dataSource);
        this.consentStates = new ConsentStates(dataSource, clock);
    }

    /** Connects, migrates the schema to the latest version and returns the store. */
    public static Store open(Config config) {
        return open(config, Clock.systemUTC());
    }

    public static Store open(Config config, Clock clock) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("interchange-store");
        hc.setJdbcUrl(withoutCloseOnExit(config.get(Settings.STORE_URL)));
        hc.setUsername(config.get(Settings.STORE_USER));
        hc.setPassword(config.get(Settings.STORE_PASSWORD));
        hc.setMaximumPoolSize(config.getInt(Settings.STORE_POOL_SIZE));
        hc.setConnectionTimeout(5_000);
        // short validation so a store outage fails requests quickly (the sender then retries) instead of hanging
        hc.setValidationTimeout(2_000);
        String schema = config.get(Settings.STORE_SCHEMA).strip();
        if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new ConfigurationException(Settings.STORE_SCHEMA.key() + " '" + schema + "' is not a schema name: "
                    + "lower-case letters, digits and '_', starting with a letter or '_'");
        }
        HikariDataSource bootstrap = new HikariDataSource(hc);
        try {
            refuseTablesLeftInPublic(bootstrap, schema);
            // the schema must exist before connections are opened in it: Flyway creates it, on a pool without one
            flyway(bootstrap, schema).migrate();
        } catch (FlywayException e) {
            bootstrap.close();
            throw explained(e, schema);
        } catch (RuntimeException e) {
            bootstrap.close();
            throw e;
        }
        bootstrap.close();
        // every connection works in the store's schema, so its SQL names tables without a schema
        hc.setSchema(schema);
        HikariDataSource ds = new HikariDataSource(hc);
        try {
            return new Store(ds, config, clock);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
    }

    /**
     * H2 closes an embedded database from a JVM shutdown hook of its own, which runs beside the runtime's: postings still
     * draining met "Database is already closed". The runtime closes the store itself, after Camel has drained.
     */
    static String withoutCloseOnExit(String url) {
        if (!url.startsWith("jdbc:h2:") || url.toUpperCase(java.util.Locale.ROOT).contains("DB_CLOSE_ON_EXIT")) return url;
        return url + ";DB_CLOSE_ON_EXIT=FALSE";
    }

    private static Flyway flyway(DataSource ds, String schema) {
        return Flyway.configure().dataSource(ds).locations("classpath:db/migration")
                .schemas(schema).defaultSchema(schema).createSchemas(true).load();
    }

    /**
     * An earlier version kept the store in the database's default schema ({@code public}). Starting in a new, empty
     * schema beside it would forget every idempotency key and dead letter (and post again what was posted): refuse,
     * and say how to go on.
     */
    private static void refuseTablesLeftInPublic(DataSource ds, String schema) {
        if (schema.equals("public")) return;
        try (Connection c = ds.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            boolean oldStore = hasTable(md, "public", "idempotency_key") && hasTable(md, "public", "flyway_schema_history");
            boolean newStore = hasTable(md, schema, "flyway_schema_history");
            if (oldStore && !newStore) {
                throw new ConfigurationException("the store's tables are in schema public, where an earlier version "
                        + "created them, not in " + Settings.STORE_SCHEMA.key() + "=" + schema + ". Either set "
                        + Settings.STORE_SCHEMA.key() + "=public to keep them there, or move them (stop every instance, "
                        + "then: CREATE SCHEMA " + schema + "; ALTER TABLE public.<table> SET SCHEMA " + schema
                        + " for idempotency_key, dead_letter, audit_trail, erp_confirmation, billing_reference and "
                        + "flyway_schema_history) and start again");
            }
        } catch (SQLException e) {
            throw new StoreException("Store unreachable: " + e.getMessage(), e);
        }
    }

    private static boolean hasTable(DatabaseMetaData md, String schema, String table) throws SQLException {
        for (String s : new String[]{schema, schema.toUpperCase()}) {
            try (ResultSet rs = md.getTables(null, s, table, null)) {
                if (rs.next()) return true;
            }
            try (ResultSet rs = md.getTables(null, s, table.toUpperCase(), null)) {
                if (rs.next()) return true;
            }
        }
        return false;
    }

    /** Flyway's refusals, said in the store's terms with the setting to change. */
    private static RuntimeException explained(FlywayException e, String schema) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("non-empty schema")) {
            return new ConfigurationException("schema " + schema + " already holds tables that are not the store's ("
                    + m.strip() + "). Give the store a schema of its own: set " + Settings.STORE_SCHEMA.key()
                    + " to an unused name (it is created)", e);
        }
        return new StoreException("Store migration failed in schema " + schema + ": " + m, e);
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

    public CrossReferences crossReferences() {
        return crossReferences;
    }

    public IdentityIndex identityIndex() {
        return identityIndex;
    }

    public CustomerFields customerFields() {
        return customerFields;
    }

    /** Each customer's consent per channel, and every change received (flow consent). */
    public ConsentStates consentStates() {
        return consentStates;
    }

    public EchoLedger echoLedger() {
        return echoLedger;
    }

    public StreamPositions streamPositions() {
        return streamPositions;
    }

    public LoyaltyStandings loyaltyStandings() {
        return loyaltyStandings;
    }

    public ReconciliationRuns reconciliationRuns() {
        return reconciliationRuns;
    }

    public ErpConfirmations confirmations() {
        return confirmations;
    }

    public LoyaltyFilings loyaltyFilings() {
        return loyaltyFilings;
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
