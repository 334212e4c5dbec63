package io.interchange.connectors.webhook;

import io.interchange.connectors.http.HttpAnswers;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.management.PersonalData;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.IdempotencyStore;
import io.micrometer.core.instrument.Tags;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.support.DefaultMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The steps of the signed-webhook edge every inbound system shares (the route is {@code WebhookRoute}): verify with
 * the source's {@link SignatureVerifier}, read the body into {@link InboundEvent}s with the source, park what the
 * source parks, claim every event to publish under its idempotency key (one group commit), publish the new ones to
 * Kafka as CloudEvents, mark their keys done, and answer; no thread waits for the store or Kafka
 * meanwhile (see {@link WebhookEdgeEndpoint}).
 *
 * <p>The answers: a request of one event gets that event's outcome ({@code accepted}, {@code ignored}, {@code parked},
 * {@code duplicate}; {@code 409 in-progress} with {@code Retry-After} while another delivery holds its key). A batch
 * gets one answer listing each event's outcome: 200 when every event is published, acknowledged or a duplicate of one
 * done, 409 with {@code Retry-After} while another delivery holds one of them (what this request could publish is
 * published and done, so the retry finds it a duplicate). What the sender got wrong is refused before any effect (4xx
 * with a reason); a store or Kafka outage is answered 503 by {@link io.interchange.connectors.http.WebhookAnswers}
 * after the keys are released.
 */
public final class WebhookEdge {

    /** Exchange property holding the request's {@link InboundEvent}s. */
    public static final String EVENTS = "InterchangeInboundEvents";
    /** Exchange property: the events published by this request, in the order of {@link IdempotentStep#KEYS}. */
    private static final String PUBLISHING = "InterchangeInboundPublishing";
    /** Exchange property: the events acknowledged without being published (ignored, parked), counted one by one. */
    public static final String ACKNOWLEDGED = "InterchangeInboundAcknowledged";
    /** Seconds a sender waits before retrying an event another delivery holds. */
    static final String IN_PROGRESS_RETRY_AFTER = "5";

