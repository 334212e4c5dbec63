package io.interchange.connectors.loyalty;

import io.interchange.mapping.CsvTable;
import io.interchange.mapping.MappingSource;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The value of a loyalty point in each legal entity's books ({@code mappings/loyalty/point-values.csv}): minor units of
 * the entity's currency per point. A malformed row fails start-up with its line number.
 */
public final class PointValues {

    static final String FILE = "loyalty/point-values.csv";

    /** One entity's point value; {@code daily}: its transactions are filed once a day, not posted one by one. */
    public record PointValue(String legalEntity, String currency, BigDecimal minorUnitsPerPoint, boolean daily) {

        /** {@code points} valued in minor units, rounded half-even (signed like the points). */
        public long valueMinor(long points) {
            return minorUnitsPerPoint.multiply(BigDecimal.valueOf(points)).setScale(0, RoundingMode.HALF_EVEN)
                    .longValueExact();
        }
    }

    private final Map<String, PointValue> byEntity;

    private PointValues(Map<String, PointValue> byEntity) {
        this.byEntity = byEntity;
    }

    public static PointValues load(MappingSource source) {
        Map<String, PointValue> out = new LinkedHashMap<>();
        for (CsvTable.Row row : CsvTable.read(source, FILE, "legal_entity", "currency", "minor_units_per_point", "filing")) {
            String where = "mappings/" + FILE + " line " + row.line();
            BigDecimal value;
            try {
                value = new BigDecimal(row.get("minor_units_per_point").strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": minor_units_per_point '" + row.get("minor_units_per_point")
                        + "' is not a decimal number");
            }
            if (value.signum() < 0) throw new IllegalArgumentException(where + ": minor_units_per_point is negative");
            if (!row.get("currency").matches("[A-Z]{3}")) {
                throw new IllegalArgumentException(where + ": currency '" + row.get("currency") + "' is not an ISO code");
            }
            String filing = row.get("filing").strip();
            if (!filing.equals("realtime") && !filing.equals("daily")) {
                throw new IllegalArgumentException(where + ": filing '" + filing + "' is neither realtime nor daily");
            }
            if (out.put(row.get("legal_entity"), new PointValue(row.get("legal_entity"), row.get("currency"), value,
                    filing.equals("daily"))) != null) {
                throw new IllegalArgumentException(where + ": entity " + row.get("legal_entity") + " listed twice");
            }
        }
        return new PointValues(Collections.unmodifiableMap(out));
    }

    /** The entities whose loyalty transactions are filed daily. */
    public java.util.Set<String> dailyEntities() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        byEntity.values().forEach(v -> {
            if (v.daily()) out.add(v.legalEntity());
        });
        return out;
    }

    public Optional<PointValue> of(String legalEntity) {
        return Optional.ofNullable(byEntity.get(legalEntity));
    }
}
