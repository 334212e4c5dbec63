package io.interchange.sandbox.salesforce;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of SOQL the peer answers: {@code SELECT f, ... FROM Object [WHERE cond AND cond ...] [ORDER BY f [ASC|DESC]]
 * [LIMIT n]}, where a condition is {@code field = | != | > | >= | < | <= value} or {@code field IN ('a', 'b')}, and a
 * value is a quoted string, a number, {@code true}/{@code false}, {@code null} or a dateTime literal
 * ({@code 2026-12-05T10:31:22Z}, with an optional fraction or offset). Anything else is refused as Salesforce refuses a
 * malformed query ({@code MALFORMED_QUERY}).
 */
final class Soql {

    /** A query Salesforce would refuse. */
    static final class Malformed extends RuntimeException {
        Malformed(String message) {
            super(message);
        }
    }

    private static final Pattern QUERY = Pattern.compile(
            "(?is)\\s*SELECT\\s+(.+?)\\s+FROM\\s+(\\w+)(?:\\s+WHERE\\s+(.+?))?(?:\\s+ORDER\\s+BY\\s+(\\w+)(?:\\s+(ASC|DESC))?)?"
                    + "(?:\\s+LIMIT\\s+(\\d+))?\\s*");
    private static final Pattern CONDITION = Pattern.compile(
            "(?is)\\s*(\\w+)\\s*(=|!=|>=|<=|>|<|\\s+IN\\s+)\\s*(\\(.*\\)|'(?:[^'\\\\]|\\\\.)*'|[^\\s]+)\\s*");

    final List<String> fields;
    final String object;
    final Predicate<Map<String, Object>> where;
    final String orderBy;
    final boolean descending;
    final Integer limit;

    private Soql(List<String> fields, String object, Predicate<Map<String, Object>> where, String orderBy,
                 boolean descending, Integer limit) {
        this.fields = fields;
        this.object = object;
        this.where = where;
        this.orderBy = orderBy;
        this.descending = descending;
        this.limit = limit;
    }

    static Soql parse(String q) {
        Matcher m = QUERY.matcher(q);
        if (!m.matches()) throw new Malformed("unexpected token in query: " + q);
        List<String> fields = new ArrayList<>();
        for (String f : m.group(1).split(",")) {
            String name = f.strip();
            if (!name.matches("\\w+")) throw new Malformed("unexpected token: '" + name + "'");
            fields.add(name);
        }
        Predicate<Map<String, Object>> where = r -> true;
        if (m.group(3) != null) {
            for (String part : m.group(3).split("(?i)\\s+AND\\s+")) {
                where = where.and(condition(part));
            }
        }
        return new Soql(fields, m.group(2), where, m.group(4), "DESC".equalsIgnoreCase(m.group(5)),
                m.group(6) == null ? null : Integer.valueOf(m.group(6)));
    }

    /** The matching records, ordered and limited as the query asks. */
    List<Map<String, Object>> run(List<Map<String, Object>> records) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> r : records) if (where.test(r)) out.add(r);
        if (orderBy != null) {
            Comparator<Map<String, Object>> c = (a, b) -> compare(comparable(a.get(orderBy)), comparable(b.get(orderBy)));
            out.sort(descending ? c.reversed() : c);
        }
        return limit == null || out.size() <= limit ? out : out.subList(0, limit);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compare(Comparable a, Comparable b) {
        if (a == null || b == null) return a == null ? (b == null ? 0 : -1) : 1;
        return a.compareTo(b);
    }

    private static Predicate<Map<String, Object>> condition(String text) {
        Matcher m = CONDITION.matcher(text);
        if (!m.matches()) throw new Malformed("unexpected token in condition: " + text.strip());
        String field = m.group(1);
        String op = m.group(2).strip().toUpperCase(Locale.ROOT);
        String raw = m.group(3);
        if (op.equals("IN")) {
            if (!raw.startsWith("(")) throw new Malformed("IN needs a list: " + text.strip());
            List<Comparable<?>> values = new ArrayList<>();
            for (String v : raw.substring(1, raw.length() - 1).split(",")) values.add(literal(v.strip()));
            return r -> values.contains(comparable(r.get(field)));
        }
        Comparable<?> value = literal(raw);
        return r -> {
            Comparable<?> actual = comparable(r.get(field));
            if (value == null || actual == null) {
                return switch (op) {
                    case "=" -> actual == value;
                    case "!=" -> actual != value;
                    default -> false;
                };
            }
            @SuppressWarnings({"unchecked", "rawtypes"})
            int c = ((Comparable) actual).compareTo(value);
            return switch (op) {
                case "=" -> c == 0;
                case "!=" -> c != 0;
                case ">" -> c > 0;
                case ">=" -> c >= 0;
                case "<" -> c < 0;
                default -> c <= 0;
            };
        };
    }

    private static Comparable<?> literal(String v) {
        if (v.startsWith("'")) return v.substring(1, v.length() - 1).replace("\\'", "'");
        if (v.equalsIgnoreCase("null")) return null;
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) return Boolean.valueOf(v);
        if (v.matches("-?\\d+(\\.\\d+)?")) return Double.valueOf(v);
        Instant t = instant(v);
        if (t == null) throw new Malformed("unexpected token: '" + v + "'");
        return t;
    }

    /** A record's value in the form literals are compared with: dateTime text as an Instant, numbers as doubles. */
    private static Comparable<?> comparable(Object v) {
        if (v == null) return null;
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof Boolean b) return b;
        String s = v.toString();
        Instant t = s.length() >= 20 && Character.isDigit(s.charAt(0)) ? instant(s) : null;
        return t != null ? t : s;
    }

    static Instant instant(String v) {
        try {
            return OffsetDateTime.parse(v, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            try {
                // Salesforce writes dateTime values as 2026-12-05T10:31:22.000+0000
                return OffsetDateTime.parse(v, DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ")).toInstant();
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }
}
