package io.interchange.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.loyalty.LoyaltyPoints;
import io.interchange.customer.LoyaltyMemberTarget;
import io.interchange.model.CanonicalType;
import io.interchange.model.Payment;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.store.CrossReferences;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Purchases earn loyalty points (flow {@code loyalty-earning}): a canonical {@code payment.succeeded} (a paid invoice,
 * or from Stripe's basil API on each of its possibly partial payments: the money that came in, once, whatever the API
 * version) adds the points its legal entity's rule gives ({@link EarningRules}) to the customer's loyalty member, the
 * member found in the cross-reference the customer sync keeps ({@link LoyaltyMemberTarget#SYSTEM}).
 *
 * <p>Exactly once, in three layers: the event is claimed under its CloudEvents id in the store (a redelivery or a
 * replay of a done event does nothing); the add carries {@code earn:<event id>} as its {@code source_id}; and an add
 * that may already have happened (its answer lost, a redelivery after a failure, a claim taken over from a process
 * that died mid-add) is looked up by that {@code source_id} in the member's transactions before anything is sent
 * ({@link LoyaltyPoints}).
 *
 * <p>A customer without a member yet (the customer sync has not linked one) is a transient failure with that reason:
 * the route's policy waits for the link, then parks the event as a dead letter saying so, to be replayed once the
 * customer has a member. An entity without a rule, another currency or an amount below the minimum earn nothing and are
 * counted ({@code interchange_loyalty_earning_total{outcome}}).
 */
public final class LoyaltyEarning {

    public static final String METRIC = "interchange_loyalty_earning";
    public static final String POINTS_METRIC = "interchange_loyalty_points_earned";
    /** Outcome of a payment whose points were added (or found added). */
    public static final String EARNED = "earned";
    /** How far before the event's own time an earlier attempt's transaction is looked for (clock skew). */
    static final Duration SKEW = Duration.ofHours(1);
    private static final Logger LOG = LoggerFactory.getLogger(LoyaltyEarning.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EarningRules rules;
    private final CrossReferences crossReferences;
    private final LoyaltyPoints points;
    private final MeterRegistry meters;

    public LoyaltyEarning(EarningRules rules, CrossReferences crossReferences, LoyaltyPoints points, MeterRegistry meters) {
        this.rules = rules;
        this.crossReferences = crossReferences;
        this.points = points;
        this.meters = meters;
    }

    /** The idempotency key of an event's earning. */
    public static String key(String eventId) {
        return "loyalty:earn:" + eventId;
    }

    /** The {@code source_id} the points of an event are added under. */
    public static String sourceId(String eventId) {
        return "earn:" + eventId;
    }

    /** The canonical types the flow takes. */
    public static String paid() {
        return CanonicalType.PAYMENT_SUCCEEDED.ceType();
    }

    /** What one event came to: an outcome ({@link #EARNED} or why not) and the points. */
    public record Outcome(String outcome, long points, boolean alreadyAdded) {
    }

    /** A poll's claimed events one by one (no batch add exists): per record null (done) or its failure. */
    public List<RuntimeException> handle(List<Exchange> records) {
        List<RuntimeException> failures = new ArrayList<>(records.size());
        for (Exchange r : records) {
            try {
                apply(r, false);
                failures.add(null);
            } catch (RuntimeException e) {
                // the add may have reached the platform: the single route takes the claim over and looks first
                failures.add(e);
            }
        }
        return failures;
    }

    /** The single-event route's step: after a redelivery or a takeover, the add is looked up before it is sent. */
    public void process(Exchange exchange) {
        boolean mayHaveHappened = Boolean.TRUE.equals(exchange.getProperty(IdempotentStep.TAKEN_OVER))
                || exchange.getProperty(ExchangeKeys.ATTEMPTS, 1, Integer.class) > 1;
        apply(exchange, mayHaveHappened);
    }

    Outcome apply(Exchange exchange, boolean mayHaveHappened) {
        Message m = exchange.getMessage();
        String eventId = m.getHeader(CloudEventHeaders.ID, String.class);
        String legalEntity = m.getHeader(CloudEventHeaders.LEGAL_ENTITY, String.class);
        if (eventId == null || eventId.isBlank()) throw new PermanentFailure("a payment event without a CloudEvents id");
        JsonNode payment;
        try {
            payment = JSON.readTree(m.getBody(byte[].class));
        } catch (IOException | IllegalArgumentException e) {
            throw new PermanentFailure("payment event " + eventId + " is not JSON: " + e.getMessage());
        }
        if (payment == null || !payment.isObject()) throw new PermanentFailure("payment event " + eventId + " has no object");
        String globalId = payment.path("customer").path("globalId").asText(null);
        if (globalId == null) globalId = m.getHeader(CloudEventHeaders.SUBJECT, String.class);
        Outcome outcome = earn(eventId, legalEntity, globalId, payment, instant(m.getHeader(CloudEventHeaders.TIME,
                String.class)), mayHaveHappened);
        count(outcome, legalEntity);
        return outcome;
    }

    /** The earning of one paid event (see the class). */
    public Outcome earn(String eventId, String legalEntity, String globalId, JsonNode payment, Instant eventTime,
                        boolean mayHaveHappened) {
        if (!Payment.SUCCEEDED.equals(payment.path("status").asText())) {
            return new Outcome("not_succeeded", 0, false);
        }
        EarningRules.Earned earned = rules.earn(legalEntity, payment.path("currency").asText(null),
                payment.path("amountMinor").asLong(0));
        if (earned.noneBecause() != null) {
            LOG.info("Payment event {} ({} {} of {}) earns no points: {}", eventId, payment.path("amountMinor").asLong(),
                    payment.path("currency").asText(), legalEntity, earned.noneBecause());
            return new Outcome(earned.noneBecause(), 0, false);
        }
        if (globalId == null || globalId.isBlank()) {
            throw new PermanentFailure("payment event " + eventId + " names no customer");
        }
        Optional<String> member = crossReferences.recordOf(globalId, LoyaltyMemberTarget.SYSTEM, "");
        if (member.isEmpty()) {
            throw new TransientFailure("customer " + globalId + " has no loyalty member yet (no " + LoyaltyMemberTarget.SYSTEM
                    + " link: the customer sync has not made one); " + earned.points() + " points of " + eventId
                    + " wait for it");
        }
        String reason = "invoice " + payment.path("invoiceNumber").asText(payment.path("invoiceId").asText("?"))
                + " paid";
        Instant notBefore = eventTime == null ? null : eventTime.minus(SKEW);
        LoyaltyPoints.Added added = points.add(member.get(), earned.points(), sourceId(eventId), reason, mayHaveHappened,
                notBefore);
        LOG.info("Payment event {}: {} points {} member {} of {}", eventId, earned.points(),
                added.found() ? "were already on" : "added to", member.get(), globalId);
        return new Outcome(EARNED, earned.points(), added.found());
    }

    private void count(Outcome outcome, String legalEntity) {
        if (meters == null) return;
        String entity = legalEntity == null ? "none" : legalEntity;
        Counter.builder(METRIC).description("paid events of the loyalty-earning flow by outcome")
                .tag("outcome", outcome.outcome()).tag("legal_entity", entity).register(meters).increment();
        if (EARNED.equals(outcome.outcome()) && !outcome.alreadyAdded()) {
            Counter.builder(POINTS_METRIC).description("loyalty points added by the loyalty-earning flow")
                    .tag("legal_entity", entity).register(meters).increment(outcome.points());
        }
    }

    private static Instant instant(String s) {
        if (s == null) return null;
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
