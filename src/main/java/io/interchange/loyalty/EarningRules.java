package io.interchange.loyalty;

import io.interchange.mapping.CsvTable;
import io.interchange.mapping.MappingSource;

import java.util.Currency;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How many loyalty points a payment earns, per legal entity ({@code mappings/loyalty/earning-rules.csv}): points per
 * whole currency unit, the amount rounded down to whole units first, from a minimum amount on. Data, not code: a new
 * entity's rule is a row.
 */
public final class EarningRules {

    public static final String FILE = "loyalty/earning-rules.csv";

    /** One entity's rule. */
    public record Rule(String legalEntity, String currency, long pointsPerUnit, long minimumMinor) {
    }

    /** What a payment earns: the points, or why none. */
    public record Earned(long points, String noneBecause) {
        static Earned none(String why) {
            return new Earned(0, why);
        }
    }

    /** The outcome names of payments that earn nothing (metric tags, log lines). */
    public static final String NO_RULE = "no_rule";
    public static final String OTHER_CURRENCY = "other_currency";
    public static final String BELOW_MINIMUM = "below_minimum";
    public static final String NO_POINTS = "no_points";

    private final Map<String, Rule> rules;

    private EarningRules(Map<String, Rule> rules) {
        this.rules = Map.copyOf(rules);
    }

    public static EarningRules load(MappingSource source) {
        return parse(source.read(FILE));
    }

    public static EarningRules parse(String csv) {
        Map<String, Rule> out = new LinkedHashMap<>();
        for (CsvTable.Row row : CsvTable.parse(FILE, csv, "legal_entity", "currency", "points_per_unit",
                "minimum_minor")) {
            String where = "mappings/" + FILE + " line " + row.line() + ": ";
            String currency = row.get("currency").toUpperCase();
            try {
                Currency.getInstance(currency);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + "unknown currency '" + row.get("currency") + "'");
            }
            long perUnit = whole(where, "points_per_unit", row.get("points_per_unit"));
            long minimum = whole(where, "minimum_minor", row.get("minimum_minor"));
            Rule rule = new Rule(row.get("legal_entity"), currency, perUnit, minimum);
            if (rule.legalEntity().isEmpty()) throw new IllegalArgumentException(where + "no legal_entity");
            if (out.put(rule.legalEntity(), rule) != null) {
                throw new IllegalArgumentException(where + "legal entity " + rule.legalEntity() + " twice");
            }
        }
        return new EarningRules(out);
    }

    public Optional<Rule> of(String legalEntity) {
        return Optional.ofNullable(legalEntity == null ? null : rules.get(legalEntity));
    }

    /** The points a payment of {@code amountMinor} in {@code currency} earns for the entity. */
    public Earned earn(String legalEntity, String currency, long amountMinor) {
        Rule rule = rules.get(legalEntity);
        if (rule == null) return Earned.none(NO_RULE);
        if (currency == null || !rule.currency().equalsIgnoreCase(currency)) return Earned.none(OTHER_CURRENCY);
        if (amountMinor < rule.minimumMinor() || amountMinor <= 0) return Earned.none(BELOW_MINIMUM);
        int digits = Math.max(0, Currency.getInstance(rule.currency()).getDefaultFractionDigits());
        long units = amountMinor / (long) Math.pow(10, digits); // rounded down to whole units
        long points = Math.multiplyExact(units, rule.pointsPerUnit());
        return points <= 0 ? Earned.none(NO_POINTS) : new Earned(points, null);
    }

    private static long whole(String where, String column, String value) {
        try {
            long v = Long.parseLong(value);
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + column + " must be a whole number >= 0, not '" + value + "'");
        }
    }
}
