package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.mapping.CsvTable;
import io.interchange.mapping.MappingSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the Stripe fields the mappings read against their declared JSON types ({@code mappings/stripe/field-types.csv},
 * taken from Stripe's OpenAPI spec): what fails is not a Stripe event, and is refused with 400 naming the field.
 * Nothing else is judged here: a field absent in one API version, a null where Stripe allows null, a value we cannot
 * post, are left to the mappings, whose gaps park the event instead of refusing it.
 */
final class StripeFieldTypes {

    static final String FILE = "stripe/field-types.csv";
    private static final Set<String> TYPES = Set.of("text", "string", "integer", "boolean", "object", "array", "expandable");

    private record Field(String[] path, String display, String type, boolean nullable, boolean required) {
    }

    private final Map<String, List<Field>> byObject = new HashMap<>();
    /** The same fields per object as one tree of their paths, walked once per event (see {@link Step}). */
    private final Map<String, Step> treeByObject = new HashMap<>();

    StripeFieldTypes(MappingSource source) {
        for (CsvTable.Row row : CsvTable.read(source, FILE, "object", "path", "type", "nullable", "required")) {
            String type = row.get("type");
            if (!TYPES.contains(type)) {
                throw new IllegalArgumentException("mappings/" + FILE + " line " + row.line() + ": unknown type '" + type
                        + "'; one of " + TYPES);
            }
            String path = row.get("path");
            byObject.computeIfAbsent(row.get("object"), k -> new ArrayList<>()).add(new Field(
                    path.replace("[]", ".[]").split("\\."), path, type, yes(row, "nullable"), yes(row, "required")));
        }
        byObject.forEach((object, fields) -> {
            Step root = new Step();
            for (Field f : fields) root.add(f, 0);
            treeByObject.put(object, root);
        });
    }

    private static boolean yes(CsvTable.Row row, String column) {
        String v = row.get(column);
        if (!v.equals("yes") && !v.equals("no")) {
            throw new IllegalArgumentException("mappings/" + FILE + " line " + row.line() + ": " + column + " must be yes or no");
        }
        return v.equals("yes");
    }

    /** Refuses (400) an event whose data.object breaks a declared type; {@code object} is the Stripe object's name. */
    void check(String eventId, String object, JsonNode data) {
        if (passes(object, data)) return;
        String failure = firstFailure(object, data);
        if (failure != null) throw new WebhookRejection(400, "event " + eventId + ": data.object" + failure);
    }

    /** Whether every declared field of {@code object} is as typed in {@code data}: one walk of the paths' tree. */
    boolean passes(String object, JsonNode data) {
        Step tree = treeByObject.get(object);
        return tree == null || tree.passes(data);
    }

    /**
     * The first field, in the file's order, that is not as typed: its path from {@code data} and what is wrong, or
     * null. Each field's path is walked from the root, so this is called only once {@link #passes} found a failure.
     */
    String firstFailure(String object, JsonNode data) {
        for (Field f : byObject.getOrDefault(object, List.of())) {
            String failure = check(f, data, 0);
            if (failure != null) return failure;
        }
        return null;
    }

    /**
     * Null when the field is as Stripe's spec types it wherever the path reaches, else the rest of the path from
     * {@code node} to the first value that is not, and what is wrong with it. The path is spelled out only for a value
     * that fails (most events have none): every value checked used to build its path string first.
     */
    private static String check(Field f, JsonNode node, int depth) {
        if (depth == f.path.length) {
            String problem = problem(f, node);
            return problem == null ? null
                    : " " + problem + " (Stripe's " + f.type + (f.nullable ? " or null" : "") + ")";
        }
        if (node == null || node.isNull() || node.isMissingNode()) return null; // a missing parent is the parent's check
        String step = f.path[depth];
        if (step.equals("[]")) {
            if (!node.isArray()) return null;
            for (int i = 0; i < node.size(); i++) {
                String failure = check(f, node.get(i), depth + 1);
                if (failure != null) return "[" + i + "]" + failure;
            }
        } else if (step.equals("*")) {
            if (!node.isObject()) return null;
            for (var it = node.fields(); it.hasNext(); ) {
                var e = it.next();
                String failure = check(f, e.getValue(), depth + 1);
                if (failure != null) return "." + e.getKey() + failure;
            }
        } else if (node.isObject()) {
            String failure = check(f, node.get(step), depth + 1);
            if (failure != null) return "." + step + failure;
        }
        return null;
    }

    /**
     * One step of the declared paths, with the fields that end there and the steps below it. The fields share their
     * prefixes ({@code lines.data[]} heads fifteen paths of an invoice), so one walk of this tree visits each value
     * once where walking each path from the root visited {@code lines} and every line again for each field: on an
     * invoice with a few lines, the checks were an eighth of a reconciliation's CPU. It answers only whether every
     * field passes, with the same rules as {@link #check(Field, JsonNode, int)}, which spells out the failure.
     */
    private static final class Step {
        private final List<Field> ending = new ArrayList<>();
        private final Map<String, Step> named = new LinkedHashMap<>();
        private Step each;  // [] : every element of an array
        private Step every; // *  : every member's value of an object

        void add(Field f, int depth) {
            if (depth == f.path.length) {
                ending.add(f);
                return;
            }
            String step = f.path[depth];
            Step next = switch (step) {
                case "[]" -> each == null ? (each = new Step()) : each;
                case "*" -> every == null ? (every = new Step()) : every;
                default -> named.computeIfAbsent(step, k -> new Step());
            };
            next.add(f, depth + 1);
        }

        boolean passes(JsonNode node) {
            for (Field f : ending) {
                if (problem(f, node) != null) return false;
            }
            if (node == null || node.isNull() || node.isMissingNode()) return true; // a missing parent is the parent's check
            if (each != null && node.isArray()) {
                for (JsonNode element : node) {
                    if (!each.passes(element)) return false;
                }
            }
            if (node.isObject()) {
                if (every != null) {
                    for (var it = node.elements(); it.hasNext(); ) {
                        if (!every.passes(it.next())) return false;
                    }
                }
                for (Map.Entry<String, Step> e : named.entrySet()) {
                    if (!e.getValue().passes(node.get(e.getKey()))) return false;
                }
            }
            return true;
        }
    }

    private static String problem(Field f, JsonNode v) {
        if (v == null || v.isMissingNode()) return f.required ? "is missing" : null;
        if (v.isNull()) return f.nullable ? null : "is null";
        boolean ok = switch (f.type) {
            case "text" -> v.isTextual() && !v.asText().isBlank();
            case "string" -> v.isTextual();
            case "integer" -> v.isIntegralNumber() && v.canConvertToLong();
            case "boolean" -> v.isBoolean();
            case "object" -> v.isObject();
            case "array" -> v.isArray();
            case "expandable" -> v.isTextual() ? !v.asText().isBlank() : v.isObject() && v.path("id").isTextual();
            default -> false;
        };
        if (ok) return null;
        if (f.type.equals("integer") && v.isNumber()) return "is not a whole number in range: " + abbreviate(v);
        return "is " + describe(v) + ", not " + f.type;
    }

    private static String describe(JsonNode v) {
        if (v.isTextual()) return v.asText().isBlank() ? "a blank string" : "a string";
        if (v.isNumber()) return "a number";
        if (v.isBoolean()) return "a boolean";
        if (v.isArray()) return "an array";
        if (v.isObject()) return "an object";
        return v.getNodeType().toString().toLowerCase();
    }

    private static String abbreviate(JsonNode v) {
        String s = v.toString();
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}
