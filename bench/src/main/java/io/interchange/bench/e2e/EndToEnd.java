package io.interchange.bench.e2e;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;

/**
 * The end-to-end benchmark: Interchange against (a) the same flows on plain Camel defaults and (b) a hand-written
 * baseline, side by side in one run, on a durable embedded PostgreSQL and an embedded Kafka broker, each system under
 * test in its own JVM. Prints a table of medians with their spread (min–max over the repetitions) and ratios, and
 * writes it to {@code results/e2e-<date>.txt}. See bench/README.md.
 */
public final class EndToEnd {

    enum Variant {
        PLAIN("plain Camel"), HAND("hand-written"), OURS("Interchange");
        final String label;
        Variant(String label) { this.label = label; }
    }

    private final Map<String, String> opts;
    private final Infra infra;
    private final Path logs;
    /** metric -> variant -> one value per repetition */
    private final Map<String, Map<Variant, List<Double>>> results = new LinkedHashMap<>();
    private final List<String> checks = new ArrayList<>();

    private EndToEnd(Map<String, String> opts, Infra infra, Path logs) {
        this.opts = opts;
        this.infra = infra;
        this.logs = logs;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>(Map.of("scenarios", "ingest,drain,post", "reps", "3",
                "drain-events", "1000000", "step-seconds", "6", "drain-cap-seconds", "300", "latency-seconds", "20",
                "variants", "plain,hand,ours", "out", "results", "post-events", "100000", "post-cap-seconds", "300"));
        opts.putAll(Map.of("customer-changes", "2000", "customer-cap-seconds", "180", "customer-rate", "200",
                "customer-rate-seconds", "15", "customer-latency-ms", "20-50", "customer-parallel", "32"));
        opts.putAll(Map.of("loyalty-events", "20000", "loyalty-cap-seconds", "300", "loyalty-filing-size", "400",
                "loyalty-close-seconds", "60"));
        for (int i = 0; i + 1 < args.length; i += 2) opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        if (System.getProperty("interchange.jar") == null) {
            throw new IllegalArgumentException("-Dinterchange.jar=<path to the packaged runtime> is required");
        }
        Path work = Files.createTempDirectory("interchange-e2e");
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd_HHmmss"));
        long started = System.nanoTime();
        try (Infra infra = new Infra(work)) {
            EndToEnd run = new EndToEnd(opts, infra, work.resolve("logs"));
            List<Variant> variants = new ArrayList<>();
            for (String v : opts.get("variants").split(",")) variants.add(Variant.valueOf(v.strip().toUpperCase()));
            int reps = Integer.parseInt(opts.get("reps"));
            Set<String> scenarios = Set.of(opts.get("scenarios").split(","));
            if (scenarios.contains("ingest")) {
                for (int rep = 1; rep <= reps; rep++) {
                    for (Variant v : rotate(variants, rep)) run.ingest(v, rep);
                }
            }
            if (scenarios.contains("drain")) {
                for (int rep = 1; rep <= reps; rep++) {
                    for (Variant v : rotate(variants, rep)) {
                        // a topic of its own per drain: every drain reads exactly N events
                        String source = run.preloadStripe(Integer.parseInt(opts.get("drain-events")),
                                "bench.stripe-events." + v.name().toLowerCase() + "." + rep);
                        run.drain(v, rep, source);
                        infra.deleteTopic(source);
                    }
                }
            }
            if (scenarios.contains("post")) {
                for (int rep = 1; rep <= reps; rep++) {
                    for (Variant v : rotate(variants, rep)) {
                        String source = run.preloadCanonical(Integer.parseInt(opts.get("post-events")),
                                "bench.billing." + v.name().toLowerCase() + "." + rep, rep * 13L + v.ordinal());
                        run.post(v, rep, source, null);
                        infra.deleteTopic(source);
                    }
                }
            }
            if (scenarios.contains("loyalty") || scenarios.contains("loyalty-daily")) {
                int n = Integer.parseInt(opts.get("loyalty-events"));
                for (int rep = 1; rep <= reps; rep++) {
                    // scenario loyalty-daily: the daily filing alone
                    for (Variant v : scenarios.contains("loyalty") ? rotate(variants, rep) : List.<Variant>of()) {
                        long seed = rep * 17L + v.ordinal();
                        LoyaltyRecords records = new LoyaltyRecords(seed, "r" + (char) ('a' + seed % 26) + rep + "x",
                                LoyaltyRecords.todayInBerlin());
                        String topic = "bench.loyalty." + v.name().toLowerCase() + "." + rep;
                        String source = run.preload("loyalty: preloading " + n + " canonical loyalty transactions (DE01, "
                                + "today)", n, topic, i -> records.record(topic, i));
                        run.post(v, rep, source, records);
                        infra.deleteTopic(source);
                    }
                    // the daily filing: no plain-Camel variant (Camel's documentation has no daily filing to copy)
                    for (Variant v : rotate(variants, rep)) {
                        if (v != Variant.PLAIN) run.loyaltyDaily(v, rep, n);
                    }
                }
            }
            if (scenarios.contains("customers")) {
                // no plain-Camel variant: Camel's documentation has no customer master sync to copy
                List<Variant> customerVariants = variants.stream().filter(v -> v != Variant.PLAIN).toList();
                for (int rep = 1; rep <= reps; rep++) {
                    for (Variant v : rotate(customerVariants, rep)) run.customers(v, rep);
                }
            }
            String table = run.table(variants, opts, (System.nanoTime() - started) / 60e9);
            System.out.println(table);
            Path out = Path.of(opts.get("out"));
            Files.createDirectories(out);
            Path file = out.resolve("e2e-" + stamp + ".txt");
            Files.writeString(file, table);
            System.out.println("written to " + file + "; process logs in " + work.resolve("logs"));
        }
        System.exit(0);
    }

    /** Each repetition starts with another variant, so a drift of the machine does not always hit the same one. */
    private static List<Variant> rotate(List<Variant> variants, int rep) {
        List<Variant> out = new ArrayList<>(variants);
        java.util.Collections.rotate(out, -(rep - 1));
        return out;
    }

    private void record(String metric, Variant v, double value) {
        results.computeIfAbsent(metric, k -> new LinkedHashMap<>()).computeIfAbsent(v, k -> new ArrayList<>()).add(value);
    }

