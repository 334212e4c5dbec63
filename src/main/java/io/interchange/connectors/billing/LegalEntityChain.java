package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.mapping.CsvTable;
import io.interchange.mapping.MappingSource;
import io.interchange.store.BillingReferences;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a Stripe event's legal entity and global customer id by the rules of {@code mappings/stripe/legal-entity-chain.csv},
 * in order: fields of the event (invoice metadata, the subscription's metadata snapshot), what was recorded of a
 * related object (the invoice an InvoicePayment pays, the payment a refund returns), the Connect account. Stripe copies metadata to almost no related object, so one field is rarely enough. The rule that
 * decided is kept on the canonical event; an event no rule resolves is parked with the rules tried.
 */
final class LegalEntityChain {

    static final String FILE = "stripe/legal-entity-chain.csv";
    static final String ACCOUNTS_FILE = "stripe/connect-accounts.csv";
    static final String REFERENCE = "reference";
    static final String CONNECT_ACCOUNT = "connect-account";
    static final String CUSTOMER_METADATA = "customer-metadata";

    /** What the chain found: the entity, the rule that named it, the global customer id, and the related object's record. */
    record Resolution(String legalEntity, String rule, String globalCustomerId, BillingReferences.Reference related) {
    }

    private record Rule(String name, String source, String[] path) {
    }

    private final List<Rule> rules = new ArrayList<>();
    private final Map<String, String> accounts = new HashMap<>();
    private final BillingReferences references;
    private final StripeApi api;

    LegalEntityChain(MappingSource source, BillingReferences references, StripeApi api) {
        this.references = references;
        this.api = api;
        for (CsvTable.Row row : CsvTable.read(source, FILE, "rule", "source")) {
            String src = row.get("source");
            if (!src.equals(REFERENCE) && !src.equals(CONNECT_ACCOUNT) && !src.equals(CUSTOMER_METADATA)
                    && !src.startsWith("object.")) {
                throw new IllegalArgumentException("mappings/" + FILE + " line " + row.line() + ": source '" + src
                        + "' is neither a field of the event (object.…), " + REFERENCE + ", " + CUSTOMER_METADATA
                        + " nor " + CONNECT_ACCOUNT);
            }
            rules.add(new Rule(row.get("rule"), src, src.split("\\.")));
        }
        for (CsvTable.Row row : CsvTable.read(source, ACCOUNTS_FILE, "account", "legal_entity")) {
            accounts.put(row.get("account"), row.get("legal_entity"));
        }
    }

    /**
     * Resolves the entity of an intermediate event (see stripe/normalise-*); parks the event when no rule does.
     * {@code apiVersion} is the version the billing API renders objects in when a rule reads it.
     */
    Resolution resolve(String eventId, JsonNode event, String apiVersion) {
        return resolve(eventId, event, apiVersion, null);
    }

    /**
     * As {@link #resolve(String, JsonNode, String)}, with the records of objects looked up by {@code lookup} (null: in
     * the store, one query each) instead.
     */
    Resolution resolve(String eventId, JsonNode event, String apiVersion,
                       java.util.function.Function<String, java.util.Optional<BillingReferences.Reference>> lookup) {
        JsonNode object = event.path("object");
        BillingReferences.Reference related = related(object, lookup);
        JsonNode customer = null;
        for (Rule rule : rules) {
            String entity = switch (rule.source) {
                case REFERENCE -> related == null ? null : related.legalEntity();
                case CONNECT_ACCOUNT -> accounts.get(event.path("account").asText(""));
                case CUSTOMER_METADATA -> {
                    customer = customer(object, apiVersion);
                    yield customer == null ? null : textOrNull(customer.path("metadata").path("legal_entity"));
                }
                default -> text(event, rule.path);
            };
            if (entity == null || entity.isBlank()) continue;
            if (entity.length() > BillingEventTranslator.MAX_LEGAL_ENTITY_LENGTH || CanonicalChecks.hasControl(entity)) {
                throw new ParkedEvent("event " + eventId + ": legal entity '" + BillingEventTranslator.printable(
                        entity.length() > 60 ? entity.substring(0, 60) + "…" : entity) + "' found by rule " + rule.name
                        + " is not a legal entity: at most " + BillingEventTranslator.MAX_LEGAL_ENTITY_LENGTH
                        + " characters, no control characters");
            }
            String globalId = globalCustomerId(object, related);
            if (rule.source.equals(CUSTOMER_METADATA) && customer != null
                    && textOrNull(customer.path("metadata").path("global_customer_id")) != null
                    && globalId.startsWith("billing:")) {
                globalId = customer.path("metadata").path("global_customer_id").asText();
            }
            return new Resolution(entity, rule.name, globalId, related);
        }
        throw new ParkedEvent("event " + eventId + ": no legal entity found; tried " + String.join(", ",
                rules.stream().map(r -> r.name).toList()) + " (mappings/" + FILE + "). Add legal_entity to the "
                + "metadata of the " + object.path("kind").asText("object") + " or its subscription, then replay");
    }

    /**
     * What was recorded of the object itself or the object it belongs to: an invoice (published before), the invoice an
     * InvoicePayment pays or a credit note credits, the payment (charge, then PaymentIntent) a refund returns or a
     * dispute contests.
     */
    private BillingReferences.Reference related(JsonNode object,
            java.util.function.Function<String, java.util.Optional<BillingReferences.Reference>> lookup) {
        if (references == null) return null;
        String[] ids = switch (object.path("kind").asText()) {
            case "invoice" -> new String[]{object.path("id").asText(null)};
            case "invoice_payment", "credit_note" -> new String[]{object.path("invoice").asText(null)};
            case "refund", "dispute" -> new String[]{object.path("charge").asText(null), object.path("paymentIntent").asText(null)};
            default -> new String[0];
        };
        for (String id : ids) {
            var found = lookup == null ? references.find(id) : lookup.apply(id);
            if (found.isPresent()) return found.get();
        }
        return null;
    }

    /** Metadata of the object, then of its subscription, then the related object's record, then the billing customer. */
    private static String globalCustomerId(JsonNode object, BillingReferences.Reference related) {
        for (JsonNode candidate : new JsonNode[]{object.path("metadata").path("global_customer_id"),
                object.path("subscriptionMetadata").path("global_customer_id")}) {
            if (candidate.isTextual() && !candidate.asText().isBlank()) return candidate.asText();
        }
        if (related != null) return related.globalCustomerId();
        String customer = object.path("customer").asText("");
        return customer.isBlank() ? "billing:guest" : "billing:" + customer;
    }

    /** The object's billing customer as the API has it, or null without a customer, an API or a customer there. */
    private JsonNode customer(JsonNode object, String apiVersion) {
        String id = object.path("customer").asText("");
        if (id.isBlank() || api == null || !api.enabled()) return null;
        try {
            return api.customer(id, apiVersion);
        } catch (ParkedEvent e) {
            throw e;
        } catch (io.interchange.reliability.PermanentFailure e) {
            return null; // a deleted customer, say: the next rule may still know the entity
        }
    }

    private static String textOrNull(JsonNode n) {
        return n.isTextual() && !n.asText().isBlank() ? n.asText() : null;
    }

    private static String text(JsonNode event, String[] path) {
        JsonNode n = event;
        for (String step : path) n = n.path(step);
        return n.isTextual() ? n.asText() : null;
    }
}
