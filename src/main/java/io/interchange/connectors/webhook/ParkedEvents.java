package io.interchange.connectors.webhook;

import io.interchange.management.PersonalData;
import io.interchange.reliability.FailureClassifier;
import io.interchange.store.DeadLetter;
import io.interchange.store.DeadLetterStore;
import io.interchange.store.IdempotencyStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Where a source's parked events are kept: an open dead letter of the source's single-event route, holding the event
 * (the request's body, or the event's own JSON when it came in a batch) and the reason, replayed through that route
 * once the cause is fixed. An event parked before is not parked twice (its open dead letter is found by key); one
 * processed since is a duplicate.
 */
public final class ParkedEvents {

    private static final Logger LOG = LoggerFactory.getLogger(ParkedEvents.class);

    private final IdempotencyStore idempotency;
    private final DeadLetterStore deadLetters;
    private final String routeId;
    private final String label;
    private final String failureClass;

    /**
     * @param routeId      the single-event route the dead letters are replayed through
     * @param label        how log lines name an event, e.g. {@code Billing event}
     * @param failureClass the exception class recorded as the dead letters' failure
     */
    public ParkedEvents(IdempotencyStore idempotency, DeadLetterStore deadLetters, String routeId, String label,
                        Class<? extends Exception> failureClass) {
        this.idempotency = idempotency;
        this.deadLetters = deadLetters;
        this.routeId = routeId;
        this.label = label;
        this.failureClass = failureClass.getName();
    }

    /** The dead letter's id, or null when the event has been processed already (a duplicate). */
    public Long park(InboundEvent event, byte[] body, String correlationId) {
        String key = event.key();
        if ("DONE".equals(idempotency.state(key))) {
            LOG.info("{} {} already processed; acknowledged without effect", label, event.id());
            return null;
        }
        byte[] kept = event.json() != null ? event.json() : body;
        return deadLetters.findOpen(routeId, key).map(DeadLetter::id).orElseGet(() -> {
            long added = deadLetters.add(routeId, correlationId, key, FailureClassifier.PERMANENT, failureClass,
                    event.reason(), 1, Map.of(), kept);
            LOG.warn("{} {} parked as dead letter #{} (replay it through {} once the cause is fixed): {}", label,
                    event.id(), added, routeId, PersonalData.mask(event.reason()));
            return added;
        });
    }
}
