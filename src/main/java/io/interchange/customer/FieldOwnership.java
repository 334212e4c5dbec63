package io.interchange.customer;

import io.interchange.management.PersonalData;
import io.interchange.mapping.CsvTable;
import io.interchange.mapping.Fingerprint;
import io.interchange.mapping.MappingSource;
import io.interchange.store.AuditTrail;
import io.interchange.store.CustomerFields;
import io.interchange.store.CustomerFields.Recorded;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The system of record per field, as data ({@code mappings/customer/ownership.csv}): whether a change of a customer
 * field from a system is applied against what is recorded (value, system, source time). Every applied change is
 * audited (system, field, before, after, correlation id; personal values masked); a change from a system that does
 * not own the field is refused, counted in {@code interchange_customer_changes_refused_total{system,field}} and
 * audited.
 */
public final class FieldOwnership {

    public static final String FILE = "customer/ownership.csv";
    /** Counter of refused changes, tagged by system and field ({@code interchange_customer_changes_refused_total}). */
    // in two parts, as ErpBreakers writes its metric names: ConfigReferenceTest takes a whole literal for a setting key
    public static final String REFUSED_METRIC = "interchange" + ".customer.changes.refused";
    public static final String AUDIT_APPLIED = "CUSTOMER_FIELD_APPLIED";
    public static final String AUDIT_REFUSED = "CUSTOMER_FIELD_REFUSED";
    /** The field tag of a refused change of a field the table does not declare (its name may be anything). */
    static final String UNDECLARED_TAG = "(undeclared)";

    public enum Rule { OWNER_WINS, NEWER_WINS }

    /** One row of the table; an empty owner set means any system. */
    public record Ownership(String field, Set<String> owners, Rule rule, boolean personal) {
        boolean owns(String system) {
            return owners.isEmpty() || owners.contains(system);
        }
    }

    /** A change of one field of a customer, as a system announced it. */
    public record Change(String globalId, String system, String field, String value, Instant sourceTime,
                         String correlationId) {
    }

    public enum Outcome {
        /** recorded, and audited */
        APPLIED,
        /** the value is the recorded one (its source time is kept if newer) */
        UNCHANGED,
        /** older than the recorded value of a system entitled to it: the recorded value stands */
        STALE,
        /** the system does not own the field (or the field is not declared): counted and audited */
        REFUSED
    }

    /** The verdict on a change, why, and what was recorded before it. */
    public record Verdict(Outcome outcome, String reason, Optional<Recorded> before) {
        public boolean applied() {
            return outcome == Outcome.APPLIED;
        }
    }

    private static final int ATTEMPTS = 10;

    private final Map<String, Ownership> table;
    private final CustomerFields fields;
    private final AuditTrail audit;
    private final MeterRegistry meters;

    public FieldOwnership(Map<String, Ownership> table, CustomerFields fields, AuditTrail audit, MeterRegistry meters) {
        this.table = Map.copyOf(table);
        this.fields = fields;
        this.audit = audit;
        this.meters = meters;
    }

    public static Map<String, Ownership> load(MappingSource source) {
        return parse(source.read(FILE));
    }

    public static Map<String, Ownership> parse(String csv) {
        Map<String, Ownership> out = new LinkedHashMap<>();
        for (CsvTable.Row row : CsvTable.parse(FILE, csv, "field", "owner", "rule", "personal")) {
            String where = "mappings/" + FILE + " line " + row.line() + ": ";
            Rule rule = switch (row.get("rule")) {
                case "owner-wins" -> Rule.OWNER_WINS;
                case "newer-wins" -> Rule.NEWER_WINS;
                default -> throw new IllegalArgumentException(where + "rule is owner-wins or newer-wins, not '"
                        + row.get("rule") + "'");
            };
            String owner = row.get("owner");
            // in the table's order, which reasons name them in
            Set<String> owners = owner.equals("*") ? Set.of()
                    : Collections.unmodifiableSet(new LinkedHashSet<>(Arrays.asList(owner.split("\\|"))));
            if (owners.stream().anyMatch(o -> !o.matches("[a-z][a-z0-9-]{0,39}"))) {
                throw new IllegalArgumentException(where + "owner '" + owner + "' is not system names separated by '|' or *");
            }
            if (owners.isEmpty() && rule == Rule.OWNER_WINS) {
                throw new IllegalArgumentException(where + "owner-wins needs an owner, not *");
            }
            if (!row.get("personal").matches("yes|no")) {
                throw new IllegalArgumentException(where + "personal is yes or no, not '" + row.get("personal") + "'");
            }
            if (out.put(row.get("field"), new Ownership(row.get("field"), owners, rule, row.get("personal").equals("yes"))) != null) {
                throw new IllegalArgumentException(where + "field " + row.get("field") + " twice");
            }
        }
        return out;
    }

