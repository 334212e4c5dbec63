package io.interchange.bench.e2e;

import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.StripeSignatureVerifier;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerRequest;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Baseline (b), the practical limit: the same flows without a framework. A Vert.x HTTP server answering on its event
 * loops, or plain Kafka consumer loops; idempotency keys claimed PENDING with {@code INSERT ... ON CONFLICT DO
 * NOTHING} and set DONE after the Kafka acknowledgement, both group-committed by one JDBC writer thread; a lingering,
 * idempotent producer with acks=all. Same signature check and mapping (the runtime's classes) as the other two.
 *
 * <p>Arguments: {@code ingest <httpPort> <jdbcUrl> <bootstrap> <topic>} or
 * {@code drain <jdbcUrl> <bootstrap> <sourceTopic> <topic> <group> <threads>}.
 */
public final class HandWrittenFlows {

    private HandWrittenFlows() {
    }

    public static void main(String[] args) throws Exception {
        boolean ingest = args[0].equals("ingest");
        String jdbcUrl = ingest ? args[2] : args[1];
        String bootstrap = ingest ? args[3] : args[2];
        MappingSource source = MappingSource.bundled();
        BillingEventTranslator translator = new BillingEventTranslator(MappingEngine.load(source), source);
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
            ingest(Integer.parseInt(args[1]), jdbcUrl, args[4], translator, producer);
        } else {
            drain(jdbcUrl, bootstrap, args[3], args[4], args[5], Integer.parseInt(args[6]), translator, producer);
        }
    }

    private static ProducerRecord<String, byte[]> record(String topic, BillingEventTranslator.Translated t) {
        var e = t.envelope();
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, e.subject(), t.json());
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

    // ---- webhook ingest: Vert.x event loops, one group-commit writer ----

    private static void ingest(int port, String jdbcUrl, String topic, BillingEventTranslator translator,
                               KafkaProducer<String, byte[]> producer) throws Exception {
        StripeSignatureVerifier verifier = new StripeSignatureVerifier(Events.SECRET, Duration.ofMinutes(5), Clock.systemUTC());
        KeyWriter keys = new KeyWriter(jdbcUrl);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(buf -> {
            BillingEventTranslator.Translated t;
            try {
                byte[] body = buf.getBytes();
                verifier.verify(req.getHeader(StripeSignatureVerifier.HEADER), body);
                t = translator.translate(translator.parse(body), UUID.randomUUID().toString());
            } catch (RuntimeException e) {
                answer(req, 400, "{\"status\":\"rejected\"}");
                return;
            }
            String key = "billing:stripe:" + t.sourceEventId();
            keys.submit(key, true).thenCompose(claimed -> {
                if (!claimed) return CompletableFuture.completedFuture("{\"status\":\"duplicate\"}");
                CompletableFuture<String> sent = new CompletableFuture<>();
                producer.send(record(topic, t), (md, ex) -> {
                    if (ex != null) sent.completeExceptionally(ex);
                    else keys.submit(key, false).whenComplete((ok, e2) -> {
                        if (e2 != null) sent.completeExceptionally(e2);
                        else sent.complete("{\"status\":\"accepted\"}");
                    });
                });
                return sent;
            }).whenComplete((json, ex) -> answer(req, ex == null ? 200 : 503, ex == null ? json : "{\"status\":\"unavailable\"}"));
        })).listen(port).toCompletionStage().toCompletableFuture().get();
        System.out.println("READY");
        Thread.currentThread().join();
    }

    private static void answer(HttpServerRequest req, int status, String json) {
        req.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(json);
    }

    /** Claims (INSERT PENDING ... ON CONFLICT DO NOTHING) and confirmations (UPDATE DONE), group-committed. */
    private static final class KeyWriter {
        private record Op(String key, boolean claim, CompletableFuture<Boolean> done) { }

        private final BlockingQueue<Op> queue = new LinkedBlockingQueue<>();

        KeyWriter(String jdbcUrl) throws SQLException {
            Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
            c.setAutoCommit(false);
            Thread t = new Thread(() -> {
                List<Op> batch = new ArrayList<>();
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO bench_key VALUES (?, 'PENDING', ?) ON CONFLICT DO NOTHING");
                     PreparedStatement update = c.prepareStatement("UPDATE bench_key SET state = 'DONE', updated_at = ? WHERE key_value = ?")) {
                    while (true) {
                        batch.add(queue.take());
                        queue.drainTo(batch, 999);
                        Timestamp now = new Timestamp(System.currentTimeMillis());
                        boolean inserts = false;
                        boolean updates = false;
                        for (Op op : batch) {
                            if (op.claim) {
                                insert.setString(1, op.key);
                                insert.setTimestamp(2, now);
                                insert.addBatch();
                                inserts = true;
                            } else {
                                update.setTimestamp(1, now);
                                update.setString(2, op.key);
                                update.addBatch();
                                updates = true;
                            }
                        }
                        int[] ins = inserts ? insert.executeBatch() : new int[0];
                        if (updates) update.executeBatch();
                        c.commit();
                        int i = 0;
                        for (Op op : batch) op.done.complete(!op.claim || ins[i++] == 1);
                        batch.clear();
                    }
                } catch (Exception e) {
                    for (Op op : batch) op.done.completeExceptionally(e);
                    e.printStackTrace();
                }
            }, "key-writer");
            t.setDaemon(true);
            t.start();
        }

        CompletableFuture<Boolean> submit(String key, boolean claim) {
            CompletableFuture<Boolean> f = new CompletableFuture<>();
            queue.add(new Op(key, claim, f));
            return f;
        }
    }

    // ---- Kafka drain: consumer loops, one transaction per poll for claims and one for confirmations ----

    private static void drain(String jdbcUrl, String bootstrap, String sourceTopic, String topic, String group,
                              int threads, BillingEventTranslator translator, KafkaProducer<String, byte[]> producer)
            throws Exception {
        List<Thread> loops = new ArrayList<>();
        for (int n = 0; n < threads; n++) {
            Thread t = new Thread(() -> {
                Properties p = new Properties();
                p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
                p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
                p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
                p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
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
}
