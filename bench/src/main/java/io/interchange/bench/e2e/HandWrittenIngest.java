package io.interchange.bench.e2e;

import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.StripeSignatureVerifier;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerRequest;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The hand-written webhook ingest server: the practical limit of the billing webhook flow without a framework, doing
 * the work the runtime's crash rule needs and nothing else.
 *
 * <ul>
 *   <li>Two Vert.x event loops (one server instance each) read the request, verify the Stripe signature and map the
 *   event with the runtime's classes, and gather the requests into a batch per loop: flushed 2 ms after its first
 *   request, or at {@value #BATCH_MAX} requests.</li>
 *   <li>One database thread (JDBC blocks; the event loops never do) runs one statement per batch, in autocommit (one
 *   statement, one commit, one round trip): the batch's keys claimed {@code PENDING} from one array parameter with
 *   {@code INSERT ... SELECT ... FROM unnest(?) ... ON CONFLICT ... RETURNING}, and in the same statement the keys whose
 *   records Kafka acknowledged since the last statement set {@code DONE}. Batches that queued while a statement ran are
 *   merged into the next one.</li>
 *   <li>The new keys' records go to a lingering idempotent producer (acks=all); each request is answered 200 from its
 *   send callback, back on the request's own event loop. A key already {@code DONE} is answered 200 "duplicate" at
 *   once, a key another delivery holds 409 "in-progress" (as the runtime answers), a failed claim or send 503.</li>
 * </ul>
 *
 * <p>The crash rule is the runtime's: a key is {@code PENDING} from its claim until its record is acknowledged, so a
 * crash between claim and publish leaves it {@code PENDING}, and the claim statement takes over a {@code PENDING} key
 * whose lease ({@value #LEASE}, the runtime's default {@code interchange.idempotency.lease}) has run out, so the
 * sender's retry publishes it. A send that fails releases its key (deleted before the next claims) so that the
 * sender's retry is taken at once. What it leaves out: answering 503 while the store or Kafka is down (it answers 503
 * to the requests that failed), key expiry, lease renewal, logging and metrics.
 */
final class HandWrittenIngest {

    /** A batch is handed to the database thread at this many requests, or {@value #BATCH_MILLIS} ms after its first. */
    static final int BATCH_MAX = 500;
    static final long BATCH_MILLIS = 2;
    static final String LEASE = "2 minutes";

    /**
     * One statement per batch: the acknowledged keys (parameter 1) set DONE, the batch's keys (parameter 2) claimed,
     * a PENDING key whose lease ran out taken over. Returns each claimed key as CLAIMED and every key of the batch that
     * existed before the statement with its state then (a taken-over key comes back twice: CLAIMED wins).
     */
    static final String CLAIM = """
            WITH confirmed AS (
                   UPDATE bench_key SET state = 'DONE', updated_at = now()
                   WHERE key_value = ANY (?::text[]) AND state = 'PENDING'),
                 batch AS (SELECT * FROM unnest(?::text[]) AS b (key_value)),
                 claimed AS (
                   INSERT INTO bench_key (key_value, state, updated_at) SELECT key_value, 'PENDING', now() FROM batch
                   ON CONFLICT (key_value) DO UPDATE SET updated_at = excluded.updated_at
                   WHERE bench_key.state = 'PENDING' AND bench_key.updated_at < excluded.updated_at - interval '%s'
                   RETURNING key_value)
            SELECT key_value, 'CLAIMED' FROM claimed
            UNION ALL
            SELECT k.key_value, k.state FROM bench_key k JOIN batch USING (key_value)
            """.formatted(LEASE);

    private static final String ACCEPTED = "{\"status\":\"accepted\"}";
    private static final String DUPLICATE = "{\"status\":\"duplicate\"}";
    private static final String IN_PROGRESS = "{\"status\":\"in-progress\"}";
    private static final String UNAVAILABLE = "{\"status\":\"unavailable\"}";

    private HandWrittenIngest() {
    }

    /** One request waiting for its key: where to answer it, and the record to publish if the key is new. */
    private record Pending(Context context, HttpServerRequest request, String key, ProducerRecord<String, byte[]> record) {
        void answer(int status, String json) {
            context.runOnContext(v -> {
                if (request.response().ended()) return; // answered already (an unexpected failure after the answer)
                request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(json);
            });
        }
    }

    static void run(int port, String jdbcUrl, String topic, BillingEventTranslator translator,
                    KafkaProducer<String, byte[]> producer) throws Exception {
        StripeSignatureVerifier verifier = new StripeSignatureVerifier(Events.SECRET, Duration.ofMinutes(5), Clock.systemUTC());
        Claims claims = new Claims(jdbcUrl, producer);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        // one server instance per event loop: a single instance would serve every connection from one loop
        vertx.deployVerticle(() -> new Loop(port, topic, verifier, translator, claims), new DeploymentOptions().setInstances(2))
                .toCompletionStage().toCompletableFuture().get();
        System.out.println("READY");
        Thread.currentThread().join();
    }

    /** One event loop's server: verifies, maps and gathers the requests into a batch. */
    private static final class Loop extends AbstractVerticle {
        private final int port;
        private final String topic;
        private final StripeSignatureVerifier verifier;
        private final BillingEventTranslator translator;
        private final Claims claims;
        private List<Pending> batch = new ArrayList<>();
        private long timer = -1;

        Loop(int port, String topic, StripeSignatureVerifier verifier, BillingEventTranslator translator, Claims claims) {
            this.port = port;
            this.topic = topic;
            this.verifier = verifier;
            this.translator = translator;
            this.claims = claims;
        }

        @Override
        public void start(Promise<Void> started) {
            vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(buf -> {
                BillingEventTranslator.Translated t;
                try {
                    byte[] body = buf.getBytes();
                    verifier.verify(req.getHeader(StripeSignatureVerifier.HEADER), body);
                    t = translator.translate(translator.parse(body), UUID.randomUUID().toString());
                } catch (RuntimeException e) {
                    req.response().setStatusCode(400).putHeader("Content-Type", "application/json")
                            .end("{\"status\":\"rejected\"}");
                    return;
                }
                batch.add(new Pending(context, req, "billing:stripe:" + t.sourceEventId(), HandWrittenFlows.record(topic, t)));
                if (batch.size() >= BATCH_MAX) {
                    flush();
                } else if (timer < 0) {
                    timer = vertx.setTimer(BATCH_MILLIS, id -> {
                        timer = -1;
                        flush();
                    });
                }
            })).listen(port).<Void>mapEmpty().onComplete(started);
        }

        private void flush() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
            if (batch.isEmpty()) return;
            claims.submit(batch);
            batch = new ArrayList<>();
        }
    }

    /** The database thread: one statement per batch (claims and the previous acknowledgements), then the sends. */
    private static final class Claims {
        private final String jdbcUrl;
        private final KafkaProducer<String, byte[]> producer;
        private final BlockingQueue<List<Pending>> batches = new LinkedBlockingQueue<>();
        /** keys whose records Kafka acknowledged: set DONE by the next statement */
        private final Queue<String> acknowledged = new ConcurrentLinkedQueue<>();
        /** acknowledged keys not DONE in the store yet: a request for one of them is a duplicate */
        private final Set<String> confirming = ConcurrentHashMap.newKeySet();
        /** keys whose send failed: released (deleted while PENDING) before the next claims */
        private final Queue<String> failed = new ConcurrentLinkedQueue<>();
        private Connection connection;
        private PreparedStatement claim;

        Claims(String jdbcUrl, KafkaProducer<String, byte[]> producer) {
            this.jdbcUrl = jdbcUrl;
            this.producer = producer;
            Thread t = new Thread(this::loop, "claims");
            t.setDaemon(true);
            t.start();
        }

        void submit(List<Pending> batch) {
            batches.add(batch);
        }

        private void loop() {
            List<Pending> work = new ArrayList<>();
            while (true) {
                try {
                    // idle, the acknowledgements still get their DONE within a few milliseconds
                    List<Pending> first = batches.poll(5, TimeUnit.MILLISECONDS);
                    if (first != null) {
                        work.addAll(first);
                        for (List<Pending> more; (more = batches.poll()) != null; ) work.addAll(more);
                    }
                    if (!work.isEmpty() || !acknowledged.isEmpty() || !failed.isEmpty()) claim(work);
                } catch (Throwable e) {
                    e.printStackTrace();
                    for (Pending p : work) p.answer(503, UNAVAILABLE);
                } finally {
                    work.clear();
                }
            }
        }

        private void claim(List<Pending> work) {
            List<String> released = drain(failed);
            if (!released.isEmpty()) {
                try {
                    PreparedStatement release = connection().prepareStatement(
                            "DELETE FROM bench_key WHERE key_value = ANY (?::text[]) AND state = 'PENDING'");
                    release.setArray(1, connection.createArrayOf("text", released.toArray()));
                    release.executeUpdate();
                    release.close();
                } catch (SQLException e) {
                    failed.addAll(released);
                    lost(e);
                    for (Pending p : work) p.answer(503, UNAVAILABLE);
                    return;
                }
            }
            List<String> done = drain(acknowledged);
            // the batch's requests by key: one claim per key (a key sent twice in one batch is claimed once)
            Map<String, List<Pending>> byKey = new LinkedHashMap<>();
            for (Pending p : work) {
                if (confirming.contains(p.key())) {
                    p.answer(200, DUPLICATE); // on Kafka already, DONE in this statement
                } else {
                    byKey.computeIfAbsent(p.key(), k -> new ArrayList<>(1)).add(p);
                }
            }
            Map<String, String> states = new HashMap<>();
            try {
                connection();
                claim.setArray(1, connection.createArrayOf("text", done.toArray()));
                claim.setArray(2, connection.createArrayOf("text", byKey.keySet().toArray()));
                try (ResultSet rs = claim.executeQuery()) {
                    while (rs.next()) {
                        states.merge(rs.getString(1), rs.getString(2),
                                (a, b) -> a.equals("CLAIMED") || b.equals("CLAIMED") ? "CLAIMED" : a);
                    }
                }
            } catch (SQLException e) {
                acknowledged.addAll(done); // still acknowledged: DONE with a later statement
                lost(e);
                for (List<Pending> ps : byKey.values()) for (Pending p : ps) p.answer(503, UNAVAILABLE);
                return;
            }
            done.forEach(confirming::remove);
            for (Map.Entry<String, List<Pending>> e : byKey.entrySet()) {
                List<Pending> ps = e.getValue();
                String state = states.get(e.getKey());
                int from = 0;
                if ("CLAIMED".equals(state)) {
                    send(ps.get(0));
                    from = 1;
                }
                for (int i = from; i < ps.size(); i++) {
                    if ("DONE".equals(state)) {
                        ps.get(i).answer(200, DUPLICATE);
                    } else if ("PENDING".equals(state) || "CLAIMED".equals(state)) {
                        ps.get(i).answer(409, IN_PROGRESS); // another delivery holds it
                    } else {
                        ps.get(i).answer(503, UNAVAILABLE); // not reported: never expected
                    }
                }
            }
        }

        private void send(Pending p) {
            try {
                producer.send(p.record(), (metadata, ex) -> {
                    if (ex == null) {
                        confirming.add(p.key());
                        acknowledged.add(p.key());
                        p.answer(200, ACCEPTED);
                    } else {
                        failed.add(p.key());
                        p.answer(503, UNAVAILABLE);
                    }
                });
            } catch (RuntimeException ex) {
                failed.add(p.key());
                p.answer(503, UNAVAILABLE);
            }
        }

        private Connection connection() throws SQLException {
            if (connection == null) {
                connection = DriverManager.getConnection(jdbcUrl, "postgres", "");
                connection.setAutoCommit(true); // the one statement is the transaction
                claim = connection.prepareStatement(CLAIM);
            }
            return connection;
        }

        private void lost(SQLException e) {
            e.printStackTrace();
            try {
                if (connection != null) connection.close();
            } catch (SQLException ignored) {
                // reconnected by the next statement
            }
            connection = null;
        }

        private static List<String> drain(Queue<String> q) {
            List<String> out = new ArrayList<>();
            for (String s; (s = q.poll()) != null; ) out.add(s);
            return out;
        }
    }
}
