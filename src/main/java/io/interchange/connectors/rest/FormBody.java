package io.interchange.connectors.rest;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * An {@code application/x-www-form-urlencoded} body, with nested values written the way Stripe (and Rails, PHP) read
 * them: a map's entries as {@code key[inner]=v} ({@code metadata[global_customer_id]=gc-1}), a list's items as
 * {@code key[0]=v}, {@code key[0][inner]=v}. Entries keep the order they were given in; a null value is left out and an
 * empty string sent as {@code key=} (Stripe: unset the field).
 */
public final class FormBody implements RestBody {

    private final String text;

    private FormBody(String text) {
        this.text = text;
    }

    /** Values are strings, numbers, booleans, nested maps or lists of them. */
    public static FormBody of(Map<String, ?> fields) {
        StringBuilder sb = new StringBuilder();
        fields.forEach((k, v) -> append(sb, k, v));
        return new FormBody(sb.toString());
    }

    private static void append(StringBuilder sb, String key, Object value) {
        if (value == null) return;
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> append(sb, key + "[" + k + "]", v));
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) append(sb, key + "[" + i + "]", list.get(i));
        } else {
            if (!sb.isEmpty()) sb.append('&');
            sb.append(encode(key)).append('=').append(encode(String.valueOf(value)));
        }
    }

    /**
     * The fields of an {@code application/x-www-form-urlencoded} body as sent, in order, names kept flat as the sender
     * wrote them ({@code data[email]}); a name given twice keeps its last value. Malformed percent-encoding is an
     * {@link IllegalArgumentException}.
     */
    public static java.util.LinkedHashMap<String, String> parse(String form) {
        java.util.LinkedHashMap<String, String> out = new java.util.LinkedHashMap<>();
        if (form == null || form.isEmpty()) return out;
        for (String pair : form.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String name = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(name, value);
        }
        return out;
    }

    /** A query string or form field, percent-encoded (spaces as {@code +}). */
    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The encoded form, e.g. {@code email=a%40b.example&metadata%5Bglobal_customer_id%5D=gc-1}. */
    public String text() {
        return text;
    }

    @Override
    public String contentType() {
        return "application/x-www-form-urlencoded";
    }

    @Override
    public byte[] bytes() {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return text;
    }
}
