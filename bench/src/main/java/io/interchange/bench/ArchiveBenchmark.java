package io.interchange.bench;

import io.interchange.archive.ArchiveLayout;
import io.interchange.archive.EventArchiver;
import io.interchange.archive.LocalDirectorySink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.DefaultKafkaManualSyncCommit;
import org.apache.camel.component.kafka.consumer.KafkaManualCommitFactory;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The raw event archive's throughput: one op is a batch of {@value #BATCH} canonical billing events (CloudEvents
 * headers, about 1 KB of JSON data each) handed to {@link EventArchiver} as Camel's batching Kafka consumer hands
 * them (exchanges with Kafka headers and a manual-commit header over a {@link MockConsumer}, so no broker is
 * measured), written to a {@link LocalDirectorySink} in files of {@value #FILE_RECORDS} events (each closed file
 * fsynced, renamed, its directory fsynced; the offset committed).
 *
 * <p>Baseline: the same line bytes (the archiver's own output, read back in {@code @Setup}) through a
 * {@link GZIPOutputStream} over a {@link FileOutputStream}, rotated every {@value #FILE_RECORDS} lines, no fsync.
 * Diagnostics: the baseline with an fsync per closed file (the durability the archive pays for), and the archive
 * caught up after every batch (its open file then written after each one, as when it keeps up with live traffic).
 * MB/s = ops/s x {@value #BATCH} x the line size the setup prints.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class ArchiveBenchmark {

    static final int BATCH = 1000;
    static final int FILE_RECORDS = 10_000;
    static final String TOPIC = "interchange.billing.v1";
    static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    static final long TIMESTAMP = Instant.parse("2026-11-22T10:00:00Z").toEpochMilli();

    private CamelContext camel;
    private Path dir;
    private Archive backlog;
    private Archive caughtUp;
    private byte[][] lines;
    private long plainLines;
    private OutputStream plain;
    private FileOutputStream plainFile;
    private int plainFiles;

    /** One archiver over its own consumer and directory, fed batches at ever higher offsets. */
    final class Archive {
        final MockConsumer<Object, Object> consumer = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        final EventArchiver archiver;
        final Exchange batch;
        final List<Exchange> records = new ArrayList<>(BATCH);
        final Path root;
        final boolean alwaysCaughtUp;
        long next;

        Archive(String name, boolean alwaysCaughtUp) throws IOException {
            this.alwaysCaughtUp = alwaysCaughtUp;
            root = Files.createDirectories(dir.resolve(name));
            consumer.assign(List.of(TP));
            consumer.updateBeginningOffsets(Map.of(TP, 0L));
            consumer.updateEndOffsets(Map.of(TP, alwaysCaughtUp ? 0L : Long.MAX_VALUE / 2));
            archiver = new EventArchiver(new ArchiveLayout("events", List.of(TOPIC)), new LocalDirectorySink(root),
                    FILE_RECORDS, true, new SimpleMeterRegistry());
            for (int i = 0; i < BATCH; i++) records.add(record(i));
            batch = new DefaultExchange(camel);
            batch.getMessage().setBody(records);
        }

        private Exchange record(int n) {
            Exchange e = new DefaultExchange(camel);
            var m = e.getMessage();
            m.setHeader(KafkaConstants.TOPIC, TOPIC);
            m.setHeader(KafkaConstants.PARTITION, 0);
            m.setHeader(KafkaConstants.TIMESTAMP, TIMESTAMP + n);
            m.setHeader(KafkaConstants.KEY, "cus_" + (n % 97));
            m.setHeader(KafkaConstants.MANUAL_COMMIT, new DefaultKafkaManualSyncCommit(
                    new KafkaManualCommitFactory.CamelExchangePayload(e, consumer, "bench", null),
                    new KafkaManualCommitFactory.KafkaRecordPayload(TP, n, 10_000), null));
            m.setHeader("ce_specversion", "1.0");
            m.setHeader("ce_id", UUID.nameUUIDFromBytes(("evt" + n).getBytes(StandardCharsets.UTF_8)).toString());
            m.setHeader("ce_source", "/billing/stripe");
            m.setHeader("ce_type", "io.interchange.billing.invoice.finalized");
            m.setHeader("ce_subject", "cus_" + (n % 97));
            m.setHeader("ce_time", Instant.ofEpochMilli(TIMESTAMP + n).toString());
            m.setHeader("ce_dataschema", "urn:interchange:canonical:invoice:1");
            m.setHeader("ce_legalentity", n % 2 == 0 ? "DE01" : "GB01");
            m.setHeader("ce_correlationid", UUID.nameUUIDFromBytes(("cor" + n).getBytes(StandardCharsets.UTF_8)).toString());
            m.setHeader("content-type", "application/json");
            m.setBody(invoice(n));
            return e;
        }

        /** One batch: the same records at the next offsets (only the offset header changes). */
        void process() {
            for (int i = 0; i < BATCH; i++) records.get(i).getMessage().setHeader(KafkaConstants.OFFSET, next + i);
            next += BATCH;
            if (alwaysCaughtUp) consumer.updateEndOffsets(Map.of(TP, next));
            archiver.process(batch);
        }
    }

    /** A canonical invoice of about 1 KB, as the billing flow publishes it. */
    static byte[] invoice(int n) {
        StringBuilder lines = new StringBuilder();
        for (int l = 0; l < 3; l++) {
            lines.append(l == 0 ? "" : ",").append("{\"description\":\"Subscription seat ").append(l)
                    .append(" (monthly)\",\"quantity\":").append(1 + (n + l) % 5).append(",\"unitAmount\":")
                    .append(1000 + (n * 7 + l) % 9000).append(",\"taxes\":[{\"rate\":\"19.00\",\"amount\":")
                    .append(190 + l).append(",\"inclusive\":false}]}");
        }
        String json = "{\"invoiceId\":\"in_1Q" + Integer.toHexString(n * 2654435) + "\",\"number\":\"ACME-2026-"
                + String.format("%05d", n) + "\",\"customer\":{\"globalId\":\"cus_" + (n % 97)
                + "\",\"billingId\":\"cus_Q" + (n % 97) + "\"},\"currency\":\"EUR\",\"status\":\"open\","
                + "\"issuedAt\":\"2026-11-22T10:00:00Z\",\"dueAt\":\"2026-12-22T10:00:00Z\",\"lines\":[" + lines
                + "],\"subtotal\":" + (n * 31 % 50000) + ",\"taxTotal\":" + (n * 7 % 9000) + ",\"total\":"
                + (n * 38 % 59000) + ",\"livemode\":false}";
        return json.getBytes(StandardCharsets.UTF_8);
    }

    @Setup(Level.Iteration)
    public void setUp() throws IOException {
        camel = new DefaultCamelContext();
        dir = Files.createTempDirectory("archive-bench");
        // the baseline's lines are the archive's own: one batch archived in files of one batch, read back
        Archive once = new Archive("lines", false);
        EventArchiver oneFile = new EventArchiver(new ArchiveLayout("events", List.of(TOPIC)),
                new LocalDirectorySink(once.root), BATCH, true, new SimpleMeterRegistry());
        for (int i = 0; i < BATCH; i++) once.records.get(i).getMessage().setHeader(KafkaConstants.OFFSET, (long) i);
        oneFile.process(once.batch);
        List<byte[]> read = new ArrayList<>();
        long bytes = 0;
        try (Stream<Path> files = Files.walk(once.root)) {
            Path file = files.filter(p -> p.toString().endsWith(".jsonl.gz")).findFirst().orElseThrow();
            try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                for (int c; (c = in.read()) >= 0; ) {
                    line.write(c);
                    if (c == '\n') {
                        read.add(line.toByteArray());
                        bytes += line.size();
                        line.reset();
                    }
                }
            }
        }
        if (read.size() != BATCH) throw new IllegalStateException("the archive wrote " + read.size() + " lines, not " + BATCH);
        lines = read.toArray(new byte[0][]);
        System.out.printf("%n[archive bench] %d lines of %d bytes on average (uncompressed), %d per op%n", BATCH,
                bytes / BATCH, bytes);
        backlog = new Archive("backlog", false);
        caughtUp = new Archive("caught-up", true);
        plainLines = 0;
        plainFiles = 0;
    }

    @TearDown(Level.Iteration)
    public void tearDown() throws Exception {
        // not measured doing nothing: the closed files (and, caught up, the open one) hold every event processed
        check("archive_ours", archivedEvents(backlog.root), backlog.next / FILE_RECORDS * FILE_RECORDS);
        check("archive_oursCaughtUpEveryBatch", archivedEvents(caughtUp.root), caughtUp.next);
        backlog.archiver.close();
        caughtUp.archiver.close();
        if (plain != null) plain.close();
        plain = null;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
        camel.close();
    }

    @Benchmark
    public void archive_ours() {
        backlog.process();
    }

    @Benchmark
    public void archive_oursCaughtUpEveryBatch() {
        caughtUp.process();
    }

    @Benchmark
    public void archive_plainGzip() throws IOException {
        plainBatch(false);
    }

    @Benchmark
    public void archive_plainGzipFsync() throws IOException {
        plainBatch(true);
    }

    private void plainBatch(boolean fsync) throws IOException {
        for (byte[] line : lines) {
            if (plain == null) {
                plainFile = new FileOutputStream(dir.resolve("plain-" + plainFiles++ + ".jsonl.gz").toFile());
                plain = new GZIPOutputStream(new BufferedOutputStream(plainFile, 64 * 1024), 64 * 1024);
            }
            plain.write(line);
            if (++plainLines % FILE_RECORDS == 0) {
                if (fsync) {
                    ((GZIPOutputStream) plain).finish();
                    plain.flush();
                    plainFile.getFD().sync();
                }
                plain.close();
                plain = null;
            }
        }
    }

    private static void check(String benchmark, long archived, long expected) {
        if (archived != expected) {
            throw new IllegalStateException(benchmark + ": the archive holds " + archived + " events, not " + expected);
        }
    }

    /** Events (lines) in the archive's files. */
    static long archivedEvents(Path root) throws IOException {
        long n = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl.gz")).toList()) {
                try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
                    for (byte b : in.readAllBytes()) if (b == '\n') n++;
                }
            }
        }
        return n;
    }
}
