package io.interchange.testkit;

import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.runtime.InterchangeRuntime;
import io.interchange.sandbox.EmbeddedKafka;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4HanaPeer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

/**
 * A whole runtime for tests: real embedded Kafka, a real store (PostgreSQL or H2), the S/4HANA and legacy ERP
 * SOAP peers on loopback, and helpers to send signed webhooks and read topics.
 */
public final class RuntimeKit implements AutoCloseable {

    public static final String SECRET = "whsec_test_" + UUID.randomUUID();
    public static final String ERP_USER = "INTERCHANGE";
    public static final String ERP_PASSWORD = "erp-" + UUID.randomUUID();
    public static final String JMX_PASSWORD = "jmx-" + UUID.randomUUID();

    public EmbeddedKafka kafka;
    private final Path dir;
    public final S4HanaPeer s4;
    public final LegacyErpPeer legacy;
    /** The runtime; another instance after {@link #restartRuntime()}. */
    public InterchangeRuntime runtime;
    public final int httpPort;
    public final int managementPort;
    public final int jmxPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private RuntimeKit(Path dir, EmbeddedKafka kafka, S4HanaPeer s4, LegacyErpPeer legacy, InterchangeRuntime runtime,
                       int httpPort, int managementPort, int jmxPort) {
        this.dir = dir;
        this.kafka = kafka;
        this.s4 = s4;
        this.legacy = legacy;
        this.runtime = runtime;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
        this.jmxPort = jmxPort;
    }

    /** Starts the peers, Kafka and the runtime on the given store backend, with fast retry policies. */
    public static RuntimeKit start(Databases.Backend backend, Map<String, String> extra) throws Exception {
        Path dir = TempDirs.create("interchange-kit");
        // what has started, last first: stopped, and the directory deleted, if the rest does not start
        List<Runnable> started = new ArrayList<>(List.of(() -> TempDirs.delete(dir)));
        try {
            EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
            started.add(0, kafka::close);
            S4HanaPeer s4 = new S4HanaPeer(0, ERP_USER, ERP_PASSWORD,
                    new HashMap<>(Map.of("1010", "EUR", "1710", "USD")));
            s4.start();
            started.add(0, s4::close);
            LegacyErpPeer legacy = new LegacyErpPeer(0, ERP_USER, ERP_PASSWORD,
                    new HashMap<>(Map.of("DE-01", "EUR", "US-01", "USD", "GB-01", "GBP", "FR-01", "EUR")));
            legacy.start();
            started.add(0, legacy::close);
            return withRuntime(backend, extra, dir, kafka, s4, legacy);
        } catch (Exception | Error e) {
            RuntimeException cleanUp = closeAll(started);
            if (cleanUp != null) e.addSuppressed(cleanUp);
            throw e;
        }
    }

    private static RuntimeKit withRuntime(Databases.Backend backend, Map<String, String> extra, Path dir,
                                          EmbeddedKafka kafka, S4HanaPeer s4, LegacyErpPeer legacy) throws Exception {
        int httpPort = Ports.free();
        int managementPort = Ports.free();
        int jmxPort = Ports.free();
        Map<String, String> values = new HashMap<>();
        values.put("interchange.data-dir", dir.resolve("data").toString());
        values.put("interchange.http.port", String.valueOf(httpPort));
        values.put("interchange.management.port", String.valueOf(managementPort));
        values.put("interchange.management.password", "mgmt-" + UUID.randomUUID());
        values.put("interchange.jmx.port", String.valueOf(jmxPort));
        values.put("interchange.jmx.password", JMX_PASSWORD);
        values.put("interchange.kafka.bootstrap-servers", kafka.bootstrapServers());
        values.put("interchange.kafka.consumer-group", "interchange-test-" + UUID.randomUUID());
        values.put("interchange.billing.webhook-secret", SECRET);
        values.put("interchange.erp.s4.url", s4.endpointUrl());
        values.put("interchange.erp.s4.password", ERP_PASSWORD);
        values.put("interchange.erp.s4.timeout", "PT3S");
        values.put("interchange.erp.legacy.url", legacy.endpointUrl());
        values.put("interchange.erp.legacy.password", ERP_PASSWORD);
        values.put("interchange.erp.legacy.timeout", "PT3S");
        values.put("interchange.route.billing.ledger-posting.max-attempts", "6");
        values.put("interchange.route.billing.ledger-posting.initial-delay", "PT0.1S");
        values.put("interchange.route.billing.ledger-posting.max-delay", "PT0.4S");
        // an open ERP circuit breaker probes again after a second, so a test's outage ends promptly
        values.put("interchange.erp.breaker.open-wait", "PT1S");
        values.putAll(extra);
        Config config = Databases.config(backend, values);
        InterchangeRuntime runtime = InterchangeRuntime.start(config);
        return new RuntimeKit(dir, kafka, s4, legacy, runtime, httpPort, managementPort, jmxPort);
    }

