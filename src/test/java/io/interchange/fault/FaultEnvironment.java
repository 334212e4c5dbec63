package io.interchange.fault;

import io.interchange.testkit.Ports;
import io.interchange.testkit.TempDirs;
import io.interchange.sandbox.EmbeddedKafka;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4HanaPeer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Everything a fault scenario runs against, except the runtime itself: a real single-node Kafka (topic
 * {@value #BILLING_TOPIC} with {@value #PARTITIONS} partitions created up front), the scenario's own PostgreSQL on a
 * fixed data directory and port (so it can be stopped and started again, {@code synchronous_commit=on}), the S/4HANA
 * and legacy ERP peers with the company codes of {@code mappings/legal-entities.csv}, and the runtime processes,
 * each a {@code java -jar interchange.jar} configured through {@code INTERCHANGE_*} environment variables.
 *
 * <p>{@link #close()} kills every runtime process first; a JVM shutdown hook does the same if the test JVM is stopped.
 */
public final class FaultEnvironment implements AutoCloseable {

    static {
        // The peers run on the JDK's HttpServer, which writes headers and body in two segments without TCP_NODELAY:
        // with the client's delayed ACK every other SOAP answer would wait 40 ms, a peer artefact no ERP has.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    public static final String BILLING_TOPIC = "interchange.billing.v1";
    public static final String LEDGER_TOPIC = "interchange.ledger.v1";
    public static final int PARTITIONS = 6;
    public static final String ERP_USER = "INTERCHANGE";
    public static final String STORE_USER = "postgres";
    private static final String DATABASE = "interchange";

    public final String scenario;
    public final Path jar;
    public final Path work;
    public final Path logs;
    public final String webhookSecret = "whsec_fault_" + UUID.randomUUID().toString().replace("-", "");
    public final String erpPassword = "erp-" + UUID.randomUUID();
    public final String managementPassword = "mgmt-" + UUID.randomUUID();
    public final String jmxPassword = "jmx-" + UUID.randomUUID();
    public final String storePassword = "store-" + UUID.randomUUID();
    public final String consumerGroup;

    public final S4HanaPeer s4;
    public final LegacyErpPeer legacy;

    private final Path kafkaDir;
    private final Path pgDir;
    private volatile EmbeddedKafka kafka;
    private int kafkaPort;
    private volatile EmbeddedPostgres postgres;
    private int pgPort;
    private final List<RuntimeProcess> processes = new ArrayList<>();
    private final Thread killer = new Thread(this::killProcesses, "fault-runtime-killer");

    private FaultEnvironment(String scenario) throws IOException {
        this.scenario = scenario;
        this.jar = FaultSettings.jar();
        Path buildDir = jar.toAbsolutePath().getParent();
        this.work = buildDir.resolve("fault-work").resolve(scenario);
        this.logs = buildDir.resolve("fault-logs");
        TempDirs.delete(work);
        Files.createDirectories(work);
        Files.createDirectories(logs);
        this.kafkaDir = work.resolve("kafka");
        this.pgDir = work.resolve("postgres");
        this.consumerGroup = "interchange-fault-" + scenario;
        Map<String, String> s4Codes = new HashMap<>();
        Map<String, String> legacyCodes = new HashMap<>();
        for (String[] row : legalEntities()) {
            // legal_entity,company_code,legacy_company,currency,tax_region,s4_cutover_date
            s4Codes.put(row[1], row[3]);
            legacyCodes.put(row[2], row[3]);
        }
        this.s4 = new S4HanaPeer(0, ERP_USER, erpPassword, s4Codes);
        this.legacy = new LegacyErpPeer(0, ERP_USER, erpPassword, legacyCodes);
        // strict ERPs, as an ERP team may run them: S/4HANA without SAP's UUID idempotency for synchronous services
        // (WSIDPADMIN), refusing a second entry under a reference it holds; a legacy ledger refusing one without
        // naming its document. An entry sent again after a lost answer or a crash is refused, so the runtime must
        // settle unknown outcomes by reading the ledger.
        s4.setIdempotencyWindow(Duration.ZERO);
        s4.setDuplicateReferenceCheck(true);
        legacy.setNamesDuplicateDocument(false);
        Runtime.getRuntime().addShutdownHook(killer);
    }

    /** Starts Kafka (with the billing topic), PostgreSQL (with the store database) and both ERP peers. */
    public static FaultEnvironment start(String scenario) throws Exception {
        FaultEnvironment env = new FaultEnvironment(scenario);
        try {
            env.s4.start();
            env.legacy.start();
            env.startKafka();
            env.createBillingTopic();
            env.startPostgres();
            try (Connection c = DriverManager.getConnection(env.jdbcUrl("postgres"), STORE_USER, env.storePassword);
                 Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + DATABASE);
            }
            return env;
        } catch (Exception | Error e) {
            env.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------------------------------------ Kafka

    /** Starts the broker on the scenario's log directory, on the same port as before if it ran already. */
    public synchronized void startKafka() {
        kafka = EmbeddedKafka.start(kafkaDir, kafkaPort);
        String bootstrap = kafka.bootstrapServers();
        kafkaPort = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    }

    public synchronized void stopKafka() {
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + kafkaPort;
    }

    private void createBillingTopic() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(BILLING_TOPIC, PARTITIONS, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
    }

    private Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    }

    /** The runtime's ledger consumer groups, one per ERP target: {@code <consumer group>.<target>}. */
    public List<String> ledgerGroups() {
        return List.of(consumerGroup + ".s4hana", consumerGroup + ".legacy");
    }

    /**
     * Records not yet committed on the billing topic by the runtime's ledger consumer groups, added up over the
     * groups (-1 if Kafka cannot tell).
     */
    public long consumerLag() {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetSpec> latest = partitions().stream()
                    .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()));
            var ends = admin.listOffsets(latest).all().get(15, TimeUnit.SECONDS);
            long lag = 0;
            for (String group : ledgerGroups()) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(15, TimeUnit.SECONDS);
                for (TopicPartition p : partitions()) {
                    OffsetAndMetadata c = committed.get(p);
                    lag += ends.get(p).offset() - (c == null ? 0 : c.offset());
                }
            }
            return lag;
        } catch (Exception e) {
            return -1;
        }
    }

    /** Members of each ledger consumer group and the billing partitions each holds, by group. */
    public Map<String, Map<String, Set<Integer>>> groupAssignments() {
        Map<String, Map<String, Set<Integer>>> out = new java.util.TreeMap<>();
        for (String group : ledgerGroups()) out.put(group, groupAssignment(group));
        return out;
    }

    /** Members of a consumer group and the billing partitions each holds. */
    public Map<String, Set<Integer>> groupAssignment(String group) {
        try (Admin admin = admin()) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group))
                    .describedGroups().get(group).get(15, TimeUnit.SECONDS);
            Map<String, Set<Integer>> out = new HashMap<>();
            for (MemberDescription m : d.members()) {
                out.put(m.consumerId(), m.assignment().topicPartitions().stream()
                        .filter(tp -> tp.topic().equals(BILLING_TOPIC)).map(TopicPartition::partition)
                        .collect(Collectors.toSet()));
            }
            return out;
        } catch (Exception e) {
            return Map.of();
        }
    }

    private static List<TopicPartition> partitions() {
        return IntStream.range(0, PARTITIONS).mapToObj(i -> new TopicPartition(BILLING_TOPIC, i)).toList();
    }

    /** How many records of the billing topic carry each {@code ce_id}, read from the beginning to the end. */
    public Map<String, Integer> billingRecordsPerEventId() {
        return recordsPerId(BILLING_TOPIC);
    }

    /** How many records of the ledger topic carry each {@code ce_id} (a posting id), from the beginning to the end. */
    public Map<String, Integer> ledgerRecordsPerPostingId() {
        return recordsPerId(LEDGER_TOPIC);
    }

    /** The confirmations the runtime recorded: accounting document by source event id. */
    public Map<String, String> confirmations() throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (Connection c = storeConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT event_id, accounting_document FROM erp_confirmation")) {
            while (rs.next()) out.put(rs.getString(1), rs.getString(2));
        }
        return out;
    }

    private Map<String, Integer> recordsPerId(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        Map<String, Integer> counts = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = topic.equals(BILLING_TOPIC) ? partitions()
                    : c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < ends.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    Header h = r.headers().lastHeader("ce_id");
                    String id = h == null ? "(no ce_id)" : new String(h.value(), StandardCharsets.UTF_8);
                    counts.merge(id, 1, Integer::sum);
                }
            }
        }
        return counts;
    }

    // ------------------------------------------------------------------------------------------------ PostgreSQL

    /** Starts PostgreSQL on the scenario's data directory (created on first start) and fixed port. */
    public synchronized void startPostgres() throws IOException {
        if (pgPort == 0) pgPort = Ports.free();
        postgres = EmbeddedPostgres.builder()
                .setDataDirectory(pgDir)
                .setCleanDataDirectory(false)
                .setPort(pgPort)
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("fsync", "on") // zonky starts with -F; a crash test needs real flushes
                .setRegisterShutdownHook(true)
                .setPGStartupWait(Duration.ofSeconds(30))
                .start();
    }

    /** Stops PostgreSQL ({@code pg_ctl stop -m fast}: clients are disconnected); the data directory stays. */
    public synchronized void stopPostgres() throws IOException {
        if (postgres != null) {
            postgres.close();
            postgres = null;
        }
    }

    public String storeUrl() {
        return jdbcUrl(DATABASE);
    }

    private String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + pgPort + "/" + database;
    }

    /** A connection to the store's database, in the store's schema (interchange.store.schema's default). */
    public Connection storeConnection() throws SQLException {
        Connection c = DriverManager.getConnection(storeUrl(), STORE_USER, storePassword);
        c.setSchema("interchange");
        return c;
    }

    /** One row of the store's dead_letter table. */
    public record DeadLetterRow(long id, String routeId, String status, String idempotencyKey, String kind, String error) {
    }

    public List<DeadLetterRow> deadLetters() throws SQLException {
        List<DeadLetterRow> out = new ArrayList<>();
        try (Connection c = storeConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, route_id, status, idempotency_key, failure_kind, error_message "
                     + "FROM dead_letter ORDER BY id")) {
            while (rs.next()) {
                out.add(new DeadLetterRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6)));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ runtimes

    /**
     * A runtime process (not started) with its own ports and data directory, on this environment's store, Kafka,
     * consumer group and peers, with fast route policies; {@code extraEnv} overrides or adds INTERCHANGE_* keys.
     */
    public synchronized RuntimeProcess runtime(String name, Map<String, String> extraEnv) throws IOException {
        Map<String, String> env = new HashMap<>();
        Path dataDir = work.resolve("runtime-" + name);
        Files.createDirectories(dataDir);
        int httpPort = Ports.free();
        int managementPort = Ports.free();
        int jmxPort = Ports.free();
        env.put("INTERCHANGE_DATA_DIR", dataDir.toString());
        env.put("INTERCHANGE_HTTP_PORT", String.valueOf(httpPort));
        env.put("INTERCHANGE_MANAGEMENT_HOST", "127.0.0.1");
        env.put("INTERCHANGE_MANAGEMENT_PORT", String.valueOf(managementPort));
        env.put("INTERCHANGE_MANAGEMENT_PASSWORD", managementPassword);
        env.put("INTERCHANGE_JMX_PORT", String.valueOf(jmxPort));
        env.put("INTERCHANGE_JMX_PASSWORD", jmxPassword);
        env.put("INTERCHANGE_STORE_URL", storeUrl());
        env.put("INTERCHANGE_STORE_USER", STORE_USER);
        env.put("INTERCHANGE_STORE_PASSWORD", storePassword);
        env.put("INTERCHANGE_KAFKA_BOOTSTRAP_SERVERS", bootstrapServers());
        env.put("INTERCHANGE_KAFKA_CONSUMER_GROUP", consumerGroup);
        env.put("INTERCHANGE_BILLING_WEBHOOK_SECRET", webhookSecret);
        env.put("INTERCHANGE_ERP_S4_URL", s4.endpointUrl());
        env.put("INTERCHANGE_ERP_S4_USER", ERP_USER);
        env.put("INTERCHANGE_ERP_S4_PASSWORD", erpPassword);
        env.put("INTERCHANGE_ERP_S4_TIMEOUT", "PT5S");
        env.put("INTERCHANGE_ERP_LEGACY_URL", legacy.endpointUrl());
        env.put("INTERCHANGE_ERP_LEGACY_USER", ERP_USER);
        env.put("INTERCHANGE_ERP_LEGACY_PASSWORD", erpPassword);
        env.put("INTERCHANGE_ERP_LEGACY_TIMEOUT", "PT5S");
        // the per-instance ERP rate limits (defaults 50/s and 20/s) would make the drain, not the fault, the subject;
        // -Dfault.erp-max-rate=default keeps the defaults
        String maxRate = System.getProperty("fault.erp-max-rate", "1000");
        if (!maxRate.equals("default")) {
            env.put("INTERCHANGE_ERP_S4_MAX_RATE", maxRate);
            env.put("INTERCHANGE_ERP_LEGACY_MAX_RATE", maxRate);
        }
        // fast route policy: transient failures retried quickly and for long enough to outlast the injected faults
        env.put("INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_MAX_ATTEMPTS", "200");
        env.put("INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_INITIAL_DELAY", "PT0.2S");
        env.put("INTERCHANGE_ROUTE_BILLING_LEDGER_POSTING_MAX_DELAY", "PT2S");
        env.put("INTERCHANGE_IDEMPOTENCY_LEASE", "PT5S");
        env.putAll(extraEnv);
        Path log = logs.resolve(scenario + "-" + name + ".log");
        Files.deleteIfExists(log);
        RuntimeProcess p = new RuntimeProcess(name, jar, dataDir, log, env,
                httpPort, managementPort, jmxPort, managementPassword);
        processes.add(p);
        return p;
    }

    public synchronized List<RuntimeProcess> processes() {
        return List.copyOf(processes);
    }

    /** Lines of every runtime log of this environment that contain {@code needle}, at most {@code limit}. */
    public List<String> grepLogs(String needle, int limit) {
        List<String> out = new ArrayList<>();
        for (RuntimeProcess p : processes()) {
            p.forEachLogLine(line -> {
                if (line.contains(needle) && out.size() < limit) out.add(p.name + ": " + line);
            });
        }
        return out;
    }

    private void killProcesses() {
        for (RuntimeProcess p : processes()) {
            p.kill9Quietly();
        }
    }

    @Override
    public void close() {
        killProcesses();
        try {
            Runtime.getRuntime().removeShutdownHook(killer);
        } catch (IllegalStateException ignored) {
            // the JVM is shutting down; the hook runs anyway
        }
        quietly(s4::close);
        quietly(legacy::close);
        quietly(this::stopKafka);
        quietly(this::stopPostgres);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private interface Step {
        void run() throws Exception;
    }

    private static void quietly(Step step) {
        try {
            step.run();
        } catch (Exception e) {
            System.err.println("fault environment: " + e);
        }
    }

    /** Rows of mappings/legal-entities.csv (comments and header skipped). */
    static List<String[]> legalEntities() throws IOException {
        try (InputStream in = FaultEnvironment.class.getClassLoader().getResourceAsStream("mappings/legal-entities.csv")) {
            List<String> lines;
            if (in != null) {
                lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
            } else {
                lines = Files.readAllLines(Path.of("mappings", "legal-entities.csv"));
            }
            return lines.stream().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#") && !l.startsWith("legal_entity,"))
                    .map(l -> l.split(",", -1)).toList();
        }
    }
}
