package io.interchange.archive;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import io.interchange.connectors.kafka.CloudEventHeaders;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * One archived record as one JSON line: a CloudEvents 1.0 event in JSON format (the attributes from the record's
 * binary-mode {@code ce_*} headers, {@code datacontenttype} from {@code content-type}, {@code data} the canonical JSON)
 * plus the record's Kafka coordinates as extension attributes ({@code kafkatopic}, {@code kafkapartition},
 * {@code kafkaoffset}, {@code kafkatimestamp}; the record key as {@code partitionkey}, the CloudEvents Kafka binding's
 * name for it). Every {@code ce_*} header is carried, so the attributes of event types added later need no change here.
 *
 * <p>A record that is not a canonical event is archived too, never dropped: one without {@code ce_id} gets
 * {@code "archivenote":"not a canonical event: no ce_id header"}, and a payload that is not one JSON value goes in
 * {@code data_base64} (as the CloudEvents JSON format carries bytes) with a note saying so. The data is copied token
 * by token, so it is compact whatever its spacing: a line is always one line.
 */
final class EventLine {

    static final String NO_ID = "not a canonical event: no ce_id header";
    static final String NOT_JSON = "payload is not one JSON value: kept in data_base64";

    private static final JsonFactory JSON = new JsonFactory();
    private static final String[] CORE = {"specversion", "id", "source", "type", "subject", "time", "dataschema"};

    private final Buffer out = new Buffer();
    private boolean canonical;

    /** Writes the line (with its newline) into this builder's buffer, replacing the previous one. */
    void write(String topic, int partition, long offset, long timestamp, String key, Map<String, Object> headers,
               byte[] payload) throws IOException {
        Map<String, String> attributes = new TreeMap<>();
        String contentType = null;
        for (Map.Entry<String, Object> h : headers.entrySet()) {
            String name = h.getKey();
            if (name.startsWith("ce_") && name.length() > 3) {
                String v = text(h.getValue());
                if (v != null) attributes.put(name.substring(3), v);
            } else if (name.equalsIgnoreCase(CloudEventHeaders.CONTENT_TYPE)) {
                contentType = text(h.getValue());
            }
        }
        canonical = attributes.containsKey("id");
        try {
            write(topic, partition, offset, timestamp, key, attributes, contentType, payload, true);
        } catch (IOException | IllegalStateException notJson) {
            write(topic, partition, offset, timestamp, key, attributes, contentType, payload, false);
        }
    }

    private void write(String topic, int partition, long offset, long timestamp, String key,
                       Map<String, String> attributes, String contentType, byte[] payload, boolean asJson)
            throws IOException {
        out.reset();
        try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            g.writeStartObject();
            // the core attributes first, in the specification's order, then the extensions alphabetically
            for (String core : CORE) {
                String v = attributes.get(core);
                if (v != null) g.writeStringField(core, v);
            }
            if (contentType != null) g.writeStringField("datacontenttype", contentType);
            for (Map.Entry<String, String> a : attributes.entrySet()) {
                if (isCore(a.getKey())) continue;
                if (a.getKey().equals("livemode") && (a.getValue().equals("true") || a.getValue().equals("false"))) {
                    g.writeBooleanField("livemode", Boolean.parseBoolean(a.getValue()));
                } else {
                    g.writeStringField(a.getKey(), a.getValue());
                }
            }
            if (key != null) g.writeStringField("partitionkey", key);
            g.writeStringField("kafkatopic", topic);
            g.writeNumberField("kafkapartition", partition);
            g.writeNumberField("kafkaoffset", offset);
            if (timestamp >= 0) g.writeStringField("kafkatimestamp", Instant.ofEpochMilli(timestamp).toString());
            String note = canonical ? null : NO_ID;
            if (payload != null && asJson) {
                g.writeFieldName("data");
                try (JsonParser p = JSON.createParser(payload)) {
                    if (p.nextToken() == null) throw new IllegalStateException("empty payload");
                    g.copyCurrentStructure(p);
                    if (p.nextToken() != null) throw new IllegalStateException("more than one JSON value");
                }
            } else if (payload != null) {
                g.writeFieldName("data_base64");
                g.writeBinary(payload);
                note = note == null ? NOT_JSON : note + "; " + NOT_JSON;
            }
            if (note != null) g.writeStringField("archivenote", note);
            g.writeEndObject();
        }
        out.write('\n');
    }

    private static boolean isCore(String name) {
        for (String c : CORE) if (c.equals(name)) return true;
        return false;
    }

    boolean canonical() {
        return canonical;
    }

    int length() {
        return out.size();
    }

    /** Writes the buffered line into {@code file} (from the buffer itself: no copy per line). */
    void appendTo(GzipLines file) {
        file.add(out.bytes(), out.size());
    }

    /** A line buffer whose bytes the deflater reads in place. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(4096);
        }

        byte[] bytes() {
            return buf;
        }
    }

    private static String text(Object v) {
        if (v == null) return null;
        if (v instanceof byte[] b) return new String(b, StandardCharsets.UTF_8);
        return v.toString();
    }
}
