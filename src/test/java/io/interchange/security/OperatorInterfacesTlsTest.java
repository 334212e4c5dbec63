package io.interchange.security;

import io.interchange.testkit.TempDirs;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.config.Config;
import io.interchange.config.ConfigurationException;
import io.interchange.runtime.InterchangeRuntime;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Ports;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The management port and the JMX connector with one self-signed keystore (made by keytool, as an operator would):
 * HTTPS only with credentials on the management port, TLS for the RMI registry and the JMX connection, clear
 * refusals for clients that do not trust the certificate, speak plain text or bring wrong credentials, and a one-line
 * start-up error naming the key when the keystore cannot be used.
 */
class OperatorInterfacesTlsTest {

    static final String KEYSTORE_PASSWORD = "ks-" + UUID.randomUUID();
    static final String TRUST_PASSWORD = "trust-" + UUID.randomUUID();
    static final String MANAGEMENT_PASSWORD = "mgmt-" + UUID.randomUUID();
    static final ByteArrayOutputStream LOG = new ByteArrayOutputStream();
    static OutputStreamAppender<ILoggingEvent> appender;
    static Path dir;
    static Path keystore;
    static Path truststore;
    static RuntimeKit kit;
    static HttpClient trusting;

    @BeforeAll
    static void start() throws Exception {
        dir = TempDirs.untilExit("operator-tls");
        keystore = dir.resolve("management.p12");
        keytool("-genkeypair", "-alias", "interchange", "-keyalg", "EC", "-groupname", "secp256r1",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", KEYSTORE_PASSWORD,
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2");
        Path certificate = dir.resolve("management.pem");
        keytool("-exportcert", "-rfc", "-alias", "interchange", "-keystore", keystore.toString(),
                "-storepass", KEYSTORE_PASSWORD, "-file", certificate.toString());
        truststore = dir.resolve("trust.p12");
        keytool("-importcert", "-noprompt", "-alias", "interchange", "-file", certificate.toString(),
                "-storetype", "PKCS12", "-keystore", truststore.toString(), "-storepass", TRUST_PASSWORD);

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
        ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(appender);
        ctx.getLogger("io.interchange").setLevel(Level.DEBUG);
        ctx.getLogger("org.apache.camel").setLevel(Level.DEBUG);

        // only the management keystore is configured: the JMX connector follows it by default
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of(
                "interchange.management.password", MANAGEMENT_PASSWORD,
                "interchange.management.tls.keystore", keystore.toString(),
                "interchange.management.tls.keystore-password", KEYSTORE_PASSWORD));

        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(truststore)) {
            trust.load(in, TRUST_PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        trusting = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
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
    void managementPortServesHttpsWithCredentialsOnly() throws Exception {
        String base = "https://127.0.0.1:" + kit.managementPort;
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(trusting.send(get(base + "/observe/health", "operator", MANAGEMENT_PASSWORD),
                        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200));
        HttpResponse<String> health = trusting.send(get(base + "/observe/health", "operator", MANAGEMENT_PASSWORD),
                HttpResponse.BodyHandlers.ofString());
        assertThat(new ObjectMapper().readTree(health.body()).path("status").asText()).isEqualTo("UP");
        assertThat(trusting.send(get(base + "/observe/metrics", "operator", MANAGEMENT_PASSWORD),
                HttpResponse.BodyHandlers.ofString()).body()).contains("camel_exchanges_total");
        HttpResponse<String> jolokia = trusting.send(get(base + "/observe/jolokia/exec/io.interchange:type=DeadLetters/count()",
                "operator", MANAGEMENT_PASSWORD), HttpResponse.BodyHandlers.ofString());
        assertThat(new ObjectMapper().readTree(jolokia.body()).path("status").asInt()).as(jolokia.body()).isEqualTo(200);

        for (String path : new String[]{"/observe/health", "/observe/metrics", "/observe/jolokia/version"}) {
            assertThat(trusting.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).as(path + " without credentials").isEqualTo(401);
            assertThat(trusting.send(get(base + path, "operator", "wrong"), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).as(path + " with a wrong password").isEqualTo(401);
        }
    }

    @Test
    void plainHttpAndClientsThatDoNotTrustTheCertificateGetNoAnswer() {
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThatThrownBy(() -> plain.send(get("http://127.0.0.1:" + kit.managementPort + "/observe/health",
                "operator", MANAGEMENT_PASSWORD), HttpResponse.BodyHandlers.ofString()))
                .as("plain HTTP on the TLS port: the connection is closed without an answer")
                .isInstanceOf(IOException.class).isNotInstanceOf(java.net.ConnectException.class);
        assertThatThrownBy(() -> plain.send(get("https://127.0.0.1:" + kit.managementPort + "/observe/health",
                "operator", MANAGEMENT_PASSWORD), HttpResponse.BodyHandlers.ofString()))
                .as("a client with only the JVM's default trust store").isInstanceOf(SSLException.class);
    }

    @Test
    void jmxOverTlsWorksForAClientThatTrustsTheCertificate() throws Exception {
        Probe ok = jmx("ssl", RuntimeKit.JMX_PASSWORD, true);
        assertThat(ok.exit).as(ok.output).isZero();
        assertThat(ok.output).containsPattern("count=\\d+");
    }

    @Test
    void jmxRefusesWrongPasswordsUntrustingClientsAndPlainRmi() throws Exception {
        Probe wrongPassword = jmx("ssl", "wrong-" + UUID.randomUUID(), true);
        assertThat(wrongPassword.exit).as(wrongPassword.output).isEqualTo(1);
        assertThat(wrongPassword.output).contains("SecurityException").contains("Invalid JMX credentials");

        Probe untrusting = jmx("ssl", RuntimeKit.JMX_PASSWORD, false);
        assertThat(untrusting.exit).as(untrusting.output).isEqualTo(1);
        assertThat(untrusting.output).contains("SSLHandshakeException");

        // the registry itself speaks TLS: a plain RMI lookup (what a client without SSL settings does) fails
        Probe plain = jmx("plain", RuntimeKit.JMX_PASSWORD, true);
        assertThat(plain.exit).as(plain.output).isEqualTo(1);
        assertThat(plain.output).contains("non-JRMP server");
    }

    @Test
    void theKeystorePasswordIsNeverLogged() {
        String logs = LOG.toString(StandardCharsets.UTF_8);
        assertThat(logs).as("the capture works").contains("Management port serves HTTPS only");
        assertThat(logs).contains("TLS for registry and connection");
        assertThat(logs).doesNotContain(KEYSTORE_PASSWORD).doesNotContain(MANAGEMENT_PASSWORD)
                .doesNotContain(RuntimeKit.JMX_PASSWORD);
        assertThat(kit.runtime.config().describe().get("interchange.management.tls.keystore-password")).isEqualTo("****");
        assertThat(kit.runtime.config().describe().get("interchange.jmx.tls.keystore-password")).isEqualTo("****");
    }

    @Test
    void anUnusableKeystoreStopsStartUpNamingTheKeyToFix() throws Exception {
        Path missing = dir.resolve("missing.p12");
        assertThatThrownBy(() -> start(Map.of("interchange.management.tls.keystore", missing.toString(),
                "interchange.management.tls.keystore-password", KEYSTORE_PASSWORD)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("interchange.management.tls.keystore names " + missing)
                .hasMessageContaining("does not exist");

        String wrong = "wrong-" + UUID.randomUUID();
        assertThatThrownBy(() -> start(Map.of("interchange.management.tls.keystore", keystore.toString(),
                "interchange.management.tls.keystore-password", wrong)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("interchange.management.tls.keystore-password")
                .hasMessageContaining("INTERCHANGE_MANAGEMENT_TLS_KEYSTORE_PASSWORD")
                .hasMessageContaining("wrong password")
                .message().doesNotContain(wrong);

        // JMX with its own keystore and no TLS on the management port: its own keys are named
        assertThatThrownBy(() -> start(Map.of("interchange.jmx.port", String.valueOf(Ports.free()),
                "interchange.jmx.tls.keystore", keystore.toString(), "interchange.jmx.tls.keystore-password", wrong)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("interchange.jmx.tls.keystore-password").hasMessageContaining("wrong password");

        Path notAKeystore = Files.writeString(dir.resolve("cert-only.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n");
        assertThatThrownBy(() -> start(Map.of("interchange.management.tls.keystore", notAKeystore.toString(),
                "interchange.management.tls.keystore-password", KEYSTORE_PASSWORD)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("interchange.management.tls.keystore (" + notAKeystore + ")")
                .hasMessageContaining("PKCS12");

        Path truststoreOnly = truststore;
        assertThatThrownBy(() -> start(Map.of("interchange.management.tls.keystore", truststoreOnly.toString(),
                "interchange.management.tls.keystore-password", TRUST_PASSWORD)))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("holds no private key");
    }

    @Test
    void theCommandLineShowsOneLineInsteadOfAStackTrace() throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path missing = dir.resolve("not-there.p12");
        Process p = new ProcessBuilder(javaBinary(), "-cp", classpath,
                "-Dinterchange.data-dir=" + dir.resolve("cli-data"),
                "-Dinterchange.management.tls.keystore=" + missing,
                "io.interchange.Interchange", "--config", dir.resolve("none.properties").toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isEqualTo(2);
        assertThat(output).contains("interchange: cannot start: interchange.management.tls.keystore names " + missing)
                .doesNotContain("\tat ");
    }

    @Test
    void jmxCanStayWithoutTlsWhileTheManagementPortUsesIt() {
        Config c = Config.of(Map.of("interchange.management.tls.keystore", "/etc/interchange/management.p12",
                "interchange.management.tls.keystore-password", "x"));
        assertThat(c.get(io.interchange.config.Settings.JMX_TLS_KEYSTORE)).isEqualTo("/etc/interchange/management.p12");
        assertThat(c.get(io.interchange.config.Settings.JMX_TLS_KEYSTORE_PASSWORD)).isEqualTo("x");
        Config off = Config.of(Map.of("interchange.management.tls.keystore", "/etc/interchange/management.p12",
                "interchange.jmx.tls.keystore", ""));
        assertThat(off.isSet(io.interchange.config.Settings.JMX_TLS_KEYSTORE)).isFalse();
    }

    private static void start(Map<String, String> tls) throws Exception {
        Map<String, String> values = new HashMap<>();
        values.put("interchange.data-dir", dir.resolve("refused").toString());
        values.put("interchange.jmx.port", "0");
        values.put("interchange.kafka.bootstrap-servers", "127.0.0.1:1");
        values.putAll(tls);
        InterchangeRuntime.start(Config.of(values)).close();
    }

    private static HttpRequest get(String url, String user, String password) {
        String basic = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + basic).build();
    }

    record Probe(int exit, String output) {
    }

    /** Runs {@link JmxProbe} in its own JVM, with the test trust store as the default one or without it. */
    private static Probe jmx(String mode, String password, boolean trust) throws Exception {
        String classes = Path.of(JmxProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-cp", classes));
        if (trust) {
            cmd.add("-Djavax.net.ssl.trustStore=" + truststore);
            cmd.add("-Djavax.net.ssl.trustStorePassword=" + TRUST_PASSWORD);
        }
        cmd.addAll(List.of(JmxProbe.class.getName(), "service:jmx:rmi:///jndi/rmi://127.0.0.1:" + kit.jmxPort + "/jmxrmi",
                "operator", password, mode));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("JMX probe did not finish: " + output);
        }
        return new Probe(p.exitValue(), output);
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("keytool " + String.join(" ", args) + ": " + output).isZero();
    }
}
