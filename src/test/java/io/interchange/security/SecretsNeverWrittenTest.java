package io.interchange.security;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Settings;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs flows that succeed and fail (bad signatures, ERP refusing credentials, dead letters, operator views) and then
 * searches everything the runtime wrote — logs, every store table, metrics, both Kafka topics, the data directory —
 * for the configured secret values.
 */
class SecretsNeverWrittenTest {

    static final String WRONG_LEGACY_PASSWORD = "legacy-secret-" + java.util.UUID.randomUUID();
    static RuntimeKit kit;
    static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();
    static OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender;

    @BeforeAll
    static void start() throws Exception {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(ctx);
        encoder.setPattern("%level %logger %X %msg %ex%n");
        encoder.start();
        appender = new OutputStreamAppender<>();
        appender.setContext(ctx);
        appender.setEncoder(encoder);
        appender.setOutputStream(LOG);
        appender.start();
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        ctx.getLogger("io.interchange").setLevel(ch.qos.logback.classic.Level.DEBUG);
        ctx.getLogger("org.apache.camel").setLevel(ch.qos.logback.classic.Level.DEBUG);
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of(
                "interchange.erp.legacy.password", WRONG_LEGACY_PASSWORD,
                "interchange.route.billing.ledger-posting.max-attempts", "2"));
    }

    @AfterAll
    static void stop() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(appender);
        ctx.getLogger("io.interchange").setLevel(null);
        ctx.getLogger("org.apache.camel").setLevel(null);
        if (kit != null) kit.close();
    }

    @Test
    void noSecretValueAppearsInAnythingTheRuntimeWrites() throws Exception {
        ObjectNode posted = Events.invoicePaid("DE01");
        assertThat(kit.sendSigned(Events.bytes(posted)).statusCode()).isEqualTo(200);
        ObjectNode refusedByErp = Events.invoiceFinalized("FR01");
        assertThat(kit.sendSigned(Events.bytes(refusedByErp)).statusCode()).isEqualTo(200);
        byte[] body = Events.bytes(Events.invoicePaid("DE01"));
        assertThat(kit.postWebhook(body, RuntimeKit.sign("whsec_wrong", Instant.now().getEpochSecond(), body))
                .statusCode()).isEqualTo(400);
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 1
                && kit.runtime.store().deadLetters().count(null, DeadLetter.OPEN) == 1);
        DeadLetter dl = kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1).get(0);
        assertThat(dl.errorMessage()).contains("refused the credentials");
        var ops = new io.interchange.management.DeadLetterOperations(kit.runtime.camelContext(),
                kit.runtime.store().deadLetters(), kit.runtime.store().audit());
        String operatorView = ops.show(dl.id()) + ops.list("*", 10);
        String config = kit.runtime.config().describe().toString();
        String metrics = kit.get("/observe/metrics").body();

        List<String> secrets = List.of(RuntimeKit.SECRET, RuntimeKit.ERP_PASSWORD, RuntimeKit.JMX_PASSWORD,
                WRONG_LEGACY_PASSWORD, kit.runtime.config().get(Settings.MANAGEMENT_PASSWORD));
        Map<String, String> written = new java.util.LinkedHashMap<>();
        written.put("logs", LOG.toString(StandardCharsets.UTF_8));
        written.put("store", dumpStore());
        written.put("metrics", metrics);
        written.put("operator views", operatorView);
        written.put("printed configuration", config);
        written.put("kafka", topics());
        written.put("data directory", dataDirectory());
        assertThat(written.get("logs")).as("the capture works").contains("Dead-lettered");
        List<String> leaks = new ArrayList<>();
        written.forEach((where, text) -> secrets.forEach(s -> {
            if (text.contains(s)) leaks.add(where + " contains a secret (" + s.substring(0, 6) + "...)");
        }));
        assertThat(leaks).isEmpty();
    }

    private static String dumpStore() throws Exception {
        StringBuilder sb = new StringBuilder();
        try (Connection c = kit.runtime.store().dataSource().getConnection(); Statement st = c.createStatement()) {
            for (String table : List.of("idempotency_key", "dead_letter", "audit_trail", "erp_confirmation")) {
                try (ResultSet rs = st.executeQuery("SELECT * FROM " + table)) {
                    while (rs.next()) {
                        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                            Object v = rs.getObject(i);
                            sb.append(v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(v)).append('|');
                        }
                        sb.append('\n');
                    }
                }
            }
        }
        return sb.toString();
    }

    private static String topics() {
        StringBuilder sb = new StringBuilder();
        for (String topic : List.of("interchange.billing.v1", "interchange.ledger.v1")) {
            kit.readTopic(topic, Duration.ofSeconds(1)).forEach(r -> {
                sb.append(new String(r.value(), StandardCharsets.UTF_8));
                r.headers().forEach(h -> sb.append(h.key()).append('=').append(new String(h.value(), StandardCharsets.UTF_8)));
            });
        }
        return sb.toString();
    }

    private static String dataDirectory() throws Exception {
        StringBuilder sb = new StringBuilder();
        Path dir = kit.runtime.config().getPath(Settings.DATA_DIR);
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (Files.size(f) < 50_000_000) sb.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
            }
        }
        return sb.toString();
    }
}
