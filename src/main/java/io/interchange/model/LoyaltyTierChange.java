package io.interchange.model;

/**
 * Canonical change of a loyalty member's tier, version 1: the member joined the program's tier structure, moved up or
 * down, had the tier prolonged, or left.
 *
 * @param eventId    the platform's event id (the change's identity)
 * @param change     {@code joined}, {@code upgraded}, {@code downgraded}, {@code prolonged} or {@code left}
 * @param customer   the member: global id (the platform customer's {@code source_id}) and the platform's customer id
 * @param campaignId the loyalty program
 * @param tierFrom   the tier before (null when joining)
 * @param tierTo     the tier after (null when leaving)
 * @param occurredAt when the platform recorded it (ISO-8601, UTC)
 */
public record LoyaltyTierChange(String eventId, String change, CustomerRef customer, String campaignId, Tier tierFrom,
                                Tier tierTo, String occurredAt) {

    /** A tier of the program: the platform's id, its name and the points from which it applies. */
    public record Tier(String id, String name, Long pointsFrom) {
    }
}
