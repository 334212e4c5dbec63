package io.interchange.mapping;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The legal-entity routing table, {@code mappings/legal-entities.csv}: entity to ERP, company code, currency, tax region. */
public final class LegalEntityTable {

    static final String HEADER = "legal_entity,company_code,legacy_company,currency,tax_region,s4_cutover_date";

    private final Map<String, LegalEntity> entities;

    private LegalEntityTable(Map<String, LegalEntity> entities) {
        this.entities = entities;
    }

    public static LegalEntityTable load(MappingSource source) {
        return parse(source.read("legal-entities.csv"));
    }

    /** Parses the CSV; a malformed row fails start-up with its line number. */
    static LegalEntityTable parse(String csv) {
        Map<String, LegalEntity> out = new LinkedHashMap<>();
        String[] lines = csv.split("\\R");
        boolean header = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            if (!header) {
                if (!line.equals(HEADER)) {
                    throw new IllegalArgumentException("legal-entities.csv line " + (i + 1) + ": expected header '" + HEADER + "'");
                }
                header = true;
                continue;
            }
            String[] f = line.split(",", -1);
            if (f.length != 6 || f[0].isBlank() || f[1].isBlank() || f[3].isBlank()) {
                throw new IllegalArgumentException("legal-entities.csv line " + (i + 1)
                        + ": expected 6 columns with legal_entity, company_code and currency set");
            }
            LocalDate cutover;
            try {
                cutover = f[5].isBlank() ? null : LocalDate.parse(f[5].strip());
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("legal-entities.csv line " + (i + 1) + ": cutover date '" + f[5] + "' is not yyyy-MM-dd");
            }
            LegalEntity e = new LegalEntity(f[0].strip(), f[1].strip(), f[2].strip(), f[3].strip(), f[4].strip(), cutover);
            if (out.put(e.id(), e) != null) {
                throw new IllegalArgumentException("legal-entities.csv line " + (i + 1) + ": entity " + e.id() + " listed twice");
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
