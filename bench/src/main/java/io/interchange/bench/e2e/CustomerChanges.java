package io.interchange.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.crm.SalesforceChangeEvents;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerChange;
import io.interchange.model.Envelope;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultMessage;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Canonical customer changes exactly as the Salesforce connector publishes them to the customer topic
 * ({@code SalesforceChangeEvents}): a Change Data Capture event payload as the Streaming API delivers it (header and
 * the fields it carries, shaped as the Salesforce peer shapes its own events), one input per record, mapped by the
 * runtime's {@code salesforce/customer-change} mapping to a {@link CustomerChange}; envelope id
 * {@code salesforce:<transactionKey>:<sequenceNumber>:<recordId>}, source {@code /crm/salesforce}, the canonical type
 * of the change, subject and Kafka key the record's customer id ({@code salesforce:<org>:company:<id>}), the
 * channel's event id ({@code /data/AccountChangeEvent#<replay id>}) as correlation id; CloudEvents headers written by
 * {@link CloudEventHeaders#write} and serialised as camel-kafka does (UTF-8 values, null headers left out).
 *
 * <p>The accounts are a population of companies, each with its own phone and tax id (identity keys: no two accounts
 * are the same customer), three in four of an S/4HANA legal entity (DE01, US01, DE01) and one in four of GB01, which
 * is not cut over and so takes the legacy ERP's customer upsert.
 */
final class CustomerChanges {

    static final String CHANNEL = "/data/AccountChangeEvent";
    private static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter SF_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'+0000'")
            .withZone(ZoneOffset.UTC);
    private static final String[] ENTITIES = {"DE01", "US01", "DE01", "GB01"};
    private static final ObjectMapper JSON = io.interchange.connectors.webhook.WebhookJson.JSON;

    private final MappingEngine mappings = MappingEngine.load(MappingSource.bundled());
    private final Message headers = new DefaultMessage(new DefaultCamelContext());
    private final String orgId;
    private final String userId;
    private final AtomicLong replayIds = new AtomicLong(1_000);

    CustomerChanges(String orgId, String userId) {
        this.orgId = orgId;
        this.userId = userId;
    }

    /** The fields of the i-th account as a user creates it (flat compound fields, as the peer stores them). */
    static Map<String, Object> account(String run, int i) {
        String entity = ENTITIES[i % ENTITIES.length];
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("Name", "Bench " + run + " Company " + i + " GmbH");
        f.put("Phone", "+49 89 " + run.hashCode() % 1000 + " " + (1_000_000 + i));
        f.put("Tax_Id__c", "DE" + Math.abs(run.hashCode() % 1000) + String.format("%06d", i));
        f.put("Legal_Entity__c", entity);
        f.put("BillingStreet", "Hauptstraße " + (1 + i % 200));
        f.put("BillingPostalCode", String.format("%05d", 10_000 + i % 80_000));
        f.put("BillingCity", entity.equals("GB01") ? "London" : entity.equals("US01") ? "San Jose" : "München");
        f.put("BillingCountry", entity.equals("GB01") ? "GB" : entity.equals("US01") ? "US" : "DE");
        return f;
    }

    /** The edit of phase two: a new phone number (a master field: every target takes it). */
    static String editedPhone(String run, int i) {
        return "+49 30 " + run.hashCode() % 1000 + " " + (5_000_000 + i);
    }

    /** The CREATE event of a new account: every field set, the system fields among them. */
    ProducerRecord<String, byte[]> created(String topic, String recordId, Map<String, Object> fields, long now) {
        Map<String, Object> values = new LinkedHashMap<>(fields);
        String at = SF_TIME.format(Instant.ofEpochMilli(now));
        values.put("CreatedDate", at);
        values.put("CreatedById", userId);
        values.put("LastModifiedDate", at);
        values.put("LastModifiedById", userId);
        return record(topic, recordId, "CREATE", List.of(), values, now);
    }

    /** The UPDATE event of an edit: the changed fields and LastModifiedDate. */
    ProducerRecord<String, byte[]> updated(String topic, String recordId, Map<String, Object> changed, long now) {
        Map<String, Object> values = new LinkedHashMap<>(changed);
        values.put("LastModifiedDate", SF_TIME.format(Instant.ofEpochMilli(now)));
        List<String> names = new java.util.ArrayList<>(changed.keySet());
        names.add("LastModifiedDate");
        return record(topic, recordId, "UPDATE", names, values, now);
    }

    private ProducerRecord<String, byte[]> record(String topic, String recordId, String changeType, List<String> changed,
                                                  Map<String, Object> values, long now) {
        String tx = UUID.randomUUID().toString().replace("-", "").substring(0, 23);
        ObjectNode payload = JSON.createObjectNode();
        ObjectNode h = payload.putObject("ChangeEventHeader");
        h.put("entityName", "Account");
        h.putArray("recordIds").add(recordId);
        h.put("changeType", changeType);
        h.put("changeOrigin", "");
        h.put("transactionKey", tx);
        h.put("sequenceNumber", 1);
        h.put("commitTimestamp", now);
        h.put("commitNumber", 10_592_733_780_000L + now);
        h.put("commitUser", userId);
        ArrayNode fields = h.putArray("changedFields");
        changed.forEach(fields::add);
        h.putArray("diffFields");
        h.putArray("nulledFields");
        values.forEach((k, v) -> payload.set(k, JSON.valueToTree(v)));
        // as SalesforceChangeEvents.translate: one input per record of the event
        ObjectNode input = JSON.createObjectNode();
        input.put("org", orgId);
        input.put("recordId", recordId);
        input.put("occurredAt", MILLIS.format(Instant.ofEpochMilli(now)));
        input.put("origin", "event");
        input.set("event", payload);
        String eventId = CHANNEL + "#" + replayIds.incrementAndGet();
        CustomerChange change = mappings.get(SalesforceChangeEvents.MAPPING).apply(input, CustomerChange.class,
                "bench " + recordId);
        CanonicalType type = change.change().equals("created") ? CanonicalType.CUSTOMER_CREATED : CanonicalType.CUSTOMER_UPDATED;
        Envelope envelope = new Envelope("salesforce:" + tx + ":1:" + recordId, SalesforceChangeEvents.SOURCE,
                type.ceType(), change.customer().globalId(), change.occurredAt(), type.dataSchema(), eventId, null, null, null);
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(change);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        headers.getHeaders().clear();
        CloudEventHeaders.write(envelope, headers);
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, envelope.subject(), json);
        headers.getHeaders().forEach((name, value) -> {
            if (value != null) r.headers().add(name, value.toString().getBytes(StandardCharsets.UTF_8));
        });
        return r;
    }
}
