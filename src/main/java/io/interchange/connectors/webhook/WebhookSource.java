package io.interchange.connectors.webhook;

import java.util.List;

/**
 * What an inbound system brings to the webhook edge ({@link WebhookEdge}, instantiated by the routes' generic
 * {@code WebhookRoute}): where it listens, how its requests are verified, and how a verified body becomes zero or more
 * {@link InboundEvent}s (published, ignored or parked), each with its idempotency key. Everything else (content type,
 * claims in the store, the Kafka publication, the answers, outage handling) is the edge's and the same for every
 * system.
 */
public interface WebhookSource {

    /** The system's name, e.g. {@code stripe}, {@code hubspot}. */
    String system();

    /** The route id, e.g. {@code billing.webhook-ingest}; its readiness is the flow's. */
    String routeId();

    /** The path under which the system posts, e.g. {@code /webhooks/billing}. */
    String path();

    /** Prefix of the route's step ids, e.g. {@code billing}. */
    String steps();

    /** Id of the Kafka publication step, e.g. {@code kafka.publish-billing-event}. */
    String publishStep();

    /**
     * The counter of events acknowledged without being published, tagged by outcome and event type, as a Camel
     * endpoint: {@code micrometer:counter:<name>}.
     */
    String acknowledgedMetric();

    /** What a body must be, in refusals: e.g. {@code a Stripe event as JSON}. */
    String expected();

    /** The media type a body must be declared as (in UTF-8): {@code application/json}, or {@code text/xml} for SOAP. */
    default String contentType() {
        return "application/json";
    }

    /**
     * The media type of a form post, which a source may take instead of JSON (Mailchimp's webhooks). The edge parses
     * no form: the source reads its fields from the body in {@link #read} and refuses a malformed one 400.
     */
    String FORM = "application/x-www-form-urlencoded";

    /**
     * True when the system checks the webhook URL with a GET before it posts there (Mailchimp does when a webhook is
     * saved): the edge answers such a GET 200 with no effect, and other methods still 405.
     */
    default boolean answersValidation() {
        return false;
    }

    /** How log lines name one of its events, e.g. {@code Billing event}. */
    String label();

    /**
     * True when a request carries a batch of events and is answered once for all (each event's outcome listed);
     * false when it carries one event, answered with that event's outcome.
     */
    boolean batch();

    SignatureVerifier verifier();

    /**
     * The events of a verified body. Throws a {@link io.interchange.connectors.http.WebhookRejection} (4xx) for what
     * the sender got wrong, before any effect.
     */
    List<InboundEvent> read(byte[] body, String correlationId);

    /**
     * Keeps a parked event for an operator (a dead letter through which it is replayed once the cause is fixed) and
     * returns the dead letter's id, or null when the event has been processed already (then it is a duplicate).
     * Sources that never park need not implement it; those that do keep it with {@link ParkedEvents}.
     */
    default Long park(InboundEvent event, byte[] body, String correlationId) {
        throw new UnsupportedOperationException(system() + " events are never parked");
    }

    /**
     * The route through which this source's parked events are replayed one by one, {@code direct:<id>}, or null when
     * it has none of the kit's (it never parks, or its events have a route of their own).
     */
    default String eventRouteId() {
        return null;
    }

    /**
     * One event as it was parked (the dead letter's body), read again when an operator replays it through the
     * source's single-event route: to publish, or ignored. What still cannot be processed throws a
     * {@link io.interchange.reliability.PermanentFailure} with the reason, which dead-letters it again.
     * Sources whose events are replayed by a route of their own need not implement it.
     */
    default InboundEvent readOne(byte[] event, String correlationId) {
        throw new UnsupportedOperationException(system() + " events are not replayed one by one here");
    }

    /** The event type as a metric tag: a type the system would send, or {@code other} (bounded tag values). */
    String metricType(String type);
}
