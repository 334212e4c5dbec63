package io.interchange.connectors.kafka;

import io.interchange.model.Envelope;
import org.apache.camel.Message;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Maps the envelope to and from CloudEvents 1.0 Kafka binary mode ({@code ce_*} headers, {@code content-type}).
 * Written here because camel-cloudevents is not available for Camel 4.18 in our registry, and binary mode is a
 * handful of headers.
 */
public final class CloudEventHeaders {

    public static final String SPEC_VERSION = "ce_specversion";
    public static final String ID = "ce_id";
    public static final String SOURCE = "ce_source";
    public static final String TYPE = "ce_type";
    public static final String SUBJECT = "ce_subject";
    public static final String TIME = "ce_time";
    public static final String DATA_SCHEMA = "ce_dataschema";
    public static final String CORRELATION_ID = "ce_correlationid";
    public static final String LEGAL_ENTITY = "ce_legalentity";
    public static final String LEGAL_ENTITY_RULE = "ce_legalentityrule";
    public static final String LIVEMODE = "ce_livemode";
    public static final String CONTENT_TYPE = "content-type";

    private CloudEventHeaders() {
    }

    /** Writes the envelope as message headers, ready for the Kafka producer. */
    public static void write(Envelope e, Message m) {
        m.setHeader(SPEC_VERSION, Envelope.SPEC_VERSION);
        m.setHeader(ID, e.id());
        m.setHeader(SOURCE, e.source());
        m.setHeader(TYPE, e.type());
        m.setHeader(SUBJECT, e.subject());
        m.setHeader(TIME, e.time());
        m.setHeader(DATA_SCHEMA, e.dataSchema());
        m.setHeader(CORRELATION_ID, e.correlationId());
        // a legal entity is a billing notion: a CRM change belongs to none until its customer is linked to one
        if (e.legalEntity() != null) m.setHeader(LEGAL_ENTITY, e.legalEntity());
        if (e.legalEntityRule() != null) m.setHeader(LEGAL_ENTITY_RULE, e.legalEntityRule());
        if (e.livemode() != null) m.setHeader(LIVEMODE, e.livemode().toString());
        m.setHeader(CONTENT_TYPE, Envelope.CONTENT_TYPE);
    }

    /**
     * Reads the envelope from headers of a consumed record (Kafka header values arrive as byte[]). One pass over the
     * headers: Camel keeps them in a case-insensitive tree, and looking each of ten names up in it was a thirtieth of
     * the ledger consumer's CPU.
     */
    public static Envelope read(Message m) {
        return read(m.getHeaders());
    }

    /** Reads the envelope from the headers of a record read with Kafka's own consumer. */
    public static Envelope read(Headers headers) {
        Map<String, Object> byName = new LinkedHashMap<>();
        for (Header h : headers) byName.put(h.key(), h.value());
        return read(byName);
    }

    private static Envelope read(Map<String, Object> headers) {
        String id = null, source = null, type = null, subject = null, time = null, dataSchema = null;
        String correlationId = null, legalEntity = null, legalEntityRule = null, livemode = null;
        for (Map.Entry<String, Object> h : headers.entrySet()) {
            String name = h.getKey();
            // "ce_" in any case, by its chars: most names are Kafka's and Camel's, and String.regionMatches ignoring
            // case was half of this method's CPU in the ledger consumers' profile (each record has about twenty)
            if (name.length() < 5 || name.charAt(2) != '_' || (name.charAt(0) | 0x20) != 'c'
                    || (name.charAt(1) | 0x20) != 'e') continue;
            switch (name.toLowerCase(Locale.ROOT)) {
                case ID -> id = text(h.getValue());
                case SOURCE -> source = text(h.getValue());
                case TYPE -> type = text(h.getValue());
                case SUBJECT -> subject = text(h.getValue());
                case TIME -> time = text(h.getValue());
                case DATA_SCHEMA -> dataSchema = text(h.getValue());
                case CORRELATION_ID -> correlationId = text(h.getValue());
                case LEGAL_ENTITY -> legalEntity = text(h.getValue());
                case LEGAL_ENTITY_RULE -> legalEntityRule = text(h.getValue());
                case LIVEMODE -> livemode = text(h.getValue());
                default -> { } // ce_specversion, and extensions we do not read
            }
        }
        return new Envelope(id, source, type, subject, time, dataSchema, correlationId, legalEntity, legalEntityRule,
                livemode == null ? null : Boolean.valueOf(livemode));
    }

    private static String text(Object v) {
        if (v instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return v == null ? null : v.toString();
    }
}
