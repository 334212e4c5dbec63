package io.interchange.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prints ours / baseline for each pair of benchmarks measured in the same run, from JMH's JSON result file:
 * the throughput ratio with its error, the same ratio from CPU time per operation ({@link CpuTimeProfiler}, steadier
 * when something else shares the machine), and CPU time and allocation per operation of both.
 *
 * <p>Errors: JMH reports each score with the half-width of its 99.9% confidence interval. The ratio's error is
 * propagated to first order, relative errors added in quadrature: {@code err(a/b) = a/b * sqrt((ea/a)^2 + (eb/b)^2)}.
 * With few iterations these intervals are wide; a ratio whose interval includes 1 is not a measured difference.
 *
 * <p>Usage: {@code java -cp target/benchmarks.jar io.interchange.bench.Ratios results/jmh-<date>.json}
 */
public final class Ratios {

    private record Pair(String benchmarkClass, String ours, String baseline, String note) {
    }

    /** Which benchmark is compared with which; "diagnostic" pairs explain a ratio rather than state one. */
    private static final List<Pair> PAIRS = List.of(
            new Pair("MappingBenchmark", "invoice_parseMap_ours", "invoice_parseMap_hand", "bytes -> Invoice"),
            new Pair("MappingBenchmark", "invoice_map_ours", "invoice_map_hand", "tree -> Invoice"),
            new Pair("MappingBenchmark", "invoice_jsltOnly_ours", "invoice_map_hand", "diagnostic: JSLT alone vs whole hand mapping"),
            new Pair("MappingBenchmark", "journal_xml_ours", "journal_xml_hand", "LedgerPosting -> SAP XML"),
            new Pair("MappingBenchmark", "journal_xmlWriterOnly_ours", "journal_xml_hand", "diagnostic: XmlWriter alone vs whole hand writer"),
            new Pair("SignatureBenchmark", "verify_ours", "verify_handCachedMac", "Stripe-Signature"),
            new Pair("SignatureBenchmark", "verify_handMacPerCall", "verify_handCachedMac", "diagnostic: Mac per call, nothing else"),
            new Pair("IdempotencyBenchmark", "claimConfirm_ours", "insert_jdbcPerTx", "key per tx"),
            new Pair("IdempotencyBenchmark", "claimConfirm_ours", "insert_jdbcBatch100", "vs 100 keys per tx"),
            new Pair("IdempotencyBenchmark", "claimConfirm_ours", "add_camelJdbcMessageIdRepository", "vs plain Camel"),
            new Pair("IdempotencyBenchmark", "claim_ours", "insert_jdbcPerTx", "diagnostic: claim alone vs same INSERT"),
            new Pair("ArchiveBenchmark", "archive_ours", "archive_plainGzip", "1000 events -> gzip JSON lines"),
            new Pair("ArchiveBenchmark", "archive_ours", "archive_plainGzipFsync", "diagnostic: vs plain with fsync per file"),
            new Pair("ArchiveBenchmark", "archive_oursCaughtUpEveryBatch", "archive_plainGzip",
                    "diagnostic: open file written after every batch"));

    private record Score(double value, double error, String unit) {
    }