    private static final Logger LOG = LoggerFactory.getLogger(WebhookEdge.class);
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,100}");

    private final WebhookSource source;
    private final IdempotencyStore idempotency;

    public WebhookEdge(WebhookSource source, IdempotencyStore idempotency) {
        this.source = source;
        this.idempotency = idempotency;
    }

    public WebhookSource source() {
        return source;
    }

    /** Verifies the signature and reads the events; everything the sender got wrong is a 4xx before any effect. */
    public void receive(Exchange exchange) {
        Message in = exchange.getMessage();
        String given = in.getHeader(ExchangeKeys.CORRELATION_HEADER, String.class);
        String correlationId = given != null && SAFE_ID.matcher(given).matches() ? given : UUID.randomUUID().toString();
        exchange.setProperty(ExchangeKeys.CORRELATION_ID, correlationId);
        MDC.put(ExchangeKeys.CORRELATION_ID, correlationId);
        checkContentType(in.getHeader(Exchange.CONTENT_TYPE, String.class), source.contentType());
        byte[] body = in.getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw new WebhookRejection(400, "empty body: expected " + source.expected());
        }
        source.verifier().verify(SignedRequest.of(in, body));
        List<InboundEvent> events = source.read(body, correlationId);
        exchange.setProperty(EVENTS, events);
        if (events.size() == 1) exchange.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, events.get(0).key());
        // one claim per key: an event repeated within a batch is a duplicate of its first occurrence
        List<String> keys = new ArrayList<>();
        List<InboundEvent> publishing = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (InboundEvent e : events) {
            if (e.kind() != InboundEvent.Kind.PUBLISH) continue;
            if (seen.add(e.key())) {
                keys.add(e.key());
                publishing.add(e);
            } else {
                e.answer(InboundEvent.Answer.DUPLICATE);
            }
        }
        exchange.setProperty(IdempotentStep.KEYS, keys);
        exchange.setProperty(PUBLISHING, publishing);
    }

    public static boolean hasParked(Exchange exchange) {
        return events(exchange).stream().anyMatch(e -> e.kind() == InboundEvent.Kind.PARKED);
    }

    /**
     * Keeps each parked event with its source (a dead letter an operator replays once the cause is fixed) and
     * acknowledges it: a refusal would have the sender retry and then drop it. An event parked before is not parked
     * twice, and one processed since is a duplicate.
     */
    public void park(Exchange exchange) {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        String correlationId = exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class);
        for (InboundEvent e : events(exchange)) {
            if (e.kind() != InboundEvent.Kind.PARKED) continue;
            Long deadLetter = source.park(e, body, correlationId);
            if (deadLetter == null) {
                e.answer(InboundEvent.Answer.DUPLICATE);
            } else {
                e.deadLetter(deadLetter);
                e.answer(InboundEvent.Answer.PARKED);
            }
        }
    }

    /**
     * The single-event route's reading: the body is one event as it was parked, replayed by an operator. One to
     * publish carries its idempotency key on; one without effect is logged and goes no further.
     */
    public void readOne(Exchange exchange) {
        String correlationId = exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class);
        if (correlationId == null) {
            correlationId = UUID.randomUUID().toString();
            exchange.setProperty(ExchangeKeys.CORRELATION_ID, correlationId);
        }
        MDC.put(ExchangeKeys.CORRELATION_ID, correlationId);
        byte[] body = exchange.getMessage().getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw new PermanentFailure("empty body: expected " + source.expected());
        }
        InboundEvent event = source.readOne(body, correlationId);
        exchange.setProperty(EVENTS, List.of(event));
        if (event.kind() == InboundEvent.Kind.PUBLISH) {
            exchange.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, event.key());
        } else {
            LOG.info("{} {} ({}) acknowledged without effect: {}", source.label(), event.id(), event.type(),
                    PersonalData.mask(event.reason()));
        }
    }

    /** True when the single-event route's event is to be published. */
    public static boolean isToPublish(Exchange exchange) {
        List<InboundEvent> events = events(exchange);
        return events.size() == 1 && events.get(0).kind() == InboundEvent.Kind.PUBLISH;
    }

    /** The single-event route's Kafka record: CloudEvents binary headers, key = the subject. */
    public void toRecord(Exchange exchange) {
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        write(events(exchange).get(0), m);
    }

    /** True when some event of the request was claimed here and is to be published. */
    public static boolean hasToPublish(Exchange exchange) {
        List<IdempotencyStore.DuplicateState> states = states(exchange);
        for (IdempotencyStore.DuplicateState s : states) if (s == null) return true;
        return false;
    }

    /**
     * Replaces the HTTP message with the canonical Kafka records of the events claimed here: CloudEvents binary
     * headers, key = the subject (the customer). One event is the message itself; several are a list the producer
     * sends as one batch, each record with its own headers.
     */
    public void toRecords(Exchange exchange) {
        List<InboundEvent> publishing = publishing(exchange);
        List<IdempotencyStore.DuplicateState> states = states(exchange);
        List<InboundEvent> claimed = new ArrayList<>();
        for (int i = 0; i < publishing.size(); i++) if (states.get(i) == null) claimed.add(publishing.get(i));
        toRecords(exchange, claimed);
    }

    /**
     * The events as the message the Kafka producer sends: one record (CloudEvents headers, the subject as key, the
     * canonical JSON as value), or a list of such messages sent as one batch.
     */
    public static void toRecords(Exchange exchange, List<InboundEvent> events) {
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        if (events.size() == 1) {
            write(events.get(0), m);
            return;
        }
        List<Message> records = new ArrayList<>(events.size());
        for (InboundEvent e : events) {
            Message record = new DefaultMessage(exchange.getContext());
            write(e, record);
            records.add(record);
        }
        m.setBody(records);
    }

    private static void write(InboundEvent e, Message m) {
        CloudEventHeaders.write(e.envelope(), m);
        m.setHeader(KafkaConstants.KEY, e.envelope().subject());
        if (e.topic() != null) m.setHeader(KafkaConstants.OVERRIDE_TOPIC, e.topic());
        m.setBody(e.json());
    }

    /**
     * Answers, once the keys of the published events are marked done ({@link IdempotentStep#confirmingHolders}, a step
     * before this one).
     */
    public void answer(Exchange exchange) {
        ExchangeKeys.mdc(exchange);
        List<InboundEvent> events = events(exchange);
        List<InboundEvent> publishing = publishing(exchange);
        List<IdempotencyStore.DuplicateState> states = states(exchange);
        boolean published = false;
        for (int i = 0; i < publishing.size(); i++) {
            IdempotencyStore.DuplicateState state = states.get(i);
            InboundEvent e = publishing.get(i);
            if (state == null) {
                e.answer(InboundEvent.Answer.ACCEPTED);
                published = true;
            } else if (state == IdempotencyStore.DuplicateState.IN_PROGRESS) {
                e.answer(InboundEvent.Answer.IN_PROGRESS);
            } else {
                e.answer(InboundEvent.Answer.DUPLICATE);
            }
        }
        if (published && !IdempotentStep.confirmed(exchange)) {
            LOG.warn("{}(s) published, but their keys could not be marked done (store unavailable): a redelivery after "
                    + "the keys' lease runs out publishes them again, and consumers take each event id once", source.label());
        }
        List<InboundEvent> acknowledged = new ArrayList<>();
        for (InboundEvent e : events) {
            switch (e.kind()) {
                case IGNORED -> {
                    e.answer(InboundEvent.Answer.IGNORED);
                    acknowledged.add(e);
                    LOG.debug("{} {} of type {} acknowledged without effect", source.label(), e.key(), e.type());
                }
                case PARKED -> {
                    if (e.answer() == InboundEvent.Answer.PARKED) acknowledged.add(e);
                }
                case PUBLISH -> log(e);
            }
        }
        exchange.setProperty(ACKNOWLEDGED, acknowledged);
        if (source.batch()) {
            answerBatch(exchange, events);
        } else {
            answerOne(exchange, events.get(0));
        }
    }

    private void log(InboundEvent e) {
        switch (e.answer()) {
            // one line per accepted event (received, duplicate and refused ones have their own)
            case ACCEPTED -> LOG.info("{} {} {} published as {}", source.label(), e.id(), e.detail(), e.envelope().type());
            case IN_PROGRESS -> LOG.info("{} {} is being processed by another delivery; asking the sender to retry",
                    source.label(), e.id());
            default -> LOG.info("{} {} already processed; acknowledged without effect", source.label(), e.id());
        }
    }

    private void answerOne(Exchange exchange, InboundEvent e) {
        Map<String, String> id = Map.of("id", e.id());
        switch (e.answer()) {
            case ACCEPTED -> HttpAnswers.json(exchange, 200, "accepted", null, id);
            case DUPLICATE -> HttpAnswers.json(exchange, 200, "duplicate", null, id);
            case IGNORED -> HttpAnswers.json(exchange, 200, "ignored", e.reason(), id);
            case PARKED -> HttpAnswers.json(exchange, 200, "parked", e.reason(),
                    Map.of("id", e.id(), "deadLetter", String.valueOf(e.deadLetter())));
            case IN_PROGRESS -> {
                HttpAnswers.json(exchange, 409, "in-progress", "this event is being processed by another delivery; "
                        + "retry later", id);
                exchange.getMessage().setHeader("Retry-After", IN_PROGRESS_RETRY_AFTER);
            }
        }
    }

    private void answerBatch(Exchange exchange, List<InboundEvent> events) {
        List<Map<String, Object>> outcomes = new ArrayList<>(events.size());
        int inProgress = 0;
        for (InboundEvent e : events) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("id", e.id());
            o.put("status", e.answer().name().toLowerCase().replace('_', '-'));
            if (e.reason() != null) o.put("reason", e.reason());
            if (e.deadLetter() != null) o.put("deadLetter", String.valueOf(e.deadLetter()));
            outcomes.add(o);
            if (e.answer() == InboundEvent.Answer.IN_PROGRESS) inProgress++;
        }
        if (inProgress > 0) {
            HttpAnswers.answer(exchange, 409, "in-progress", inProgress + " of the " + events.size() + " events are "
                    + "being processed by another delivery; retry later (the others are done)", Map.of("events", outcomes));
            exchange.getMessage().setHeader("Retry-After", IN_PROGRESS_RETRY_AFTER);
        } else {
            HttpAnswers.answer(exchange, 200, "accepted", null, Map.of("events", outcomes));
        }
    }

    /** Sets the metric tags of the acknowledged event at the loop's index (the route counts each one). */
    public void acknowledgedTags(Exchange exchange) {
        @SuppressWarnings("unchecked")
        List<InboundEvent> acknowledged = exchange.getProperty(ACKNOWLEDGED, List.class);
        int index = exchange.getProperty(Exchange.LOOP_INDEX, 0, Integer.class);
        InboundEvent e = acknowledged.get(index);
        exchange.getMessage().setHeader(MicrometerConstants.HEADER_METRIC_TAGS, Tags.of("outcome",
                e.answer() == InboundEvent.Answer.PARKED ? "parked" : "ignored", "type", source.metricType(e.type())));
    }

    /** How many events the request acknowledged without publishing them (the route's metric loop runs that often). */
    public static int acknowledgedCount(Exchange exchange) {
        List<?> acknowledged = exchange.getProperty(ACKNOWLEDGED, List.class);
        return acknowledged == null ? 0 : acknowledged.size();
    }

    @SuppressWarnings("unchecked")
    private static List<InboundEvent> events(Exchange exchange) {
        List<InboundEvent> events = exchange.getProperty(EVENTS, List.class);
        return events == null ? List.of() : events;
    }

    @SuppressWarnings("unchecked")
    private static List<InboundEvent> publishing(Exchange exchange) {
        List<InboundEvent> events = exchange.getProperty(PUBLISHING, List.class);
        return events == null ? List.of() : events;
    }

    @SuppressWarnings("unchecked")
    private static List<IdempotencyStore.DuplicateState> states(Exchange exchange) {
        List<IdempotencyStore.DuplicateState> states = exchange.getProperty(IdempotentStep.STATES, List.class);
        return states == null ? List.of() : states;
    }

    /**
     * 415 unless the body is declared as the source's media type ({@link WebhookSource#contentType}) in UTF-8: for
     * JSON its default charset; for XML (SOAP 1.1's text/xml) a charset other than UTF-8 is refused too, as the
     * edge reads nothing else.
     */
    public static void checkContentType(String contentType, String expected) {
        String[] parts = contentType == null ? new String[]{""} : contentType.split(";");
        boolean ok = parts[0].strip().equalsIgnoreCase(expected);
        for (int i = 1; ok && i < parts.length; i++) {
            String p = parts[i].strip();
            if (p.regionMatches(true, 0, "charset=", 0, 8)) {
                ok = p.substring(8).replace("\"", "").strip().equalsIgnoreCase("utf-8");
            }
        }
        if (!ok) {
            throw new WebhookRejection(415, "Content-Type must be " + expected + " (UTF-8), got "
                    + (contentType == null ? "none" : "'" + (contentType.length() > 80 ? contentType.substring(0, 80) + "…" : contentType) + "'"));
        }
    }
}
