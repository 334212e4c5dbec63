package io.interchange.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.management.ReconciliationOperations;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.ReconciliationVolume;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.sandbox.StripeApiPeer;
import org.postgresql.PGConnection;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reconciliation at scale: one day of DE01 with {@code --count} invoices (default 1,000,000) on each side, read the way
 * production reads them (the billing platform's {@code /v1/invoices} list in pages of 100 from the Stripe API peer,
 * S/4HANA's item cube in OData pages from the S/4HANA peer, the confirmations from the store), reconciled by the
 * packaged runtime in its own JVM with {@code -Xmx256m} on a durable embedded PostgreSQL, started over JMX as an
 * operator would. Reported: wall time of the run, the heap it used (sampled over JMX, and its pools' peaks), records
 * per second; and in the same run two baselines: reading both sides' pages without doing anything with them, and the
 * same keys compared in plain JDBC ({@code COPY} of both sides into one table, one {@code FULL OUTER JOIN}).
 *
 * <pre>
 * bench/run-reconciliation.sh [--count 1000000]
 * </pre>
 */
public final class ReconciliationScale {

    static final String KEY = "sk_test_" + UUID.randomUUID().toString().replace("-", "");
    static final String ERP_USER = "INTERCHANGE";
    static final String ERP_PASSWORD = "erp-" + UUID.randomUUID();
    static final String JMX_PASSWORD = "jmx-" + UUID.randomUUID();
    static final LocalDate DAY = LocalDate.of(2026, 11, 2);
    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        int count = Integer.parseInt(opts.getOrDefault("count", "1000000"));
        String heap = opts.getOrDefault("heap", "256m");
        Path invoiceFile = Path.of(opts.getOrDefault("invoice", "../src/test/resources/stripe/dahlia/invoice-finalized-basic.json"));
        Path out = Path.of(opts.getOrDefault("out", "results"));
        String jar = System.getProperty("interchange.jar");
        if (jar == null) throw new IllegalArgumentException("-Dinterchange.jar=<path to the packaged runtime> is required");
        JsonNode invoice = JSON.readTree(invoiceFile.toFile()).path("data").path("object");
        Path work = Files.createTempDirectory("recon-scale");
        List<String> report = new ArrayList<>();
        String label = opts.getOrDefault("label", "");
        report.add("reconciliation at scale" + (label.isEmpty() ? "" : " (" + label + ")") + ": " + count + " invoices a side (billing, S/4HANA ledger, confirmations), "
                + "runtime JVM -Xmx" + heap + ", load average before " + Files.readString(Path.of("/proc/loadavg")).strip());

        try (Infra infra = new Infra(work);
             StripeApiPeer api = new StripeApiPeer(0, KEY).start()) {
            S4HanaPeer s4 = new S4HanaPeer(0, ERP_USER, ERP_PASSWORD, Map.of("1010", "EUR"));
            s4.start();
            LegacyErpPeer legacy = new LegacyErpPeer(0, ERP_USER, ERP_PASSWORD, Map.of("DE-01", "EUR"));
            legacy.start();
            try {
                ReconciliationVolume volume = new ReconciliationVolume(invoice, "DE01", "1010", "EUR", BERLIN, DAY,
                        count, ERP_USER, ReconciliationVolume.Differences.NONE);
                api.serveList("/v1/invoices", volume.listing());
                long t = System.nanoTime();
                volume.postTo(s4);
                System.out.printf("S/4HANA peer holds %d entries (%.1f s)%n", s4.postings().size(), secs(t));

                String jdbcUrl = infra.newDatabase("reconciliation");
                int jmxPort = Infra.freePort();
                int managementPort = Infra.freePort();
                Map<String, String> env = new HashMap<>();
                env.put("INTERCHANGE_STORE_URL", jdbcUrl);
                env.put("INTERCHANGE_STORE_USER", "postgres");
                env.put("INTERCHANGE_KAFKA_BOOTSTRAP_SERVERS", infra.bootstrap());
                env.put("INTERCHANGE_HTTP_PORT", "0");
                env.put("INTERCHANGE_MANAGEMENT_PORT", String.valueOf(managementPort));
                env.put("INTERCHANGE_JMX_PORT", String.valueOf(jmxPort));
                env.put("INTERCHANGE_JMX_PASSWORD", JMX_PASSWORD);
                env.put("INTERCHANGE_DATA_DIR", work.resolve("data").toString());
                env.put("INTERCHANGE_FLOWS", "billing-ledger");
                // the progress lines are what an operator watches (the harness itself logs at WARN)
                env.put("INTERCHANGE_LOG_LEVEL", "INFO");
                env.put("INTERCHANGE_BILLING_API_URL", api.url());
                env.put("INTERCHANGE_BILLING_API_KEY", KEY);
                // the client's rate limit (20 requests a second by default, as Stripe allows) alone makes 1,000,000
                // objects in pages of 100 take 500 s: it is reported as arithmetic, lifted to measure the runtime
                env.put("INTERCHANGE_BILLING_API_MAX_RATE", opts.getOrDefault("billing-rate", "100000"));
                env.put("INTERCHANGE_ERP_S4_URL", s4.endpointUrl());
                env.put("INTERCHANGE_ERP_S4_USER", ERP_USER);
                env.put("INTERCHANGE_ERP_S4_PASSWORD", ERP_PASSWORD);
                env.put("INTERCHANGE_ERP_LEGACY_URL", legacy.endpointUrl());
                env.put("INTERCHANGE_ERP_LEGACY_USER", ERP_USER);
                env.put("INTERCHANGE_ERP_LEGACY_PASSWORD", ERP_PASSWORD);
                // a read is not throttled like postings: the ERP's rate limit is not what is measured
                env.put("INTERCHANGE_ERP_S4_MAX_RATE", "100000");
                env.put("INTERCHANGE_RECONCILIATION_DAILY", "false");
                env.put("INTERCHANGE_RECONCILIATION_BILLING_PAGE_SIZE", "100");
                env.put("INTERCHANGE_RECONCILIATION_ERP_PAGE_SIZE", "5000");
                env.put("INTERCHANGE_RECONCILIATION_REPORT_DIR", work.resolve("reports").toString());
                Path gcLog = work.resolve("gc.log");
                List<String> command = new ArrayList<>(List.of("-Xms" + heap, "-Xmx" + heap, "-Xlog:gc:file=" + gcLog));
                // e.g. --runtime-jvm "-XX:StartFlightRecording=filename=recon.jfr,settings=profile" to profile the run
                String extra = opts.getOrDefault("runtime-jvm", "").strip();
                if (!extra.isEmpty()) command.addAll(List.of(extra.split("\\s+")));
                command.addAll(List.of("-jar", jar));
                try (ServerProcess runtime = ServerProcess.launch("recon-runtime", command, env, out.resolve("reconciliation-runtime" + (label.isEmpty() ? "" : "-" + label) + ".log"))
                        .awaitReady(ServerProcess.httpOk("http://127.0.0.1:" + managementPort + "/observe/health"),
                                Duration.ofSeconds(120))) {
                    t = System.nanoTime();
                    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
                        c.setSchema("interchange"); // the runtime's tables (interchange.store.schema)
                        volume.confirm(c);
                    }
                    System.out.printf("store holds %d confirmations (%.1f s)%n", count, secs(t));

                    JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi");
                    try (JMXConnector jmx = JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS,
                            new String[]{"operator", JMX_PASSWORD}))) {
                        MBeanServerConnection mbeans = jmx.getMBeanServerConnection();
                        MemoryMXBean memory = ManagementFactory.newPlatformMXBeanProxy(mbeans,
                                ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
                        List<MemoryPoolMXBean> pools = new ArrayList<>();
                        for (ObjectName n : mbeans.queryNames(new ObjectName(ManagementFactory.MEMORY_POOL_MXBEAN_DOMAIN_TYPE + ",*"), null)) {
                            MemoryPoolMXBean pool = ManagementFactory.newPlatformMXBeanProxy(mbeans, n.toString(), MemoryPoolMXBean.class);
                            if (pool.getType() == MemoryType.HEAP) {
                                pool.resetPeakUsage();
                                pools.add(pool);
                            }
                        }
                        AtomicLong sampledPeak = new AtomicLong();
                        AtomicBoolean running = new AtomicBoolean(true);
                        Thread sampler = new Thread(() -> {
                            while (running.get()) {
                                try {
                                    sampledPeak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                                    Thread.sleep(100);
                                } catch (Exception e) {
                                    return;
                                }
                            }
                        }, "heap-sampler");
                        sampler.setDaemon(true);
                        sampler.start();
                        long cpu0 = runtime.cpuMicros();
                        t = System.nanoTime();
                        String answer = (String) mbeans.invoke(new ObjectName(ReconciliationOperations.OBJECT_NAME), "run",
                                new Object[]{"DE01", DAY.toString(), DAY.plusDays(1).toString()},
                                new String[]{String.class.getName(), String.class.getName(), String.class.getName()});
                        double wall = secs(t);
                        long cpu = runtime.cpuMicros() - cpu0;
                        running.set(false);
                        sampler.join();
                        long poolPeaks = 0;
                        for (MemoryPoolMXBean pool : pools) poolPeaks += pool.getPeakUsage().getUsed();
                        System.out.println(answer);
                        // the report files' places are of this run's temporary directory only
                        report.add("runtime answer: " + answer.replaceAll("\n(report|csv): [^\n]*", "")
                                .replace("\n", " | "));
                        report.add(String.format("reconciliation run: %.1f s wall, %.1f s CPU of the runtime, %.0f "
                                        + "records/s (3 sides), heap used at most %.0f MiB sampled every 100 ms, sum of "
                                        + "the heap pools' peaks %.0f MiB (an upper bound), max heap %s", wall, cpu / 1e6,
                                3.0 * count / wall, sampledPeak.get() / 1048576.0, poolPeaks / 1048576.0, heap));
                        if (!answer.contains("COMPLETED") || !answer.contains("differences 0")) {
                            report.add("NOT CLEAN: the run did not complete without differences");
                        }
                    }
                }
                Files.copy(gcLog, out.resolve("reconciliation-gc" + (label.isEmpty() ? "" : "-" + label) + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                report.add(gcSummary(gcLog));

                // baseline 1: both sides' pages read over HTTP and parsed, nothing done with them
                t = System.nanoTime();
                long billing = readBilling(api.url());
                double billingRead = secs(t);
                t = System.nanoTime();
                long items = readLedger(s4.readUrl());
                double ledgerRead = secs(t);
                report.add(String.format("baseline, reading only: billing %d invoices in %.1f s, S/4HANA %d items in %.1f s "
                        + "(harness JVM, parsed with Jackson, not translated)", billing, billingRead, items, ledgerRead));

                // baseline 2: the same keys and amounts compared in plain JDBC
                report.add(jdbcBaseline(jdbcUrl, count));
            } finally {
                s4.close();
                legacy.close();
            }
        }
        try (var files = Files.walk(work)) { // the database, broker and runtime data of the run
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        Files.createDirectories(out);
        Path file = out.resolve("reconciliation-" + (label.isEmpty() ? "" : label + "-") + java.time.LocalDateTime.now().withNano(0).toString().replace(':', '-') + ".txt");
        Files.write(file, report);
        report.forEach(System.out::println);
        System.out.println("written to " + file);
    }

    /**
     * From the runtime's GC log (-Xlog:gc): the collections (young and full), the most heap in use before one (what
     * the heap had to hold, garbage included) and after one (what survived it: an old generation a young collection
     * leaves alone counts whole), and any full collection.
     */
    static String gcSummary(Path gcLog) throws java.io.IOException {
        java.util.regex.Pattern sizes = java.util.regex.Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");
        long collections = 0;
        long full = 0;
        long before = 0;
        long after = 0;
        for (String line : Files.readAllLines(gcLog)) {
            java.util.regex.Matcher m = sizes.matcher(line);
            // remark and cleanup pauses collect nothing: their sizes say nothing of what is live
            if (!(line.contains("Pause Young") || line.contains("Pause Full")) || !m.find()) continue;
            collections++;
            if (line.contains("Pause Full")) full++;
            before = Math.max(before, Long.parseLong(m.group(1)));
            after = Math.max(after, Long.parseLong(m.group(2)));
        }
        return String.format("GC log of the runtime (start-up included): %d collections, %d full; heap in use at most "
                + "%d MiB before a collection, %d MiB after one", collections, full, before, after);
    }

    static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Every page of {@code /v1/invoices} for the day, as the runtime asks for them, parsed. */
    static long readBilling(String base) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long gte = DAY.atStartOfDay(BERLIN).minusDays(3).toEpochSecond();
        long lt = DAY.atStartOfDay(BERLIN).plusDays(4).toEpochSecond();
        String after = null;
        long n = 0;
        while (true) {
            String q = "limit=100&created%5Bgte%5D=" + gte + "&created%5Blt%5D=" + lt + (after == null ? "" : "&starting_after=" + after);
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/invoices?" + q))
                    .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofByteArray());
            JsonNode list = JSON.readTree(r.body());
            JsonNode data = list.path("data");
            n += data.size();
            if (!list.path("has_more").asBoolean() || data.isEmpty()) return n;
            after = data.get(data.size() - 1).path("id").asText();
        }
    }

    /** Every page of the item cube for the company and days, 5,000 items a page, parsed. */
    static long readLedger(String readUrl) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String auth = "Basic " + Base64.getEncoder().encodeToString((ERP_USER + ":" + ERP_PASSWORD).getBytes(StandardCharsets.UTF_8));
        String filter = URLEncoder.encode("CompanyCode eq '1010' and PostingDate ge datetime'" + DAY.minusDays(3)
                + "T00:00:00' and PostingDate lt datetime'" + DAY.plusDays(4) + "T00:00:00' and AccountingDocCreatedByUser eq '"
                + ERP_USER + "'", StandardCharsets.UTF_8).replace("+", "%20");
        long n = 0;
        while (true) {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(readUrl + "/" + S4HanaPeer.ITEM_CUBE
                            + "?$filter=" + filter + "&$top=5000&$skip=" + n + "&$format=json"))
                    .header("Authorization", auth).header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofByteArray());
            int got = JSON.readTree(r.body()).path("d").path("results").size();
            n += got;
            if (got < 5000) return n;
        }
    }

    /**
     * Both sides' keys and amounts {@code COPY}ed into one unlogged-free (ordinary, durable) table, then one
     * {@code FULL OUTER JOIN} of the sides counted: what the comparison costs in the database with nothing around it.
     */
    static String jdbcBaseline(String jdbcUrl, int count) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE bench_side (side VARCHAR(10) NOT NULL, match_key VARCHAR(300) NOT NULL, amount_minor BIGINT)");
            long t = System.nanoTime();
            for (String side : List.of("BILLING", "ERP")) {
                StringBuilder rows = new StringBuilder();
                for (int i = 0; i < count; i++) {
                    rows.append(side).append(",INVOICE|V261102-").append(String.format("%07d", i)).append(",180000\n");
                    if (rows.length() > 1 << 20 || i == count - 1) {
                        c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY bench_side FROM STDIN (FORMAT csv)",
                                new ByteArrayInputStream(rows.toString().getBytes(StandardCharsets.UTF_8)));
                        rows.setLength(0);
                    }
                }
            }
            s.execute("ANALYZE bench_side");
            double copied = secs(t);
            t = System.nanoTime();
            long matched;
            long differing;
            try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FILTER (WHERE b.amount_minor = e.amount_minor), "
                    + "COUNT(*) FILTER (WHERE b.match_key IS NULL OR e.match_key IS NULL OR b.amount_minor <> e.amount_minor) "
                    + "FROM (SELECT match_key, amount_minor FROM bench_side WHERE side = 'BILLING') b FULL OUTER JOIN "
                    + "(SELECT match_key, amount_minor FROM bench_side WHERE side = 'ERP') e ON b.match_key = e.match_key")) {
                rs.next();
                matched = rs.getLong(1);
                differing = rs.getLong(2);
            }
            double joined = secs(t);
            s.execute("DROP TABLE bench_side");
            return String.format("baseline, plain JDBC: COPY of %d rows (and ANALYZE) in %.1f s, FULL OUTER JOIN matching "
                    + "%d (differing %d) in %.1f s, together %.1f s", 2L * count, copied, matched, differing, joined,
                    copied + joined);
        }
    }
}
