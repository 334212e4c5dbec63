package io.interchange.bench.e2e;

import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.mapping.MappingEngine;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.erp.SoapSupport;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerPosting;
import io.interchange.model.LoyaltyFiling;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Baseline (b), the practical limit: the same flows without a framework. A Vert.x HTTP server answering on its event
 * loops, or plain Kafka consumer loops; idempotency keys claimed PENDING with {@code INSERT ... ON CONFLICT DO
 * NOTHING} and set DONE after the Kafka acknowledgement, both batched; a lingering, idempotent producer with acks=all.
 * Same signature check and mapping (the runtime's classes) as the other two. The webhook ingest server is
 * {@link HandWrittenIngest} (one statement per batch of about 2 ms, answers from the send callbacks).
 *
 * <p>The post flow the same way, with the batching S/4HANA allows: per poll, one claim transaction, one
 * {@code JournalEntryBulkCreateRequest} per chunk of up to {@code bulk} entries (the chunks of a poll in parallel),
 * one transaction for the confirmations and keys, one batch of ledger records.
 *
 * <p>Arguments: {@code ingest <httpPort> <jdbcUrl> <bootstrap> <topic>},
 * {@code drain <jdbcUrl> <bootstrap> <sourceTopic> <topic> <group> <threads>} or
 * {@code post <jdbcUrl> <bootstrap> <sourceTopic> <ledgerTopic> <group> <s4Url> <s4User> <s4Password> <threads> <bulk>}
 * or {@code file <jdbcUrl> <bootstrap> <loyaltyTopic> <ledgerTopic> <group> <s4Url> <s4User> <s4Password> <threads>
 * <perEntry> <closeAtEpochMillis>}.
 *
 * <p>The file flow is the daily loyalty filing written by hand: consumer loops record each poll's loyalty transactions
 * in a table (one batched insert, one commit, then the offsets), so the day is held durably until it closes; at
 * {@code closeAtEpochMillis} a job assigns the recorded transactions to parts of {@code perEntry} in one transaction
 * and posts the parts, {@code threads} at a time, each as one journal entry (one line pair per transaction, built by
 * the runtime's posting rules from a {@link LoyaltyFiling}, as the runtime posts a filing): claimed, sent, confirmed,
 * published.
 */
public final class HandWrittenFlows {

    private HandWrittenFlows() {
    }

    public static void main(String[] args) throws Exception {
        boolean ingest = args[0].equals("ingest");
        String jdbcUrl = ingest ? args[2] : args[1];
        String bootstrap = ingest ? args[3] : args[2];
        MappingSource source = MappingSource.bundled();
        BillingEventTranslator translator = new BillingEventTranslator(MappingEngine.load(source), source, null,
                BillingEventTranslator.Livemode.ANY, "", null);
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS bench_key (key_value VARCHAR(200) PRIMARY KEY, "
                    + "state VARCHAR(10) NOT NULL, updated_at TIMESTAMP NOT NULL)");
        }
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 1,
                ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024),
                new StringSerializer(), new ByteArraySerializer());
        if (ingest) {
            HandWrittenIngest.run(Integer.parseInt(args[1]), jdbcUrl, args[4], translator, producer);
        } else if (args[0].equals("post")) {
            post(args, producer);
        } else if (args[0].equals("file")) {
            file(args, producer);
        } else {
            drain(jdbcUrl, bootstrap, args[3], args[4], args[5], Integer.parseInt(args[6]), translator, producer);
        }
    }

    static ProducerRecord<String, byte[]> record(String topic, BillingEventTranslator.Translated t) {
        return record(topic, t.envelope(), t.json());
    }

    /** A canonical record: CloudEvents binary headers (as CloudEventHeaders writes them), key = subject. */
    private static ProducerRecord<String, byte[]> record(String topic, Envelope e, byte[] json) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, e.subject(), json);
        header(r, "ce_specversion", "1.0");
        header(r, "ce_id", e.id());
        header(r, "ce_source", e.source());
        header(r, "ce_type", e.type());
        header(r, "ce_subject", e.subject());
        header(r, "ce_time", e.time());
        header(r, "ce_dataschema", e.dataSchema());
        header(r, "ce_correlationid", e.correlationId());
        header(r, "ce_legalentity", e.legalEntity());
        header(r, "content-type", "application/json");
        return r;
    }

    private static void header(ProducerRecord<String, byte[]> r, String name, String value) {
        if (value != null) r.headers().add(new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8)));
    }

    // ---- Kafka drain: consumer loops, one transaction per poll for claims and one for confirmations ----

    private static void drain(String jdbcUrl, String bootstrap, String sourceTopic, String topic, String group,
                              int threads, BillingEventTranslator translator, KafkaProducer<String, byte[]> producer)
            throws Exception {
        List<Thread> loops = new ArrayList<>();
        for (int n = 0; n < threads; n++) {
            Thread t = new Thread(() -> {
                try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap, group);
                     Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
                     PreparedStatement insert = c.prepareStatement("INSERT INTO bench_key VALUES (?, 'PENDING', ?) ON CONFLICT DO NOTHING");
                     PreparedStatement update = c.prepareStatement("UPDATE bench_key SET state = 'DONE', updated_at = ? WHERE key_value = ?")) {
                    c.setAutoCommit(false);
                    consumer.subscribe(List.of(sourceTopic));
                    while (true) {
                        var records = consumer.poll(Duration.ofMillis(100));
                        if (records.isEmpty()) continue;
                        List<BillingEventTranslator.Translated> events = new ArrayList<>();
                        for (ConsumerRecord<byte[], byte[]> r : records) {
                            events.add(translator.translate(translator.parse(r.value()), UUID.randomUUID().toString()));
                        }
                        Timestamp now = new Timestamp(System.currentTimeMillis());
                        for (var e : events) {
                            insert.setString(1, "billing:stripe:" + e.sourceEventId());
                            insert.setTimestamp(2, now);
                            insert.addBatch();
                        }
                        int[] claimed = insert.executeBatch();
                        c.commit();
                        List<java.util.concurrent.Future<?>> sends = new ArrayList<>();
                        for (int i = 0; i < events.size(); i++) {
                            if (claimed[i] == 1) sends.add(producer.send(record(topic, events.get(i))));
                        }
                        for (var f : sends) f.get();
                        for (int i = 0; i < events.size(); i++) {
                            if (claimed[i] != 1) continue;
                            update.setTimestamp(1, now);
                            update.setString(2, "billing:stripe:" + events.get(i).sourceEventId());
                            update.addBatch();
                        }
                        update.executeBatch();
                        c.commit();
                        consumer.commitSync();
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                    System.exit(1);
                }
            }, "drain-" + n);
            loops.add(t);
            t.start();
        }
        System.out.println("READY");
        for (Thread t : loops) t.join();
    }

    /** Manual commits, up to 500 records a poll (the runtime's batch size for its Kafka-sourced flows). */
    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, String group) {
        return consumer(bootstrap, group, 500);
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, String group, int maxPoll) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPoll);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    // ---- ERP posting: consumer loops, bulk requests; one transaction per poll for claims, one for confirmations ----

    private static void post(String[] args, KafkaProducer<String, byte[]> producer) throws Exception {
        String jdbcUrl = args[1];
        LedgerParts parts = new LedgerParts(args[6], args[7], args[8]);
        BulkJournal journal = new BulkJournal(parts.mappings, parts.config);
        int threads = Integer.parseInt(args[9]);
        int bulkSize = Integer.parseInt(args[10]);
        LedgerParts.createTables(jdbcUrl);
        ErpClient erp = ErpClient.of(args);
        List<Thread> loops = new ArrayList<>();
        for (int n = 0; n < threads; n++) {
            Thread t = new Thread(() -> {
                try (KafkaConsumer<byte[], byte[]> consumer = consumer(args[2], args[5]);
                     Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
                     PreparedStatement claim = c.prepareStatement("INSERT INTO bench_key VALUES (?, 'PENDING', ?) ON CONFLICT DO NOTHING");
                     PreparedStatement confirm = c.prepareStatement("INSERT INTO erp_confirmation (posting_key, event_id, "
                             + "legal_entity, erp_target, company_code, accounting_document, fiscal_year, correlation_id, "
                             + "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()) ON CONFLICT DO NOTHING");
                     PreparedStatement done = c.prepareStatement("UPDATE bench_key SET state = 'DONE', updated_at = ? WHERE key_value = ?")) {
                    c.setAutoCommit(false);
                    consumer.subscribe(List.of(args[3]));
                    while (true) {
                        var records = consumer.poll(Duration.ofMillis(100));
                        if (records.isEmpty()) continue;
                        List<Envelope> envelopes = new ArrayList<>();
                        List<LedgerPosting> postings = new ArrayList<>();
                        for (ConsumerRecord<byte[], byte[]> r : records) {
                            Envelope e = envelope(r);
                            envelopes.add(e);
                            postings.add(parts.prepare(e, r.value()));
                        }
                        Timestamp now = new Timestamp(System.currentTimeMillis());
                        for (LedgerPosting p : postings) {
                            claim.setString(1, LedgerPostingService.postingKey(p.sourceEventId()));
                            claim.setTimestamp(2, now);
                            claim.addBatch();
                        }
                        int[] claimed = claim.executeBatch();
                        c.commit();
                        // the claimed postings, in chunks of up to bulkSize entries, each chunk one request; the
                        // chunks of a poll go out together (the peer serves several requests at once)
                        String at = BulkJournal.now();
                        List<Integer> todo = new ArrayList<>();
                        List<BulkJournal.Entry> entries = new ArrayList<>();
                        for (int i = 0; i < postings.size(); i++) {
                            if (claimed[i] != 1) continue;
                            todo.add(i);
                            entries.add(journal.entry(postings.get(i), at));
                        }
                        List<CompletableFuture<Map<String, ErpConnector.ErpAnswer>>> calls = new ArrayList<>();
                        for (int from = 0; from < entries.size(); from += bulkSize) {
                            String body = BulkJournal.request(entries.subList(from, Math.min(entries.size(), from + bulkSize)), at);
                            calls.add(erp.http.sendAsync(erp.request(body, Duration.ofSeconds(10)),
                                            HttpResponse.BodyHandlers.ofByteArray())
                                    .thenApply(a -> BulkJournal.read(a.statusCode(), a.body())));
                        }
                        Map<String, ErpConnector.ErpAnswer> answers = new HashMap<>();
                        for (var call : calls) answers.putAll(call.join());
                        List<ProducerRecord<String, byte[]>> confirmations = new ArrayList<>();
                        for (int k = 0; k < todo.size(); k++) {
                            LedgerPosting p = postings.get(todo.get(k));
                            Envelope source = envelopes.get(todo.get(k));
                            ErpConnector.ErpAnswer answer = answers.get(entries.get(k).id());
                            if (answer == null) throw new IllegalStateException("no answer for posting " + p.postingId());
                            var conf = LedgerParts.confirmation(p, answer,
                                    source.correlationId() != null ? source.correlationId() : source.id());
                            bindConfirmation(confirm, conf);
                            confirm.addBatch();
                            done.setTimestamp(1, now);
                            done.setString(2, conf.postingKey());
                            done.addBatch();
                            confirmations.add(record(args[4], LedgerParts.ledgerEnvelope(p, source), LedgerParts.ledgerJson(p, conf)));
                        }
                        // like the drain baseline, no crash recovery: a key a crash leaves PENDING or DONE is not
                        // taken over; this baseline measures the happy path's cost
                        confirm.executeBatch();
                        done.executeBatch();
                        c.commit();
                        List<java.util.concurrent.Future<?>> sends = new ArrayList<>();
                        for (var r : confirmations) sends.add(producer.send(r));
                        for (var f : sends) f.get();
                        consumer.commitSync();
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                    System.exit(1);
                }
            }, "post-" + n);
            loops.add(t);
            t.start();
        }
        System.out.println("READY");
        for (Thread t : loops) t.join();
    }

    // ---- daily loyalty filing: transactions recorded as read; at the close, filed in parts and posted ----

    private static final com.fasterxml.jackson.databind.ObjectMapper FILING_JSON = new com.fasterxml.jackson.databind.ObjectMapper()
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private static void file(String[] args, KafkaProducer<String, byte[]> producer) throws Exception {
        String jdbcUrl = args[1];
        LedgerParts parts = new LedgerParts(args[6], args[7], args[8]);
        BulkJournal journal = new BulkJournal(parts.mappings, parts.config);
        int threads = Integer.parseInt(args[9]);
        int perEntry = Integer.parseInt(args[10]);
        long closeAt = Long.parseLong(args[11]);
        LedgerParts.createTables(jdbcUrl);
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS bench_filing_item (event_id VARCHAR(200) PRIMARY KEY, "
                    + "occurred_on DATE NOT NULL, body BYTEA NOT NULL, filing_id VARCHAR(200))");
        }
        ErpClient erp = ErpClient.of(args);
        List<Thread> loops = new ArrayList<>();
        for (int n = 0; n < threads; n++) {
            int loop = n;
            // the recorders: each poll's transactions in one batched insert and one commit, then the offsets
            Thread t = new Thread(() -> {
                try (KafkaConsumer<byte[], byte[]> consumer = consumer(args[2], args[5], 500);
                     Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
                     PreparedStatement insert = c.prepareStatement("INSERT INTO bench_filing_item (event_id, occurred_on, "
                             + "body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
                    c.setAutoCommit(false);
                    consumer.subscribe(List.of(args[3]));
                    while (true) {
                        var records = consumer.poll(Duration.ofMillis(100));
                        if (records.isEmpty()) continue;
                        for (ConsumerRecord<byte[], byte[]> r : records) {
                            Envelope e = envelope(r);
                            if (!io.interchange.model.CanonicalType.LOYALTY_TRANSACTION.ceType().equals(e.type())) continue;
                            var tx = FILING_JSON.readValue(r.value(), io.interchange.model.LoyaltyTransaction.class);
                            insert.setString(1, e.id());
                            insert.setDate(2, java.sql.Date.valueOf(tx.occurredOn()));
                            insert.setBytes(3, r.value());
                            insert.addBatch();
                        }
                        insert.executeBatch();
                        c.commit();
                        consumer.commitSync();
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                    System.exit(1);
                }
            }, "record-" + loop);
            loops.add(t);
            t.start();
        }
        // the job: once the day has closed, the items are assigned to parts of perEntry in one transaction (so a
        // run again posts the same parts), then the parts are posted, threads at a time, each claimed, sent as one
        // entry, confirmed and published
        List<Connection> posterConnections = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Connection pc = DriverManager.getConnection(jdbcUrl, "postgres", "");
            pc.setAutoCommit(false);
            posterConnections.add(pc);
        }
        Thread job = new Thread(() -> {
            try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
                while (System.currentTimeMillis() < closeAt) Thread.sleep(Math.max(1, Math.min(100, closeAt - System.currentTimeMillis())));
                c.setAutoCommit(false);
                List<String> ids = new ArrayList<>();
                String entity = io.interchange.bench.e2e.LoyaltyRecords.ENTITY;
                String day = java.time.LocalDate.now(java.time.ZoneId.of("Europe/Berlin")).minusDays(1).toString();
                java.sql.Date closed = java.sql.Date.valueOf(day);
                // the closed day and any before it, as the runtime files them
                try (PreparedStatement open = c.prepareStatement("SELECT event_id FROM bench_filing_item "
                        + "WHERE filing_id IS NULL AND occurred_on <= ? ORDER BY event_id")) {
                    open.setDate(1, closed);
                    try (var rs = open.executeQuery()) {
                        while (rs.next()) ids.add(rs.getString(1));
                    }
                }
                List<String> filings = new ArrayList<>();
                try (PreparedStatement assign = c.prepareStatement("UPDATE bench_filing_item SET filing_id = ? "
                        + "WHERE event_id >= ? AND event_id <= ? AND filing_id IS NULL AND occurred_on <= ?")) {
                    // the parts are ranges of the open items' event ids
                    for (int from = 0, part = 1; from < ids.size(); from += perEntry, part++) {
                        String id = "loyalty-filing:" + entity + ":" + day + ":" + part;
                        assign.setString(1, id);
                        assign.setString(2, ids.get(from));
                        assign.setString(3, ids.get(Math.min(ids.size(), from + perEntry) - 1));
                        assign.setDate(4, closed);
                        assign.addBatch();
                        filings.add(id);
                    }
                    assign.executeBatch();
                }
                c.commit();
                // the parts shared out to the posters, each with its own connection, opened before the close
                java.util.concurrent.ConcurrentLinkedQueue<String> queue = new java.util.concurrent.ConcurrentLinkedQueue<>(filings);
                List<Thread> posters = new ArrayList<>();
                for (Connection pc : posterConnections) {
                    Thread poster = new Thread(() -> {
                        try {
                            for (String id; (id = queue.poll()) != null; ) {
                                postFiling(pc, id, entity, day, parts, journal, erp, producer, args[4]);
                            }
                        } catch (Exception e) {
                            e.printStackTrace();
                            System.exit(1);
                        }
                    }, "poster");
                    posters.add(poster);
                    poster.start();
                }
                for (Thread poster : posters) poster.join();
            } catch (Exception e) {
                e.printStackTrace();
                System.exit(1);
            }
        }, "filing-job");
        job.start();
        System.out.println("READY");
        job.join();
        for (Thread t : loops) t.join();
    }

    /** One part of the day: its transactions read back, claimed, posted as one journal entry, confirmed, published. */
    private static void postFiling(Connection c, String id, String entity, String day, LedgerParts parts,
                                   BulkJournal journal, ErpClient erp,
                                   KafkaProducer<String, byte[]> producer, String ledgerTopic) throws Exception {
        {
            List<io.interchange.model.LoyaltyTransaction> items = new ArrayList<>();
            try (PreparedStatement read = c.prepareStatement("SELECT body FROM bench_filing_item WHERE filing_id = ? "
                    + "ORDER BY event_id")) {
                read.setString(1, id);
                try (var rs = read.executeQuery()) {
                    while (rs.next()) items.add(FILING_JSON.readValue(rs.getBytes(1), io.interchange.model.LoyaltyTransaction.class));
                }
            }
            long amount = 0;
            for (var i : items) amount += i.amountMinor();
            LoyaltyFiling filing = new LoyaltyFiling(id, entity, day, Integer.parseInt(id.substring(id.lastIndexOf(':') + 1)),
                    items.get(0).currency(), amount, items);
            var type = io.interchange.model.CanonicalType.LOYALTY_FILING_CLOSED;
            Envelope env = new Envelope(id, "/bench/loyalty-filing", type.ceType(), id, java.time.Instant.now().toString(),
                    type.dataSchema(), id, entity);
            LedgerPosting p = parts.prepare(env, FILING_JSON.writeValueAsBytes(filing));
            Timestamp now = new Timestamp(System.currentTimeMillis());
            try (PreparedStatement claim = c.prepareStatement("INSERT INTO bench_key VALUES (?, 'PENDING', ?) ON CONFLICT DO NOTHING")) {
                claim.setString(1, LedgerPostingService.postingKey(p.sourceEventId()));
                claim.setTimestamp(2, now);
                if (claim.executeUpdate() != 1) return; // posted before
            }
            c.commit();
            String at = BulkJournal.now();
            BulkJournal.Entry entry = journal.entry(p, at);
            // one entry per request: an entry of a full filing is 800 lines already
            HttpResponse<byte[]> answer = erp.http.send(erp.request(BulkJournal.request(List.of(entry), at),
                    Duration.ofSeconds(30)), HttpResponse.BodyHandlers.ofByteArray());
            ErpConnector.ErpAnswer a = BulkJournal.read(answer.statusCode(), answer.body()).get(entry.id());
            if (a == null) throw new IllegalStateException("no answer for posting " + p.postingId());
            var conf = LedgerParts.confirmation(p, a, env.correlationId());
            try (PreparedStatement confirm = c.prepareStatement("INSERT INTO erp_confirmation (posting_key, event_id, "
                    + "legal_entity, erp_target, company_code, accounting_document, fiscal_year, correlation_id, "
                    + "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()) ON CONFLICT DO NOTHING");
                 PreparedStatement done = c.prepareStatement("UPDATE bench_key SET state = 'DONE', updated_at = ? WHERE key_value = ?")) {
                bindConfirmation(confirm, conf);
                confirm.executeUpdate();
                done.setTimestamp(1, now);
                done.setString(2, conf.postingKey());
                done.executeUpdate();
            }
            c.commit();
            producer.send(record(ledgerTopic, LedgerParts.ledgerEnvelope(p, env), LedgerParts.ledgerJson(p, conf))).get();
        }
    }

    /** The S/4HANA peer's journal-entry service: its URL, HTTP Basic credentials and one shared HTTP/1.1 client. */
    private record ErpClient(URI uri, String authorization, HttpClient http) {
        /** From the post and file flows' arguments 6 to 8: URL, user, password. */
        static ErpClient of(String[] args) {
            return new ErpClient(URI.create(args[6]), "Basic " + Base64.getEncoder().encodeToString(
                    (args[7] + ":" + args[8]).getBytes(StandardCharsets.UTF_8)),
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build());
        }

        HttpRequest request(String soap, Duration timeout) {
            return HttpRequest.newBuilder(uri).timeout(timeout).header("Content-Type", SoapSupport.CONTENT_TYPE)
                    .header("Authorization", authorization)
                    .POST(HttpRequest.BodyPublishers.ofString(soap, StandardCharsets.UTF_8)).build();
        }
    }

    /** The parameters of the erp_confirmation insert, as the runtime records a confirmation. */
    private static void bindConfirmation(PreparedStatement confirm, io.interchange.store.ErpConfirmations.Confirmation conf)
            throws java.sql.SQLException {
        confirm.setString(1, conf.postingKey());
        confirm.setString(2, conf.eventId());
        confirm.setString(3, conf.legalEntity());
        confirm.setString(4, conf.erpTarget());
        confirm.setString(5, conf.companyCode());
        confirm.setString(6, conf.accountingDocument());
        confirm.setString(7, conf.fiscalYear());
        confirm.setString(8, conf.correlationId());
    }

    /** The envelope from a consumed record's CloudEvents headers (CloudEventHeaders.read, without a Camel message). */
    private static Envelope envelope(ConsumerRecord<byte[], byte[]> r) {
        return new Envelope(header(r, CloudEventHeaders.ID), header(r, CloudEventHeaders.SOURCE),
                header(r, CloudEventHeaders.TYPE), header(r, CloudEventHeaders.SUBJECT), header(r, CloudEventHeaders.TIME),
                header(r, CloudEventHeaders.DATA_SCHEMA), header(r, CloudEventHeaders.CORRELATION_ID),
                header(r, CloudEventHeaders.LEGAL_ENTITY));
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
