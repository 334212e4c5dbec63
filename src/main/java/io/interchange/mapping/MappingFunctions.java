package io.interchange.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.schibsted.spt.data.jslt.Function;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Currency;
import java.util.List;
import java.util.UUID;

/** The few functions mappings need beyond JSLT's built-ins: money formatting, required fields, stable ids. */
final class MappingFunctions {

    private MappingFunctions() {
    }

    /** Thrown by {@code required()} and caught by {@link Mapping}, which adds file and record. */
    static final class MissingField extends RuntimeException {
        final String field;

        MissingField(String field) {
            super("missing required field " + field, null, false, false);
            this.field = field;
        }
    }

    /** Thrown by {@code integer()} when a value is present but not a whole number. */
    static final class WrongType extends RuntimeException {
        final String field;

        WrongType(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }
    }

    static List<Function> all() {
        return List.of(
                // required(value, "path"): the value, or a mapping error naming the path the sender must provide
                fn("required", 2, (in, a) -> {
                    if (a[0] == null || a[0].isNull() || (a[0].isTextual() && a[0].asText().isBlank())) {
                        throw new MissingField(a[1].asText());
                    }
                    return a[0];
                }),
                // integer(value, "path"): the value if it is a whole JSON number (JSLT arithmetic would accept "119")
                fn("integer", 2, (in, a) -> {
                    if (a[0] == null || a[0].isNull()) throw new MissingField(a[1].asText());
                    if (!a[0].isIntegralNumber()) throw new WrongType(a[1].asText(), "must be an integer");
                    return a[0];
                }),
                // local-date(seconds, "Europe/Berlin"): the calendar date of a Unix timestamp in a time zone (a legal
                // entity's books run in its own zone: 23:30 UTC on the 31st is already the 1st in Berlin); JSLT's
                // format-time would build a SimpleDateFormat on every call, a quarter of a mapping's cost. Whole
                // seconds outside years 1-9999 give "@<seconds>", which is no date: like a timestamp of -1
                // (1969-12-31) it is for whoever checks the result to refuse (the billing edge's canonical checks,
                // with a 400 naming the field), not a mapping failure (which would park a genuine event)
                fn("local-date", 2, (in, a) -> {
                    if (a[0] == null || a[0].isNull()) return NullNode.instance;
                    if (!a[0].isIntegralNumber() || !a[0].canConvertToLong()) {
                        throw new IllegalArgumentException("local-date() expects whole Unix seconds, got " + a[0]);
                    }
                    long seconds = a[0].asLong();
                    if (seconds < -62_135_596_800L || seconds > 253_402_300_799L) {
                        return new TextNode("@" + seconds);
                    }
                    ZoneId zone = a[1] == null || a[1].isNull() || a[1].asText().isBlank() ? ZoneOffset.UTC
                            : ZoneId.of(a[1].asText());
                    return new TextNode(LocalDate.ofInstant(Instant.ofEpochSecond(seconds), zone).toString());
                }),
                // fit(value, max, "field"): the value if it fits a target field of at most max characters; otherwise a
                // mapping error naming the field (codes and keys that a receiver would refuse or, worse, cut)
                fn("fit", 3, (in, a) -> {
                    if (a[0] == null || a[0].isNull()) return NullNode.instance;
                    String v = a[0].asText();
                    if (v.length() > a[1].asInt()) {
                        throw new WrongType(a[2].asText(), "'" + (v.length() > 40 ? v.substring(0, 40) + "…" : v)
                                + "' is " + v.length() + " characters long; the target field takes at most " + a[1].asInt());
                    }
                    return a[0];
                }),
                // clip(text, max): free text cut to at most max characters (a header or item text, never an id)
                fn("clip", 2, (in, a) -> {
                    if (a[0] == null || a[0].isNull()) return NullNode.instance;
                    String v = a[0].asText();
                    int max = a[1].asInt();
                    return v.length() <= max ? a[0] : new TextNode(v.substring(0, max - 1) + "…");
                }),
                // erp-reference(event id): the posting's own reference in an ERP's ledger (see ErpReference)
                fn("erp-reference", 1, (in, a) -> a[0] == null || a[0].isNull() ? NullNode.instance
                        : new TextNode(ErpReference.of(a[0].asText()))),
                // decimal(minor, "EUR"): minor units as a decimal string with the currency's fraction digits
                fn("decimal", 2, (in, a) -> {
                    if (a[0] == null || a[0].isNull()) return NullNode.instance;
                    if (!a[0].isIntegralNumber()) {
                        throw new IllegalArgumentException("decimal() expects an integer amount in minor units, got " + a[0]);
                    }
                    int digits = Currency.getInstance(a[1].asText().toUpperCase()).getDefaultFractionDigits();
                    return new TextNode(BigDecimal.valueOf(a[0].asLong()).movePointLeft(Math.max(digits, 0)).toPlainString());
                }),
                // name-uuid("text"): a UUID derived from the text, so a replayed posting carries the same message UUID
                fn("name-uuid", 1, (in, a) -> new TextNode(
                        UUID.nameUUIDFromBytes(a[0].asText().getBytes(StandardCharsets.UTF_8)).toString())));
    }

    private interface Body {
        JsonNode call(JsonNode input, JsonNode[] args);
    }

    private static Function fn(String name, int arity, Body body) {
        return new Function() {
            @Override
            public String getName() {
                return name;
            }

            @Override
            public int getMinArguments() {
                return arity;
            }

            @Override
            public int getMaxArguments() {
                return arity;
            }

            @Override
            public JsonNode call(JsonNode input, JsonNode[] args) {
                return body.call(input, args);
            }
        };
    }
}
