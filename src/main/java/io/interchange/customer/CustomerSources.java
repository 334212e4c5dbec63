package io.interchange.customer;

import io.interchange.mapping.CsvTable;
import io.interchange.mapping.MappingSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which CRM records are customers, and whether a record without an identity key is a new customer or waits for one
 * ({@code mappings/customer/sources.csv}).
 */
public final class CustomerSources {

    public static final String FILE = "customer/sources.csv";

    /** One row: a CRM's object type. */
    public record Source(String system, String objectType, boolean customer, boolean newWithoutKey) {
    }

    private final Map<String, Source> rows;

    private CustomerSources(Map<String, Source> rows) {
        this.rows = Map.copyOf(rows);
    }

    public static CustomerSources load(MappingSource source) {
        return parse(source.read(FILE));
    }

    public static CustomerSources parse(String csv) {
        Map<String, Source> out = new LinkedHashMap<>();
        for (CsvTable.Row row : CsvTable.parse(FILE, csv, "system", "object_type", "customer", "without_key")) {
            String where = "mappings/" + FILE + " line " + row.line() + ": ";
            if (!row.get("customer").matches("yes|no")) {
                throw new IllegalArgumentException(where + "customer is yes or no, not '" + row.get("customer") + "'");
            }
            if (!row.get("without_key").matches("new|wait")) {
                throw new IllegalArgumentException(where + "without_key is new or wait, not '" + row.get("without_key") + "'");
            }
            Source s = new Source(row.get("system"), row.get("object_type"), row.get("customer").equals("yes"),
                    row.get("without_key").equals("new"));
            if (out.put(s.system() + "/" + s.objectType(), s) != null) {
                throw new IllegalArgumentException(where + s.system() + " " + s.objectType() + " twice");
            }
        }
        return new CustomerSources(out);
    }

    /** The row of a system's object type, if its records are customers. */
    public Optional<Source> customers(String system, String objectType) {
        return Optional.ofNullable(rows.get(system + "/" + objectType)).filter(Source::customer);
    }
}
