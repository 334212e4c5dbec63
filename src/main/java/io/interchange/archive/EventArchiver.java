package io.interchange.archive;

import io.interchange.connectors.kafka.KafkaBatches;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.DefaultKafkaManualCommit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The raw event archive: a poll's records of the canonical topics, per Kafka partition, into gzip JSON-lines files
 * ({@link EventLine}, {@link GzipLines}) named by partition and first offset ({@link ArchiveLayout}), written through
 * an {@link ArchiveSink}, each event exactly once.
 *
 * <p>Exactly once rests on three rules, all of them about offsets, none about time:
 * <ol>
 * <li><b>A file's end is decided by its records only</b>: it closes after {@code fileRecords} records, or before a
 * record whose date (record timestamp, UTC) differs from the file's. So reading the same offsets again gives the same
 * files, whatever the polls looked like.</li>
 * <li><b>The committed offset of a partition is always the first offset of its next file</b>: it moves, after the
 * sink has durably written a closed file, to the offset after it; an open file's records stay uncommitted however
 * often it is written (rule 3).</li>
 * <li><b>A file starts only at the committed offset</b>, asked of the broker whenever this consumer has no open file
 * for the partition: a record below it is in a closed file already and is skipped; a record above it (records in
 * between not seen, e.g. after a failed write) makes the consumer seek back to it.</li>
 * </ol>
 * So after a crash at any point (mid-file, after a file was written but not committed, after a rotation whose next
 * file was half written) the partition is read again from its committed offset, the same files are made again and
 * replace what was written (same names, same records), and no record is in two files: a file's name is its first
 * offset and every file starts where a committed or rule-1 boundary is.
 *
 * <p>An open file is also written, under its final name, at the end of a batch after which it holds every record its
 * partition has (its next offset is the partition's end offset, asked of the broker), unless {@code writeOpen} is off:
 * events are then in the archive within a batch, and the file is rewritten with more of them until it closes. During
 * a backlog it is not written until the archive has caught up with it. Before such a write the broker is asked whether the partition's
 * committed offset is still the file's first: if another consumer has moved it (this one lost the partition without
 * noticing yet), the file is given up rather than written over a longer one.
 *
 * <p>Runs on the Kafka consumer's thread (Camel's batching consumer calls it inside its poll loop), which is what
 * makes the consumer's {@code committed}, {@code seek} and {@code commitSync} safe to call here. Camel's commit of a
 * batch is not used: it commits after the batch's last record, and the archive commits file boundaries.
 */
public final class EventArchiver {

    private static final Logger LOG = LoggerFactory.getLogger(EventArchiver.class);
    private static final Duration BROKER_TIMEOUT = Duration.ofSeconds(10);

    private final ArchiveLayout layout;
    private final ArchiveSink sink;
    private final int fileRecords;
    private final boolean writeOpen;
    private final Map<TopicPartition, OpenFile> open = new ConcurrentHashMap<>();
    private final MeterRegistry meters;
    private final AtomicLong openEvents = new AtomicLong();
    private final Counter failures;

    public EventArchiver(ArchiveLayout layout, ArchiveSink sink, int fileRecords, boolean writeOpen, MeterRegistry meters) {
        if (fileRecords < 1) throw new IllegalArgumentException("file-records must be at least 1");
        this.layout = layout;
        this.sink = sink;
        this.fileRecords = fileRecords;
        this.writeOpen = writeOpen;
        this.meters = meters;
        meters.gauge("interchange_archive_open_events", openEvents);
        this.failures = Counter.builder("interchange_archive_failures_total")
                .description("Archive batches whose write or commit failed; their partitions are read again").register(meters);
    }

    public ArchiveSink sink() {
        return sink;
    }

    /** A poll's records (Camel's batching consumer: a list of exchanges). */
    public void process(Exchange batch) {
        List<?> polled = batch.getMessage().getBody(List.class);
        if (polled == null || polled.isEmpty()) return;
        Map<TopicPartition, List<Exchange>> byPartition = new LinkedHashMap<>();
        Map<TopicPartition, Consumer<?, ?>> consumers = new LinkedHashMap<>();
        for (Exchange r : KafkaBatches.stillOwned(polled)) {
            Message m = r.getMessage();
            TopicPartition tp = new TopicPartition(m.getHeader(KafkaConstants.TOPIC, String.class),
                    m.getHeader(KafkaConstants.PARTITION, Integer.class));
            byPartition.computeIfAbsent(tp, k -> new ArrayList<>()).add(r);
            if (m.getHeader(KafkaConstants.MANUAL_COMMIT) instanceof DefaultKafkaManualCommit c) {
                consumers.putIfAbsent(tp, c.getConsumer());
            }
        }
        for (Map.Entry<TopicPartition, List<Exchange>> e : byPartition.entrySet()) {
            TopicPartition tp = e.getKey();
            Consumer<?, ?> consumer = consumers.get(tp);
            if (consumer == null) {
                throw new IllegalStateException("no Kafka consumer on the archive's records: the route must run with "
                        + "allowManualCommit=true and autoCommitEnable=false");
            }
            try {
                partition(tp, consumer, e.getValue());
            } catch (Exception ex) {
                failed(tp, consumer, ex);
            }
        }
        if (writeOpen) writeCaughtUpOpenFiles(consumers);
    }

