package io.interchange.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.crm.HubSpotCrm;
import io.interchange.connectors.crm.SalesforceCrm;
import io.interchange.mapping.MappingEngine;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.store.CrossReferences;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A task for the account manager of a customer, in the CRM that holds the customer, at most one per key.
 *
 * <p>Where: the customer's Salesforce record if it has one (an account before a contact), else its HubSpot record (a
 * contact before a company). Who: the record's owner, read from the record ({@code OwnerId}; HubSpot's
 * {@code hubspot_owner_id}; a HubSpot record without an owner gets an unassigned task). What: the mapping
 * {@code mappings/<crm>/loyalty-task.jslt}, which names the fields.
 *
 * <p>Once: neither CRM takes an idempotency key on a create, so the task carries the key in a field of its own and is
 * looked for by it before every create (one query: tasks are rare), so a create whose answer was lost, a claim taken
 * over from a process that died, or a replay after the claim expired finds the first task instead of making a second:
 * <ul>
 *   <li>Salesforce: the external id field {@code Interchange_Key__c} on Task (External ID, Unique), read by SOQL, and
 *   the task made by upsert on that field (sObject Collections upsert, which camel-salesforce and the write-back
 *   already use): even two creates racing past the look-up make one task, Salesforce's unique index decides. The
 *   look-up comes first all the same, so a retry never re-sets a task its owner has edited since.</li>
 *   <li>HubSpot: a custom task property {@code interchange_key}, found with the CRM search API
 *   ({@code POST /crm/v3/objects/tasks/search}), the task made with {@code POST /crm/v3/objects/tasks} and its
 *   association to the record. HubSpot's search follows writes with a delay of seconds, so the flow's retry delay
 *   (route policy {@code loyalty.crm}) should exceed it; HubSpot cannot enforce the key's uniqueness on tasks.</li>
 * </ul>
 */
public final class CrmTasks {

    /** The field (Salesforce) or property (HubSpot) a task's key is kept in, as the mappings name it. */
    public static final String SALESFORCE_KEY_FIELD = "Interchange_Key__c";
    public static final String HUBSPOT_KEY_PROPERTY = "interchange_key";
    private static final Logger LOG = LoggerFactory.getLogger(CrmTasks.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A task made or found: the CRM, the record it is about, its owner, the task's id, and whether it existed. */
    public record Made(String system, String recordId, String ownerId, String taskId, boolean found) {
    }

    private final MappingEngine mappings;
    private final CrossReferences crossReferences;
    private final SalesforceCrm salesforce;
    private final HubSpotCrm hubSpot;

    /** @param salesforce null when Salesforce is not configured; likewise {@code hubSpot} */
    public CrmTasks(MappingEngine mappings, CrossReferences crossReferences, SalesforceCrm salesforce, HubSpotCrm hubSpot) {
        this.mappings = mappings;
        this.crossReferences = crossReferences;
        this.salesforce = salesforce;
        this.hubSpot = hubSpot;
    }

    /**
     * Makes the customer's task under {@code key} unless it exists; {@code details} are the mapping's input besides
     * the record (kind, tier, balance, dates). Empty when the customer has no record in a configured CRM.
     */
    public Optional<Made> ensure(String globalId, String key, ObjectNode details) {
        List<CrossReferences.Link> links = crossReferences.linksOf(globalId);
        Optional<CrossReferences.Link> record = links.stream()
                .filter(l -> (l.system().equals("salesforce") && salesforce != null)
                        || (l.system().equals("hubspot") && hubSpot != null))
                .min(Comparator.comparingInt(CrmTasks::preference));
        if (record.isEmpty()) {
            LOG.info("Customer {} has no record in a configured CRM: no task {}", globalId, key);
            return Optional.empty();
        }
        CrossReferences.Link link = record.get();
        String objectType = link.scope().substring(link.scope().lastIndexOf('/') + 1);
        ObjectNode input = details.deepCopy().put("key", key).put("recordType", objectType)
                .put("recordId", link.externalId());
        return Optional.of(link.system().equals("salesforce") ? salesforce(link, objectType, input)
                : hubSpot(link, objectType, input));
    }

    /** Salesforce before HubSpot; a company (account) before a contact. */
    private static int preference(CrossReferences.Link l) {
        return (l.system().equals("salesforce") ? 0 : 2) + (l.scope().endsWith("/company") ? 0 : 1);
    }

    private Made salesforce(CrossReferences.Link link, String objectType, ObjectNode input) {
        String sObject = objectType.equals("company") ? "Account" : "Contact";
        String key = input.path("key").asText();
        List<JsonNode> existing = salesforce.query("SELECT Id FROM Task WHERE " + SALESFORCE_KEY_FIELD + " = "
                + SalesforceCrm.soqlText(key));
        List<JsonNode> owner = salesforce.query("SELECT Id, OwnerId FROM " + sObject + " WHERE Id = "
                + SalesforceCrm.soqlText(link.externalId()));
        String ownerId = owner.isEmpty() ? null : owner.get(0).path("OwnerId").asText(null);
        if (!existing.isEmpty()) {
            return new Made("salesforce", link.externalId(), ownerId, existing.get(0).path("Id").asText(), true);
        }
        if (owner.isEmpty()) {
            throw new PermanentFailure("Salesforce " + sObject + " " + link.externalId() + " of customer "
                    + link.globalId() + " is not there (deleted?): no task " + key);
        }
        input.put("ownerId", ownerId);
        JsonNode mapped = mappings.get("salesforce/loyalty-task").apply(input, "task " + key);
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = JSON.convertValue(mapped.path("fields"), Map.class);
        SalesforceCrm.Result result = salesforce.upsert(mapped.path("sObject").asText("Task"), SALESFORCE_KEY_FIELD,
                List.of(fields)).get(0);
        if (!result.success()) {
            throw new PermanentFailure("Salesforce refused task " + key + " for " + sObject + " " + link.externalId()
                    + ": " + result.reason() + " (mappings/salesforce/loyalty-task.jslt names the fields)");
        }
        LOG.info("Task {} {} in Salesforce for {} {} (owner {})", result.id(), result.created() ? "made" : "found",
                sObject, link.externalId(), ownerId);
        return new Made("salesforce", link.externalId(), ownerId, result.id(), !result.created());
    }

    private Made hubSpot(CrossReferences.Link link, String objectType, ObjectNode input) {
        String type = objectType.equals("company") ? "companies" : "contacts";
        String key = input.path("key").asText();
        JsonNode properties = hubSpot.read(type, link.externalId(), List.of("hubspot_owner_id"));
        String ownerId = properties.path("hubspot_owner_id").asText("");
        ownerId = ownerId.isBlank() ? null : ownerId;
        String found = hubSpot.findBy("tasks", HUBSPOT_KEY_PROPERTY, key);
        if (found != null) return new Made("hubspot", link.externalId(), ownerId, found, true);
        if (ownerId != null) input.put("ownerId", ownerId);
        else LOG.warn("HubSpot {} {} has no owner: task {} is made unassigned", type, link.externalId(), key);
        JsonNode body = mappings.get("hubspot/loyalty-task").apply(input, "task " + key);
        String id = hubSpot.create("tasks", body);
        LOG.info("Task {} made in HubSpot for {} {} (owner {})", id, type, link.externalId(), ownerId);
        return new Made("hubspot", link.externalId(), ownerId, id, false);
    }

    /** A failure of a task's CRM call that says nothing about whether the task exists: transient, look up again. */
    static RuntimeException unknown(String key, RuntimeException e) {
        return e instanceof PermanentFailure ? e : new TransientFailure("task " + key + ": " + e.getMessage(), e);
    }
}
