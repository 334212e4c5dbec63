package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.http.HttpAnswers;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/** The billing platform's inbound edge: verifies, translates and answers Stripe-format webhooks. */
public final class BillingWebhook {

    /** Exchange property holding the {@link BillingEventTranslator.Translated} event. */
    public static final String TRANSLATED = "InterchangeBillingEvent";

    private static final Logger LOG = LoggerFactory.getLogger(BillingWebhook.class);
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,100}");

    private final StripeSignatureVerifier verifier;
    private final BillingEventTranslator translator;

    public BillingWebhook(StripeSignatureVerifier verifier, BillingEventTranslator translator) {
        this.verifier = verifier;
        this.translator = translator;
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
        var translated = translator.translate(event, correlationId);
        exchange.setProperty(TRANSLATED, translated);
        exchange.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, ingestKey(translated.sourceEventId()));
        LOG.debug("Billing event {} ({}) for entity {} received", translated.sourceEventId(),
                event.path("type").asText(), translated.envelope().legalEntity());
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
