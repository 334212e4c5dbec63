package io.interchange.model;

/**
 * The event envelope: CloudEvents 1.0 attributes plus the {@code correlationid}, {@code legalentity},
 * {@code legalentityrule} and {@code livemode} extensions. The data travels separately (the Kafka record value, JSON).
 *
 * @param subject         global customer id
 * @param legalEntityRule which rule of the source's legal-entity chain named the entity (null if not recorded)
 * @param livemode        whether the source event came from live mode (null if the source has no such notion)
 */
public record Envelope(String id, String source, String type, String subject, String time, String dataSchema,
                       String correlationId, String legalEntity, String legalEntityRule, Boolean livemode) {

    public static final String SPEC_VERSION = "1.0";
    public static final String CONTENT_TYPE = "application/json";

    public Envelope(String id, String source, String type, String subject, String time, String dataSchema,
                    String correlationId, String legalEntity) {
        this(id, source, type, subject, time, dataSchema, correlationId, legalEntity, null, null);
    }
}
