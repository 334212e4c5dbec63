package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.http.HttpAnswers;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.management.PersonalData;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.DeadLetter;
import io.interchange.store.DeadLetterStore;
import io.interchange.store.IdempotencyStore;
import io.micrometer.core.instrument.Tags;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The billing platform's inbound edge: verifies, translates and answers Stripe-format webhooks. What the sender got
 * wrong is refused (4xx); a genuine event of a type without effect is acknowledged ("ignored"); a genuine event this
 * runtime cannot process yet is acknowledged and parked as a dead letter of {@link #EVENT_ROUTE_ID}, through which an
 * operator replays it once the cause is fixed ("parked"); every other event is published once ("accepted").
 */
public final class BillingWebhook {

    /** Exchange property holding the {@link BillingEventTranslator.Translated} event. */
    public static final String TRANSLATED = "InterchangeBillingEvent";
    /** Exchange property set when the event's type has no effect. */
    public static final String IGNORED = "InterchangeBillingEventIgnored";
    /** Exchange property holding the event's type (a metric tag of ignored and parked events). */
    private static final String EVENT_TYPE = "InterchangeBillingEventType";
    /** Exchange property holding the reason a genuine event is parked. */
    public static final String PARKED = "InterchangeBillingEventParked";
    /** The single-event route: translates one Stripe event and publishes it once; parked events are replayed through it. */
    public static final String EVENT_ROUTE = "direct:billing.stripe-event";
    public static final String EVENT_ROUTE_ID = "billing.stripe-event";

    private static final Logger LOG = LoggerFactory.getLogger(BillingWebhook.class);
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,100}");

    private final StripeSignatureVerifier verifier;
    private final BillingEventTranslator translator;
    private final IdempotencyStore idempotency;
    private final DeadLetterStore deadLetters;

    public BillingWebhook(StripeSignatureVerifier verifier, BillingEventTranslator translator, IdempotencyStore idempotency,
                          DeadLetterStore deadLetters) {
        this.verifier = verifier;
        this.translator = translator;
        this.idempotency = idempotency;
        this.deadLetters = deadLetters;
    }

    /** The idempotency key of an inbound billing event. */
    public static String ingestKey(String eventId) {
        return "billing:stripe:" + eventId;
    }

    /** Verifies the signature, parses and translates; everything the sender got wrong is a 4xx before any effect. */
    public void receive(Exchange exchange) {
        Message in = exchange.getMessage();
        String given = in.getHeader(ExchangeKeys.CORRELATION_HEADER, String.class);
        String correlationId = given != null && SAFE_ID.matcher(given).matches() ? given : UUID.randomUUID().toString();
        exchange.setProperty(ExchangeKeys.CORRELATION_ID, correlationId);
        MDC.put(ExchangeKeys.CORRELATION_ID, correlationId);
        checkContentType(in.getHeader(Exchange.CONTENT_TYPE, String.class));
        byte[] body = in.getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw new WebhookRejection(400, "empty body: expected a Stripe event as JSON");
        }
        verifier.verify(in.getHeader(StripeSignatureVerifier.HEADER, String.class), body);
        JsonNode event = translator.parse(body);
        String id = event.path("id").asText();
        exchange.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, ingestKey(id));
        exchange.setProperty(EVENT_TYPE, event.path("type").asText());
        if (translator.ignored(event)) {
            exchange.setProperty(IGNORED, true);
            return;
        }
        try {
            var translated = translator.translate(event, correlationId);
            exchange.setProperty(TRANSLATED, translated);
            LOG.debug("Billing event {} ({}) for entity {} received", id, event.path("type").asText(),
                    translated.envelope().legalEntity());
        } catch (ParkedEvent e) {
            exchange.setProperty(PARKED, e.getMessage());
        }
    }

    public static boolean isIgnored(Exchange exchange) {
        return exchange.getProperty(IGNORED) != null;
    }

    public static boolean isParked(Exchange exchange) {
        return exchange.getProperty(PARKED) != null;
    }

    /** Acknowledges an event of a type without effect (the sender must not retry it, and nothing is to be done). */
    public void ignored(Exchange exchange) {
        String type = exchange.getProperty(EVENT_TYPE, String.class);
        String key = exchange.getProperty(ExchangeKeys.IDEMPOTENCY_KEY, String.class);
        LOG.debug("Billing event {} of type {} acknowledged without effect", key, type);
        HttpAnswers.json(exchange, 200, "ignored", "event type " + type + " has no effect here (mappings/stripe/events.csv)",
                Map.of("id", eventId(key)));
        exchange.getMessage().setHeader(MicrometerConstants.HEADER_METRIC_TAGS, Tags.of("outcome", "ignored", "type", metricType(exchange)));
    }

    /**
     * Keeps a genuine event this runtime cannot process as an open dead letter of {@link #EVENT_ROUTE_ID} with its
     * original body and the reason, and acknowledges it: a refusal would have the sender retry and then drop it. An
     * event parked before (or published since) is not parked twice.
     */
    public void park(Exchange exchange) {
        String reason = exchange.getProperty(PARKED, String.class);
        String key = exchange.getProperty(ExchangeKeys.IDEMPOTENCY_KEY, String.class);
        String id = eventId(key);
        if ("DONE".equals(idempotency.state(key))) {
            LOG.info("Billing event {} already processed; acknowledged without effect", id);
            HttpAnswers.json(exchange, 200, "duplicate", null, Map.of("id", id));
            return;
        }
        byte[] body = exchange.getMessage().getBody(byte[].class);
        String correlationId = exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class);
        long deadLetter = deadLetters.findOpen(EVENT_ROUTE_ID, key).map(DeadLetter::id).orElseGet(() -> {
            long added = deadLetters.add(EVENT_ROUTE_ID, correlationId, key, FailureClassifier.PERMANENT,
                    ParkedEvent.class.getName(), reason, 1, Map.of(), body);
            LOG.warn("Billing event {} parked as dead letter #{} (replay it through {} once the cause is fixed): {}", id,
                    added, EVENT_ROUTE_ID, PersonalData.mask(reason));
            return added;
        });
        HttpAnswers.json(exchange, 200, "parked", reason, Map.of("id", id, "deadLetter", String.valueOf(deadLetter)));
        exchange.getMessage().setHeader(MicrometerConstants.HEADER_METRIC_TAGS,
                Tags.of("outcome", "parked", "type", metricType(exchange)));
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

    /** The event type as a metric tag: a type Stripe would send, or "other" (a tag per invented type would grow forever). */
    private static String metricType(Exchange exchange) {
        String type = exchange.getProperty(EVENT_TYPE, String.class);
        return type != null && type.length() <= 60 && type.matches("[a-z_]+(\\.[a-z_]+){1,3}") ? type : "other";
    }

    private static String eventId(String key) {
        return key.substring(ingestKey("").length());
    }

    /** 415 unless the body is declared as JSON in UTF-8 (the default charset of application/json). */
    static void checkContentType(String contentType) {
        String[] parts = contentType == null ? new String[]{""} : contentType.split(";");
        boolean json = parts[0].strip().equalsIgnoreCase("application/json");
        for (int i = 1; json && i < parts.length; i++) {
            String p = parts[i].strip();
            if (p.regionMatches(true, 0, "charset=", 0, 8)) {
                json = p.substring(8).replace("\"", "").strip().equalsIgnoreCase("utf-8");
            }
        }
        if (!json) {
            throw new WebhookRejection(415, "Content-Type must be application/json (UTF-8), got "
                    + (contentType == null ? "none" : "'" + (contentType.length() > 80 ? contentType.substring(0, 80) + "…" : contentType) + "'"));
        }
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

    public void accepted(Exchange exchange) {
        ExchangeKeys.mdc(exchange);
        var t = exchange.getProperty(TRANSLATED, BillingEventTranslator.Translated.class);
        if (!IdempotentStep.confirmNow(exchange)) {
            LOG.warn("Billing event {} published, but its key could not be marked done (store unavailable): a "
                    + "redelivery after the key's lease runs out publishes it again, and the ledger posts it once",
                    t.sourceEventId());
        }
        // one line per accepted event (received, duplicate and refused ones have their own)
        LOG.info("Billing event {} for entity {} published as {}", t.sourceEventId(), t.envelope().legalEntity(),
                t.envelope().type());
        HttpAnswers.json(exchange, 200, "accepted", null, Map.of("id", t.sourceEventId()));
    }

    /** A duplicate: 200 if the first delivery completed, 409 (retry later) while it is still in progress. */
    public void duplicate(Exchange exchange) {
        var t = exchange.getProperty(TRANSLATED, BillingEventTranslator.Translated.class);
        var state = exchange.getProperty(IdempotencyStore.DUPLICATE_STATE, IdempotencyStore.DuplicateState.class);
        if (state == IdempotencyStore.DuplicateState.IN_PROGRESS) {
            LOG.info("Billing event {} is being processed by another delivery; asking the sender to retry", t.sourceEventId());
            HttpAnswers.json(exchange, 409, "in-progress", "this event is being processed by another delivery; retry later",
                    Map.of("id", t.sourceEventId()));
            exchange.getMessage().setHeader("Retry-After", "5");
        } else {
            LOG.info("Billing event {} already processed; acknowledged without effect", t.sourceEventId());
            HttpAnswers.json(exchange, 200, "duplicate", null, Map.of("id", t.sourceEventId()));
        }
    }
}
