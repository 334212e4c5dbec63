package io.interchange.store;

import io.interchange.testkit.TestClock;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.store.ErpConfirmations.Confirmation;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Databases.Backend;
import org.h2.util.DateTimeUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;

import static io.interchange.store.StoreFixture.START;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

/** Migration, the audit trail and ERP confirmations, on both backends. */
class StoreTest {

    private static final StoreFixture FIXTURE = new StoreFixture();

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    // ------------------------------------------------------------------------------------------- migration

    @ParameterizedTest
    @EnumSource(Backend.class)
    void migratesAFreshDatabaseAndReopensAnExistingOne(Backend backend) throws Exception {
        Config config = backend.config();
        Clock clock = Clock.fixed(START, ZoneOffset.UTC);

        Store first = Store.open(config, clock);
        try {
            assertThat(first.isHealthy()).isTrue();
            assertThat(migrations(first)).containsExactly("1:true", "2:true", "3:true", "4:true", "5:true", "6:true", "7:true", "8:true", "9:true", "10:true", "11:true", "12:true", "12.1:true", "13:true");
            for (String table : List.of("idempotency_key", "dead_letter", "audit_trail", "erp_confirmation",
                    "billing_reference", "customer", "customer_link", "customer_identity_key", "customer_identity_owner",
                    "customer_field", "echo_ledger", "stream_position", "loyalty_filing", "loyalty_filing_item", "loyalty_standing",
                    "consent_state", "consent_change", "dead_letter_edit", "reconciliation_run", "reconciliation_record",
                    "reconciliation_difference", "reconciliation_dead_letter")) {
                assertThat(count(first, table)).as(table).isZero();
            }
            first.audit().record("alice", "REPLAY", "dead-letter:1", "before restart");
            first.idempotency().claim("evt_1");
        } finally {
            first.close();
        }
        assertThat(first.isHealthy()).isFalse();

        try (Store second = Store.open(config, clock)) {
            assertThat(second.isHealthy()).isTrue();
            assertThat(migrations(second)).containsExactly("1:true", "2:true", "3:true", "4:true", "5:true", "6:true", "7:true", "8:true", "9:true", "10:true", "11:true", "12:true", "12.1:true", "13:true");
            assertThat(second.audit().recent(10)).extracting(AuditTrail.Entry::detail).containsExactly("before restart");
            assertThat(second.idempotency().state("evt_1")).isEqualTo("PENDING");
        }
    }