    private record Result(Score primary, Score allocNorm, Score cpuNorm) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Ratios <jmh result .json>");
            System.exit(2);
        }
        JsonNode results = new ObjectMapper().readTree(Path.of(args[0]).toFile());

        // benchmark simple name (Class.method) -> params -> result
        Map<String, Map<String, Result>> byName = new LinkedHashMap<>();
        for (JsonNode r : results) {
            String full = r.path("benchmark").asText();
            String[] parts = full.split("\\.");
            String name = parts[parts.length - 2] + "." + parts[parts.length - 1];
            byName.computeIfAbsent(name, k -> new LinkedHashMap<>()).put(params(r), new Result(
                    score(r.path("primaryMetric")), secondary(r.path("secondaryMetrics"), "gc.alloc.rate.norm"),
                    secondary(r.path("secondaryMetrics"), "cpu.time.norm")));
        }

        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"ours", "baseline", "params", "ours/baseline (ops/s)", "ours/baseline (CPU)",
                "CPU ns/op ours", "baseline", "B/op ours", "baseline", "note"});
        for (Pair p : PAIRS) {
            Map<String, Result> ours = byName.get(p.benchmarkClass + "." + p.ours);
            Map<String, Result> base = byName.get(p.benchmarkClass + "." + p.baseline);
            if (ours == null || base == null) continue; // not run (filtered out)
            for (Map.Entry<String, Result> e : ours.entrySet()) {
                Result b = base.get(e.getKey());
                if (b == null) continue;
                Result a = e.getValue();
                // throughput: ours / baseline; CPU time per op: baseline / ours, so > 1 means ours is cheaper in both
                rows.add(new String[]{p.ours, p.baseline, e.getKey(),
                        ratio(a.primary, b.primary),
                        a.cpuNorm == null || b.cpuNorm == null ? "n/a" : ratio(b.cpuNorm, a.cpuNorm),
                        value(a.cpuNorm, "%.0f"), value(b.cpuNorm, "%.0f"),
                        value(a.allocNorm, "%.0f"), value(b.allocNorm, "%.0f"), p.note});
            }
        }
        if (rows.size() == 1) {
            System.out.println("(no pair of ours/baseline benchmarks in " + args[0] + ")");
            return;
        }
        print(rows);
        System.out.println();
        System.out.println("ratio > 1: ours is faster (more ops/s; less CPU per op), < 1: ours is slower. Error: 99.9% CI");
        System.out.println("half-widths of both scores, relative errors in quadrature (first order); n/a with fewer than 3");
        System.out.println("iterations. CPU ns/op: cpu.time.norm of the benchmark JVM (-prof io.interchange.bench.CpuTimeProfiler;");
        System.out.println("for IdempotencyBenchmark the client's share only, PostgreSQL's work is not in it).");
        System.out.println("B/op: gc.alloc.rate.norm (-prof gc).");
    }

    private static String params(JsonNode r) {
        JsonNode params = r.path("params");
        if (params.isMissingNode() || params.isEmpty()) return "-";
        List<String> out = new ArrayList<>();
        params.fields().forEachRemaining(f -> out.add(f.getKey() + "=" + f.getValue().asText()));
        return String.join(",", out);
    }

    private static Score score(JsonNode metric) {
        if (metric.isMissingNode()) return null;
        // JMH writes "NaN" as the error of fewer than three measurements: no interval, so no error is claimed
        return new Score(metric.path("score").asDouble(), metric.path("scoreError").asDouble(Double.NaN),
                metric.path("scoreUnit").asText());
    }

    /** {@code numerator / denominator} with the error of both, relative errors in quadrature. */
    private static String ratio(Score numerator, Score denominator) {
        double ratio = numerator.value / denominator.value;
        double err = ratio * Math.sqrt(sq(numerator.error / numerator.value) + sq(denominator.error / denominator.value));
        return Double.isNaN(err) ? String.format("%.3f ± n/a", ratio) : String.format("%.3f ± %.3f", ratio, err);
    }

    private static Score secondary(JsonNode secondary, String name) {
        for (var it = secondary.fields(); it.hasNext(); ) {
            var f = it.next();
            if (f.getKey().endsWith(name)) return score(f.getValue());
        }
        return null;
    }

    private static String value(Score s, String format) {
        return s == null ? "n/a" : String.format(format, s.value);
    }

    private static double sq(double x) {
        return x * x;
    }

    private static void print(List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].length());
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                boolean left = i <= 2 || i == row.length - 1;
                String cell = left ? String.format("%-" + width[i] + "s", row[i]) : String.format("%" + width[i] + "s", row[i]);
                line.append(i == 0 ? "" : "  ").append(cell);
            }
            System.out.println(line.toString().stripTrailing());
        }
    }
}
