package io.interchange.management;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.ledger.ErpBreakers;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.store.AuditTrail;
import io.interchange.store.DeadLetter;
import io.interchange.store.DeadLetterFilter;
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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.AccessController;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The operator's failed-exchange console, registered as {@code io.interchange:type=DeadLetters}: search, replay,
 * edit-and-replay and discard, one by one or in bulk by a filter ({@link DeadLetterFilter}). A replay sends the message
 * back through the route that failed it, under its original idempotency key, so it takes effect at most once however
 * often it is asked for. Every action is written to the audit trail with the JMX user; personal data is masked for
 * every caller but a user in the {@link OperatorRole#PRIVILEGED} role.
 *
 * <p>Refusals (a bad filter, a missing reason, a payload that does not parse) are answered, not thrown, like the
 * first operations here ("no dead letter #7"): jmxterm and Jolokia show a returned text as it is, and a refusal
 * changes nothing. New refusals start with {@code refused:}.
 */
@ManagedResource(description = "Dead letters: search, show, replay, edit-and-replay and discard failed exchanges, one by one or by a filter")
public class DeadLetterOperations {

    public static final String OBJECT_NAME = "io.interchange:type=DeadLetters";
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterOperations.class);
    private static final int MAX_LIST = 1000;
    /** Dead letters a bulk operation reads at a time: its memory stays bounded however many match. */
    static final int BULK_PAGE = 100;
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

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
        boolean reveal = reveal();
        return items.stream().map(d -> line(d, reveal)).collect(Collectors.joining("\n"));
    }

    @ManagedOperation(description = "Dead letters matching a filter such as 'route=billing.ledger-posting,error=PermanentFailure,"
            + "entity=DE01,customer=gc-123,from=2026-12-01T00:00:00Z,to=2026-12-02T00:00:00Z' (terms separated by commas or spaces; fields: route, "
            + "error, kind, entity, customer, from, to, status; open only unless status is given, status=any for all), "
            + "newest first, at most limit, one line each; after: 0 for the first page, else the last id of the page before")
    public String search(String filter, int limit, long after) {
        DeadLetterFilter f;
        try {
            f = DeadLetterFilter.parse(filter);
        } catch (IllegalArgumentException e) {
            return "refused: " + e.getMessage();
        }
        if (after < 0) return "refused: after must be 0 (first page) or the last id of the page before, not " + after;
        int pageSize = Math.max(1, Math.min(limit, MAX_LIST));
        List<DeadLetter> items = store.search(f, after, pageSize);
        if (items.isEmpty()) return "no dead letter matches " + f + (after > 0 ? " below #" + after : "");
        boolean reveal = reveal();
        String lines = items.stream().map(d -> line(d, reveal)).collect(Collectors.joining("\n"));
        return items.size() < pageSize ? lines
                : lines + "\n(more may match: next page with after=" + items.get(items.size() - 1).id() + ")";
    }

    @ManagedOperation(description = "Everything stored for one dead letter: route, error, attempts, headers, the original payload "
            + "and any edited payloads replayed instead (personal data masked unless the JMX user is privileged)")
    public String show(long id) {
        Optional<DeadLetter> found = store.find(id);
        if (found.isEmpty()) return "no dead letter #" + id;
        DeadLetter d = found.get();
        boolean reveal = reveal();
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
        sb.append("payload (").append(d.payload().length).append(" bytes").append(reveal ? "" : ", personal data masked")
                .append("):\n").append(new String(d.payload(), StandardCharsets.UTF_8));
        List<DeadLetterStore.Explained> explains = store.explains(id);
        if (!explains.isEmpty()) {
            sb.append("\nreconciliation differences naming it (Reconciliation differences <run> * ...):");
            for (DeadLetterStore.Explained x : explains) {
                sb.append("\n  difference #").append(x.differenceId()).append(" of run #").append(x.runId()).append(' ')
                        .append(x.legalEntity()).append(' ').append(x.from()).append(" to ").append(x.to()).append(": ")
                        .append(x.kind()).append(' ').append(x.documentKey())
                        .append(x.acknowledgedBy() == null ? "" : " (acknowledged by " + x.acknowledgedBy() + ")");
            }
        }
        for (DeadLetterStore.Edit e : store.edits(id)) {
            sb.append("\nedit #").append(e.id()).append(" by ").append(e.actor()).append(" at ").append(e.createdAt())
                    .append(" (").append(e.reason()).append("): ").append(e.outcome() == null ? "under way" : e.outcome())
                    .append("\nedited payload (").append(e.payload().length).append(" bytes):\n")
                    .append(new String(e.payload(), StandardCharsets.UTF_8));
        }
        return reveal ? sb.toString() : PersonalData.mask(sb.toString());
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
        if (blankToNull(routeId) == null) return "name a route: replayRoute <route id>";
        return replayEach(actor(), DeadLetterFilter.OPEN_ONLY.withRoute(routeId.strip()), "replay-route", "route:" + routeId,
                "route " + routeId + ": ");
    }

    @ManagedOperation(description = "Replay every open dead letter matching a filter (see search; at least one field besides "
            + "status), oldest first, in pages; dryRun=true only says how many of which routes would be replayed. "
            + "Resumable: running it again replays what is still open")
    public String replayMatching(String filter, boolean dryRun) {
        return bulk(filter, "replay", dryRun, f -> replayEach(actor(), f, "replay-matching", "filter:" + f, ""));
    }

    @ManagedOperation(description = "Discard one open dead letter for good; a reason is required and audited")
    public String discard(long id, String reason) {
        String actor = actor();
        if (reason == null || reason.isBlank()) {
            return "a reason is required to discard dead letter #" + id;
        }
        String outcome = doDiscard(id);
        audit.record(actor, "discard", "dead-letter:" + id, outcome + "; reason: " + reason);
        LOG.info("Operator {} discarded dead letter #{}: {} ({})", actor, id, outcome, reason);
        return outcome;
    }

    @ManagedOperation(description = "Discard every open dead letter matching a filter (see search; at least one field besides "
            + "status) for good, in pages; a reason is required and audited; dryRun=true only says how many of which routes")
    public String discardMatching(String filter, String reason, boolean dryRun) {
        return bulk(filter, "discard", dryRun, f -> {
            if (reason == null || reason.isBlank()) return "refused: a reason is required to discard dead letters in bulk";
            String actor = actor();
            int[] counts = eachMatching(f, d -> {
                String outcome = doDiscard(d.id());
                audit.record(actor, "discard", "dead-letter:" + d.id(), outcome + "; reason: " + reason + "; by filter " + f);
                return outcome.startsWith("discarded");
            });
            String summary = counts[0] + " open dead letter(s) matched " + f + ": " + counts[1] + " discarded, "
                    + (counts[0] - counts[1]) + " closed meanwhile by someone else";
            audit.record(actor, "discard-matching", "filter:" + f, summary + "; reason: " + reason);
            LOG.info("Operator {}: {} ({})", actor, summary, reason);
            return summary;
        });
    }

    @ManagedOperation(description = "Replay one open dead letter with a corrected payload instead of its original, under the same "
            + "idempotency key; the original is kept, and the dead letter is never replayed with it again. The payload must "
            + "parse as the original's type does (JSON); a reason is required and audited")
    public String replayEdited(long id, String payload, String reason) {
        if (reason == null || reason.isBlank()) return "refused: a reason is required to replay dead letter #" + id + " edited";
        if (payload == null || payload.isBlank()) return "refused: the edited payload of dead letter #" + id + " is empty";
        Optional<DeadLetter> found = store.find(id);
        if (found.isEmpty()) return "no dead letter #" + id;
        DeadLetter d = found.get();
        if (!DeadLetter.OPEN.equals(d.status())) return "dead letter #" + id + " is " + d.status() + "; not replayed";
        byte[] edited = payload.getBytes(StandardCharsets.UTF_8);
        String invalid = invalidEdit(d, edited);
        if (invalid != null) return "refused: " + invalid + "; dead letter #" + id + " unchanged";
        Endpoint endpoint = replayEndpoint(d);
        if (endpoint == null) return notReplayable(d);
        String actor = actor();
        Optional<Long> edit = store.claimEditedReplay(id, edited, actor, reason);
        String outcome;
        if (edit.isEmpty()) {
            outcome = "dead letter #" + id + " is " + store.find(id).map(DeadLetter::status).orElse("gone")
                    + " (replayed or discarded by someone else meanwhile); not replayed";
        } else {
            outcome = send(d, endpoint, edited, " with edit #" + edit.get());
            store.editOutcome(edit.get(), outcome);
        }
        audit.record(actor, "replay-edited", "dead-letter:" + id, outcome + "; reason: " + reason);
        LOG.info("Operator {} replayed dead letter #{} edited: {} ({})", actor, id, outcome, reason);
        return outcome;
    }

    /** Replays each open dead letter of the filter, oldest first; audits each and the summary. */
    private String replayEach(String actor, DeadLetterFilter f, String action, String target, String prefix) {
        int[] counts = eachMatching(f, d -> {
            String outcome = doReplay(d.id());
            audit.record(actor, "replay", "dead-letter:" + d.id(), outcome);
            return outcome.startsWith("replayed");
        });
        String summary = prefix + counts[0] + " open dead letter(s)" + (prefix.isEmpty() ? " matched " + f : "") + ", "
                + counts[1] + " replayed, " + (counts[0] - counts[1]) + " failed again or skipped";
        audit.record(actor, action, target, summary);
        LOG.info("Operator {}: {}", actor, summary);
        return summary;
    }

    /**
     * Runs the action on each dead letter of the filter, oldest first, a page at a time: how many it ran on and how
     * many it did (the action's true). Dead letters the action leaves open lie below the cursor, so one run meets each
     * once; a later run meets again what is still open.
     */
    private int[] eachMatching(DeadLetterFilter f, Predicate<DeadLetter> action) {
        int[] counts = new int[2];
        long after = 0;
        for (List<DeadLetter> page = store.page(f, after, BULK_PAGE); !page.isEmpty(); page = store.page(f, after, BULK_PAGE)) {
            for (DeadLetter d : page) {
                counts[0]++;
                if (action.test(d)) counts[1]++;
            }
            after = page.get(page.size() - 1).id();
        }
        return counts;
    }

    /** Parses a bulk operation's filter; a dry run says what it would touch, else the operation runs. */
    private String bulk(String filter, String what, boolean dryRun, Function<DeadLetterFilter, String> operation) {
        DeadLetterFilter f;
        try {
            f = bulkFilter(filter, what);
        } catch (IllegalArgumentException e) {
            return "refused: " + e.getMessage();
        }
        return dryRun ? dryRun(f, what + "Matching") : operation.apply(f);
    }

    private String dryRun(DeadLetterFilter f, String operation) {
        Map<String, Long> byRoute = store.countByRoute(f);
        long total = byRoute.values().stream().mapToLong(Long::longValue).sum();
        if (total == 0) return "dry run: no open dead letter matches " + f;
        return "dry run: " + total + " open dead letter(s) match " + f + ": " + byRoute.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "))
                + "; nothing changed (run " + operation + " with dryRun=false to go on)";
    }

    /** The filter of a bulk operation: it must narrow by more than status, and act on open dead letters only. */
    private static DeadLetterFilter bulkFilter(String filter, String what) {
        DeadLetterFilter f = DeadLetterFilter.parse(filter);
        if (!f.narrows()) {
            throw new IllegalArgumentException("a bulk " + what + " needs a filter naming at least one of route, error, "
                    + "kind, entity, customer, from, to (e.g. route=billing.ledger-posting); dry-run it first");
        }
        if (!DeadLetter.OPEN.equals(f.status())) {
            throw new IllegalArgumentException("a bulk " + what + " acts on open dead letters only; drop status="
                    + (f.status() == null ? "any" : f.status()));
        }
        return f;
    }

    private String doDiscard(long id) {
        if (store.find(id).isEmpty()) return "no dead letter #" + id;
        if (store.transition(id, DeadLetter.OPEN, DeadLetter.DISCARDED)) return "discarded #" + id;
        return "dead letter #" + id + " is " + store.find(id).map(DeadLetter::status).orElse("gone") + "; not discarded";
    }

    private String doReplay(long id) {
        Optional<DeadLetter> found = store.find(id);
        if (found.isEmpty()) return "no dead letter #" + id;
        DeadLetter d = found.get();
        if (!DeadLetter.OPEN.equals(d.status())) {
            return "dead letter #" + id + " is " + d.status() + "; not replayed";
        }
        Endpoint endpoint = replayEndpoint(d);
        if (endpoint == null) return notReplayable(d);
        if (!store.claimOriginalReplay(id)) {
            if (!store.edits(id).isEmpty()) {
                return "dead letter #" + id + " was replayed edited before; its original is not replayed (use replayEdited)";
            }
            return "dead letter #" + id + " is being replayed by someone else";
        }
        return send(d, endpoint, d.payload(), "");
    }

    private Endpoint replayEndpoint(DeadLetter d) {
        Route route = context.getRoute(d.routeId());
        return route == null || !(route.getEndpoint() instanceof DirectEndpoint) ? null : route.getEndpoint();
    }

    private static String notReplayable(DeadLetter d) {
        return "route " + d.routeId() + " of dead letter #" + d.id() + " cannot be replayed (not running here)";
    }

    /** Sends a claimed (REPLAYING) dead letter's headers with the payload through its route; settles its status. */
    private String send(DeadLetter d, Endpoint endpoint, byte[] payload, String how) {
        long id = d.id();
        Exchange exchange = endpoint.createExchange();
        d.headers().forEach(exchange.getMessage()::setHeader);
        exchange.getMessage().setHeader(ExchangeKeys.REPLAY_OF, id);
        exchange.getMessage().setBody(payload);
        exchange.setProperty(ExchangeKeys.CORRELATION_ID, d.correlationId());
        Exchange result;
        try {
            result = template.send(endpoint, exchange);
        } catch (RuntimeException e) {
            store.transition(id, DeadLetter.REPLAYING, DeadLetter.OPEN);
            return "replay of #" + id + how + " failed: " + e.getMessage();
        }
        if (result.getProperty(ExchangeKeys.DEAD_LETTER_ID) != null) {
            return "replay of #" + id + how + " failed again: " + store.find(id).map(DeadLetter::errorMessage).orElse("?");
        }
        if (result.getException() != null) {
            store.transition(id, DeadLetter.REPLAYING, DeadLetter.OPEN);
            return "replay of #" + id + how + " failed: " + result.getException().getMessage();
        }
        if (ErpBreakers.isHeld(result)) {
            // the ERP's circuit breaker is open: nothing was sent, the dead letter stays open
            store.transition(id, DeadLetter.REPLAYING, DeadLetter.OPEN);
            return "replay of #" + id + how + " not done: the " + result.getProperty(ErpBreakers.HELD)
                    + " circuit breaker is open; replay once it has closed";
        }
        store.transition(id, DeadLetter.REPLAYING, DeadLetter.REPLAYED);
        return "replayed #" + id + how + " through " + d.routeId();
    }

    /**
     * Why an edited payload may not replace the dead letter's original, or null. A JSON original (by its stored
     * content type, or, where no headers were kept, by its bytes) needs a JSON edit; an edit must keep the event's id,
     * which routes derive idempotency keys from, or the original and the edit could both take effect.
     */
    private static String invalidEdit(DeadLetter d, byte[] edited) {
        String type = d.headers().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase("content-type"))
                .map(Map.Entry::getValue).findFirst().orElse(null);
        JsonNode original = null;
        if (type == null || type.toLowerCase(Locale.ROOT).contains("json")) {
            try {
                original = JSON.readTree(d.payload());
            } catch (IOException e) {
                return null; // not JSON after all: nothing to hold the edit to
            }
        }
        if (original == null) return null;
        JsonNode edit;
        try {
            edit = JSON.readTree(edited);
        } catch (JsonProcessingException e) {
            return "the edited payload is not valid JSON: " + e.getOriginalMessage() + " (line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        } catch (IOException e) {
            return "the edited payload cannot be read: " + e.getMessage();
        }
        if (original.path("id").isTextual() && !original.path("id").equals(edit.path("id"))) {
            return "the edit changes the event id (" + original.path("id").asText() + " to "
                    + (edit.path("id").isMissingNode() ? "none" : edit.path("id").toString())
                    + "), which the idempotency key is derived from; keep the id";
        }
        return null;
    }

    /** One line per dead letter: what an operator scans a list for. */
    private static String line(DeadLetter d, boolean reveal) {
        String error = d.errorClass().substring(d.errorClass().lastIndexOf('.') + 1);
        String entity = DeadLetterStore.legalEntityOf(d.headers());
        String customer = DeadLetterStore.customerOf(d.headers());
        return "#" + d.id() + " " + d.createdAt() + " " + d.routeId() + " " + d.status() + " " + d.failureKind()
                + (error.isEmpty() ? "" : " " + error) + (entity == null ? "" : " entity=" + entity)
                + (customer == null ? "" : " customer=" + customer) + " attempts=" + d.attempts()
                + " cid=" + d.correlationId() + " : " + (reveal ? d.errorMessage() : PersonalData.mask(d.errorMessage()));
    }

    /** True when the JMX user calling is privileged (sees personal data unmasked, may acknowledge differences). */
    @SuppressWarnings("removal")
    static boolean reveal() {
        Subject subject = Subject.getSubject(AccessController.getContext());
        return subject != null && subject.getPrincipals().contains(OperatorRole.PRIVILEGED);
    }

    @SuppressWarnings("removal")
    static String actor() {
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
