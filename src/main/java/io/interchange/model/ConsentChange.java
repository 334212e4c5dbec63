package io.interchange.model;

/**
 * Canonical change of a customer's consent on one channel, version 1: a system said the customer granted or revoked
 * it, at a time of its own. Carried on {@code interchange.consent.topic}, keyed by the global customer id, so one
 * customer's changes stay in order on one partition; which change wins is decided by the source time, not by the
 * order of arrival ({@code store/ConsentStates}).
 *
 * @param changeId     the change's identity, derived from the source's own event (e.g.
 *                     {@code mailchimp:<list>:<subscriber hash>:<type>:<fired_at>}); also the CloudEvents id
 * @param customer     the global customer id
 * @param channel      what the consent is for, e.g. {@code email-marketing}
 * @param granted      true: opted in; false: revoked (opted out, unsubscribed, cleaned)
 * @param source       the system that said so: {@code mailchimp}, {@code hubspot}, {@code salesforce}, {@code loyalty}
 * @param sourceTime   when the source recorded it (ISO-8601, UTC, milliseconds): what decides between changes
 * @param sourceRecord the source's own record: Mailchimp's subscriber hash, HubSpot's contact id, Salesforce's Contact
 *                     id, Voucherify's customer id
 * @param reason       the source's reason or event, as it gave it (e.g. Mailchimp's {@code unsub}/{@code abuse}, or
 *                     {@code contact.propertyChange}); null when it gave none
 */
public record ConsentChange(String changeId, String customer, String channel, boolean granted, String source,
                            String sourceTime, String sourceRecord, String reason) {

    /** The one channel the runtime synchronises today. */
    public static final String EMAIL_MARKETING = "email-marketing";

    private static final java.time.format.DateTimeFormatter TIME = java.time.format.DateTimeFormatter
            .ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

    /** A source time as carried: ISO-8601, UTC, milliseconds. */
    public static String time(java.time.Instant t) {
        return TIME.format(t);
    }
}
