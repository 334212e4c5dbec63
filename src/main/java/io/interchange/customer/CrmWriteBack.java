package io.interchange.customer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.MappingEngine;
import io.interchange.store.CrossReferences;
import io.interchange.store.EchoLedger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The customer's ids in the targets (billing customer, ERP partner numbers, loyalty member) and its sync status,
 * written back to each of its CRM records, by the CRM's mapping ({@code mappings/<crm>/write-back.jslt}) and writer.
 * A record that holds every value already (the echo ledger remembers what was written) is not written again: a
 * change that created nothing new writes nothing back.
 */
public final class CrmWriteBack {

    private static final Logger LOG = LoggerFactory.getLogger(CrmWriteBack.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes fields to one record of a CRM, as the CRM's write-back mapping named its type and fields. */
    public interface Writer {
        /** The CRM's system name in the cross-reference ({@code salesforce}, {@code hubspot}). */
        String system();

        /** Writes the mapping's output (its type and fields) to the record; throws a classified failure. */
        void write(String recordId, JsonNode mapped);
    }

    /** HubSpot's writer: batch update by record id. */
    public static Writer hubSpot(io.interchange.connectors.crm.HubSpotCrm hubSpot) {
        return new Writer() {
            @Override
            public String system() {
                return "hubspot";
            }

            @Override
            public void write(String recordId, JsonNode mapped) {
                hubSpot.batchUpdate(mapped.path("objectType").asText(), Map.of(recordId, fields(mapped)));
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
            public void write(String recordId, JsonNode mapped) {
                Map<String, Object> values = new LinkedHashMap<>(fields(mapped));
                var result = salesforce.update(mapped.path("sObject").asText(), Map.of(recordId, values)).get(0);
                if (!result.success()) {
                    throw new io.interchange.reliability.PermanentFailure("Salesforce refused the ids written back to "
                            + mapped.path("sObject").asText() + " " + recordId + ": " + result.reason()
                            + " (mappings/salesforce/write-back.jslt names the fields)");
                }
            }
        };
    }

    private final MappingEngine mappings;
    private final CrossReferences crossReferences;
    private final EchoLedger echoes;
    private final Map<String, Writer> writers = new LinkedHashMap<>();

    public CrmWriteBack(MappingEngine mappings, CrossReferences crossReferences, EchoLedger echoes, List<Writer> writers) {
        this.mappings = mappings;
        this.crossReferences = crossReferences;
        this.echoes = echoes;
        writers.forEach(w -> this.writers.put(w.system(), w));
    }

    /** Writes the customer's ids back to every CRM record of it whose CRM has a writer; returns how many were written. */
    public int write(String globalId) {
        List<CrossReferences.Link> links = crossReferences.linksOf(globalId);
        ObjectNode values = values(globalId, links);
        int written = 0;
        for (CrossReferences.Link record : links) {
            Writer writer = writers.get(record.system());
            if (writer == null) continue;
            ObjectNode input = values.deepCopy();
            // a CRM record's scope is "<account>/<object type>" (CustomerSync)
            input.put("objectType", record.scope().substring(record.scope().lastIndexOf('/') + 1));
            input.put("recordId", record.externalId());
            JsonNode mapped = mappings.get(record.system() + "/write-back").apply(input,
                    record.system() + " record " + record.externalId());
            Map<String, String> fields = fields(mapped);
            if (fields.entrySet().stream().allMatch(f -> echoes.wrote(record.system(), record.externalId(), f.getKey(),
                    f.getValue()))) {
                continue;
            }
            writer.write(record.externalId(), mapped);
            echoes.written(record.system(), record.externalId(), fields);
            written++;
            LOG.info("Customer {}: ids written back to {} record {}", globalId, record.system(), record.externalId());
        }
        return written;
    }

    /** The mapped fields or properties, as text. */
    private static Map<String, String> fields(JsonNode mapped) {
        Map<String, String> out = new LinkedHashMap<>();
        for (JsonNode group : List.of(mapped.path("fields"), mapped.path("properties"))) {
            group.fields().forEachRemaining(f -> out.put(f.getKey(), f.getValue().asText()));
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
        return v;
    }
}