    /**
     * Writes the open file of each partition of the batch that holds every record the partition has (its next offset
     * is the partition's end offset, asked of the broker). The batch that delivers a partition's last record always
     * sees this, so the newest events reach the archive within a batch, also when the partition then goes quiet (the
     * batching consumer never calls back without records). A partition with more records behind its open file gets a
     * later batch, which asks again. The consumer's own lag is not used: it is only known after a fetch, and the
     * client takes every offset look-up ({@link #start}'s {@code beginningOffsets}) for the partition's high
     * watermark, so it reads negative until the next fetch.
     */
    private void writeCaughtUpOpenFiles(Map<TopicPartition, Consumer<?, ?>> consumers) {
        Map<Consumer<?, ?>, Set<TopicPartition>> withOpenFile = new java.util.IdentityHashMap<>();
        consumers.forEach((tp, consumer) -> {
            OpenFile f = open.get(tp);
            if (f != null && f.consumer == consumer) withOpenFile.computeIfAbsent(consumer, c -> new java.util.HashSet<>()).add(tp);
        });
        for (Map.Entry<Consumer<?, ?>, Set<TopicPartition>> c : withOpenFile.entrySet()) {
            Consumer<?, ?> consumer = c.getKey();
            Map<TopicPartition, Long> ends;
            try {
                ends = consumer.endOffsets(c.getValue(), BROKER_TIMEOUT);
            } catch (RuntimeException ex) {
                // not known now: the open files are written by a later batch of their partitions, or when they close
                LOG.warn("Archive: end offsets of {} not read ({}); their open files wait", c.getValue(), ex.toString());
                continue;
            }
            for (TopicPartition tp : c.getValue()) {
                OpenFile file = open.get(tp);
                Long end = ends.get(tp);
                if (file == null || end == null || file.next < end) continue;
                try {
                    writeOpen(tp, consumer, file);
                } catch (Exception ex) {
                    failed(tp, consumer, ex);
                }
            }
        }
    }

    /** A failed write or broker call: the open file is given up and the partition read again from its commit. */
    private void failed(TopicPartition tp, Consumer<?, ?> consumer, Exception ex) {
        failures.increment();
        LOG.error("Archive of {} failed; its open file is given up and the partition read again from its "
                + "committed offset: {}", tp, ex.toString());
        dropOpen(tp);
        try {
            consumer.seek(tp, start(consumer, tp));
        } catch (RuntimeException seek) {
            LOG.warn("Archive of {}: seeking back failed too ({}); the next batch does it", tp, seek.toString());
        }
    }

    private void partition(TopicPartition tp, Consumer<?, ?> consumer, List<Exchange> records) throws IOException {
        OpenFile file = open.get(tp);
        if (file != null && file.consumer != consumer) {
            dropOpen(tp); // Camel made a new consumer: the partition is read again from its committed offset
            file = null;
        }
        String domain = layout.domain(tp.topic());
        EventLine line = new EventLine();
        long start = -1; // where the next file starts, once asked (or known from the last close)
        for (Exchange r : records) {
            Message m = r.getMessage();
            long offset = m.getHeader(KafkaConstants.OFFSET, Long.class);
            if (file != null && offset != file.next) {
                // read again below the open file's end (Camel sought back) or a jump: start from the commit again
                dropOpen(tp);
                file = null;
                start = -1;
            }
            long timestamp = m.getHeader(KafkaConstants.TIMESTAMP, -1L, Long.class);
            LocalDate date = ArchiveLayout.date(timestamp);
            if (file == null) {
                if (start < 0) start = start(consumer, tp);
                if (offset < start) continue; // archived in a closed file already
                if (offset > start) {
                    LOG.info("Archive of {}: record at offset {} but the partition's files go on from {}: reading "
                            + "again from there", tp, offset, start);
                    consumer.seek(tp, start);
                    return;
                }
                file = new OpenFile(consumer, domain, date, offset);
                open.put(tp, file);
            } else if (!date.equals(file.date)) {
                close(tp, consumer, file, offset);
                file = new OpenFile(consumer, domain, date, offset);
                open.put(tp, file);
            }
            line.write(tp.topic(), tp.partition(), offset, timestamp, m.getHeader(KafkaConstants.KEY, String.class),
                    m.getHeaders(), m.getBody(byte[].class));
            line.appendTo(file.gzip);
            file.count++;
            file.next = offset + 1;
            openEvents.incrementAndGet();
            if (!line.canonical()) {
                counter("interchange_archive_not_canonical_total", domain,
                        "Records archived that are not canonical events (no ce_id), with a note on their line").increment();
                LOG.warn("Archive of {}: record at offset {} is not a canonical event (no ce_id header); archived with a "
                        + "note", tp, offset);
            }
            if (file.count >= fileRecords) {
                close(tp, consumer, file, file.next);
                start = file.next;
                file = null;
            }
        }
    }

