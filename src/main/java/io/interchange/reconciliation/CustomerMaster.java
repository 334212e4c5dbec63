package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The customer master data a reconciliation compares, normalised the same way whichever system it was read from, and
 * the differences of one global customer's records. Only fields every system keeps as one value are compared: the
 * customer's name (a company's name, or a person's first and last name, as billing and the ERP render it), e-mail and
 * country (of the billing address); each is owned by the CRM ({@code mappings/customer/ownership.csv}: Salesforce),
 * whose value is the reference a difference names. A system that does not keep a field (a Salesforce Account has no
 * e-mail) is not compared on it; a field a record leaves empty is compared as empty, since the sync would have set it.
 */
public final class CustomerMaster {

    /** The compared fields, in the order a record keeps and a report names them. */
    public static final List<String> FIELDS = List.of("name", "email", "country");
    /** The system owning the compared fields (ownership.csv), the reference of a difference when it holds a record. */
    public static final String OWNER = "salesforce";
    /**
     * Marks a record whose name its system may have clipped (the name is as long as the system keeps): the sync writes
     * a company's name to S/4HANA in 40 characters and to the legacy ERP in 80. Such a name equals a longer one it is
     * the beginning of ({@link #sameName}).
     */
    public static final String NAME_CLIPPED = "nameClipped";
    /** Key prefix of a record no customer is linked to: {@code UNLINKED|<system>|<id>}. */
    public static final String UNLINKED = "UNLINKED";
    private static final ObjectMapper JSON = new ObjectMapper();

    private CustomerMaster() {
    }

    /**
     * One system's record of a customer, read from the system: {@code globalId} null when the cross-reference links
     * it to none; {@code fields} the normalised values of the fields the system keeps (a field it does not keep is
     * absent, one it keeps empty is "").
     */
    public record Record(String system, String recordId, String globalId, LocalDate createdOn, Map<String, String> fields) {
        public Record {
            fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }

        /** The match key: the global id, or {@code UNLINKED|<system>|<id>}. */
        public String key() {
            return globalId != null ? globalId : UNLINKED + "|" + system + "|" + recordId;
        }

        /** The fields as compact JSON, as the run's record keeps them. */
        public String masterData() {
            ObjectNode o = JSON.createObjectNode();
            fields.forEach(o::put);
            return o.toString();
        }
    }

