package io.interchange.archive;

import io.interchange.testkit.TempDirs;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.routes.EventArchiveRoute;
import io.interchange.sandbox.EmbeddedKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The raw event archive on a real embedded Kafka: every event once, in the right partition folders and files; the
 * same after a crash at any point of a file's life; the same objects in an S3-compatible store (an in-process peer);
 * records that are not canonical events archived with a note.
 */
class EventArchiveTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String BILLING = "interchange.billing.v1";
    static final String LEDGER = "interchange.ledger.v1";
    static final int FILE_RECORDS = 10;
    /**
     * Bound of every wait: 60 events are archived in well under a second once the consumer has joined its group
     * (about 3 s on a new group); the margin is for a loaded machine.
     */
    static final Duration WAIT = Duration.ofSeconds(20);
    /**
     * Two UTC days, so files close on a date change too: the last minute of yesterday and the first of today (recent,
     * or the broker's 7-day retention deletes the records while the test runs).
     */
    static final Instant TODAY = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.DAYS);
    static final Instant DAY1 = TODAY.minusSeconds(60);
    static final Instant DAY2 = TODAY.plusSeconds(Math.min(30, Math.max(0, Instant.now().getEpochSecond() - TODAY.getEpochSecond() - 5)));

    static Path dir;
    static EmbeddedKafka kafka;
    /** Every published record: ce_id to its data. */
    static final Map<String, JsonNode> published = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        dir = TempDirs.untilExit("archive-test");
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(BILLING, 2, (short) 1), new NewTopic(LEDGER, 2, (short) 1)))
                    .all().get();
        }
        // 43 billing events (on day 1, then day 2) and 17 ledger confirmations, over two partitions each
        try (KafkaProducer<String, byte[]> p = producer()) {
            for (int i = 0; i < 43; i++) send(p, BILLING, i % 2, i < 20 ? DAY1 : DAY2, "io.interchange.billing.invoice.finalized", i);
            for (int i = 0; i < 17; i++) send(p, LEDGER, i % 2, DAY2, "io.interchange.ledger.posted", i);
            p.flush();
        }
    }

    @AfterAll
    static void stop() {
        if (kafka != null) kafka.close();
    }

    static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    static void send(KafkaProducer<String, byte[]> p, String topic, int partition, Instant time, String type, int n)
            throws Exception {
        String id = UUID.randomUUID().toString();
        String data = "{\n  \"invoiceId\": \"in_" + n + "\", \"amount\": " + (n * 100 + 7) + ", \"lines\": [1, 2]\n}";
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, partition, time.toEpochMilli() + n,
                "cust-" + n, data.getBytes(StandardCharsets.UTF_8));
        r.headers().add("ce_specversion", b("1.0")).add("ce_id", b(id)).add("ce_source", b("/billing/stripe"))
                .add("ce_type", b(type)).add("ce_subject", b("cust-" + n)).add("ce_time", b(time.toString()))
                .add("ce_dataschema", b("urn:interchange:canonical:invoice:1")).add("ce_legalentity", b("DE01"))
                .add("ce_livemode", b("false")).add("content-type", b("application/json"));
        p.send(r).get();
        published.put(id, JSON.readTree(data));
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------------------------------------ the tests

    @Test
    void everyPublishedEventIsArchivedOnceInItsPartitionFolderAndFile() throws Exception {
        Path root = Files.createTempDirectory(dir, "archive");
        try (Archive a = Archive.start(new LocalDirectorySink(root), "g-" + UUID.randomUUID(), true)) {
            await().atMost(WAIT).until(() -> ids(readLocal(root)).size() == published.size());
        }
        Map<String, List<JsonNode>> files = readLocal(root);
        assertArchiveHoldsEveryEventOnce(files);
        // the events as published: CloudEvents attributes, the canonical data, the Kafka coordinates
        JsonNode line = files.values().iterator().next().get(0);
        assertThat(line.path("specversion").asText()).isEqualTo("1.0");
        assertThat(line.path("source").asText()).isEqualTo("/billing/stripe");
        assertThat(line.path("datacontenttype").asText()).isEqualTo("application/json");
        assertThat(line.path("livemode").isBoolean()).isTrue();
        assertThat(line.path("legalentity").asText()).isEqualTo("DE01");
        for (List<JsonNode> lines : files.values()) {
            for (JsonNode l : lines) assertThat(l.get("data")).isEqualTo(published.get(l.get("id").asText()));
        }
        // read again by a new group into a new directory: the same files with the same events
        Path again = Files.createTempDirectory(dir, "archive-again");
        try (Archive a = Archive.start(new LocalDirectorySink(again), "g-" + UUID.randomUUID(), false)) {
            // without open-file writes only closed files appear: wait for every file that can close
            await().atMost(WAIT).until(() -> readLocal(again).size() >= closedFileCount(files));
        }
        Map<String, List<JsonNode>> second = readLocal(again);
        second.forEach((name, lines) -> assertThat(lines).as(name).isEqualTo(files.get(name)));
    }

    /** Files that are complete in {@code files}: those followed by another file of their partition. */
    static long closedFileCount(Map<String, List<JsonNode>> files) {
        Map<String, Integer> perPartition = new HashMap<>();
        for (List<JsonNode> lines : files.values()) {
            perPartition.merge(lines.get(0).get("kafkatopic").asText() + "/" + lines.get(0).get("kafkapartition").asInt(),
                    1, Integer::sum);
        }
        return perPartition.values().stream().mapToInt(n -> n - 1).sum();
    }

    /**
     * A crash of the archiver at its k-th write: with the file written whole but its offset not committed, or with
     * only a half-written temporary file left. From the crash point on nothing more reaches the disk or Kafka (every
     * write fails, so no offset is committed either), then the instance stops. A new archiver on the same group and
     * directory must leave every event in the archive exactly once.
     *
     * <p>The crash is an {@link IOException} the archiver sees as a failed write, not an {@link Error}: an Error
     * escapes Camel's consumer thread and kills it while its Kafka heartbeat thread lives on, so the group would keep
     * the dead member for max.poll.interval.ms (5 minutes), where a crashed process's consumer is gone after its
     * session timeout. What the crash leaves behind is checked: the crashed write's file (whole or half) holds
     * offsets its partition has not committed, so the restart must read them again.
     */
    @ParameterizedTest(name = "crash at write {0}, file {1}")
    @CsvSource({"1,written", "2,written", "3,half", "4,written", "6,half", "7,written"})
    void afterACrashAtAnyWriteTheArchiveHoldsEveryEventExactlyOnce(int crashAt, String mode) throws Exception {
        Path root = Files.createTempDirectory(dir, "crash");
        String group = "g-" + UUID.randomUUID();
        CrashingSink crashing = new CrashingSink(new LocalDirectorySink(root), crashAt, mode.equals("half"));
        try (Archive a = Archive.start(crashing, group, true)) {
            await().atMost(WAIT).untilTrue(crashing.crashed);
        }
        // the crash fell mid-file: the file being written starts at its partition's committed offset, so its events
        // (those of a file renamed into place, or of a half-written temporary one) are not committed as archived
        org.slf4j.LoggerFactory.getLogger(EventArchiveTest.class).info("Crash at write {} ({}): {}", crashAt, mode,
                crashing.crashKey);
        Matcher key = CRASH_KEY.matcher(crashing.crashKey);
        assertThat(key.matches()).as(crashing.crashKey).isTrue();
        String topic = key.group(1).equals("billing") ? BILLING : LEDGER;
        assertThat(committed(group, new TopicPartition(topic, Integer.parseInt(key.group(2)))))
                .as("committed offset of the partition of %s", crashing.crashKey).isEqualTo(Long.parseLong(key.group(3)));
        if (mode.equals("written")) assertThat(root.resolve(crashing.crashKey)).exists();
        try (Archive a = Archive.start(new LocalDirectorySink(root), group, true)) {
            await().atMost(WAIT).until(() -> ids(readLocal(root)).size() == published.size());
        }
        assertArchiveHoldsEveryEventOnce(readLocal(root));
        if (mode.equals("half")) {
            try (Stream<Path> all = Files.walk(root)) {
                // what a crash mid-write leaves: a hidden temporary file, which no reader's *.jsonl.gz glob matches
                assertThat(all.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()).isNotEmpty();
            }
        }
    }

    @Test
    void theS3SinkWritesTheSameObjectsToAnS3CompatibleStore() throws Exception {
        try (MiniS3 s3 = new MiniS3();
             S3Client client = S3Client.builder().endpointOverride(URI.create(s3.endpoint())).region(Region.US_EAST_1)
                     .forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(
                             AwsBasicCredentials.create("archive-key", "archive-secret"))).build()) {
            client.createBucket(c -> c.bucket("lake"));
            Path local = Files.createTempDirectory(dir, "beside-s3");
            try (Archive viaS3 = Archive.start(null, "g-" + UUID.randomUUID(), true, context -> new S3Sink(
                    context.createProducerTemplate(), "lake", s3.endpoint(), "us-east-1", "archive-key", "archive-secret"));
                 Archive viaDisk = Archive.start(new LocalDirectorySink(local), "g-" + UUID.randomUUID(), true)) {
                await().atMost(WAIT).until(() -> ids(readS3(client)).size() == published.size()
                        && ids(readLocal(local)).size() == published.size());
            }
            // read back through the S3 API (ListObjectsV2, GetObject): the same keys and events as on disk
            Map<String, List<JsonNode>> objects = readS3(client);
            assertArchiveHoldsEveryEventOnce(objects);
            assertThat(objects).isEqualTo(readLocal(local));
        }
    }

    @Test
    void aRecordThatIsNotACanonicalEventIsArchivedWithANoteNeverDropped() throws Exception {
        String topic = "interchange.consent.v1";
        try (KafkaProducer<String, byte[]> p = producer()) {
            p.send(new ProducerRecord<>(topic, 0, DAY2.toEpochMilli(), "k", b("not json at all"))).get();
            ProducerRecord<String, byte[]> noId = new ProducerRecord<>(topic, 0, DAY2.toEpochMilli(), "k", b("{\"a\":1}"));
            noId.headers().add("ce_type", b("io.interchange.consent.given"));
            p.send(noId).get();
        }
        Path root = Files.createTempDirectory(dir, "odd");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (Archive a = Archive.start(new LocalDirectorySink(root), "g-" + UUID.randomUUID(), true, List.of(topic),
                meters, null)) {
            await().atMost(WAIT).until(() -> readLocal(root).values().stream().mapToInt(List::size).sum() == 2);
        }
        Map<String, List<JsonNode>> files = readLocal(root);
        assertThat(files).containsOnlyKeys("events/domain=consent/date=" + ArchiveLayout.date(DAY2.toEpochMilli()) + "/consent+0+0.jsonl.gz");
        List<JsonNode> lines = files.values().iterator().next();
        assertThat(lines.get(0).get("data_base64").binaryValue()).isEqualTo(b("not json at all"));
        assertThat(lines.get(0).get("archivenote").asText()).contains("no ce_id").contains("data_base64");
        assertThat(lines.get(1).get("data")).isEqualTo(JSON.readTree("{\"a\":1}"));
        assertThat(lines.get(1).get("type").asText()).isEqualTo("io.interchange.consent.given");
        assertThat(lines.get(1).get("archivenote").asText()).isEqualTo(EventLine.NO_ID);
        assertThat(meters.get("interchange_archive_not_canonical_total").tag("domain", "consent").counter().count())
                .isEqualTo(2.0);
    }

    // ------------------------------------------------------------------------------------------------ checks

    /** Every published event once; each file in its domain and date folder, named by its partition and first offset. */
    static void assertArchiveHoldsEveryEventOnce(Map<String, List<JsonNode>> files) {
        Map<String, Integer> counts = new TreeMap<>();
        for (Map.Entry<String, List<JsonNode>> f : files.entrySet()) {
            List<JsonNode> lines = f.getValue();
            assertThat(lines).as(f.getKey()).isNotEmpty().hasSizeLessThanOrEqualTo(FILE_RECORDS);
            JsonNode first = lines.get(0);
            String topic = first.get("kafkatopic").asText();
            String domain = topic.equals(BILLING) ? "billing" : "ledger";
            String date = first.get("kafkatimestamp").asText().substring(0, 10);
            int partition = first.get("kafkapartition").asInt();
            assertThat(f.getKey()).isEqualTo("events/domain=" + domain + "/date=" + date + "/" + domain + "+"
                    + partition + "+" + first.get("kafkaoffset").asLong() + ".jsonl.gz");
            for (int i = 0; i < lines.size(); i++) {
                JsonNode l = lines.get(i);
                assertThat(l.get("kafkatopic").asText()).isEqualTo(topic);
                assertThat(l.get("kafkapartition").asInt()).isEqualTo(partition);
                assertThat(l.get("kafkaoffset").asLong()).isEqualTo(first.get("kafkaoffset").asLong() + i);
                assertThat(l.get("kafkatimestamp").asText()).startsWith(date);
                counts.merge(l.get("id").asText(), 1, Integer::sum);
            }
        }
        assertThat(counts.keySet()).isEqualTo(published.keySet());
        assertThat(counts.values()).allMatch(n -> n == 1);
    }

    static final Pattern CRASH_KEY = Pattern.compile("events/domain=\\w+/date=[0-9-]+/(\\w+)\\+(\\d+)\\+(\\d+)\\.jsonl\\.gz");

    /** The offset the archive's group has committed for a partition (-1: none). */
    static long committed(String group, TopicPartition tp) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            OffsetAndMetadata o = admin.listConsumerGroupOffsets(EventArchiveRoute.consumerGroup(group))
                    .partitionsToOffsetAndMetadata().get().get(tp);
            return o == null ? -1 : o.offset();
        }
    }

    static List<String> ids(Map<String, List<JsonNode>> files) {
        List<String> ids = new ArrayList<>();
        files.values().forEach(lines -> lines.forEach(l -> ids.add(l.path("id").asText())));
        return ids;
    }

    /** Every *.jsonl.gz under the root (as a reader's glob finds them), by key, as parsed lines. */
    static Map<String, List<JsonNode>> readLocal(Path root) throws IOException {
        Map<String, List<JsonNode>> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.filter(p -> p.getFileName().toString().endsWith(".jsonl.gz")
                    && !p.getFileName().toString().startsWith(".")).toList()) {
                out.put(root.relativize(p).toString().replace('\\', '/'), lines(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    static Map<String, List<JsonNode>> readS3(S3Client client) throws IOException {
        Map<String, List<JsonNode>> out = new TreeMap<>();
        for (S3Object o : client.listObjectsV2Paginator(r -> r.bucket("lake")).contents()) {
            out.put(o.key(), lines(client.getObjectAsBytes(r -> r.bucket("lake").key(o.key())).asByteArray()));
        }
        return out;
    }

    static List<JsonNode> lines(byte[] gzip) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(text).endsWith("\n");
            for (String line : text.split("\n")) out.add(JSON.readTree(line));
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ harness

    /** Thrown at and after the crash point: every write from there on fails, so nothing more is written or committed. */
    static final class Crash extends IOException {
        Crash() {
            super("simulated crash");
        }
    }

    /** Writes through to a sink until its k-th write, which it makes whole or half, then crashes on every write. */
    static final class CrashingSink implements ArchiveSink {
        final LocalDirectorySink delegate;
        final int crashAt;
        final boolean half;
        final AtomicInteger writes = new AtomicInteger();
        final AtomicBoolean crashed = new AtomicBoolean();
        volatile String crashKey;

        CrashingSink(LocalDirectorySink delegate, int crashAt, boolean half) {
            this.delegate = delegate;
            this.crashAt = crashAt;
            this.half = half;
        }

        @Override
        public synchronized void put(String key, byte[] content) throws IOException {
            if (crashed.get()) throw new Crash();
            if (writes.incrementAndGet() == crashAt) {
                if (half) {
                    // the process dies in the middle of writing the temporary file: half of it is on disk
                    Path target = delegate.root().resolve(key);
                    Files.createDirectories(target.getParent());
                    Files.write(target.getParent().resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp"),
                            java.util.Arrays.copyOf(content, content.length / 2));
                } else {
                    delegate.put(key, content); // renamed into place; dies before the offset is committed
                }
                crashKey = key;
                crashed.set(true);
                throw new Crash();
            }
            delegate.put(key, content);
        }

        @Override
        public String describe() {
            return "crashing " + delegate.describe();
        }
    }

    /** The archive route alone in a Camel context of its own, as the runtime's archive flow runs it. */
    static final class Archive implements AutoCloseable {
        final CamelContext context;

        private Archive(CamelContext context) {
            this.context = context;
        }

        static Archive start(ArchiveSink sink, String group, boolean writeOpen) throws Exception {
            return start(sink, group, writeOpen, List.of(BILLING, LEDGER), new SimpleMeterRegistry(), null);
        }

        static Archive start(ArchiveSink sink, String group, boolean writeOpen,
                             java.util.function.Function<CamelContext, ArchiveSink> lateSink) throws Exception {
            return start(sink, group, writeOpen, List.of(BILLING, LEDGER), new SimpleMeterRegistry(), lateSink);
        }

        static Archive start(ArchiveSink sink, String group, boolean writeOpen, List<String> topics,
                             SimpleMeterRegistry meters, java.util.function.Function<CamelContext, ArchiveSink> lateSink)
                throws Exception {
            CamelContext context = new DefaultCamelContext();
            KafkaComponent kafkaComponent = new KafkaComponent();
            kafkaComponent.getConfiguration().setBrokers(kafka.bootstrapServers());
            context.addComponent("kafka", kafkaComponent);
            ArchiveSink s = lateSink != null ? lateSink.apply(context) : sink;
            EventArchiver archiver = new EventArchiver(new ArchiveLayout("events", topics), s, FILE_RECORDS, writeOpen,
                    meters);
            // small polls (7 records) so that files span polls and a crash can fall between any two writes
            context.addRoutes(new EventArchiveRoute(archiver, topics, group, 7, 1));
            context.start();
            return new Archive(context);
        }

        @Override
        public void close() {
            context.getShutdownStrategy().setTimeout(5);
            context.stop();
        }
    }
}