    /**
     * Writes an open file under its final name; its offsets stay uncommitted. The zombie check first: a consumer
     * that lost the partition (it missed its poll deadline) must not write its shorter version over the file another
     * consumer has closed since.
     */
    private void writeOpen(TopicPartition tp, Consumer<?, ?> consumer, OpenFile file) throws IOException {
        if (committed(consumer, tp) != file.first) {
            LOG.info("Archive of {}: the partition's commit moved on without this consumer; its open file is given up", tp);
            dropOpen(tp);
            return;
        }
        sink.put(layout.key(file.domain, file.date, tp.partition(), file.first), file.gzip.snapshot());
    }

    /** Writes a closed file and commits the partition's offset to {@code nextStart}, the next file's first offset. */
    private void close(TopicPartition tp, Consumer<?, ?> consumer, OpenFile file, long nextStart) throws IOException {
        byte[] content = file.gzip.finish();
        sink.put(layout.key(file.domain, file.date, tp.partition(), file.first), content);
        consumer.commitSync(Map.of(tp, new OffsetAndMetadata(nextStart)), BROKER_TIMEOUT);
        open.remove(tp, file);
        openEvents.addAndGet(-file.count);
        counter("interchange_archive_events_total", file.domain, "Events written to closed archive files").increment(file.count);
        counter("interchange_archive_files_total", file.domain, "Archive files closed and written").increment();
        counter("interchange_archive_bytes_total", file.domain, "Bytes (gzip) of closed archive files").increment(content.length);
    }

    /**
     * Where the partition's next file starts: its committed offset; or, when none is committed yet (a new group) or
     * the records there are gone (retention), the log's start, committed first so that it is the one anchor every
     * later reading (and {@link #partition}'s check before writing an open file) agrees on.
     */
    private static long start(Consumer<?, ?> consumer, TopicPartition tp) {
        long committed = committed(consumer, tp);
        long beginning = consumer.beginningOffsets(Set.of(tp), BROKER_TIMEOUT).getOrDefault(tp, 0L);
        if (committed >= beginning) return committed;
        consumer.commitSync(Map.of(tp, new OffsetAndMetadata(beginning)), BROKER_TIMEOUT);
        return beginning;
    }

    private static long committed(Consumer<?, ?> consumer, TopicPartition tp) {
        OffsetAndMetadata c = consumer.committed(Set.of(tp), BROKER_TIMEOUT).get(tp);
        return c == null ? -1 : c.offset();
    }

    private void dropOpen(TopicPartition tp) {
        OpenFile f = open.remove(tp);
        if (f != null) {
            f.gzip.discard();
            openEvents.addAndGet(-f.count);
        }
    }

    private Counter counter(String name, String domain, String description) {
        return Counter.builder(name).tag("domain", domain).description(description).register(meters);
    }

    /** Gives up every open file (the route stops); their records are uncommitted and read again at the next start. */
    public void close() {
        for (TopicPartition tp : List.copyOf(open.keySet())) dropOpen(tp);
    }

    private static final class OpenFile {
        final Consumer<?, ?> consumer;
        final String domain;
        final LocalDate date;
        final long first;
        final GzipLines gzip = new GzipLines();
        long next;
        int count;

        OpenFile(Consumer<?, ?> consumer, String domain, LocalDate date, long first) {
            this.consumer = consumer;
            this.domain = domain;
            this.date = date;
            this.first = first;
            this.next = first;
        }
    }
}
