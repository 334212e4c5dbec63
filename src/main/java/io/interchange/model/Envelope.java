package io.interchange.model;

/**
 * The event envelope: CloudEvents 1.0 attributes plus the {@code correlationid} and {@code legalentity} extensions.
 * The data travels separately (the Kafka record value, JSON).
 *
 * @param subject global customer id
 */
public record Envelope(String id, String source, String type, String subject, String time, String dataSchema,
                       String correlationId, String legalEntity) {

    public static final String SPEC_VERSION = "1.0";
    public static final String CONTENT_TYPE = "application/json";
}
