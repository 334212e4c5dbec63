package io.interchange.customer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.IdentityRules;
import io.interchange.mapping.IdentityRules.Decision;
import io.interchange.mapping.MappingEngine;
import io.interchange.model.Customer;
import io.interchange.model.CustomerChange;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CrossReferences;
import io.interchange.store.CustomerFields;
import io.interchange.store.EchoLedger;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * The customer master sync, one CRM change at a time: which customer the record is (identity rules; an ambiguous one
 * fails permanently, so it is parked for an operator, never merged by guess), which of its fields the change may set
 * (the ownership table; a non-owner's change is refused, counted and audited), then every target brought in line
 * (billing customer, the ERP business partner of the customer's legal entity, loyalty member: each created once and
 * linked, updated when a field it takes changed), and the targets' ids written back to the customer's CRM records.
 *
 * <p>Echoes end here: Salesforce's own are dropped at the connector by {@code changeOrigin}; a value of another CRM's
 * change that is the value this runtime last wrote to that record's field (the echo ledger) is not applied; and a
 * write-back whose values the CRM holds already is not sent, so one edit makes one write per target, then silence.
 *
 * <p>Every step is safe to repeat: a retry or a replay after a failure half-way applies nothing twice (the fields are
 * recorded already; the targets' records are found through the cross-reference or their creation keys) and still
 * sends what the failed attempt did not: the fields this change set are those recorded from it (its system and
 * source time), whether this attempt or an earlier one recorded them.
 */
public final class CustomerSync {

    private static final Logger LOG = LoggerFactory.getLogger(CustomerSync.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Counter of changes by outcome ({@code interchange_customer_sync_changes_total{system,outcome}}). */
    // in two parts, as ErpBreakers writes its metric names: ConfigReferenceTest takes a whole literal for a setting key
    public static final String CHANGES_METRIC = "interchange" + ".customer.sync.changes";
    /** Counter of target actions ({@code interchange_customer_sync_target_actions_total{target,action}}). */
    public static final String TARGET_METRIC = "interchange" + ".customer.sync.target.actions";
    /** Systems whose change events say who made the change (Salesforce's changeOrigin): their echoes never get here. */
    private static final Set<String> ORIGIN_TAGGED = Set.of("salesforce");
    /** The canonical fields identity rules read. */
    private static final List<String> IDENTITY_FIELDS = List.of("email", "taxId", "phone");
    /** Changes that carry no field values; acknowledged and counted (deletions and merges are an operator's call). */
    private static final Set<String> NOT_SYNCED = Set.of("deleted", "privacy-deleted", "merged", "restored");

    /** What became of one change. */
    public enum Outcome {
        /** fields applied (or none) and every target brought in line */
        SYNCED,
        /** the runtime's own write coming back */
        ECHO,
        /**
         * a change of a linked record that sets no customer field (properties no field maps: the runtime's own ids
         * written back, HubSpot's own properties): nothing to apply, no target touched
         */
        NO_FIELDS,
        /** a record without an identity key from a system whose records wait for one */
        WAITING_FOR_KEY,
        /** not customer master data (an object type not in mappings/customer/sources.csv) */
        NOT_A_CUSTOMER,
        /** a deletion, restore or merge: recorded in the log and the metric, not synchronised */
        NOT_SYNCED
    }

    /** The outcome, the customer, the fields this change set and what each target did. */
    public record Result(Outcome outcome, String globalId, Set<String> changed, Map<String, CustomerTarget.Action> actions) {
    }

    private final MappingEngine mappings;
    private final CustomerSources sources;
    private final IdentityRules rules;
    private final CustomerIdentities identities;
    private final CrossReferences crossReferences;
    private final FieldOwnership ownership;
    private final CustomerFields fields;
    private final EchoLedger echoes;
    private final List<CustomerTarget> targets;
    private final CrmWriteBack writeBack;
    private final MeterRegistry meters;

    /**
     * @param writeBack writes the targets' ids back to the customer's CRM records
     */
    public CustomerSync(MappingEngine mappings, CustomerSources sources, IdentityRules rules,
                        CustomerIdentities identities, CrossReferences crossReferences, FieldOwnership ownership,
                        CustomerFields fields, EchoLedger echoes, List<CustomerTarget> targets,
                        CrmWriteBack writeBack, MeterRegistry meters) {
        this.mappings = mappings;
        this.sources = sources;
        this.rules = rules;
        this.identities = identities;
        this.crossReferences = crossReferences;
        this.ownership = ownership;
        this.fields = fields;
        this.echoes = echoes;
        this.targets = List.copyOf(targets);
        this.writeBack = writeBack;
        this.meters = meters;
    }

    /** The route's step: the message body is a canonical {@link CustomerChange}. */
    public void apply(Exchange exchange) {
        ExchangeKeys.mdc(exchange);
        CustomerChange change;
        try {
            change = JSON.readValue(exchange.getMessage().getBody(byte[].class), CustomerChange.class);
        } catch (IOException e) {
            throw new PermanentFailure("not a canonical customer change: " + e.getMessage());
        }
        Result result = sync(change, exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class));
        exchange.getMessage().setHeader("InterchangeCustomerSync", result.outcome().name());
        if (result.globalId() != null) exchange.getMessage().setHeader("InterchangeGlobalCustomerId", result.globalId());
    }

    public Result sync(CustomerChange change, String correlationId) {
        Prepared p = prepare(change, correlationId);
        if (p.early() != null) return counted(p.system(), p.early());
        CustomerTarget.Request request = request(p.globalId(), p.changed());
        Map<String, CustomerTarget.Action> actions = new LinkedHashMap<>();
        for (CustomerTarget target : targets) actions.put(target.name(), counted(target, target.sync(request)));
        writeBack.write(p.globalId());
        LOG.info("Customer {} from {} {} {}: set {}; targets {}", p.globalId(), p.system(), change.objectType(),
                change.objectId(), p.changed(), actions);
        return counted(p.system(), new Result(Outcome.SYNCED, p.globalId(), p.changed(), actions));
    }

    /** One change of a batch, with its correlation id. */
    public record Item(CustomerChange change, String correlationId) {
    }

    /** What became of one change of a batch: its result, or the failure that stopped it (to be retried alone). */
    public record ItemOutcome(Result result, RuntimeException failure) {
        public boolean failed() {
            return failure != null;
        }
    }

    /**
     * A batch of changes, with the targets' requests batched as they allow. The changes are identified and their
     * fields applied one after another, in the order given (a record's changes keep their order); then each customer
     * of the batch is brought in line once, with every field its changes set, target by target: requests to
     * different customers in parallel ({@code parallel}), or in one bulk request where the target takes one (S/4HANA's
     * partner replication); then the ids are written back, 200 records a Salesforce request, 100 a HubSpot one.
     *
     * <p>A failure stops only the changes it concerns: a change that could not be identified or applied, or every
     * change of a customer a target or the write-back failed for. Those are answered with their failure, for the
     * caller to run them again one by one under the route's retry and dead-letter policy; every step is safe to
     * repeat, so what this attempt did is found done.
     */
    public List<ItemOutcome> syncAll(List<Item> items, Executor parallel) {
        ItemOutcome[] outcomes = new ItemOutcome[items.size()];
        Prepared[] prepared = new Prepared[items.size()];
        Map<String, Set<String>> changedByCustomer = new LinkedHashMap<>();
        for (int i = 0; i < items.size(); i++) {
            try {
                prepared[i] = prepare(items.get(i).change(), items.get(i).correlationId());
            } catch (RuntimeException e) {
                outcomes[i] = new ItemOutcome(null, e);
                continue;
            }
            if (prepared[i].early() != null) {
                outcomes[i] = new ItemOutcome(counted(prepared[i].system(), prepared[i].early()), null);
            } else {
                changedByCustomer.computeIfAbsent(prepared[i].globalId(), g -> new LinkedHashSet<>())
                        .addAll(prepared[i].changed());
            }
        }
        Map<String, RuntimeException> failed = new LinkedHashMap<>();
        List<CustomerTarget.Request> requests = new ArrayList<>();
        for (Map.Entry<String, Set<String>> c : changedByCustomer.entrySet()) {
            try {
                requests.add(request(c.getKey(), c.getValue()));
            } catch (RuntimeException e) {
                failed.put(c.getKey(), e);
            }
        }
        Map<String, Map<String, CustomerTarget.Action>> actions = new LinkedHashMap<>();
        for (CustomerTarget target : targets) {
            List<CustomerTarget.Request> open = requests.stream()
                    .filter(r -> !failed.containsKey(r.customer().globalId())).toList();
            if (open.isEmpty()) break;
            Map<String, Object> answers = target.syncAll(open, parallel);
            answers.forEach((globalId, answer) -> {
                if (answer instanceof RuntimeException e) {
                    failed.putIfAbsent(globalId, e);
                } else {
                    actions.computeIfAbsent(globalId, g -> new LinkedHashMap<>())
                            .put(target.name(), counted(target, (CustomerTarget.Action) answer));
                }
            });
        }
        List<String> written = changedByCustomer.keySet().stream().filter(g -> !failed.containsKey(g)).toList();
        writeBack.writeAll(written).forEach(failed::putIfAbsent);
        for (int i = 0; i < items.size(); i++) {
            if (outcomes[i] != null) continue;
            Prepared p = prepared[i];
            RuntimeException failure = failed.get(p.globalId());
            outcomes[i] = failure != null ? new ItemOutcome(null, failure)
                    : new ItemOutcome(counted(p.system(), new Result(Outcome.SYNCED, p.globalId(), p.changed(),
                    actions.getOrDefault(p.globalId(), Map.of()))), null);
        }
        if (!changedByCustomer.isEmpty()) {
            LOG.info("Customer batch of {} change(s): {} customer(s) brought in line, {} failed (retried one by one)",
                    items.size(), changedByCustomer.size() - failed.size(), failed.size());
        }
        return Arrays.asList(outcomes);
    }

    /** The idempotency key of a change: its CloudEvents id (the batch and the single-change route use the same). */
    public static String key(String cloudEventId) {
        return "customer:sync:" + cloudEventId;
    }

    /**
     * The claimed records of a poll ({@link io.interchange.connectors.kafka.ClaimedBatches}): each read as a canonical
     * change (one that does not read fails alone) and synchronised together ({@link #syncAll}); answers, per record,
     * null or its failure.
     */
    public List<RuntimeException> handle(List<Exchange> records, Executor parallel) {
        RuntimeException[] failures = new RuntimeException[records.size()];
        List<Item> items = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            Exchange r = records.get(i);
            try {
                items.add(new Item(JSON.readValue(r.getMessage().getBody(byte[].class), CustomerChange.class),
                        r.getMessage().getHeader(io.interchange.connectors.kafka.CloudEventHeaders.CORRELATION_ID,
                                String.class)));
                at.add(i);
            } catch (IOException | RuntimeException e) {
                failures[i] = new PermanentFailure("not a canonical customer change: " + e.getMessage());
            }
        }
        List<ItemOutcome> outcomes = items.isEmpty() ? List.of() : syncAll(items, parallel);
        for (int k = 0; k < outcomes.size(); k++) failures[at.get(k)] = outcomes.get(k).failure();
        return Arrays.asList(failures);
    }

    /** Phase one of a change: its customer and the fields it set, or the outcome that ends it there. */
    private record Prepared(String system, Result early, String globalId, Set<String> changed) {
    }

    /** Identifies the change's customer and applies its fields (the store only: no target is called). */
    private Prepared prepare(CustomerChange change, String correlationId) {
        if (change.customer() == null || change.customer().system() == null || change.objectId() == null) {
            throw new PermanentFailure("a customer change without its system or record id cannot be synchronised");
        }
        String system = change.customer().system();
        Optional<CustomerSources.Source> source = sources.customers(system, change.objectType());
        if (source.isEmpty()) return early(system, Outcome.NOT_A_CUSTOMER, null);
        if (NOT_SYNCED.contains(change.change())) {
            LOG.info("{} {} {} was {}: not synchronised to the targets (an operator decides)", system,
                    change.objectType(), change.objectId(), change.change());
            return early(system, Outcome.NOT_SYNCED, crossReferences.resolve(system, scope(change), change.objectId())
                    .orElse(null));
        }
        Instant time = sourceTime(change);
        JsonNode mapped = mappings.get(system + "/customer-fields").apply(JSON.valueToTree(change),
                system + " " + change.objectType() + " " + change.objectId());
        Map<String, String> values = values(system, change, mapped, time);
        if (values.isEmpty() && (mapped.path("fields").size() > 0 || mapped.path("cleared").size() > 0)) {
            return early(system, Outcome.ECHO, null);
        }

        String scope = scope(change);
        Optional<String> linked = crossReferences.resolve(system, scope, change.objectId());
        if (values.isEmpty() && linked.isPresent()) return early(system, Outcome.NO_FIELDS, linked.get());
        Map<String, String> identity = new LinkedHashMap<>();
        for (String f : IDENTITY_FIELDS) if (values.get(f) != null && !values.get(f).isEmpty()) identity.put(f, values.get(f));
        String globalId;
        if (linked.isPresent() && identity.isEmpty()) {
            globalId = linked.get();
        } else {
            IdentityRules.Record record = new IdentityRules.Record(system, scope, change.objectId(), identity);
            if (linked.isEmpty() && rules.keys(record).isEmpty() && !source.get().newWithoutKey()) {
                return early(system, Outcome.WAITING_FOR_KEY, null);
            }
            Decision decision = identities.identify(record);
            if (decision.outcome() == IdentityRules.Outcome.AMBIGUOUS) {
                // an operator decides which customer it is (or that it is a new one); replayed after that, it syncs
                throw new PermanentFailure("ambiguous customer: " + system + " " + change.objectType() + " "
                        + change.objectId() + " may be any of " + decision.candidates() + " (" + decision.reason()
                        + "); link it to one of them, or resolve the duplicate in the CRM, then replay");
            }
            globalId = decision.globalId();
        }

        Set<String> changed = new LinkedHashSet<>();
        for (Map.Entry<String, String> v : values.entrySet()) {
            FieldOwnership.Verdict verdict = ownership.apply(new FieldOwnership.Change(globalId, system, v.getKey(),
                    v.getValue(), time, correlationId));
            // applied now, or by an earlier attempt at this same change (its system and source time recorded)
            if (verdict.applied() || verdict.outcome() == FieldOwnership.Outcome.UNCHANGED && verdict.before()
                    .filter(r -> r.system().equals(system) && r.sourceTime().equals(time)).isPresent()) {
                changed.add(v.getKey());
            }
        }
        return new Prepared(system, null, globalId, Set.copyOf(changed));
    }

    private static Prepared early(String system, Outcome outcome, String globalId) {
        return new Prepared(system, new Result(outcome, globalId, Set.of(), Map.of()), globalId, Set.of());
    }

    /** What the targets are brought in line with: the customer as recorded now. */
    private CustomerTarget.Request request(String globalId, Set<String> changed) {
        Map<String, String> recorded = recorded(globalId);
        return new CustomerTarget.Request(customer(globalId, recorded), blankToNull(recorded.get("legalEntity")),
                Set.copyOf(changed));
    }

    private CustomerTarget.Action counted(CustomerTarget target, CustomerTarget.Action action) {
        Counter.builder(TARGET_METRIC).description("customer sync actions per target")
                .tag("target", target.name()).tag("action", action.name()).register(meters).increment();
        return action;
    }

    /**
     * The change's canonical field values as text (an address as JSON, laid over the recorded address when the change
     * carries only parts of it; a cleared field as ''), without the runtime's own writes coming back.
     */
    private Map<String, String> values(String system, CustomerChange change, JsonNode mapped, Instant time) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = mapped.path("fields").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            out.put(f.getKey(), f.getValue().isObject() ? object(change, f.getKey(), (ObjectNode) f.getValue())
                    : f.getValue().asText());
        }
        for (JsonNode cleared : mapped.path("cleared")) out.put(cleared.asText(), "");
        if (!ORIGIN_TAGGED.contains(system)) {
            out.entrySet().removeIf(v -> echoes.isEcho(system, change.objectId(), v.getKey(), v.getValue(), time));
        }
        return out;
    }

    /** An object field (an address): a change event's parts laid over the recorded value of the record's customer. */
    private String object(CustomerChange change, String field, ObjectNode parts) {
        if ("updated".equals(change.change()) && "event".equals(change.origin())) {
            Optional<String> globalId = crossReferences.resolve(change.customer().system(), scope(change), change.objectId());
            Optional<CustomerFields.Recorded> before = globalId.flatMap(g -> fields.find(g, field));
            if (before.isPresent() && !before.get().value().isEmpty()) {
                try {
                    ObjectNode merged = (ObjectNode) JSON.readTree(before.get().value());
                    merged.setAll(parts);
                    return canonical(merged);
                } catch (IOException | ClassCastException e) {
                    LOG.warn("Recorded {} of customer {} is not a JSON object; replaced by the change's parts", field,
                            globalId.get());
                }
            }
        }
        return canonical(parts);
    }

    /** Compact JSON with the address's members in the canonical model's order, so equal addresses are equal text. */
    private static String canonical(ObjectNode address) {
        ObjectNode ordered = JSON.createObjectNode();
        for (String member : List.of("street", "houseNumber", "postalCode", "city", "region", "country")) {
            JsonNode v = address.get(member);
            if (v != null && !v.isNull()) ordered.set(member, v);
        }
        address.fields().forEachRemaining(e -> {
            if (!ordered.has(e.getKey()) && !e.getValue().isNull()) ordered.set(e.getKey(), e.getValue());
        });
        return ordered.toString();
    }

    private Map<String, String> recorded(String globalId) {
        Map<String, String> out = new LinkedHashMap<>();
        for (CustomerFields.Recorded r : fields.of(globalId)) out.put(r.field(), r.value());
        return out;
    }

    /** The canonical customer as recorded: every field as the system that owns it last set it. */
    static Customer customer(String globalId, Map<String, String> recorded) {
        Customer.PostalAddress address = null;
        String a = blankToNull(recorded.get("billingAddress"));
        if (a != null) {
            try {
                address = JSON.readValue(a, Customer.PostalAddress.class);
            } catch (IOException e) {
                throw new PermanentFailure("the recorded billing address of customer " + globalId + " is not an address: "
                        + e.getMessage());
            }
        }
        String company = blankToNull(recorded.get("companyName"));
        return new Customer(globalId, company != null ? "organisation" : "person", blankToNull(recorded.get("firstName")),
                blankToNull(recorded.get("lastName")), company, blankToNull(recorded.get("email")),
                blankToNull(recorded.get("phone")), address, blankToNull(recorded.get("taxId")),
                blankToNull(recorded.get("preferredLanguage")));
    }

    private static Instant sourceTime(CustomerChange change) {
        try {
            return Instant.parse(change.occurredAt());
        } catch (DateTimeParseException | NullPointerException e) {
            throw new PermanentFailure("customer change of " + change.customer().system() + " record " + change.objectId()
                    + " has no readable occurredAt: " + change.occurredAt());
        }
    }

    /**
     * A CRM record's scope in the cross-reference: its account (org, portal) and object type, so that a customer may
     * have one company and one contact record in the same CRM, and the write-back knows which type it writes.
     */
    static String scope(CustomerChange change) {
        return (change.account() == null ? "" : change.account()) + "/" + change.objectType();
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private Result counted(String system, Result result) {
        Counter.builder(CHANGES_METRIC).description("customer changes by outcome of the customer sync")
                .tag("system", system).tag("outcome", result.outcome().name().toLowerCase(java.util.Locale.ROOT))
                .register(meters).increment();
        return result;
    }
}
