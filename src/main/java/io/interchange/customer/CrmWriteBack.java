package io.interchange.customer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.MappingEngine;
import io.interchange.store.CrossReferences;
import io.interchange.store.EchoLedger;
import io.interchange.store.LoyaltyStandings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The customer's ids in the targets (billing customer, ERP partner numbers, loyalty member) and its sync status,
 * written back to each of its CRM records, by the CRM's mapping ({@code mappings/<crm>/write-back.jslt}) and writer.
 * A record that holds every value already (the echo ledger remembers what was written) is not written again: a
 * change that created nothing new writes nothing back. With the loyalty standings (flow {@code loyalty-crm}) the
 * member's loyalty balance and tier go with them: the values recorded, the newest event's, never an event's own.
 */
public final class CrmWriteBack {

    private static final Logger LOG = LoggerFactory.getLogger(CrmWriteBack.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes fields to records of a CRM, as the CRM's write-back mapping named their type and fields. */
    public interface Writer {
        /** The CRM's system name in the cross-reference ({@code salesforce}, {@code hubspot}). */
        String system();

        /**
         * Writes the mappings' output (one type, its fields) to several records, in as few requests as the CRM takes;
         * answers the failure of each record that was not written (absent: written).
         */
        Map<String, RuntimeException> writeAll(Map<String, JsonNode> mappedById);
    }

    /** HubSpot's writer: batch update by record id. */
    public static Writer hubSpot(io.interchange.connectors.crm.HubSpotCrm hubSpot) {
        return new Writer() {
            @Override
            public String system() {
                return "hubspot";
            }

            @Override
            public Map<String, RuntimeException> writeAll(Map<String, JsonNode> mappedById) {
                // batch updates of 100 records (HubSpotCrm chunks); a 207 names the records that were not updated
                Map<String, Map<String, String>> properties = new LinkedHashMap<>();
                mappedById.forEach((id, mapped) -> properties.put(id, fields(mapped)));
                String type = mappedById.values().iterator().next().path("objectType").asText();
                Map<String, RuntimeException> failed = new LinkedHashMap<>();
                try {
                    hubSpot.batchUpdate(type, properties).forEach((id, reason) -> failed.put(id,
                            new io.interchange.reliability.PermanentFailure("HubSpot refused the ids written back to "
                                    + type + " " + id + ": " + reason + " (mappings/hubspot/write-back.jslt names the "
                                    + "properties)")));
                } catch (RuntimeException e) {
                    mappedById.keySet().forEach(id -> failed.put(id, e));
                }
                return failed;
            }
        };
    }

    /** Salesforce's writer: sObject Collections update by record id, with the runtime's call options (its echo tag). */
    public static Writer salesforce(io.interchange.connectors.crm.SalesforceCrm salesforce) {
        return new Writer() {
            @Override
            public String system() {
                return "salesforce";
            }

            @Override
            public Map<String, RuntimeException> writeAll(Map<String, JsonNode> mappedById) {
                // sObject Collections update, 200 records a request (SalesforceCrm chunks); each record answers alone
                String sObject = mappedById.values().iterator().next().path("sObject").asText();
                Map<String, Map<String, Object>> values = new LinkedHashMap<>();
                // JSON types kept: a number field (the loyalty balance) is sent as a number
                mappedById.forEach((id, mapped) -> values.put(id, typedFields(mapped)));
                Map<String, RuntimeException> failed = new LinkedHashMap<>();
                List<io.interchange.connectors.crm.SalesforceCrm.Result> results;
                try {
                    results = salesforce.update(sObject, values);
                } catch (RuntimeException e) {
                    values.keySet().forEach(id -> failed.put(id, e));
                    return failed;
                }
                List<String> ids = new ArrayList<>(values.keySet());
                for (int i = 0; i < ids.size(); i++) {
                    var result = results.get(i);
                    if (!result.success()) {
                        failed.put(ids.get(i), new io.interchange.reliability.PermanentFailure("Salesforce refused the "
                                + "ids written back to " + sObject + " " + ids.get(i) + ": " + result.reason()
                                + " (mappings/salesforce/write-back.jslt names the fields)"));
                    }
                }
                return failed;
            }
        };
    }

    private final MappingEngine mappings;
    private final CrossReferences crossReferences;
    private final EchoLedger echoes;
    private final Map<String, Writer> writers = new LinkedHashMap<>();
    private final LoyaltyStandings loyalty;

    public CrmWriteBack(MappingEngine mappings, CrossReferences crossReferences, EchoLedger echoes, List<Writer> writers) {
        this(mappings, crossReferences, echoes, writers, null);
    }

    /**
     * @param loyalty the members' loyalty balance and tier as the loyalty-crm flow recorded them (newest wins), written
     *                back with the ids; null leaves them out
     */
    public CrmWriteBack(MappingEngine mappings, CrossReferences crossReferences, EchoLedger echoes, List<Writer> writers,
                        LoyaltyStandings loyalty) {
        this.mappings = mappings;
        this.crossReferences = crossReferences;
        this.echoes = echoes;
        writers.forEach(w -> this.writers.put(w.system(), w));
        this.loyalty = loyalty;
    }

    /** The CRMs written to (their system names). */
    public java.util.Set<String> systems() {
        return java.util.Collections.unmodifiableSet(writers.keySet());
    }

    /** Writes the customer's ids back to every CRM record of it whose CRM has a writer; throws the first failure. */
    public void write(String globalId) {
        Map<String, RuntimeException> failed = writeAll(List.of(globalId));
        if (!failed.isEmpty()) throw failed.values().iterator().next();
    }

    /** A write to one CRM record: its customer, the mapping's output and its fields as text. */
    private record Pending(String globalId, CrossReferences.Link record, JsonNode mapped, Map<String, String> fields) {
    }

    /**
     * Writes the ids of several customers back to their CRM records, the records of one CRM and type together (as
     * many per request as the CRM takes); answers, per customer, the failure of a record of it that was not written.
     * Records that hold every value already are left alone.
     */
    public Map<String, RuntimeException> writeAll(Collection<String> globalIds) {
        Map<String, List<Pending>> byGroup = new LinkedHashMap<>();
        for (String globalId : globalIds) {
            List<CrossReferences.Link> links = crossReferences.linksOf(globalId);
            ObjectNode values = null;
            for (CrossReferences.Link record : links) {
                Writer writer = writers.get(record.system());
                if (writer == null) continue;
                if (values == null) values = values(globalId, links);
                ObjectNode input = values.deepCopy();
                // a CRM record's scope is "<account>/<object type>" (CustomerSync)
                input.put("objectType", record.scope().substring(record.scope().lastIndexOf('/') + 1));
                input.put("recordId", record.externalId());
                JsonNode mapped = mappings.get(record.system() + "/write-back").apply(input,
                        record.system() + " record " + record.externalId());
                Map<String, String> fields = fields(mapped);
                if (fields.entrySet().stream().allMatch(f -> echoes.wrote(record.system(), record.externalId(),
                        f.getKey(), f.getValue()))) {
                    continue;
                }
                String group = record.system() + "/" + mapped.path("sObject").asText(mapped.path("objectType").asText());
                byGroup.computeIfAbsent(group, g -> new ArrayList<>()).add(new Pending(globalId, record, mapped, fields));
            }
        }
        Map<String, RuntimeException> failedCustomers = new LinkedHashMap<>();
        for (List<Pending> group : byGroup.values()) {
            Writer writer = writers.get(group.get(0).record().system());
            Map<String, JsonNode> mappedById = new LinkedHashMap<>();
            for (Pending p : group) mappedById.put(p.record().externalId(), p.mapped());
            Map<String, RuntimeException> failed = writer.writeAll(mappedById);
            for (Pending p : group) {
                RuntimeException e = failed.get(p.record().externalId());
                if (e != null) {
                    failedCustomers.putIfAbsent(p.globalId(), e);
                    continue;
                }
                echoes.written(p.record().system(), p.record().externalId(), p.fields());
                LOG.debug("Customer {}: ids written back to {} record {}", p.globalId(), p.record().system(),
                        p.record().externalId());
            }
        }
        return failedCustomers;
    }

    /** The mapped fields or properties, as text. */
    private static Map<String, String> fields(JsonNode mapped) {
        Map<String, String> out = new LinkedHashMap<>();
        for (JsonNode group : List.of(mapped.path("fields"), mapped.path("properties"))) {
            group.fields().forEachRemaining(f -> out.put(f.getKey(), f.getValue().asText()));
        }
        return out;
    }

    /** The mapped fields or properties with their JSON types (numbers as numbers, text as text). */
    private static Map<String, Object> typedFields(JsonNode mapped) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (JsonNode group : List.of(mapped.path("fields"), mapped.path("properties"))) {
            group.fields().forEachRemaining(f -> out.put(f.getKey(), JSON.convertValue(f.getValue(), Object.class)));
        }
        return out;
    }