    /** A record's fields back from {@link Record#masterData()}. */
    public static Map<String, String> fields(String masterData) {
        Map<String, String> out = new LinkedHashMap<>();
        if (masterData == null || masterData.isBlank()) return out;
        try {
            JSON.readTree(masterData).fields().forEachRemaining(f -> out.put(f.getKey(), f.getValue().asText()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * The fields of a record, each normalised; a null value kept as "" (the system keeps the field, empty). Each is
     * clipped (a name to {@value #NAME_CHARS} characters, an e-mail to {@value #EMAIL_CHARS}, the longest address
     * SMTP allows) so that the master data fits the run record's detail (500 characters) as JSON.
     */
    public static Map<String, String> normalised(String name, String email, String country, Set<String> kept) {
        Map<String, String> out = new LinkedHashMap<>();
        if (kept.contains("name")) out.put("name", clip(name(name), NAME_CHARS));
        if (kept.contains("email")) out.put("email", clip(email(email), EMAIL_CHARS));
        if (kept.contains("country")) out.put("country", clip(country(country), 3));
        return out;
    }

    static final int NAME_CHARS = 120;
    static final int EMAIL_CHARS = 254;

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    /**
     * Unicode NFKC, case folded, commas dropped, its words in sorted order: "ACME  GmbH " = "Acme GmbH", and the legacy
     * ERP's "Doe, Jane" = "Jane Doe" (it writes a person family name first; it keeps no kind to tell a person by).
     */
    static String name(String s) {
        if (s == null) return "";
        String folded = Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT).replace(",", " ").strip();
        if (folded.isEmpty()) return "";
        return String.join(" ", java.util.Arrays.stream(folded.split("\\s+")).sorted().toList());
    }

    /**
     * Whether a clipped name (normalised) is the beginning of a full one (normalised): each of its words is one of the
     * full name's, but one, which may be the beginning of one (the word the clip cut). The words are sorted, so which
     * word was last is not known; the clipped name's missing words are those the clip dropped.
     */
    static boolean sameName(String clipped, String full) {
        if (clipped.isEmpty()) return full.isEmpty();
        List<String> left = new ArrayList<>(List.of(full.split(" ")));
        List<String> cut = new ArrayList<>();
        for (String word : clipped.split(" ")) {
            if (!left.remove(word)) cut.add(word);
        }
        if (cut.size() > 1) return false;
        return cut.isEmpty() || left.stream().anyMatch(w -> w.startsWith(cut.get(0)));
    }

    /** As the identity rules normalise an e-mail: NFKC, trimmed, lower-cased. */
    static String email(String s) {
        if (s == null) return "";
        return Normalizer.normalize(s, Normalizer.Form.NFKC).strip().toLowerCase(Locale.ROOT);
    }

    /** An ISO 3166-1 alpha-2 code, upper-cased; anything else as given, trimmed. */
    static String country(String s) {
        if (s == null) return "";
        return s.strip().toUpperCase(Locale.ROOT);
    }

    /** A difference found among one key's records. */
    public record Found(String kind, String system, String key, String field, String reference, String referenceValue,
                       String otherValue, List<Record> records, String detail) {
    }

    /**
     * The differences of one key's records, given the sides read for the entity ({@code sides}: CRM, BILLING, ERP, as
     * {@link #side} names a system's): an unlinked record is UNLINKED and nothing else; otherwise DUPLICATE per system
     * holding more than one record, MISSING_IN_&lt;side&gt; per side read holding none, and DATA_DIFFERENCE per field
     * and record whose value differs from the reference's (per field, the owner's record if it keeps the field,
     * else the first keeping it of the CRM, billing, the ERP).
     */
    public static List<Found> compare(String key, List<Record> records, List<String> sides) {
        List<Found> out = new ArrayList<>();
        if (records.isEmpty()) return out;
        if (key.startsWith(UNLINKED + "|")) {
            Record r = records.get(0);
            out.add(new Found("UNLINKED", r.system(), key, null, null, null, null, records, r.system() + " record "
                    + r.recordId() + " is linked to no customer in the cross-reference"));
            return out;
        }
        Map<String, List<Record>> bySystem = new LinkedHashMap<>();
        for (Record r : records) bySystem.computeIfAbsent(r.system(), s -> new ArrayList<>()).add(r);
        for (var e : bySystem.entrySet()) {
            if (e.getValue().size() > 1) {
                out.add(new Found("DUPLICATE", e.getKey(), key, null, null, null, null, e.getValue(), e.getKey()
                        + " holds " + e.getValue().size() + " records of customer " + key + ": "
                        + String.join(", ", e.getValue().stream().map(Record::recordId).toList())));
            }
        }
        for (String side : sides) {
            if (records.stream().noneMatch(r -> side(r.system()).equals(side))) {
                out.add(new Found("MISSING_IN_" + side, null, key, null, null, null, null, records,
                        "customer " + key + " has no record " + (side.equals("CRM") ? "in the CRM" : side.equals("ERP")
                        ? "at the ERP" : "in billing") + "; it has: " + String.join(", ", bySystem.keySet())));
            }
        }
        // per field, the reference is the owner's record if it keeps the field, else the first that keeps it of the
        // CRM, then billing, then the ERP
        List<Record> ordered = new ArrayList<>(records);
        ordered.sort(java.util.Comparator.comparingInt(r -> r.system().equals(OWNER) ? 0 : 1 + SIDES.indexOf(side(r.system()))));
        for (String field : FIELDS) {
            Record reference = ordered.stream().filter(r -> r.fields().containsKey(field)).findFirst().orElse(null);
            if (reference == null) continue;
            String mine = reference.fields().get(field);
            for (Record r : ordered) {
                if (r.system().equals(reference.system())) continue;
                String theirs = r.fields().get(field);
                if (theirs == null || mine.equals(theirs)) continue;
                if (field.equals("name") && (r.fields().containsKey(NAME_CLIPPED) && sameName(theirs, mine)
                        || reference.fields().containsKey(NAME_CLIPPED) && sameName(mine, theirs))) {
                    continue; // the system keeps the beginning of the name, as the sync wrote it
                }
                out.add(new Found("DATA_DIFFERENCE", r.system(), key, field, reference.system(), mine, theirs,
                        List.of(reference, r), field + " differs: " + reference.system() + " " + reference.recordId()
                        + " (the reference" + (reference.system().equals(OWNER) ? ", the owner" : "") + ") "
                        + quoted(field, mine) + ", " + r.system() + " " + r.recordId() + " " + quoted(field, theirs)));
            }
        }
        return out;
    }

    /**
     * A value as a JSON member, {@code "email":"info@acme.example"}: the form in which the operators' views mask a
     * person's name and e-mail ({@link io.interchange.management.PersonalData}) unless the operator may see them.
     */
    static String quoted(String field, String value) {
        return "\"" + field + "\":\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static final List<String> SIDES = List.of("CRM", "BILLING", "ERP");

    /** The side a system's records are read on: the CRM, billing, or the ERP. */
    public static String side(String system) {
        if (system.equals("salesforce") || system.equals("hubspot")) return "CRM";
        if (system.startsWith("erp")) return "ERP";
        return "BILLING";
    }
}
