package io.interchange.bench.e2e;

import java.util.Arrays;
import java.util.List;

/** Percentiles of recorded latencies, and the median and spread of repeated measurements. */
final class Stats {

    private Stats() {
    }

    /** The p-th percentile (0..100) of the values, nearest rank. */
    static long percentile(long[] values, int count, double p) {
        if (count == 0) return 0;
        long[] sorted = Arrays.copyOf(values, count);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * count);
        return sorted[Math.max(0, Math.min(count - 1, rank - 1))];
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) return Double.NaN;
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** "median (min–max)" of the values. */
    static String spread(List<Double> values, String format) {
        if (values.isEmpty()) return "n/a";
        double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        return String.format(format, median(values)) + " (" + String.format(format, min) + "–" + String.format(format, max) + ")";
    }
}
