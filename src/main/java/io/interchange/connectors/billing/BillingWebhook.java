package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.webhook.InboundEvent;
import io.interchange.connectors.webhook.ParkedEvents;
import io.interchange.connectors.webhook.SignatureVerifier;
import io.interchange.connectors.webhook.WebhookSource;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.DeadLetterStore;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.List;
import java.util.UUID;

/**
 * The billing platform's inbound edge, as a source of the webhook edge ({@link WebhookSource}): Stripe-format webhooks
 * at {@value #PATH}, verified by {@link StripeSignatureVerifier}, one event per request. What the sender got wrong is
 * refused (4xx); a genuine event of a type without effect is acknowledged ("ignored"); a genuine event this runtime
 * cannot process yet is acknowledged and parked as a dead letter of {@link #EVENT_ROUTE_ID}, through which an operator
 * replays it once the cause is fixed ("parked"); every other event is published once ("accepted").
 */
public final class BillingWebhook implements WebhookSource {

    public static final String ROUTE_ID = "billing.webhook-ingest";
    public static final String PATH = "/webhooks/billing";
    /** Counter of events acknowledged without being published, tagged by outcome (ignored, parked) and event type. */
    public static final String ACKNOWLEDGED_METRIC = "micrometer:counter:interchange.billing.events.acknowledged";
    /** Exchange property holding the {@link BillingEventTranslator.Translated} event (single-event route). */
    public static final String TRANSLATED = "InterchangeBillingEvent";
    /** The single-event route: translates one Stripe event and publishes it once; parked events are replayed through it. */
    public static final String EVENT_ROUTE = "direct:billing.stripe-event";
    public static final String EVENT_ROUTE_ID = "billing.stripe-event";

    private static final Logger LOG = LoggerFactory.getLogger(BillingWebhook.class);

    private final StripeSignatureVerifier verifier;
    private final BillingEventTranslator translator;
    private final ParkedEvents parked;

    public BillingWebhook(StripeSignatureVerifier verifier, BillingEventTranslator translator, IdempotencyStore idempotency,
                          DeadLetterStore deadLetters) {
        this.verifier = verifier;
        this.translator = translator;
        this.parked = new ParkedEvents(idempotency, deadLetters, EVENT_ROUTE_ID, "Billing event", ParkedEvent.class);
    }

    /** The idempotency key of an inbound billing event. */
    public static String ingestKey(String eventId) {
        return "billing:stripe:" + eventId;
    }

    @Override
    public String system() {
        return "stripe";
    }

    @Override
    public String routeId() {
        return ROUTE_ID;
    }

    @Override
    public String path() {
        return PATH;
    }

    @Override
    public String steps() {
        return "billing";
    }

    @Override
    public String publishStep() {
        return "kafka.publish-billing-event";
    }

    @Override
    public String acknowledgedMetric() {
        return ACKNOWLEDGED_METRIC;
    }

    @Override
    public String expected() {
        return "a Stripe event as JSON";
    }

    @Override
    public String label() {
        return "Billing event";
    }

    @Override
    public boolean batch() {
        return false;
    }

    @Override
    public SignatureVerifier verifier() {
        return verifier;
    }

    /** Parses and translates one Stripe event (the signature is verified); refusals are 4xx before any effect. */
    @Override
    public List<InboundEvent> read(byte[] body, String correlationId) {
        JsonNode event = translator.parse(body);
        String id = event.path("id").asText();
        String type = event.path("type").asText();
        String key = ingestKey(id);
        if (translator.ignored(event)) {
            return List.of(InboundEvent.ignored(id, key, type,
                    "event type " + type + " has no effect here (mappings/stripe/events.csv)"));
        }
        try {
            var t = translator.translate(event, correlationId);
            LOG.debug("Billing event {} ({}) for entity {} received", id, type, t.envelope().legalEntity());
            return List.of(InboundEvent.publish(id, key, type, t.envelope(), t.json(),
                    "for entity " + t.envelope().legalEntity()));
        } catch (ParkedEvent e) {
            return List.of(InboundEvent.parked(id, key, type, e.getMessage()));
        }
    }

    /**
     * Keeps a genuine event this runtime cannot process as an open dead letter of {@link #EVENT_ROUTE_ID} with its
     * original body and the reason. An event parked before is not parked twice; one published since is a duplicate.
     */
    @Override
    public Long park(InboundEvent event, byte[] body, String correlationId) {
        return parked.park(event, body, correlationId);
    }

    /** The event type as a metric tag: a type Stripe would send, or "other" (a tag per invented type would grow forever). */
    @Override
    public String metricType(String type) {
        return type != null && type.length() <= 60 && type.matches("[a-z_]+(\\.[a-z_]+){1,3}") ? type : "other";
    }

    /**
     * The single-event route's translation step: the body is one Stripe event (a parked event replayed, or a stream
     * record the batch could not take). An event of a type without effect is marked done; one that still cannot be
     * processed fails as a {@link ParkedEvent}, which the route's policy dead-letters with its reason.
     */
    public void translateOne(Exchange exchange) {
        Message in = exchange.getMessage();
        String correlationId = exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class);
        if (correlationId == null) {
            correlationId = UUID.randomUUID().toString();
            exchange.setProperty(ExchangeKeys.CORRELATION_ID, correlationId);
        }
        MDC.put(ExchangeKeys.CORRELATION_ID, correlationId);
        exchange.setProperty(ExchangeKeys.ATTEMPTS, exchange.getProperty(ExchangeKeys.ATTEMPTS, 1, Integer.class));
        byte[] body = in.getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw new PermanentFailure("empty record: expected a Stripe event as JSON");
        }
        JsonNode event = translator.parse(body);
        exchange.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, ingestKey(event.path("id").asText()));
        if (translator.ignored(event)) {
            exchange.setProperty(IdempotentStep.ALREADY_DONE, true);
            return;
        }
        exchange.setProperty(TRANSLATED, translator.translate(event, correlationId));
    }

    /** Replaces the HTTP message with the canonical Kafka record: CloudEvents binary headers, key = customer. */
    public void toRecord(Exchange exchange) {
        var t = exchange.getProperty(TRANSLATED, BillingEventTranslator.Translated.class);
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        CloudEventHeaders.write(t.envelope(), m);
        m.setHeader(KafkaConstants.KEY, t.envelope().subject());
        m.setBody(t.json());
    }
}
