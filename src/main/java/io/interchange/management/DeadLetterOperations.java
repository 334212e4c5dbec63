package io.interchange.management;

import io.interchange.ledger.ErpBreakers;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.store.AuditTrail;
import io.interchange.store.DeadLetter;
import io.interchange.store.DeadLetterStore;
import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.Route;
import org.apache.camel.api.management.ManagedOperation;
import org.apache.camel.api.management.ManagedResource;
import org.apache.camel.component.direct.DirectEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.remote.JMXPrincipal;
import javax.security.auth.Subject;
import java.nio.charset.StandardCharsets;
import java.security.AccessController;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The operator's view of dead letters, registered as {@code io.interchange:type=DeadLetters}. A replay sends the
 * original message back through the route that failed it, under its original idempotency key, so a replay posts at
 * most once however often it is asked for. Every action is written to the audit trail with the JMX user.
 */
@ManagedResource(description = "Dead letters: count, list, show, replay and discard failed exchanges")
public class DeadLetterOperations {

    public static final String OBJECT_NAME = "io.interchange:type=DeadLetters";
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterOperations.class);
    private static final int MAX_LIST = 1000;

    private final CamelContext context;
    private final DeadLetterStore store;
    private final AuditTrail audit;
    private final ProducerTemplate template;

    public DeadLetterOperations(CamelContext context, DeadLetterStore store, AuditTrail audit) {
        this.context = context;
        this.store = store;
        this.audit = audit;
        this.template = context.createProducerTemplate();
    }

    @ManagedOperation(description = "Number of open dead letters over all routes")
    public long count() {
        return store.count(null, DeadLetter.OPEN);
    }

    @ManagedOperation(description = "Number of open dead letters of one route")
    public long countByRoute(String routeId) {
        return store.count(blankToNull(routeId), DeadLetter.OPEN);
    }

    @ManagedOperation(description = "Open dead letters of a route ('*' or empty for all routes), newest first, at most limit; one line each")
    public String list(String routeId, int limit) {
        List<DeadLetter> items = store.list(blankToNull(routeId), DeadLetter.OPEN, Math.max(1, Math.min(limit, MAX_LIST)));
        if (items.isEmpty()) return "no open dead letters" + (blankToNull(routeId) == null ? "" : " on route " + routeId);
        return items.stream().map(d -> "#" + d.id() + " " + d.createdAt() + " " + d.routeId() + " " + d.failureKind()
                        + " attempts=" + d.attempts() + " cid=" + d.correlationId() + " : " + PersonalData.mask(d.errorMessage()))
                .collect(Collectors.joining("\n"));
    }

    @ManagedOperation(description = "Everything stored for one dead letter: route, error, attempts, headers and the original payload (personal data masked)")
    public String show(long id) {
        Optional<DeadLetter> found = store.find(id);
        if (found.isEmpty()) return "no dead letter #" + id;
        DeadLetter d = found.get();
        StringBuilder sb = new StringBuilder();
        sb.append("dead letter #").append(d.id()).append('\n')
                .append("status:         ").append(d.status()).append('\n')
                .append("route:          ").append(d.routeId()).append('\n')
                .append("failure:        ").append(d.failureKind()).append(' ').append(d.errorClass()).append('\n')
                .append("reason:         ").append(d.errorMessage()).append('\n')
                .append("attempts:       ").append(d.attempts()).append('\n')
                .append("correlation id: ").append(d.correlationId()).append('\n')
                .append("idempotency:    ").append(d.idempotencyKey()).append('\n')
                .append("created:        ").append(d.createdAt()).append('\n')
                .append("updated:        ").append(d.updatedAt()).append('\n')
                .append("headers:\n");
        d.headers().forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append('\n'));
        sb.append("payload (").append(d.payload().length).append(" bytes, personal data masked):\n")
                .append(new String(d.payload(), StandardCharsets.UTF_8));
        return PersonalData.mask(sb.toString());
    }

    @ManagedOperation(description = "Replay one open dead letter through its original route and idempotency key")
    public String replay(long id) {
        String actor = actor();
        String outcome = doReplay(id);
        audit.record(actor, "replay", "dead-letter:" + id, outcome);
        LOG.info("Operator {} replayed dead letter #{}: {}", actor, id, outcome);
        return outcome;
    }

    @ManagedOperation(description = "Replay every open dead letter of a route, oldest first")
    public String replayRoute(String routeId) {
        String actor = actor();
        if (blankToNull(routeId) == null) return "name a route: replayRoute <route id>";
        List<DeadLetter> open = store.list(routeId, DeadLetter.OPEN, Integer.MAX_VALUE);
        int ok = 0;
        int failed = 0;
        for (int i = open.size() - 1; i >= 0; i--) {
            String outcome = doReplay(open.get(i).id());
            audit.record(actor, "replay", "dead-letter:" + open.get(i).id(), outcome);
            if (outcome.startsWith("replayed")) ok++;
            else failed++;
        }
        String summary = "route " + routeId + ": " + open.size() + " open dead letter(s), " + ok + " replayed, "
                + failed + " failed again or skipped";
        audit.record(actor, "replay-route", "route:" + routeId, summary);
        LOG.info("Operator {}: {}", actor, summary);
        return summary;
    }

    @ManagedOperation(description = "Discard one open dead letter for good; a reason is required and audited")
    public String discard(long id, String reason) {
        String actor = actor();
        if (reason == null || reason.isBlank()) {
            return "a reason is required to discard dead letter #" + id;
        }
        Optional<DeadLetter> found = store.find(id);
        String outcome;
        if (found.isEmpty()) {
            outcome = "no dead letter #" + id;
        } else if (store.transition(id, DeadLetter.OPEN, DeadLetter.DISCARDED)) {
            outcome = "discarded #" + id;
        } else {
            outcome = "dead letter #" + id + " is " + store.find(id).map(DeadLetter::status).orElse("gone") + "; not discarded";
        }
        audit.record(actor, "discard", "dead-letter:" + id, outcome + "; reason: " + reason);
        LOG.info("Operator {} discarded dead letter #{}: {} ({})", actor, id, outcome, reason);
        return outcome;
    }

    private String doReplay(long id) {
        Optional<DeadLetter> found = store.find(id);
        if (found.isEmpty()) return "no dead letter #" + id;
        DeadLetter d = found.get();
        if (!DeadLetter.OPEN.equals(d.status())) {
            return "dead letter #" + id + " is " + d.status() + "; not replayed";
        }
        Route route = context.getRoute(d.routeId());
        if (route == null || !(route.getEndpoint() instanceof DirectEndpoint)) {
            return "route " + d.routeId() + " of dead letter #" + id + " cannot be replayed (not running here)";
        }
        if (!store.transition(id, DeadLetter.OPEN, DeadLetter.REPLAYING)) {
            return "dead letter #" + id + " is being replayed by someone else";
        }
        Endpoint endpoint = route.getEndpoint();
        Exchange exchange = endpoint.createExchange();
        d.headers().forEach(exchange.getMessage()::setHeader);
        exchange.getMessage().setHeader(ExchangeKeys.REPLAY_OF, id);
        exchange.getMessage().setBody(d.payload());
        exchange.setProperty(ExchangeKeys.CORRELATION_ID, d.correlationId());
        Exchange result;
        try {
            result = template.send(endpoint, exchange);
        } catch (RuntimeException e) {
            store.transition(id, DeadLetter.REPLAYING, DeadLetter.OPEN);
            return "replay of #" + id + " failed: " + e.getMessage();
        }
        if (result.getProperty(ExchangeKeys.DEAD_LETTER_ID) != null) {
            return "replay of #" + id + " failed again: " + store.find(id).map(DeadLetter::errorMessage).orElse("?");
        }
        if (result.getException() != null) {
            store.transition(id, DeadLetter.REPLAYING, DeadLetter.OPEN);
            return "replay of #" + id + " failed: " + result.getException().getMessage();
        }
        if (ErpBreakers.isHeld(result)) {
            // the ERP's circuit breaker is open: nothing was sent, the dead letter stays open
            store.transition(id, DeadLetter.REPLAYING, DeadLetter.OPEN);
            return "replay of #" + id + " not done: the " + result.getProperty(ErpBreakers.HELD)
                    + " circuit breaker is open; replay once it has closed";
        }
        store.transition(id, DeadLetter.REPLAYING, DeadLetter.REPLAYED);
        return "replayed #" + id + " through " + d.routeId();
    }

    @SuppressWarnings("removal")
    private static String actor() {
        // The JMX connector runs each operation as the authenticated Subject.
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject != null) {
            for (JMXPrincipal p : subject.getPrincipals(JMXPrincipal.class)) {
                return "jmx:" + p.getName();
            }
        }
        return "jmx:local";
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() || s.equals("*") ? null : s.strip();
    }
}
