package io.interchange.connectors.webhook;

import io.interchange.model.Envelope;

/**
 * One event of a webhook request, as its source read it: to be published once as a canonical event, acknowledged
 * without effect (ignored), or kept for an operator (parked). A request carries one event (Stripe) or a batch
 * (HubSpot); each event is claimed under its own idempotency key and answered on its own.
 */
public final class InboundEvent {

    /** What the source decided. */
    public enum Kind { PUBLISH, IGNORED, PARKED }

    /** How the edge answered the event. */
    public enum Answer { ACCEPTED, DUPLICATE, IN_PROGRESS, IGNORED, PARKED }

    private final Kind kind;
    private final String id;
    private final String key;
    private final String type;
    private final String reason;
    private final Envelope envelope;
    private final byte[] json;
    private final String detail;
    private Answer answer;
    private Long deadLetter;
    private String topic;

    private InboundEvent(Kind kind, String id, String key, String type, String reason, Envelope envelope, byte[] json,
                         String detail) {
        this.kind = kind;
        this.id = id;
        this.key = key;
        this.type = type;
        this.reason = reason;
        this.envelope = envelope;
        this.json = json;
        this.detail = detail;
    }

    /**
     * An event to publish once.
     *
     * @param id       the source's event id, as answered to the sender
     * @param key      the idempotency key: source system and event id
     * @param type     the source's event type
     * @param envelope the canonical event's CloudEvents attributes (its subject is the Kafka key)
     * @param json     the canonical object as JSON, the Kafka record's value
     * @param detail   what the log line of a published event adds after its id, e.g. {@code for entity DE01}
     */
    public static InboundEvent publish(String id, String key, String type, Envelope envelope, byte[] json, String detail) {
        return new InboundEvent(Kind.PUBLISH, id, key, type, null, envelope, json, detail);
    }

    /** An event without effect here, acknowledged with the reason (the sender must not retry it). */
    public static InboundEvent ignored(String id, String key, String type, String reason) {
        return new InboundEvent(Kind.IGNORED, id, key, type, reason, null, null, null);
    }

    /**
     * A genuine event this runtime cannot process yet: kept by the source for an operator, and acknowledged. The
     * dead letter keeps the request's body (a request of one event).
     */
    public static InboundEvent parked(String id, String key, String type, String reason) {
        return new InboundEvent(Kind.PARKED, id, key, type, reason, null, null, null);
    }

    /**
     * A genuine event of a batch that this runtime cannot process yet: the dead letter keeps {@code payload}, the
     * event alone (the raw JSON of its element of the batch), which its source's single-event route reads on replay.
     */
    public static InboundEvent parked(String id, String key, String type, String reason, byte[] payload) {
        return new InboundEvent(Kind.PARKED, id, key, type, reason, null, payload, null);
    }

    /**
     * Publishes this event to another topic than the route's (an edge whose system sends events of two domains, as the
     * loyalty platform's points and its customers' consent); returns the event.
     */
    public InboundEvent toTopic(String topic) {
        this.topic = topic;
        return this;
    }

    /** The topic this event goes to instead of the route's, or null. */
    public String topic() {
        return topic;
    }

    public Kind kind() {
        return kind;
    }

    public String id() {
        return id;
    }

    public String key() {
        return key;
    }

    public String type() {
        return type;
    }

    public String reason() {
        return reason;
    }

    public Envelope envelope() {
        return envelope;
    }

    /** Of an event to publish, the canonical object as JSON; of a parked event of a batch, the event's own JSON. */
    public byte[] json() {
        return json;
    }

    public String detail() {
        return detail;
    }

    public Answer answer() {
        return answer;
    }

    void answer(Answer answer) {
        this.answer = answer;
    }

    /** The dead letter a parked event is kept as, or null. */
    public Long deadLetter() {
        return deadLetter;
    }

    void deadLetter(Long id) {
        this.deadLetter = id;
    }
}
