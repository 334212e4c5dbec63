package io.interchange.store;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which dead letters an operator means: the criteria of the console's search, bulk replay and bulk discard, applied
 * in SQL. Written by operators as one expression of {@code field=value} terms separated by commas or spaces, all of
 * which must hold, e.g. {@code route=billing.ledger-posting,error=PermanentFailure,entity=DE01,from=2026-12-01T00:00:00Z}.
 *
 * <p>One expression rather than a parameter per field: jmxterm and Jolokia pass operation arguments by position, so
 * seven parameters would make an operator type placeholders for every field not used; the expression reads like the
 * question asked, and the same text goes into the audit trail. Commas because jmxterm splits its arguments at every
 * space, quoted or not; no value of these fields holds a comma.
 *
 * @param status null for any status
 * @param from   inclusive, null for no lower bound on {@code created_at}
 * @param to     exclusive, null for no upper bound on {@code created_at}
 */
public record DeadLetterFilter(String route, String error, String kind, String entity, String customer,
                               Instant from, Instant to, String status) {

    /** The fields an expression may name, in the order the help lists them. */
    public static final List<String> FIELDS = List.of("route", "error", "kind", "entity", "customer", "from", "to", "status");
    private static final Set<String> STATUSES = Set.of(DeadLetter.OPEN, DeadLetter.REPLAYING, DeadLetter.REPLAYED,
            DeadLetter.DISCARDED);
    private static final Set<String> KINDS = Set.of("TRANSIENT", "PERMANENT");

    /** Open dead letters of every route: the search without terms. */
    public static final DeadLetterFilter OPEN_ONLY = new DeadLetterFilter(null, null, null, null, null, null, null,
            DeadLetter.OPEN);

    /**
     * Parses an expression strictly: every term must be {@code field=value} with a known field, a non-empty value and
     * no field twice; times are ISO-8601 instants. Without a {@code status} term only open dead letters match
     * ({@code status=any} for all). A blank expression is {@link #OPEN_ONLY}.
     *
     * @throws IllegalArgumentException naming the term that is wrong and why
     */
    public static DeadLetterFilter parse(String expression) {
        Map<String, String> terms = new LinkedHashMap<>();
        if (expression != null && !expression.isBlank()) {
            for (String term : expression.strip().split("[\\s,]+")) {
                if (term.isEmpty()) continue; // a leading comma
                int eq = term.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("filter term '" + term + "' is not field=value; fields: "
                            + String.join(", ", FIELDS));
                }
                String field = term.substring(0, eq);
                String value = term.substring(eq + 1);
                if (!FIELDS.contains(field)) {
                    throw new IllegalArgumentException("unknown filter field '" + field + "'; fields: "
                            + String.join(", ", FIELDS));
                }
                if (value.isEmpty()) throw new IllegalArgumentException("filter field '" + field + "' has an empty value");
                if (terms.put(field, value) != null) {
                    throw new IllegalArgumentException("filter field '" + field + "' is given twice");
                }
            }
        }
        String status = terms.getOrDefault("status", DeadLetter.OPEN).toUpperCase(Locale.ROOT);
        if (status.equals("ANY")) {
            status = null;
        } else if (!STATUSES.contains(status)) {
            throw new IllegalArgumentException("status '" + terms.get("status") + "' is none of OPEN, REPLAYING, "
                    + "REPLAYED, DISCARDED, ANY");
        }
        String kind = terms.get("kind");
        if (kind != null) {
            kind = kind.toUpperCase(Locale.ROOT);
            if (!KINDS.contains(kind)) {
                throw new IllegalArgumentException("kind '" + terms.get("kind") + "' is neither TRANSIENT nor PERMANENT");
            }
        }
        Instant from = instant("from", terms.get("from"));
        Instant to = instant("to", terms.get("to"));
        if (from != null && to != null && !from.isBefore(to)) {
            throw new IllegalArgumentException("from (" + from + ") must be before to (" + to + ")");
        }
        return new DeadLetterFilter(terms.get("route"), terms.get("error"), kind, terms.get("entity"),
                terms.get("customer"), from, to, status);
    }

    /** True when the filter narrows by anything but status: what a bulk operation requires. */
    public boolean narrows() {
        return route != null || error != null || kind != null || entity != null || customer != null || from != null
                || to != null;
    }

    /** This filter for one route. */
    public DeadLetterFilter withRoute(String routeId) {
        return new DeadLetterFilter(routeId, error, kind, entity, customer, from, to, status);
    }

    /** The filter written back as an expression (every term set, in the order of {@link #FIELDS}). */
    @Override
    public String toString() {
        List<String> terms = new ArrayList<>();
        if (route != null) terms.add("route=" + route);
        if (error != null) terms.add("error=" + error);
        if (kind != null) terms.add("kind=" + kind);
        if (entity != null) terms.add("entity=" + entity);
        if (customer != null) terms.add("customer=" + customer);
        if (from != null) terms.add("from=" + from);
        if (to != null) terms.add("to=" + to);
        terms.add("status=" + (status == null ? "any" : status));
        return String.join(" ", terms);
    }

    /** The SQL condition (without WHERE) and its parameters, in order. */
    String where(List<Object> params) {
        List<String> clauses = new ArrayList<>();
        term(clauses, params, "status = ?", status);
        term(clauses, params, "route_id = ?", route);
        if (error != null) {
            // the class's full name, or its simple name (PermanentFailure for io.interchange.reliability.PermanentFailure)
            term(clauses, params, "(error_class = ? OR error_class LIKE ?)", error,
                    "%." + error.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"));
        }
        term(clauses, params, "failure_kind = ?", kind);
        term(clauses, params, "legal_entity = ?", entity);
        term(clauses, params, "customer_id = ?", customer);
        term(clauses, params, "created_at >= ?", from == null ? null : Jdbc.ts(from));
        term(clauses, params, "created_at < ?", to == null ? null : Jdbc.ts(to));
        return clauses.isEmpty() ? "1 = 1" : String.join(" AND ", clauses);
    }

    /** Adds the clause with its parameters, unless the first parameter (the criterion) is absent. */
    private static void term(List<String> clauses, List<Object> params, String clause, Object... values) {
        if (values[0] == null) return;
        clauses.add(clause);
        params.addAll(List.of(values));
    }

    private static Instant instant(String field, String value) {
        if (value == null) return null;
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(field + " '" + value + "' is not an ISO-8601 instant such as "
                    + "2026-12-01T00:00:00Z (" + e.getMessage() + ")");
        }
    }
}
