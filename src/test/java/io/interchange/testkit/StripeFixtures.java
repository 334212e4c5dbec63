package io.interchange.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Stripe events of {@code src/test/resources/stripe/<family>/}: one directory per supported API version family,
 * shapes from Stripe's published types and fixtures (SOURCES.md there), and what the billing edge must do with each
 * ({@code expectations.csv}).
 */
public final class StripeFixtures {

    public static final Path CORPUS = Path.of("src/test/resources/stripe");
    /** The families of mappings/stripe/api-versions.csv, each with a directory of fixtures. */
    public static final List<String> FAMILIES = List.of("2024-06-20", "acacia", "basil", "clover", "dahlia");

    /** What the edge must do with a fixture: published, ignored or parked, and a text its reason or posting holds. */
    public record Expectation(String outcome, String reason) {
        public boolean posts() {
            return outcome.equals("published") && !reason.equals("no ledger effect");
        }
    }

    private static final Map<String, Expectation> EXPECTATIONS = read();

    private StripeFixtures() {
    }

    /** Event files of a family, invoices before the payments and refunds that refer to them. */
    public static List<Path> events(String family) {
        try (Stream<Path> s = Files.list(CORPUS.resolve(family))) {
            return s.filter(p -> p.toString().endsWith(".json") && !p.toString().contains(".lines-page"))
                    .sorted(Comparator.comparing((Path p) -> order(p.getFileName().toString())).thenComparing(Path::toString))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The case name of a fixture file: its file name without .json. */
    public static String name(Path file) {
        return file.getFileName().toString().replace(".json", "");
    }

    /** The expectation of a fixture ({@code <family>/<case>} overrides {@code <case>}), or null if none is written. */
    public static Expectation expectation(String family, Path file) {
        String name = name(file);
        return EXPECTATIONS.getOrDefault(family + "/" + name, EXPECTATIONS.get(name));
    }

    private static int order(String name) {
        if (name.startsWith("invoice-finalized")) return 0;
        if (name.startsWith("invoice-paid") || name.startsWith("invoice-payment-paid")) return 1;
        if (name.startsWith("refund")) return 3;
        return 2;
    }

    private static Map<String, Expectation> read() {
        Map<String, Expectation> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(CORPUS.resolve("expectations.csv"))) {
                if (line.isBlank() || line.startsWith("#") || line.startsWith("case,")) continue;
                String[] f = line.split(",", 3);
                out.put(f[0], new Expectation(f[1], f.length > 2 ? f[2] : ""));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
