package io.interchange.customer;

import io.interchange.model.Customer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A system the customer master is written to (billing, the ERP of the customer's legal entity, loyalty): its record
 * of the customer is created once, through the cross-reference's create-and-link, and updated when a field it takes
 * changed. Every call is safe to repeat: a retry, a replay or a second instance finds the record created and linked
 * (or creates it under the same creation key, which the target's own idempotency answers with the first record).
 */
public interface CustomerTarget {

    /** The target's name in logs, metrics and the cross-reference (e.g. {@code billing}). */
    String name();

    /** Brings the target in line with the customer; returns what was done, for the log and the metrics. */
    Action sync(Request request);

    /**
     * Brings the target in line with several customers (one request each): by default each on its own, in parallel
     * on {@code parallel} (the target's throttled route keeps its rate limit). Answers, per global id, the
     * {@link Action} or the {@link RuntimeException} that customer's request failed with; a failure of one customer
     * leaves the others done. Targets that take several customers in one request override it.
     */
    default Map<String, Object> syncAll(List<Request> requests, Executor parallel) {
        Map<String, CompletableFuture<Object>> running = new LinkedHashMap<>();
        for (Request r : requests) {
            running.put(r.customer().globalId(), CompletableFuture.supplyAsync(() -> {
                try {
                    return sync(r);
                } catch (RuntimeException e) {
                    return e;
                }
            }, parallel));
        }
        Map<String, Object> answers = new LinkedHashMap<>();
        running.forEach((globalId, answer) -> answers.put(globalId, answer.join()));
        return answers;
    }

    /**
     * What a target is brought in line with.
     *
     * @param customer    the customer as recorded now
     * @param legalEntity the customer's legal entity (an id of the legal-entity table), null while none is known
     * @param changed     the canonical fields this change set (empty: none; the customer may still lack its record)
     */
    record Request(Customer customer, String legalEntity, Set<String> changed) {
        public boolean touchesMaster() {
            return changed.stream().anyMatch(MASTER_FIELDS::contains);
        }
    }

    /** What a sync did in the target. */
    enum Action {
        /** the record was created (and linked) */
        CREATED,
        /** the record was sent again with the changed fields */
        UPDATED,
        /** a creation was sent; its link waits for the target's asynchronous confirmation */
        REQUESTED,
        /** nothing the target takes changed */
        UNCHANGED,
        /** the customer does not belong in the target (yet): e.g. no legal entity for an ERP */
        NOT_APPLICABLE,
        /** the customer lacks what the target requires (e.g. a name for an ERP): sent once a change brings it */
        WAITING
    }

    /** The customer master fields targets take: a change of another field (lifecycle stage, consent) writes nothing. */
    Set<String> MASTER_FIELDS = Set.of("firstName", "lastName", "companyName", "email", "phone", "billingAddress",
            "taxId", "preferredLanguage");
}