    /** Starts the broker again on its log directory and port, after a test stopped it with {@code kafka.close()}. */
    public void restartKafka() {
        int port = Integer.parseInt(kafka.bootstrapServers().substring(kafka.bootstrapServers().lastIndexOf(':') + 1));
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), port);
    }

    /**
     * Stops the runtime and starts it again on the same configuration: the same store (data directory or database),
     * Kafka, consumer groups and ports, as after an orderly restart of the process.
     */
    public void restartRuntime() throws Exception {
        restartRuntime(() -> { });
    }

    /** As {@link #restartRuntime()}, doing {@code whileStopped} between the stop and the start. */
    public void restartRuntime(Runnable whileStopped) throws Exception {
        Config config = runtime.config();
        runtime.close();
        whileStopped.run();
        runtime = InterchangeRuntime.start(config);
    }

    public HttpResponse<String> postWebhook(byte[] body, String signatureHeader) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/webhooks/billing"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (signatureHeader != null) b.header("Stripe-Signature", signatureHeader);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POSTs a body to a path of the business port with the given headers (a webhook of any system). */
    public HttpResponse<String> post(String path, byte[] body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Signs and sends as the billing platform would. */
    public HttpResponse<String> sendSigned(byte[] body) throws Exception {
        return postWebhook(body, sign(SECRET, Instant.now().getEpochSecond(), body));
    }

    /** GET on the management port with the configured management credentials. */
    public HttpResponse<String> get(String path) throws Exception {
        String basic = java.util.Base64.getEncoder().encodeToString((runtime.config().get(Settings.MANAGEMENT_USER) + ":"
                + runtime.config().get(Settings.MANAGEMENT_PASSWORD)).getBytes(StandardCharsets.UTF_8));
        // HTTP/1.1 as Prometheus speaks it: the client's default first offers an h2c upgrade, and a long answer (the
        // metrics) then came back now and then as bytes the client read as HTTP/2 frames ("Frame type(97) ... exceeds
        // MAX_FRAME_SIZE")
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
                .version(HttpClient.Version.HTTP_1_1)
                .header("Authorization", "Basic " + basic).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Stripe's scheme, computed independently of the runtime's verifier. */
    public static String sign(String secret, long t, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((t + ".").getBytes(StandardCharsets.UTF_8));
        return "t=" + t + ",v1=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    /** Every record on a topic from the beginning, read until {@code quiet} passes without new records. */
    public List<ConsumerRecord<String, byte[]>> readTopic(String topic, Duration quiet) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = reader(kafka.bootstrapServers())) {
            c.subscribe(List.of(topic));
            long idleUntil = System.nanoTime() + quiet.toNanos();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < idleUntil && System.nanoTime() < deadline) {
                var records = c.poll(Duration.ofMillis(200));
                records.forEach(out::add);
                if (!records.isEmpty()) idleUntil = System.nanoTime() + quiet.toNanos();
            }
        }
        return out;
    }

    /** A consumer of its own new group that reads topics from the beginning and commits nothing. */
    public static KafkaConsumer<String, byte[]> reader(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    public static String header(ConsumerRecord<?, ?> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }


    /**
     * Stops the runtime, the peers and Kafka, then deletes the kit's directory (Kafka's log, the store's files): the
     * directory even when something failed to stop, whose failure is then thrown.
     */
    @Override
    public void close() {
        RuntimeException failure = closeAll(List.of(runtime::close, s4::close, legacy::close, kafka::close,
                () -> TempDirs.delete(dir)));
        if (failure != null) throw failure;
    }

    /** Runs every step, in order, whatever fails; the first failure (the others suppressed in it), or null. */
    private static RuntimeException closeAll(List<Runnable> steps) {
        RuntimeException failure = null;
        for (Runnable step : steps) {
            try {
                step.run();
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        return failure;
    }
}
