package io.interchange.connectors.kafka;

import io.interchange.model.Envelope;
import org.apache.camel.Message;

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

    /** Reads the envelope from headers of a consumed record (Kafka header values arrive as byte[]). */
    public static Envelope read(Message m) {
        String livemode = text(m, LIVEMODE);
        return new Envelope(text(m, ID), text(m, SOURCE), text(m, TYPE), text(m, SUBJECT), text(m, TIME),
                text(m, DATA_SCHEMA), text(m, CORRELATION_ID), text(m, LEGAL_ENTITY), text(m, LEGAL_ENTITY_RULE),
                livemode == null ? null : Boolean.valueOf(livemode));
    }

    private static String text(Message m, String name) {
        Object v = m.getHeader(name);
        if (v instanceof byte[] b) {
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        }
        return v == null ? null : v.toString();
    }
}