    private void log(String line) {
        System.out.println("[" + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_TIME).substring(0, 8) + "] " + line);
    }

    // ---------------------------------------------------------------- systems under test

    private ServerProcess launch(Variant v, String mode, int rep, String jdbcUrl, String topic, String sourceTopic,
                                 String group, int httpPort) throws Exception {
        String name = v.name().toLowerCase() + "-" + mode + "-" + rep;
        if (v == Variant.OURS) {
            Map<String, String> env = oursEnv(name, jdbcUrl, group, httpPort);
            env.put("INTERCHANGE_BILLING_TOPIC", topic);
            env.put("INTERCHANGE_BILLING_WEBHOOK_SECRET", Events.SECRET);
            env.put("INTERCHANGE_FLOWS", mode.equals("ingest") ? "billing-webhook" : "billing-stream");
            env.put("INTERCHANGE_BILLING_STREAM_CONSUMERS", opts.getOrDefault("drain-threads", "6"));
            if (sourceTopic != null) env.put("INTERCHANGE_BILLING_STREAM_TOPIC", sourceTopic);
            return launchOurs(name, env);
        }
        List<String> args = new ArrayList<>(List.of(mode));
        if (mode.equals("ingest")) {
            args.addAll(List.of(String.valueOf(httpPort), jdbcUrl, infra.bootstrap(), topic));
        } else {
            args.addAll(List.of(jdbcUrl, infra.bootstrap(), sourceTopic, topic, group));
            if (v == Variant.HAND) args.add(opts.getOrDefault("drain-threads", "6"));
        }
        return launchBaseline(v, name, args);
    }

    /** The runtime's settings every scenario shares: store, broker, ports, data directory, consumer group. */
    private Map<String, String> oursEnv(String name, String jdbcUrl, String group, int httpPort) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("INTERCHANGE_STORE_URL", jdbcUrl);
        env.put("INTERCHANGE_STORE_USER", "postgres");
        env.put("INTERCHANGE_KAFKA_BOOTSTRAP_SERVERS", infra.bootstrap());
        env.put("INTERCHANGE_HTTP_PORT", String.valueOf(httpPort));
        env.put("INTERCHANGE_MANAGEMENT_PORT", String.valueOf(Infra.freePort()));
        env.put("INTERCHANGE_JMX_PORT", "0");
        env.put("INTERCHANGE_DATA_DIR", infra.workDir.resolve("data-" + name).toString());
        env.put("INTERCHANGE_KAFKA_CONSUMER_GROUP", group == null ? "e2e" : group);
        return env;
    }

    /** The packaged runtime, configured by its environment only; ready when its health endpoint answers 200. */
    private ServerProcess launchOurs(String name, Map<String, String> env) throws Exception {
        ServerProcess p = ServerProcess.launch(name, List.of("-jar", System.getProperty("interchange.jar")), env,
                logs.resolve(name + ".log"));
        String health = "http://127.0.0.1:" + env.get("INTERCHANGE_MANAGEMENT_PORT") + "/observe/health";
        return p.awaitReady(ServerProcess.httpOk(health), Duration.ofSeconds(90));
    }

    /** A baseline's main class with the same JVM flags and the harness's class path; ready when it prints READY. */
    private ServerProcess launchBaseline(Variant v, String name, List<String> args) throws Exception {
        return launchBaseline(v == Variant.PLAIN ? PlainCamelFlows.class.getName() : HandWrittenFlows.class.getName(),
                name, args);
    }

    private ServerProcess launchBaseline(String main, String name, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(args);
        ServerProcess p = ServerProcess.launch(name, cmd, Map.of(), logs.resolve(name + ".log"));
        return p.awaitReady(p.logContains("READY"), Duration.ofSeconds(90));
    }

    // ---------------------------------------------------------------- webhook ingest

    private void ingest(Variant v, int rep) throws Exception {
        String db = "e2e_ingest_" + v.name().toLowerCase() + "_" + rep;
        String topic = "bench.ingest." + v.name().toLowerCase() + "." + rep;
        String url = infra.newDatabase(db);
        infra.createTopic(topic, 6);
        int port = Infra.freePort();
        double stepSeconds = Double.parseDouble(opts.get("step-seconds"));
        long p99Limit = 50_000;
        log("ingest " + v.label + " #" + rep + ": starting");
        Events events = new Events(rep * 31L + v.ordinal(), "i" + v.name().charAt(0) + rep + "x");
        try (ServerProcess server = launch(v, "ingest", rep, url, topic, null, null, port); Load load = new Load(events, port)) {
            record("start to ready (s)", v, server.secondsToReady());
            log("  ready in " + String.format("%.2f", server.secondsToReady()) + " s; warming up");
            // the JIT compiles for the first half minute or so; until then every variant is slow and CPU-bound
            double warmSeconds = Double.parseDouble(opts.getOrDefault("warmup-seconds", "60"));
            for (double rate : new double[]{500, 1000, 2000}) {
                Load.Result warm = load.run(rate, warmSeconds / 3);
                log(String.format("  warm-up at %.0f ev/s: p99 %.1f ms, %d errors", rate, warm.p99Micros() / 1e3, warm.errors()));
            }
            Thread.sleep(2000);
            if (opts.containsKey("fixed-rate")) { // profiling aid: one long step at a given rate
                long cpu0 = server.cpuMicros();
                Load.Result r = load.run(Double.parseDouble(opts.get("fixed-rate")), stepSeconds);
                log(String.format("  fixed %s ev/s: p50 %.1f ms, p99 %.1f ms, %d errors, %.0f CPU µs/event",
                        opts.get("fixed-rate"), r.p50Micros() / 1e3, r.p99Micros() / 1e3, r.errors(),
                        (double) (server.cpuMicros() - cpu0) / r.sent()));
                return;
            }
            double rate = Double.parseDouble(opts.getOrDefault("start-rate", "1000"));
            Step best = null;
            double rssMax = 0;
            double failed = Double.NaN;
            while (rate <= 100_000) { // climb by x1.5 until the p99 or an error says no
                Step s = step(server, load, rate, stepSeconds, p99Limit);
                rssMax = Math.max(rssMax, s.rssMiB());
                if (!s.holds()) {
                    failed = rate;
                    break;
                }
                best = s;
                rate *= 1.5;
            }
            double lo = best == null ? 0 : best.result().rate();
            for (int i = 0; i < 2 && best != null && !Double.isNaN(failed); i++) { // then bisect twice
                double mid = (lo + failed) / 2;
                Step s = step(server, load, mid, stepSeconds, p99Limit);
                rssMax = Math.max(rssMax, s.rssMiB());
                if (s.holds()) {
                    lo = mid;
                    best = s;
                } else {
                    failed = mid;
                }
            }
            if (best != null) {
                record("ingest: max rate at p99 <= 50 ms (events/s)", v, best.result().rate());
                record("ingest: p99 at that rate (ms)", v, best.result().p99Micros() / 1e3);
                record("ingest: CPU per event at that rate (µs)", v, best.cpuPerEvent());
            }
            record("ingest: resident memory under load (MiB)", v, rssMax);
            Thread.sleep(3000);
            // exactly once: every fresh event answered 200 is on the topic (by its id, not only by count), once;
            // duplicates added nothing
            long records = infra.records(topic);
            Set<String> distinct = distinctIds(topic);
            long missing = load.acceptedFresh.stream().filter(seq -> !distinct.contains(events.id(seq))).count();
            boolean ok = records == distinct.size() && missing == 0 && distinct.size() <= load.freshSent();
            String check = String.format("ingest %s #%d: %d fresh events sent, %d answered 200, %d records, %d distinct, "
                    + "%d answered 200 and missing -> %s", v.label, rep, load.freshSent(), load.acceptedFresh.size(),
                    records, distinct.size(), missing, ok ? "exactly once" : "MISMATCH");
            checks.add(check);
            log("  " + check);
        } finally {
            infra.dropDatabase(db);
            infra.deleteTopic(topic);
        }
    }

    private record Step(Load.Result result, double cpuPerEvent, double rssMiB, boolean holds) { }

    /** One constant-rate step: the load's result, the server's CPU per event and its resident memory after it. */
    private Step step(ServerProcess server, Load load, double rate, double seconds, long p99Limit) throws InterruptedException {
        long cpu0 = server.cpuMicros();
        Load.Result r = load.run(rate, seconds);
        double cpuPerEvent = (double) (server.cpuMicros() - cpu0) / r.sent();
        double rss = server.rssMiB();
        boolean holds = r.holds(p99Limit);
        log(String.format("  %6.0f ev/s: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d errors, %.0f CPU µs/event -> %s",
                rate, r.p50Micros() / 1e3, r.p99Micros() / 1e3, r.maxMicros() / 1e3, r.errors(), cpuPerEvent,
                holds ? "holds" : "does not hold"));
        Thread.sleep(2000); // let a backlog from an overloaded step clear before the next
        return new Step(r, cpuPerEvent, rss, holds);
    }

    /** The CloudEvents ids of all records on the topic. */
    private Set<String> distinctIds(String topic) {
        Set<String> ids = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(infra.bootstrap())) {
            List<TopicPartition> parts = new ArrayList<>();
            c.partitionsFor(topic).forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    Header h = r.headers().lastHeader("ce_id");
                    ids.add(h == null ? "?" + r.partition() + "/" + r.offset() : new String(h.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return ids;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap, int lingerMs) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.LINGER_MS_CONFIG, lingerMs, ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    // ---------------------------------------------------------------- Kafka drain

    /** Raw Stripe events, as a Stripe-to-Kafka relay writes them, for the drain. */
    private String preloadStripe(int n, String source) throws Exception {
        Events events = new Events(7, "drn0");
        return preload("drain: preloading " + n + " Stripe events of " + events.averageSize() + " bytes", n, source,
                i -> new ProducerRecord<>(source, "c" + (i % 64), events.body(i)));
    }

    /**
     * A fresh topic of 6 partitions holding n records; its name. A send can fail on a topic this new (the broker not
     * yet leader of a partition the producer already writes to: the batch is retried until it expires); the records
     * that failed are sent again by a new producer, so every variant gets all n, and a preload that still falls short
     * stops the run instead of measuring a smaller N unnoticed.
     */
    private String preload(String what, int n, String source, LongFunction<ProducerRecord<String, byte[]>> record)
            throws Exception {
        infra.createTopic(source, 6);
        return publish(what, n, source, record);
    }

    /** Writes records 0..n-1 to an existing topic (acks=all), sending any that failed again, and checks the count. */
    private String publish(String what, int n, String source, LongFunction<ProducerRecord<String, byte[]>> record)
            throws Exception {
        log(what + " on 6 partitions");
        java.util.Queue<Long> failed = new java.util.concurrent.ConcurrentLinkedQueue<>();
        List<Long> pending = null; // null: all of 0..n-1
        for (int attempt = 1; attempt <= 3; attempt++) {
            try (KafkaProducer<String, byte[]> producer = producer(infra.bootstrap(), 20)) {
                long count = pending == null ? n : pending.size();
                for (long k = 0; k < count; k++) {
                    long i = pending == null ? k : pending.get((int) k);
                    producer.send(record.apply(i), (md, e) -> {
                        if (e != null) failed.add(i);
                    });
                    if (k > 0 && k % 200_000 == 0) log("  " + k + " preloaded");
                }
                producer.flush();
            }
            if (failed.isEmpty()) break;
            pending = new ArrayList<>(failed);
            failed.clear();
            log("  " + pending.size() + " records were not written; sending them again");
        }
        long records = infra.records(source);
        log("  " + records + " records on " + source);
        if (records != n) throw new IllegalStateException("preloaded " + records + " records instead of " + n + " on " + source);
        return source;
    }

    private void drain(Variant v, int rep, String source) throws Exception {
        String name = v.name().toLowerCase();
        String db = "e2e_drain_" + name + "_" + rep;
        String topic = "bench.drain." + name + "." + rep;
        String group = "e2e-drain-" + name + "-" + rep;
        String url = infra.newDatabase(db);
        infra.createTopic(topic, 6);
        long total = infra.records(source);
        double cap = Double.parseDouble(opts.get("drain-cap-seconds"));
        log("drain " + v.label + " #" + rep + ": " + total + " events");
        try (ServerProcess server = launch(v, "drain", rep, url, topic, source, group, 0)) {
            Progress p = measure(server, () -> infra.records(topic), total, cap, done -> done + " / " + total + " published");
            double rate = p.rate();
            boolean capped = p.capped(total);
            record("drain: events/s", v, rate);
            record("drain: CPU per event (µs)", v, p.cpuPerItem());
            log(String.format("  %d events in %.1f s: %.0f events/s, %.0f CPU µs/event%s", p.counted(), p.seconds(), rate,
                    p.cpuPerItem(), capped ? " (stopped at the time cap)" : ""));
            if (capped) {
                checks.add(String.format("drain %s #%d: stopped at the %.0f s cap after %d of %d events (rate from the "
                        + "part drained; exactly-once not checked)", v.label, rep, cap, p.done(), total));
                return;
            }
            Thread.sleep(1000);
            long after = infra.records(topic);
            checks.add(String.format("drain %s #%d: %d events in, %d records out -> %s", v.label, rep, total, after,
                    after == total ? "exactly once" : "MISMATCH"));
            // end-to-end latency at half the drain rate
            double half = rate / 2;
            long p99 = latencyAt(half, source, topic, v, rep);
            record("drain: p99 end-to-end at half that rate (ms)", v, p99 / 1e3);
        } finally {
            infra.dropDatabase(db);
            infra.deleteTopic(topic);
        }
    }

    /** Sends fresh events at a constant rate to the source topic; p99 of send-due to seen-on-output, in µs. */
    private long latencyAt(double rate, String source, String topic, Variant v, int rep) throws Exception {
        double seconds = Double.parseDouble(opts.get("latency-seconds"));
        int total = (int) (rate * seconds);
        Events events = new Events(11L * rep + v.ordinal(), "l" + v.name().charAt(0) + rep + "y");
        Map<String, Long> due = new ConcurrentHashMap<>();
        long[] latencies = new long[total];
        int[] seen = {0};
        int[] unmatched = {0};
        Thread reader = new Thread(() -> {
            try (KafkaConsumer<byte[], byte[]> c = consumer(infra.bootstrap())) {
                List<TopicPartition> parts = new ArrayList<>();
                c.partitionsFor(topic).forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
                c.assign(parts);
                c.seekToEnd(parts);
                parts.forEach(c::position);
                synchronized (seen) { seen.notifyAll(); }
                long deadline = System.nanoTime() + (long) ((seconds + 30) * 1e9);
                while (seen[0] < total && System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
                        long at = System.nanoTime();
                        Header h = r.headers().lastHeader("ce_id");
                        Long d = h == null ? null : due.remove(new String(h.value(), StandardCharsets.UTF_8));
                        if (d == null && unmatched[0]++ < 3) {
                            log("  unmatched record on " + topic + ": ce_id " + (h == null ? "none" : new String(h.value(), StandardCharsets.UTF_8)));
                        }
                        if (d != null && seen[0] < total) latencies[seen[0]++] = (at - d) / 1000;
                    }
                }
            }
        });
        synchronized (seen) {
            reader.start();
            seen.wait(10_000);
        }
        try (KafkaProducer<String, byte[]> producer = producer(infra.bootstrap(), 0)) {
            long start = System.nanoTime() + 1_000_000;
            for (int i = 0; i < total; i++) {
                long d = start + (long) (i * 1e9 / rate);
                long wait;
                while ((wait = d - System.nanoTime()) > 50_000) LockSupport.parkNanos(Math.min(wait - 20_000, 500_000));
                due.put(events.id(i), d);
                producer.send(new ProducerRecord<>(source, "c" + (i % 64), events.body(i)));
            }
        }
        reader.join();
        int lost = total - seen[0];
        long p99 = Stats.percentile(latencies, seen[0], 99);
        log(String.format("  half rate %.0f events/s for %.0f s: p50 %.1f ms, p99 %.1f ms%s", rate, seconds,
                Stats.percentile(latencies, seen[0], 50) / 1e3, p99 / 1e3, lost > 0 ? ", " + lost + " NOT SEEN" : ""));
        if (lost > 0) checks.add(String.format("drain %s #%d: %d of %d half-rate events not seen within 30 s", v.label, rep, lost, total));
        return lost > 0 ? Long.MAX_VALUE / 2 : p99;
    }

    // ---------------------------------------------------------------- ERP posting

    /**
     * Canonical invoices as the webhook route publishes them to the billing topic; ids of their own per run (the
     * prefix), as the peer and the stores are fresh anyway but a stray record must not look like one of this run.
     */
    private String preloadCanonical(int n, String source, long seed) throws Exception {
        CanonicalRecords records = new CanonicalRecords(new Events(seed, "pst" + (char) ('a' + seed % 26)));
        return preload("post: preloading " + n + " canonical invoice events (S/4HANA entities only)", n, source,
                i -> records.record(source, i));
    }

    private ServerProcess launchPost(Variant v, int rep, String jdbcUrl, String source, String ledger, String group,
                                     ErpPeer erp, boolean loyalty) throws Exception {
        String name = v.name().toLowerCase() + (loyalty ? "-loyalty-" : "-post-") + rep;
        String threads = opts.getOrDefault("post-threads", "6");
        String bulk = opts.getOrDefault("post-bulk", "50");
        if (v == Variant.OURS) {
            Map<String, String> env = oursEnv(name, jdbcUrl, group, 0);
            env.put("INTERCHANGE_FLOWS", "billing-ledger");
            if (loyalty) {
                // billing-ledger reads the loyalty topic beside the billing topic, which stays empty here
                String billing = "bench.billing-empty." + name;
                infra.createTopic(billing, 6);
                env.put("INTERCHANGE_BILLING_TOPIC", billing);
                env.put("INTERCHANGE_LOYALTY_TOPIC", source);
            } else {
                env.put("INTERCHANGE_BILLING_TOPIC", source);
            }
            env.put("INTERCHANGE_LEDGER_TOPIC", ledger);
            env.put("INTERCHANGE_ERP_S4_URL", erp.url());
            env.put("INTERCHANGE_ERP_S4_USER", ErpPeer.USER);
            env.put("INTERCHANGE_ERP_S4_PASSWORD", ErpPeer.PASSWORD);
            env.put("INTERCHANGE_ERP_LEGACY_URL", erp.legacyUrl());
            env.put("INTERCHANGE_ERP_LEGACY_USER", ErpPeer.USER);
            env.put("INTERCHANGE_ERP_LEGACY_PASSWORD", ErpPeer.PASSWORD);
            // the runtime, not the ERP's rate limit, is to bound throughput, as in the baselines (which have none)
            env.put("INTERCHANGE_ERP_S4_MAX_RATE", "100000");
            // batched posting, being added to the ledger route; a runtime that does not know them yet ignores them
            env.put("INTERCHANGE_ERP_S4_BULK_SIZE", bulk);
            env.put("INTERCHANGE_LEDGER_BATCH", "500");
            env.put("INTERCHANGE_LEDGER_CONSUMERS", threads);
            return launchOurs(name, env);
        }
        List<String> args = new ArrayList<>(List.of("post", jdbcUrl, infra.bootstrap(), source, ledger, group, erp.url(),
                ErpPeer.USER, ErpPeer.PASSWORD));
        if (v == Variant.HAND) args.addAll(List.of(threads, bulk));
        return launchBaseline(v, name, args);
    }

    /**
     * Drains the topic into journal entries at a fresh S/4HANA peer: postings per second from the first posting to
     * the N-th (start-up excluded, as in the drain), CPU per posting of the system under test, SOAP requests the peer
     * received; then exactly once: N postings of N distinct UUIDs, N confirmation rows, N ledger records.
     */
    private void post(Variant v, int rep, String source, LoyaltyRecords loyalty) throws Exception {
        String name = v.name().toLowerCase();
        String what = loyalty == null ? "post" : "loyalty";
        String db = "e2e_" + what + "_" + name + "_" + rep;
        String ledger = "bench.ledger." + what + "." + name + "." + rep;
        String group = "e2e-" + what + "-" + name + "-" + rep;
        String url = infra.newDatabase(db);
        infra.createTopic(ledger, 6);
        long total = infra.records(source);
        double cap = Double.parseDouble(opts.get(loyalty == null ? "post-cap-seconds" : "loyalty-cap-seconds"));
        log(what + " " + v.label + " #" + rep + ": " + total + " events" + (loyalty == null ? "" : " (real time)"));
        try (ErpPeer peer = new ErpPeer();
             ServerProcess server = launchPost(v, rep, url, source, ledger, group, peer, loyalty != null)) {
            Progress p = measure(server, peer::postings, total, cap,
                    done -> done + " / " + total + " posted, " + peer.requests() + " SOAP requests");
            double rate = p.rate();
            boolean capped = p.capped(total);
            record(what + (loyalty == null ? "" : " real time") + ": postings/s", v, rate);
            record(what + (loyalty == null ? "" : " real time") + ": CPU per posting (µs)", v, p.cpuPerItem());
            record(what + (loyalty == null ? "" : " real time") + ": SOAP requests received by S/4HANA", v, peer.requests());
            log(String.format("  %d postings in %.1f s: %.0f postings/s, %.0f CPU µs/posting, %d SOAP requests%s",
                    p.counted(), p.seconds(), rate, p.cpuPerItem(), peer.requests(),
                    capped ? " (stopped at the time cap)" : ""));
            if (capped) {
                checks.add(String.format(what + " %s #%d: INCOMPLETE, stopped at the %.0f s cap after %d of %d postings "
                        + "(rate from the part posted; exactly-once not checked)", v.label, rep, cap, p.done(), total));
                return;
            }
            // the last confirmations and ledger records follow the last posting; give them a moment
            long rows = 0;
            long records = 0;
            for (long until = System.nanoTime() + 30_000_000_000L; System.nanoTime() < until; Thread.sleep(250)) {
                rows = infra.count(url, "SELECT COUNT(*) FROM " + confirmationTable(v));
                records = infra.records(ledger);
                if (rows >= total && records >= total) break;
            }
            Thread.sleep(1000);
            int postings = peer.postings();
            int distinct = peer.distinctUuids();
            rows = infra.count(url, "SELECT COUNT(*) FROM " + confirmationTable(v));
            records = infra.records(ledger);
            boolean ok = postings == total && distinct == total && rows == total && records == total
                    && peer.rejections() == 0 && peer.legacyPostings() == 0;
            checks.add(String.format(what + " %s #%d: %d events in; S/4HANA: %d postings, %d distinct UUIDs (%d duplicates), "
                            + "%d rejected, %d answered from its idempotency store, %d SOAP requests (%.1f entries each); "
                            + "legacy ERP: %d; %d confirmation rows, %d ledger records -> %s", v.label, rep, total, postings,
                    distinct, postings - distinct, peer.rejections(), peer.replays(), peer.requests(),
                    (double) postings / Math.max(1, peer.requests()), peer.legacyPostings(), rows, records,
                    ok ? "exactly once" : "MISMATCH"));
            if (loyalty != null) {
                checks.add(String.format("loyalty real time %s #%d: %s", v.label, rep, peer.linePairs(ids(loyalty, total))));
            }
        } finally {
            if (loyalty != null && v == Variant.OURS) infra.deleteTopic("bench.billing-empty." + name + "-loyalty-" + rep);
            infra.dropDatabase(db);
            infra.deleteTopic(ledger);
        }
    }

    // ---------------------------------------------------------------- loyalty: daily filing

    private static Set<String> ids(LoyaltyRecords records, long n) {
        Set<String> out = new HashSet<>((int) (n * 2));
        for (long i = 0; i < n; i++) out.add(records.transactionId(i));
        return out;
    }

    /**
     * The bundled mappings written to a directory for {@code interchange.mappings.dir} (the runtime reads the whole
     * directory then), with DE01 filed daily in {@code loyalty/point-values.csv}.
     */
    private Path dailyMappings() throws Exception {
        Path dir = infra.workDir.resolve("mappings-de01-daily");
        if (Files.isDirectory(dir)) return dir;
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(System.getProperty("interchange.jar"))) {
            for (var entries = jar.entries(); entries.hasMoreElements(); ) {
                java.util.jar.JarEntry e = entries.nextElement();
                if (!e.getName().startsWith("mappings/") || e.isDirectory()) continue;
                Path out = dir.resolve(e.getName().substring("mappings/".length()));
                Files.createDirectories(out.getParent());
                try (var in = jar.getInputStream(e)) {
                    Files.copy(in, out);
                }
            }
        }
        Path values = dir.resolve("loyalty/point-values.csv");
        String csv = Files.readString(values);
        String daily = csv.replaceFirst("(?m)^DE01,EUR,1,realtime$", "DE01,EUR,1,daily");
        if (daily.equals(csv)) throw new IllegalStateException("loyalty/point-values.csv has no realtime row for DE01: " + csv);
        Files.writeString(values, daily);
        return dir;
    }

    /**
     * The daily filing of DE01's loyalty transactions. The system under test is launched on a fresh, empty loyalty
     * topic and given 5 s for its consumers to join; then N transactions dated yesterday (Europe/Berlin) are published
     * at once, and the run ends when the S/4HANA peer holds a line pair for each of them.
     *
     * <p>Interchange runs {@code billing-ledger} with DE01 filed daily ({@link #dailyMappings}), the job checking every
     * second. Its day must close after every transaction has been recorded, as at midnight: the grace
     * ({@code interchange.loyalty.filing-grace}) is set so that yesterday closes {@code loyalty-close-seconds} after
     * launch (a grace of 0 would file the first few hundred recorded at the job's first check and leave the rest to
     * the next day). Its rate counts the time it worked: from the first publish to the last transaction recorded in
     * the store, plus from the close to the last filing posted; the idle wait for the close is left out (and shown).
     * The hand-written daily filing ({@code HandWrittenFlows file}) does the same work with nothing else: its loops
     * record each poll's transactions in a table, and at the same close its job assigns them to parts of
     * {@code loyalty-filing-size} (400, the runtime's filing-max-transactions) and posts each part as one journal
     * entry, six at a time; its rate is measured the same way. Both look for the close every 100 ms.
     */
    private void loyaltyDaily(Variant v, int rep, int n) throws Exception {
        String name = v.name().toLowerCase();
        String db = "e2e_loyalty_daily_" + name + "_" + rep;
        String topic = "bench.loyalty-daily." + name + "." + rep;
        String ledger = "bench.ledger.loyalty-daily." + name + "." + rep;
        String group = "e2e-loyalty-daily-" + name + "-" + rep;
        String billing = "bench.billing-empty.daily." + name + "." + rep;
        String url = infra.newDatabase(db);
        infra.createTopic(topic, 6);
        infra.createTopic(ledger, 6);
        infra.createTopic(billing, 6);
        int perEntry = Integer.parseInt(opts.get("loyalty-filing-size"));
        double cap = Double.parseDouble(opts.get("loyalty-cap-seconds"));
        double closeAfter = Double.parseDouble(opts.get("loyalty-close-seconds"));
        long seed = rep * 19L + v.ordinal() + 100;
        LoyaltyRecords records = new LoyaltyRecords(seed, "d" + (char) ('a' + seed % 26) + rep + "x",
                LoyaltyRecords.todayInBerlin().minusDays(1));
        log("loyalty daily filing " + v.label + " #" + rep + ": " + n + " transactions of yesterday");
        String procName = name + "-loyalty-daily-" + rep;
        try (ErpPeer peer = new ErpPeer()) {
            long launchedAt = System.currentTimeMillis();
            ServerProcess server;
            if (v == Variant.OURS) {
                Map<String, String> env = oursEnv(procName, url, group, 0);
                env.put("INTERCHANGE_FLOWS", "billing-ledger");
                env.put("INTERCHANGE_BILLING_TOPIC", billing);
                env.put("INTERCHANGE_LOYALTY_TOPIC", topic);
                env.put("INTERCHANGE_LEDGER_TOPIC", ledger);
                env.put("INTERCHANGE_MAPPINGS_DIR", dailyMappings().toString());
                env.put("INTERCHANGE_LOYALTY_FILING_CHECK", "PT0.1S");
                env.put("INTERCHANGE_LOYALTY_FILING_MAX_TRANSACTIONS", String.valueOf(perEntry));
                // yesterday closes (Berlin midnight + grace) closeAfter seconds after launch
                java.time.ZonedDateTime midnight = LoyaltyRecords.todayInBerlin().atStartOfDay(java.time.ZoneId.of("Europe/Berlin"));
                long grace = (launchedAt - midnight.toInstant().toEpochMilli()) / 1000 + (long) closeAfter;
                env.put("INTERCHANGE_LOYALTY_FILING_GRACE", "PT" + grace + "S");
                env.put("INTERCHANGE_ERP_S4_URL", peer.url());
                env.put("INTERCHANGE_ERP_S4_USER", ErpPeer.USER);
                env.put("INTERCHANGE_ERP_S4_PASSWORD", ErpPeer.PASSWORD);
                env.put("INTERCHANGE_ERP_LEGACY_URL", peer.legacyUrl());
                env.put("INTERCHANGE_ERP_LEGACY_USER", ErpPeer.USER);
                env.put("INTERCHANGE_ERP_LEGACY_PASSWORD", ErpPeer.PASSWORD);
                env.put("INTERCHANGE_ERP_S4_MAX_RATE", "100000");
                env.put("INTERCHANGE_ERP_S4_BULK_SIZE", opts.getOrDefault("post-bulk", "50"));
                env.put("INTERCHANGE_LEDGER_BATCH", "500");
                env.put("INTERCHANGE_LEDGER_CONSUMERS", opts.getOrDefault("post-threads", "6"));
                server = launchOurs(procName, env);
            } else {
                server = launchBaseline(v, procName, List.of("file", url, infra.bootstrap(), topic, ledger, group,
                        peer.url(), ErpPeer.USER, ErpPeer.PASSWORD, opts.getOrDefault("post-threads", "6"),
                        String.valueOf(perEntry), String.valueOf(launchedAt + (long) (closeAfter * 1000))));
            }
            long closeAt = launchedAt + (long) (closeAfter * 1000);
            // where each variant holds the day's transactions until the close
            String recordedQuery = v == Variant.OURS ? "SELECT COUNT(*) FROM interchange.loyalty_filing_item"
                    : "SELECT COUNT(*) FROM bench_filing_item";
            try (server) {
                Thread.sleep(5000); // the consumers join their groups
                if (System.currentTimeMillis() > closeAt - 15_000) {
                    throw new IllegalStateException("the runtime took too long to start: raise --loyalty-close-seconds");
                }
                long cpu0 = server.cpuMicros();
                long t0 = System.nanoTime();
                publish("  publishing " + n + " transactions", n, topic, i -> records.record(topic, i));
                long tRecorded = 0;
                long cpuRecorded = 0;
                long tClose = 0;
                long cpuClose = 0;
                long recorded = 0;
                long done = 0;
                long lastLog = t0;
                long now = t0;
                while (true) {
                    Thread.sleep(100);
                    now = System.nanoTime();
                    {
                        if (tRecorded == 0) {
                            recorded = infra.count(url, recordedQuery);
                            if (recorded >= n) {
                                tRecorded = now;
                                cpuRecorded = server.cpuMicros();
                            }
                        }
                        if (tClose == 0 && System.currentTimeMillis() >= closeAt) {
                            tClose = now;
                            cpuClose = server.cpuMicros();
                            if (tRecorded == 0) log("  the day closed before every transaction was recorded ("
                                    + infra.count(url, recordedQuery) + " of " + n + ")");
                        }
                    }
                    done = peer.lines() / 2;
                    if (done >= n) break;
                    if ((now - t0) / 1e9 > cap + closeAfter) break;
                    if (!server.process.isAlive()) throw new IllegalStateException(server.name + " died; see " + server.log);
                    if (now - lastLog > 15e9) {
                        log("  " + recorded + " recorded, " + done + " / " + n + " filed, "
                                + peer.postings() + " entries, " + peer.requests() + " SOAP requests");
                        lastLog = now;
                    }
                }
                long cpuEnd = server.cpuMicros();
                double wall = (now - t0) / 1e9;
                double worked;
                long cpu;
                String detail;
                if (tRecorded != 0 && tClose != 0 && tClose >= tRecorded) {
                    worked = (tRecorded - t0) / 1e9 + (now - tClose) / 1e9;
                    cpu = (cpuRecorded - cpu0) + (cpuEnd - cpuClose);
                    detail = String.format("recorded in %.1f s, waited %.1f s for the close, filed and posted in %.1f s",
                            (tRecorded - t0) / 1e9, (tClose - tRecorded) / 1e9, (now - tClose) / 1e9);
                    record("loyalty daily: close to last filing posted (s)", v, (now - tClose) / 1e9);
                } else {
                    worked = wall;
                    cpu = cpuEnd - cpu0;
                    detail = "NOT all recorded before the close";
                }
                double rate = done / worked;
                record("loyalty daily: transactions filed/s", v, rate);
                record("loyalty daily: CPU per transaction (µs)", v, (double) cpu / Math.max(1, done));
                record("loyalty daily: SOAP requests received by S/4HANA", v, peer.requests());
                record("loyalty daily: journal entries", v, peer.postings());
                log(String.format("  %d of %d transactions filed in %d journal entries, %d SOAP requests: %.0f/s over "
                                + "%.1f s worked (%.1f s wall; %s), %.0f CPU µs each", done, n, peer.postings(),
                        peer.requests(), rate, worked, wall, detail, (double) cpu / Math.max(1, done)));
                if (done < n) {
                    checks.add(String.format("loyalty daily %s #%d: INCOMPLETE, %d of %d transactions posted at the "
                            + "cap (%s)", v.label, rep, done, n, detail));
                    return;
                }
                Thread.sleep(2000); // the last confirmations and ledger records follow the last posting
                long rows = infra.count(url, "SELECT COUNT(*) FROM " + confirmationTable(v));
                long ledgerRecords = infra.records(ledger);
                String store = "";
                if (v == Variant.OURS) {
                    store = String.format("; store: %d filings, %d transactions filed, %d unfiled",
                            infra.count(url, "SELECT COUNT(*) FROM interchange.loyalty_filing"),
                            infra.count(url, "SELECT COUNT(*) FROM interchange.loyalty_filing_item WHERE filing_id IS NOT NULL"),
                            infra.count(url, "SELECT COUNT(*) FROM interchange.loyalty_filing_item WHERE filing_id IS NULL"));
                }
                checks.add(String.format("loyalty daily %s #%d: %d transactions in; S/4HANA: %s; %d rejected, %d "
                                + "answered from its idempotency store; %d confirmation rows, %d ledger records for %d "
                                + "entries%s", v.label, rep, n, peer.linePairs(ids(records, n)), peer.rejections(),
                        peer.replays(), rows, ledgerRecords, peer.postings(), store));
            }
        } finally {
            infra.dropDatabase(db);
            infra.deleteTopic(topic);
            infra.deleteTopic(ledger);
            infra.deleteTopic(billing);
        }
    }

    /** The runtime keeps its tables in schema interchange; the baselines create theirs in the default schema. */
    private static String confirmationTable(Variant v) {
        return v == Variant.OURS ? "interchange.erp_confirmation" : "erp_confirmation";
    }

    /** How many items the system under test has put out so far (records on a topic, postings at a peer). */
    private interface Count {
        long get() throws Exception;
    }

    /**
     * What a drain-like run measured: from the first item seen ({@code first}, with the system's CPU then) to the last
     * poll ({@code last}, {@code done} items).
     */
    private record Progress(long first, long last, long firstCount, long done, long cpuMicros) {
        long counted() {
            return done - firstCount;
        }

        double seconds() {
            return (last - first) / 1e9;
        }

        double rate() {
            return first == 0 ? 0 : counted() / seconds();
        }

        double cpuPerItem() {
            return (double) cpuMicros / Math.max(1, counted());
        }

        boolean capped(long total) {
            return done < total;
        }
    }

    /**
     * Polls {@code count} every 250 ms until it reaches {@code total} or {@code cap} seconds have passed since the first
     * item (or since the start, if none came), failing if the system under test dies; a progress line every 15 s.
     * Start-up is excluded: rate and CPU count from the first item seen.
     */
    private Progress measure(ServerProcess server, Count count, long total, double cap,
                             LongFunction<String> progress) throws Exception {
        long first = 0;
        long firstCount = 0;
        long cpuFirst = 0;
        long done;
        long now;
        long lastLog = System.nanoTime();
        long started = lastLog;
        while (true) {
            Thread.sleep(250);
            done = count.get();
            now = System.nanoTime();
            if (first == 0 && done > 0) {
                first = now;
                firstCount = done;
                cpuFirst = server.cpuMicros();
            }
            if (done >= total) break;
            if ((now - (first == 0 ? started : first)) / 1e9 > cap) break;
            if (!server.process.isAlive()) throw new IllegalStateException(server.name + " died; see " + server.log);
            if (now - lastLog > 15e9) {
                log("  " + progress.apply(done));
                lastLog = now;
            }
        }
        return new Progress(first, now, firstCount, done, server.cpuMicros() - cpuFirst);
    }

    // ---------------------------------------------------------------- customer master sync

    /** What one phase of the customer scenario measured: changes done, seconds from first publish, CPU of the system. */
    private record Phase(int total, int done, double seconds, long cpuMicros) {
        double rate() {
            return done / seconds;
        }

        double cpuPerChange() {
            return (double) cpuMicros / Math.max(1, done);
        }

        boolean complete() {
            return done >= total;
        }
    }

    /** How many of a phase's changes the peers show done. */
    private interface Done {
        int get() throws Exception;
    }

    /**
     * The customer sync ({@code customers}): N new Salesforce accounts as CDC change events on the customer topic,
     * then an edit (a new phone number) of each of them, then fresh accounts offered at a fixed rate; each phase on
     * a fresh topic with the system under test launched on it (state carried over in its database: global ids and
     * links), so a phase that hit its time cap leaves no backlog to the next. Every target is one of the runtime's
     * simulated systems with an API latency of 20–50 ms ({@link CustomerPeers}); done is what the peers show.
     */
    private void customers(Variant v, int rep) throws Exception {
        String name = v.name().toLowerCase();
        int n = Integer.parseInt(opts.get("customer-changes"));
        double cap = Double.parseDouble(opts.get("customer-cap-seconds"));
        String[] range = opts.get("customer-latency-ms").split("-");
        Duration min = Duration.ofMillis(Long.parseLong(range[0]));
        Duration max = Duration.ofMillis(Long.parseLong(range[range.length - 1]));
        String db = "e2e_customers_" + name + "_" + rep;
        String url = infra.newDatabase(db);
        int port = Infra.freePort();
        String run = name.charAt(0) + "" + rep;
        log("customers " + v.label + " #" + rep + ": " + n + " new accounts, then an edit of each; peers answer in "
                + min.toMillis() + "–" + max.toMillis() + " ms");
        try (CustomerPeers peers = new CustomerPeers(min, max)) {
            peers.confirmTo(port);
            CustomerChanges changes = new CustomerChanges(peers.salesforce.orgId, peers.salesforce.userId);
            List<String> ids = peers.createAccounts(run, 0, n);
            Set<String> accounts = new HashSet<>(ids);

            // phase 1: new accounts
            Map<String, Integer> before = peers.requests();
            Phase created = phase(v, rep, "create", url, port, peers, n, cap,
                    topic -> { List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
                        long now = System.currentTimeMillis();
                        for (int i = 0; i < n; i++) out.add(changes.created(topic, ids.get(i), CustomerChanges.account(run, i), now));
                        return out; },
                    () -> peers.syncedCount(accounts));
            record("customers: new accounts/s (all targets)", v, created.rate());
            record("customers: CPU per new account (µs)", v, created.cpuPerChange());
            Map<String, Integer> after = peers.requests();
            record("customers: peer requests per new account", v, perChange(before, after, created.done()));
            log(String.format("  creates: %d of %d in %.1f s: %.1f/s, %.0f CPU µs each; requests %s%s", created.done(), n,
                    created.seconds(), created.rate(), created.cpuPerChange(), delta(before, after),
                    created.complete() ? "" : " (stopped at the time cap)"));
            Set<String> done = peers.syncedOf(accounts);
            Thread.sleep(2000); // an echo or a late duplicate would show in the check
            String check = peers.check(done);
            checks.add("customers " + v.label + " #" + rep + " creates: " + (created.complete() ? "" : "INCOMPLETE at the "
                    + (int) cap + " s cap, checked the " + done.size() + " done; ") + check);
            log("  " + check);

            // phase 2: an edit of every account the first phase synced
            Map<String, String> globalIds = peers.globalIds(done);
            List<Integer> edited = new ArrayList<>();
            Map<String, String> phones = new HashMap<>();
            for (int i = 0; i < n; i++) {
                String g = globalIds.get(ids.get(i));
                if (g == null) continue;
                edited.add(i);
                phones.put(g, CustomerChanges.editedPhone(run, i));
            }
            before = peers.requests();
            Phase edits = phase(v, rep, "edit", url, port, peers, edited.size(), cap,
                    topic -> { List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
                        long now = System.currentTimeMillis();
                        for (int i : edited) out.add(changes.updated(topic, ids.get(i),
                                Map.of("Phone", CustomerChanges.editedPhone(run, i)), now));
                        return out; },
                    () -> peers.editedCount(phones));
            after = peers.requests();
            record("customers: edits/s (all targets)", v, edits.rate());
            record("customers: CPU per edit (µs)", v, edits.cpuPerChange());
            record("customers: peer requests per edit", v, perChange(before, after, edits.done()));
            log(String.format("  edits: %d of %d in %.1f s: %.1f/s, %.0f CPU µs each; requests %s%s", edits.done(),
                    edited.size(), edits.seconds(), edits.rate(), edits.cpuPerChange(), delta(before, after),
                    edits.complete() ? "" : " (stopped at the time cap)"));
            checks.add(String.format("customers %s #%d edits: %d of %d customers have the new phone at billing and "
                            + "loyalty and a second ERP save -> %s", v.label, rep, edits.done(), edited.size(),
                    edits.complete() ? "ok" : "INCOMPLETE"));

            // phase 3: fresh accounts offered at a fixed rate (open model), latency from due time to synced
            customerLatency(v, rep, url, port, peers, changes, run, n);
        } finally {
            infra.dropDatabase(db);
        }
    }

    private static double perChange(Map<String, Integer> before, Map<String, Integer> after, int changes) {
        int sum = 0;
        for (String k : after.keySet()) sum += after.get(k) - before.getOrDefault(k, 0);
        return (double) sum / Math.max(1, changes);
    }

    private static String delta(Map<String, Integer> before, Map<String, Integer> after) {
        StringBuilder sb = new StringBuilder();
        for (String k : after.keySet()) sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ')
                .append(after.get(k) - before.getOrDefault(k, 0));
        return sb.toString();
    }

    /**
     * One phase: a fresh topic, the system under test launched on it and ready, then every change published at once
     * (acks=all) and the peers polled every 200 ms until all are done or {@code cap} seconds passed. Seconds count from
     * the first publish to the poll that saw the last change done; CPU is the system's over the same time.
     */
    private Phase phase(Variant v, int rep, String what, String jdbcUrl, int port, CustomerPeers peers, int total,
                        double cap, java.util.function.Function<String, List<ProducerRecord<String, byte[]>>> records,
                        Done done) throws Exception {
        String topic = "bench.customers." + v.name().toLowerCase() + "." + rep + "." + what;
        infra.createTopic(topic, 6);
        List<ProducerRecord<String, byte[]>> batch = records.apply(topic);
        try (ServerProcess server = launchCustomers(v, rep, what, jdbcUrl, port, topic, peers);
             KafkaProducer<String, byte[]> producer = producer(infra.bootstrap(), 1)) {
            long cpu0 = server.cpuMicros();
            long t0 = System.nanoTime();
            for (ProducerRecord<String, byte[]> r : batch) producer.send(r);
            producer.flush();
            int count = 0;
            long lastLog = t0;
            long now = t0;
            while (count < total && (now - t0) / 1e9 < cap) {
                Thread.sleep(200);
                count = done.get();
                now = System.nanoTime();
                if (!server.process.isAlive()) throw new IllegalStateException(server.name + " died; see " + server.log);
                if (now - lastLog > 15e9) {
                    log("  " + what + ": " + count + " / " + total + " done");
                    lastLog = now;
                }
            }
            return new Phase(total, count, (now - t0) / 1e9, server.cpuMicros() - cpu0);
        } finally {
            infra.deleteTopic(topic);
        }
    }

    /**
     * Fresh accounts created at {@code customer-rate} per second for {@code customer-rate-seconds} (open model: change
     * i is due at start + i/rate and published then, whatever the system does); latency from its due time to the poll
     * (every 100 ms) that finds its account synced. Accounts not synced 60 s after the last was due count with the time
     * waited so far, so the p99 is then a lower bound, and the check says so.
     */
    private void customerLatency(Variant v, int rep, String jdbcUrl, int port, CustomerPeers peers,
                                 CustomerChanges changes, String run, int offset) throws Exception {
        double rate = Double.parseDouble(opts.get("customer-rate"));
        int total = (int) (rate * Double.parseDouble(opts.get("customer-rate-seconds")));
        List<String> ids = peers.createAccounts(run, offset, total);
        String topic = "bench.customers." + v.name().toLowerCase() + "." + rep + ".rate";
        infra.createTopic(topic, 6);
        List<ProducerRecord<String, byte[]>> batch = new ArrayList<>();
        for (int i = 0; i < total; i++) batch.add(changes.created(topic, ids.get(i), CustomerChanges.account(run, offset + i),
                System.currentTimeMillis()));
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < total; i++) index.put(ids.get(i), i);
        long[] due = new long[total];
        long[] latency = new long[total];
        boolean[] seen = new boolean[total];
        try (ServerProcess server = launchCustomers(v, rep, "rate", jdbcUrl, port, topic, peers);
             KafkaProducer<String, byte[]> producer = producer(infra.bootstrap(), 0)) {
            long cpu0 = server.cpuMicros();
            long start = System.nanoTime() + 50_000_000;
            for (int i = 0; i < total; i++) due[i] = start + (long) (i * 1e9 / rate);
            Set<String> pending = ConcurrentHashMap.newKeySet();
            int[] count = {0};
            Thread watcher = new Thread(() -> {
                long deadline = due[total - 1] + 60_000_000_000L;
                while (count[0] < total && System.nanoTime() < deadline && server.process.isAlive()) {
                    LockSupport.parkNanos(100_000_000);
                    long at = System.nanoTime();
                    for (String id : peers.syncedOf(new HashSet<>(pending))) {
                        int i = index.get(id);
                        if (!seen[i]) {
                            seen[i] = true;
                            latency[i] = (at - due[i]) / 1000;
                            count[0]++;
                            pending.remove(id);
                        }
                    }
                }
            }, "customer-latency-watcher");
            watcher.start();
            for (int i = 0; i < total; i++) {
                long wait;
                while ((wait = due[i] - System.nanoTime()) > 50_000) LockSupport.parkNanos(Math.min(wait - 20_000, 500_000));
                pending.add(ids.get(i));
                producer.send(batch.get(i));
            }
            watcher.join();
            if (!server.process.isAlive()) throw new IllegalStateException(server.name + " died; see " + server.log);
            long end = System.nanoTime();
            int notSeen = 0;
            for (int i = 0; i < total; i++) {
                if (!seen[i]) {
                    latency[i] = (end - due[i]) / 1000;
                    notSeen++;
                }
            }
            long p50 = Stats.percentile(latency, total, 50);
            long p99 = Stats.percentile(latency, total, 99);
            double cpu = (double) (server.cpuMicros() - cpu0) / Math.max(1, total - notSeen);
            record(String.format("customers: p99 new account → all targets at %.0f/s (ms)", rate), v, p99 / 1e3);
            record(String.format("customers: p50 new account → all targets at %.0f/s (ms)", rate), v, p50 / 1e3);
            log(String.format("  offered %.0f new accounts/s for %d accounts: p50 %.0f ms, p99 %.0f ms, %.0f CPU µs each%s",
                    rate, total, p50 / 1e3, p99 / 1e3, cpu, notSeen > 0 ? ", " + notSeen + " NOT SYNCED within 60 s" : ""));
            checks.add(String.format("customers %s #%d at %.0f/s: %d of %d synced%s", v.label, rep, rate, total - notSeen,
                    total, notSeen > 0 ? " (p99 is a lower bound: the rest counted with the time waited)" : " -> ok"));
        } finally {
            infra.deleteTopic(topic);
        }
    }

    /** The system under test on the customer topic, configured for every target the peers provide. */
    private ServerProcess launchCustomers(Variant v, int rep, String phase, String jdbcUrl, int port, String topic,
                                          CustomerPeers peers) throws Exception {
        String name = v.name().toLowerCase() + "-customers-" + phase + "-" + rep;
        String group = "e2e-customers-" + v.name().toLowerCase() + "-" + rep + "-" + phase;
        if (v == Variant.OURS) {
            Map<String, String> env = oursEnv(name, jdbcUrl, group, port);
            env.put("INTERCHANGE_FLOWS", "customer-sync");
            env.put("INTERCHANGE_CUSTOMER_TOPIC", topic);
            env.put("INTERCHANGE_SALESFORCE_LOGIN_URL", peers.salesforce.url());
            env.put("INTERCHANGE_SALESFORCE_CONSUMER_KEY", CustomerPeers.SF_KEY);
            env.put("INTERCHANGE_SALESFORCE_CONSUMER_SECRET", CustomerPeers.SF_SECRET);
            env.put("INTERCHANGE_BILLING_API_URL", peers.stripe.url());
            env.put("INTERCHANGE_BILLING_API_KEY", CustomerPeers.STRIPE_KEY);
            env.put("INTERCHANGE_LOYALTY_API_URL", peers.loyalty.url());
            env.put("INTERCHANGE_LOYALTY_APP_ID", CustomerPeers.LOYALTY_APP);
            env.put("INTERCHANGE_LOYALTY_APP_TOKEN", CustomerPeers.LOYALTY_TOKEN);
            env.put("INTERCHANGE_LOYALTY_CAMPAIGN_ID", CustomerPeers.PROGRAM);
            env.put("INTERCHANGE_ERP_S4_URL", peers.s4.endpointUrl());
            env.put("INTERCHANGE_ERP_S4_PARTNER_URL", peers.s4.businessPartnerUrl());
            env.put("INTERCHANGE_ERP_S4_USER", CustomerPeers.ERP_USER);
            env.put("INTERCHANGE_ERP_S4_PASSWORD", CustomerPeers.ERP_PASSWORD);
            env.put("INTERCHANGE_ERP_S4_CONFIRMATION_USER", CustomerPeers.CONFIRM_USER);
            env.put("INTERCHANGE_ERP_S4_CONFIRMATION_PASSWORD", CustomerPeers.CONFIRM_PASSWORD);
            env.put("INTERCHANGE_ERP_LEGACY_URL", peers.legacy.endpointUrl());
            env.put("INTERCHANGE_ERP_LEGACY_CUSTOMER_URL", peers.legacy.customersUrl());
            env.put("INTERCHANGE_ERP_LEGACY_USER", CustomerPeers.ERP_USER);
            env.put("INTERCHANGE_ERP_LEGACY_PASSWORD", CustomerPeers.ERP_PASSWORD);
            // the runtime, not the targets' rate limits, is to bound throughput, as in the baseline (which has none)
            for (String api : List.of("BILLING_API", "LOYALTY_API", "ERP_S4", "ERP_LEGACY")) {
                env.put("INTERCHANGE_" + api + "_MAX_RATE", "100000");
            }
            return launchOurs(name, env);
        }
        return launchBaseline(HandWrittenCustomerSync.class.getName(), name, List.of(jdbcUrl, infra.bootstrap(), topic,
                group, String.valueOf(port), peers.salesforce.url(), peers.stripe.url(), peers.loyalty.url(),
                peers.s4.businessPartnerUrl(), peers.legacy.customersUrl(), opts.get("customer-parallel")));
    }

    // ---------------------------------------------------------------- report

    private String table(List<Variant> variants, Map<String, String> opts, double minutes) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Interchange end-to-end benchmark, ").append(java.time.Instant.now()).append('\n');
        sb.append("# options: ").append(new java.util.TreeMap<>(opts)).append('\n');
        sb.append("# machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores; run took ")
                .append(String.format("%.1f", minutes)).append(" min; each system under test in its own JVM (")
                .append(String.join(" ", ServerProcess.JVM_FLAGS)).append(")\n");
        sb.append("# values: median (min–max) over the repetitions; ratios are of medians\n\n");
        sb.append(String.format("| %-48s |", "metric"));
        for (Variant v : variants) sb.append(String.format(" %-24s |", v.label));
        boolean ratios = variants.contains(Variant.OURS);
        if (ratios) sb.append(" ours / plain Camel | ours / hand-written |");
        sb.append('\n').append("|").append("-".repeat(50)).append("|");
        for (Variant ignored : variants) sb.append("-".repeat(26)).append("|");
        if (ratios) sb.append("-".repeat(20)).append("|").append("-".repeat(21)).append("|");
        sb.append('\n');
        results.forEach((metric, byVariant) -> {
            sb.append(String.format("| %-48s |", metric));
            for (Variant v : variants) {
                List<Double> vals = byVariant.getOrDefault(v, List.of());
                // the customer sync's rates and requests per change can be single digits: one decimal
                sb.append(String.format(" %-24s |", Stats.spread(vals, metric.contains("(s)") ? "%.2f"
                        : metric.startsWith("customers:") && !metric.contains("µs") && !metric.contains("(ms)") ? "%.1f"
                        : "%.0f")));
            }
            if (ratios) {
                double ours = Stats.median(byVariant.getOrDefault(Variant.OURS, List.of()));
                double plain = Stats.median(byVariant.getOrDefault(Variant.PLAIN, List.of()));
                double hand = Stats.median(byVariant.getOrDefault(Variant.HAND, List.of()));
                sb.append(String.format(" %-18s | %-19s |", ratio(ours, plain), ratio(ours, hand)));
            }
            sb.append('\n');
        });
        sb.append("\nCorrectness checks:\n");
        checks.forEach(c -> sb.append("- ").append(c).append('\n'));
        return sb.toString();
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "n/a" : String.format("%.2f×", a / b);
    }
}