    private ObjectNode values(String globalId, List<CrossReferences.Link> links) {
        ObjectNode v = JSON.createObjectNode().put("globalId", globalId);
        List<String> erp = new ArrayList<>();
        for (CrossReferences.Link l : links) {
            switch (l.system()) {
                case BillingCustomers.SYSTEM -> v.put("billingCustomerId", l.externalId());
                case LoyaltyMemberTarget.SYSTEM -> v.put("loyaltyMemberId", l.externalId());
                case ErpPartners.S4_SYSTEM, ErpPartners.LEGACY_SYSTEM -> erp.add(l.externalId());
                default -> {
                }
            }
        }
        if (!erp.isEmpty()) v.put("erpPartnerNumber", String.join(",", erp));
        Optional<String> s4 = crossReferences.recordOf(globalId, ErpPartners.S4_SYSTEM, "");
        v.put("syncStatus", s4.isPresent() && s4.get().isEmpty() ? "pending: " + ErpPartners.S4_SYSTEM : "synced");
        if (loyalty != null) {
            loyalty.of(globalId).ifPresent(standing -> {
                if (standing.balance() != null) v.put("loyaltyBalance", standing.balance());
                // a member who left the program's tiers: the tier is cleared (empty), not left as it was
                if (standing.tierAt() != null) v.put("loyaltyTier", standing.tierName() == null ? "" : standing.tierName());
            });
        }
        return v;
    }
}