    /** The verdict on a change against what is recorded, without applying it. */
    public Verdict decide(Change change, Optional<Recorded> recorded) {
        Ownership o = table.get(change.field());
        if (o == null) {
            return new Verdict(Outcome.REFUSED, "field " + change.field() + " is not declared in mappings/" + FILE, recorded);
        }
        if (!o.owns(change.system())) {
            return new Verdict(Outcome.REFUSED, change.field() + " is owned by " + String.join("|", o.owners())
                    + " (" + o.rule().name().toLowerCase(Locale.ROOT).replace('_', '-') + "), not " + change.system(), recorded);
        }
        if (recorded.isEmpty()) return new Verdict(Outcome.APPLIED, "first value", recorded);
        Recorded r = recorded.get();
        boolean recordedByOwner = o.owns(r.system());
        // owner-wins: an owner's change replaces a value not from an owner, and an owner's value of the same or an
        // earlier source time; newer-wins: a change replaces a value from an earlier source time only
        boolean wins = !recordedByOwner || switch (o.rule()) {
            case OWNER_WINS -> !change.sourceTime().isBefore(r.sourceTime());
            case NEWER_WINS -> change.sourceTime().isAfter(r.sourceTime());
        };
        if (Objects.equals(r.value(), change.value())) {
            return new Verdict(Outcome.UNCHANGED, "the recorded value", recorded);
        }
        if (!wins) {
            return new Verdict(Outcome.STALE, "source time " + change.sourceTime() + " is not after the recorded value's "
                    + r.sourceTime() + " (from " + r.system() + ")", recorded);
        }
        return new Verdict(Outcome.APPLIED, o.rule() == Rule.OWNER_WINS ? "owner" : "newer", recorded);
    }

    /**
     * Decides and, if the change wins, records it and audits it; a refused change is counted and audited. Safe for
     * concurrent changes of one field: each is decided on the value it replaces.
     */
    public Verdict apply(Change change) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Optional<Recorded> recorded = fields.find(change.globalId(), change.field());
            Verdict v = decide(change, recorded);
            switch (v.outcome()) {
                case REFUSED -> {
                    refused(change, v);
                    return v;
                }
                case STALE -> {
                    return v;
                }
                case UNCHANGED -> {
                    // a newer statement of the same value moves the recorded source time on, so that a value older
                    // than it (a revoked consent's earlier opt-in) cannot replace it afterwards
                    Recorded r = recorded.orElseThrow();
                    if (!change.sourceTime().isAfter(r.sourceTime())
                            || fields.write(recorded, change.globalId(), change.field(), r.value(), change.system(),
                            change.sourceTime())) {
                        return v;
                    }
                }
                case APPLIED -> {
                    if (fields.write(recorded, change.globalId(), change.field(), change.value(), change.system(),
                            change.sourceTime())) {
                        audit.record(change.system(), AUDIT_APPLIED, "customer:" + change.globalId(), detail(change, v));
                        return v;
                    }
                }
            }
            // another change of the field was recorded since it was read: decide again on it
        }
        throw new IllegalStateException("field " + change.field() + " of customer " + change.globalId()
                + " changed under every one of " + ATTEMPTS + " attempts to apply a change from " + change.system());
    }

    private void refused(Change change, Verdict v) {
        String tag = table.containsKey(change.field()) ? change.field() : UNDECLARED_TAG;
        Counter.builder(REFUSED_METRIC).description("customer field changes refused: the system does not own the field")
                .tag("system", change.system()).tag("field", tag).register(meters).increment();
        audit.record(change.system(), AUDIT_REFUSED, "customer:" + change.globalId(), detail(change, v));
    }

    /** One line for the audit trail: personal values masked, each with a short fingerprint to compare by. */
    private String detail(Change change, Verdict v) {
        Ownership o = table.get(change.field());
        boolean personal = o == null || o.personal();
        StringBuilder s = new StringBuilder("field=").append(change.field())
                .append(" system=").append(change.system())
                .append(" before=");
        v.before().ifPresentOrElse(r -> s.append(shown(r.value(), personal)).append(" (").append(r.system())
                .append(' ').append(r.sourceTime()).append(')'), () -> s.append("(none)"));
        s.append(" after=").append(shown(change.value(), personal))
                .append(" source-time=").append(change.sourceTime())
                .append(" outcome=").append(v.outcome())
                .append(" reason=").append(v.reason())
                .append(" cid=").append(change.correlationId());
        return PersonalData.mask(s.toString());
    }

    private static String shown(String value, boolean personal) {
        if (value == null) return "null";
        if (!personal) return '"' + value + '"';
        return "*** [sha256:" + Fingerprint.ofValue(value).substring(0, 12) + "]";
    }
}