    /** Dead letters that waited through the upgrade to V12 name their billing documents too, once V12.1 has run. */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void openDeadLettersStoredBeforeV12AreReadForTheDocumentsTheyAreAbout(Backend backend) throws Exception {
        Config config = backend.config();
        String schema = config.get(Settings.STORE_SCHEMA);
        org.flywaydb.core.Flyway.configure().dataSource(config.get(Settings.STORE_URL), config.get(Settings.STORE_USER),
                        config.get(Settings.STORE_PASSWORD)).locations("classpath:db/migration").schemas(schema)
                .defaultSchema(schema).createSchemas(true).target("12").load().migrate();
        String canonical = "{\"ce_type\":\"io.interchange.billing.invoice.finalized\",\"ce_id\":\"evt_1\"}";
        try (Connection c = DriverManager.getConnection(config.get(Settings.STORE_URL), config.get(Settings.STORE_USER),
                config.get(Settings.STORE_PASSWORD));
             java.sql.PreparedStatement insert = c.prepareStatement("INSERT INTO " + schema + ".dead_letter (id, route_id, "
                     + "status, failure_kind, error_class, error_message, attempts, headers_json, payload, created_at, "
                     + "updated_at) VALUES (?, 'billing.ledger-posting', ?, 'PERMANENT', 'E', 'failed', 1, ?, ?, ?, ?)")) {
            Object[][] rows = {
                    {1L, "OPEN", canonical, "{\"invoiceId\":\"in_1\",\"number\":\"A-0001\"}"},
                    {2L, "OPEN", "{}", "{\"id\":\"evt_2\",\"object\":\"event\",\"data\":{\"object\":{\"id\":\"in_2\"}}}"},
                    {3L, "DISCARDED", canonical, "{\"invoiceId\":\"in_3\",\"number\":\"A-0003\"}"}};
            for (Object[] row : rows) {
                insert.setLong(1, (Long) row[0]);
                insert.setString(2, (String) row[1]);
                insert.setString(3, (String) row[2]);
                insert.setBytes(4, ((String) row[3]).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                insert.setObject(5, java.time.OffsetDateTime.parse("2026-12-01T00:00:00Z"));
                insert.setObject(6, java.time.OffsetDateTime.parse("2026-12-01T00:00:00Z"));
                insert.executeUpdate();
            }
        }

        try (Store store = Store.open(config, Clock.fixed(START, ZoneOffset.UTC));
             Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, object_id, document_key FROM dead_letter ORDER BY id")) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) rows.add(rs.getLong(1) + " " + rs.getString(2) + " " + rs.getString(3));
            assertThat(rows).containsExactly("1 in_1 INVOICE|A-0001", "2 in_2 null", "3 null null");
            assertThat(migrations(store)).endsWith("12:true", "12.1:true", "13:true");
        }
    }

    // ------------------------------------------------------------------------------------------- schema

    @Test
    void aPostgresDatabaseSharedWithAnotherApplicationTakesTheStoreInASchemaOfItsOwn() throws Exception {
        String database = Databases.createPostgresDatabase();
        try (Connection c = DriverManager.getConnection(Databases.postgresUrl(database), "postgres", "");
             Statement s = c.createStatement()) {
            // another application's tables in public, one of them named like a table of the store
            s.execute("CREATE TABLE public.customers (id INT PRIMARY KEY)");
            s.execute("CREATE TABLE public.audit_trail (id INT PRIMARY KEY, what TEXT)");
        }
        Config config = Config.of(Map.of(Settings.STORE_URL.key(), Databases.postgresUrl(database),
                Settings.STORE_USER.key(), "postgres"));
        try (Store store = Store.open(config, Clock.systemUTC())) {
            store.audit().record("alice", "REPLAY", "dead-letter:1", "in the store's own schema");
            assertThat(migrations(store)).containsExactly("1:true", "2:true", "3:true", "4:true", "5:true", "6:true", "7:true", "8:true", "9:true", "10:true", "11:true", "12:true", "12.1:true", "13:true");
        }
        try (Connection c = DriverManager.getConnection(Databases.postgresUrl(database), "postgres", "");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT table_schema, COUNT(*) FROM information_schema.tables "
                     + "WHERE table_schema IN ('public', 'interchange') GROUP BY table_schema ORDER BY table_schema")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1) + ":" + rs.getInt(2)).isEqualTo("interchange:23");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1) + ":" + rs.getInt(2)).as("the other application's tables untouched").isEqualTo("public:2");
        }
    }

    @Test
    void aStoreLeftInPublicByAnEarlierVersionIsNotForgottenButRefusedWithWhatToDo() throws Exception {
        String database = Databases.createPostgresDatabase();
        Map<String, String> values = Map.of(Settings.STORE_URL.key(), Databases.postgresUrl(database),
                Settings.STORE_USER.key(), "postgres");
        Map<String, String> inPublic = new java.util.HashMap<>(values);
        inPublic.put(Settings.STORE_SCHEMA.key(), "public");
        try (Store old = Store.open(Config.of(inPublic), Clock.systemUTC())) {
            old.idempotency().claim("billing:stripe:evt_before_upgrade");
        }
        assertThatThrownBy(() -> Store.open(Config.of(values), Clock.systemUTC()))
                .isInstanceOf(io.interchange.config.ConfigurationException.class)
                .hasMessageContaining("in schema public").hasMessageContaining("interchange.store.schema=public")
                .hasMessageContaining("ALTER TABLE public.<table> SET SCHEMA interchange");
        try (Store kept = Store.open(Config.of(inPublic), Clock.systemUTC())) {
            assertThat(kept.idempotency().state("billing:stripe:evt_before_upgrade")).isEqualTo("PENDING");
        }
    }

    @Test
    void aSchemaHoldingOtherTablesIsRefusedNamingTheSettingToChange() throws Exception {
        String database = Databases.createPostgresDatabase();
        try (Connection c = DriverManager.getConnection(Databases.postgresUrl(database), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA billing");
            s.execute("CREATE TABLE billing.invoices (id INT PRIMARY KEY)");
        }
        Config config = Config.of(Map.of(Settings.STORE_URL.key(), Databases.postgresUrl(database),
                Settings.STORE_USER.key(), "postgres", Settings.STORE_SCHEMA.key(), "billing"));
        assertThatThrownBy(() -> Store.open(config, Clock.systemUTC()))
                .isInstanceOf(io.interchange.config.ConfigurationException.class)
                .hasMessageContaining("schema billing already holds tables").hasMessageContaining("interchange.store.schema");
    }

    private static List<String> migrations(Store store) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version, success FROM flyway_schema_history "
                     + "WHERE version IS NOT NULL ORDER BY installed_rank")) {
            while (rs.next()) {
                out.add(rs.getString(1) + ":" + rs.getBoolean(2));
            }
        }
        return out;
    }

    private static long count(Store store, String table) throws Exception {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The store must not depend on the JVM's time zone. In a zone with daylight saving time, 00:30Z and 01:30Z on the
     * night summer time ends are both 02:30 local time.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void instantsInTheRepeatedDaylightSavingHourKeepTheirOrderAndLease(Backend backend) {
        TimeZone saved = TimeZone.getDefault();
        TimeZone.setDefault(TimeZone.getTimeZone("Europe/Berlin"));
        DateTimeUtils.resetCalendar(); // H2 caches the JVM zone
        Instant cest = Instant.parse("2025-10-26T00:30:00Z"); // 02:30 CEST
        Instant cet = Instant.parse("2025-10-26T01:30:00Z");  // 02:30 CET, one hour later
        TestClock clock = new TestClock(cest);
        try (Store store = Store.open(backend.config(), clock)) {
            store.audit().record("first", "X", "t", null);
            clock.set(cet);
            store.audit().record("second", "X", "t", null);
            // a key claimed at 02:00:30 CET (01:00:30Z) is still within its two-minute lease 30 s later, when the
            // takeover compares it with 02:59:00 CEST (00:59:00Z)
            clock.set(Instant.parse("2025-10-26T01:00:30Z"));
            assertThat(store.idempotency().claim("evt_dst")).isNull();
            clock.advance(Duration.ofSeconds(30));
            IdempotencyStore.DuplicateState contender = store.idempotency().claim("evt_dst");

            assertSoftly(soft -> {
                soft.assertThat(store.audit().recent(2)).extracting(AuditTrail.Entry::at).containsExactly(cet, cest);
                soft.assertThat(contender).as("contender within the lease")
                        .isEqualTo(IdempotencyStore.DuplicateState.IN_PROGRESS);
            });
        } finally {
            TimeZone.setDefault(saved);
            DateTimeUtils.resetCalendar();
        }
    }

    @Test
    void testkitGivesFreshDatabasesAndDurablePostgres() throws Exception {
        try (Connection c = DriverManager.getConnection(Databases.postgresUrl());
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW synchronous_commit")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("on");
        }
        Config a = Databases.config(Backend.POSTGRES);
        Config b = Databases.config(Backend.POSTGRES, Map.of("interchange.store.pool-size", "3"));
        assertThat(a.get(Settings.STORE_URL)).isNotEqualTo(b.get(Settings.STORE_URL));
        assertThat(b.getInt(Settings.STORE_POOL_SIZE)).isEqualTo(3);
        String h2 = Databases.config(Backend.H2).get(Settings.STORE_URL);
        assertThat(h2).startsWith("jdbc:h2:file:/")
                .endsWith(";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
        assertThat(Databases.config(Backend.H2).get(Settings.STORE_URL)).isNotEqualTo(h2);
    }

    // ------------------------------------------------------------------------------------------- audit trail

    @ParameterizedTest
    @EnumSource(Backend.class)
    void auditTrailRecordsAndListsNewestFirst(Backend backend) {
        AuditTrail audit = FIXTURE.fresh(backend).audit();
        audit.record("alice", "REPLAY", "dead-letter:1", "customer asked");
        FIXTURE.clock.advance(Duration.ofSeconds(1));
        audit.record("bob", "DISCARD", "dead-letter:2", null);
        FIXTURE.clock.advance(Duration.ofSeconds(1));
        audit.record("carol", "REPLAY", "dead-letter:3", "d".repeat(5000));

        List<AuditTrail.Entry> all = audit.recent(10);
        assertThat(all).extracting(AuditTrail.Entry::actor).containsExactly("carol", "bob", "alice");
        assertThat(all).extracting(AuditTrail.Entry::id).isSortedAccordingTo(Collections.reverseOrder());

        AuditTrail.Entry bob = all.get(1);
        assertThat(bob.action()).isEqualTo("DISCARD");
        assertThat(bob.target()).isEqualTo("dead-letter:2");
        assertThat(bob.detail()).isNull();
        assertThat(bob.at()).isEqualTo(START.plusSeconds(1));

        AuditTrail.Entry alice = all.get(2);
        assertThat(alice).isEqualTo(new AuditTrail.Entry(alice.id(), START, "alice", "REPLAY", "dead-letter:1",
                "customer asked"));
        assertThat(all.get(0).detail()).hasSize(4000);

        assertThat(audit.recent(2)).extracting(AuditTrail.Entry::actor).containsExactly("carol", "bob");
    }

    // ------------------------------------------------------------------------------------------- ERP confirmations

    @ParameterizedTest
    @EnumSource(Backend.class)
    void confirmationRecordedTwiceIsOneRow(Backend backend) {
        ErpConfirmations erp = FIXTURE.fresh(backend).confirmations();
        Confirmation c = confirmation("evt_1:posting", "5100000001", null);

        assertThat(erp.record(c)).isTrue();
        assertThat(erp.record(confirmation("evt_1:posting", "5100000999", null))).isFalse();

        assertThat(erp.count()).isEqualTo(1);
        Confirmation stored = erp.find("evt_1:posting").orElseThrow();
        assertThat(stored.accountingDocument()).isEqualTo("5100000001"); // the first answer is kept
        assertThat(stored).isEqualTo(new Confirmation("evt_1:posting", "evt_1", "DE01", "S4", "1010", "5100000001",
                "2025", "corr-1", START));
        assertThat(erp.find("unknown")).isEmpty();

        Instant explicit = Instant.parse("2024-12-31T23:59:59Z");
        assertThat(erp.record(confirmation("evt_2:posting", "5100000002", explicit))).isTrue();
        assertThat(erp.find("evt_2:posting").orElseThrow().createdAt()).isEqualTo(explicit);
        assertThat(erp.count()).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void concurrentConfirmationsOfOnePostingAreOneRow(Backend backend) throws Exception {
        ErpConfirmations erp = FIXTURE.fresh(backend).confirmations();

        List<Boolean> results = StoreFixture.race(8, () -> erp.record(confirmation("evt_9:posting", "5100000009", null)));

        assertThat(Collections.frequency(results, true)).isEqualTo(1);
        assertThat(erp.count()).isEqualTo(1);
    }

    private static Confirmation confirmation(String key, String document, Instant createdAt) {
        return new Confirmation(key, key.substring(0, key.indexOf(':')), "DE01", "S4", "1010", document, "2025",
                "corr-1", createdAt);
    }
}
