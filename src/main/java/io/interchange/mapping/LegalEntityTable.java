package io.interchange.mapping;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The legal-entity routing table, {@code mappings/legal-entities.csv}: entity to ERP, company code, currency, tax region. */
public final class LegalEntityTable {

    static final String FILE = "legal-entities.csv";
    static final String[] COLUMNS = {"legal_entity", "company_code", "legacy_company", "currency", "tax_region",
            "s4_cutover_date", "time_zone"};

    private final Map<String, LegalEntity> entities;

    private LegalEntityTable(Map<String, LegalEntity> entities) {
        this.entities = entities;
    }

    public static LegalEntityTable load(MappingSource source) {
        return parse(source.read(FILE));
    }

    /** Parses the CSV; a malformed row fails start-up with its line number. */
    static LegalEntityTable parse(String csv) {
        Map<String, LegalEntity> out = new LinkedHashMap<>();
        for (CsvTable.Row row : CsvTable.parse(FILE, csv, COLUMNS)) {
            if (row.get("legal_entity").isBlank() || row.get("company_code").isBlank() || row.get("currency").isBlank()) {
                throw new IllegalArgumentException("mappings/" + FILE + " line " + row.line()
                        + ": legal_entity, company_code and currency must be set");
            }
            LocalDate cutover;
            try {
                cutover = row.get("s4_cutover_date").isBlank() ? null : LocalDate.parse(row.get("s4_cutover_date"));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("mappings/" + FILE + " line " + row.line() + ": cutover date '"
                        + row.get("s4_cutover_date") + "' is not yyyy-MM-dd");
            }
            ZoneId zone;
            try {
                zone = row.get("time_zone").isBlank() ? ZoneOffset.UTC : ZoneId.of(row.get("time_zone"));
            } catch (DateTimeException e) {
                throw new IllegalArgumentException("mappings/" + FILE + " line " + row.line() + ": time zone '"
                        + row.get("time_zone") + "' is not an IANA time zone (e.g. Europe/Berlin)");
            }
            LegalEntity e = new LegalEntity(row.get("legal_entity"), row.get("company_code"), row.get("legacy_company"),
                    row.get("currency"), row.get("tax_region"), cutover, zone);
            if (out.put(e.id(), e) != null) {
                throw new IllegalArgumentException("mappings/" + FILE + " line " + row.line() + ": entity " + e.id()
                        + " listed twice");
            }
        }
        return new LegalEntityTable(Collections.unmodifiableMap(out));
    }

    public Optional<LegalEntity> find(String id) {
        return Optional.ofNullable(id == null ? null : entities.get(id));
    }

    public Map<String, LegalEntity> all() {
        return entities;
    }
}
