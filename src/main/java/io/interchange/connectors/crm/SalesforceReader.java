package io.interchange.connectors.crm;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.webhook.WebhookJson;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.salesforce.SalesforceEndpointConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads Account and Contact records back from Salesforce by SOQL through camel-salesforce's REST client (the same
 * login as the subscription): {@code queryAll}, so deleted records come back too (with {@code IsDeleted} true), and
 * every page ({@code nextRecordsUrl}, {@code queryMore}).
 */
public final class SalesforceReader {

    /** SOQL dateTime literals: whole seconds, UTC. */
    private static final DateTimeFormatter SOQL_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter SALESFORCE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    /** Salesforce takes at most this many ids in one IN list comfortably within the query length limit. */
    private static final int IDS_PER_QUERY = 200;

    private final ProducerTemplate template;
    private final Map<String, List<String>> fields;

    /** @param fields per entity (Account, Contact), the fields to select; Id, IsDeleted, SystemModstamp are added */
    public SalesforceReader(ProducerTemplate template, Map<String, List<String>> fields) {
        this.template = template;
        Map<String, List<String>> all = new LinkedHashMap<>();
        fields.forEach((entity, list) -> {
            Set<String> f = new LinkedHashSet<>(List.of("Id"));
            f.addAll(list);
            f.add("IsDeleted");
            f.add("LastModifiedById");
            f.add("SystemModstamp");
            all.put(entity, List.copyOf(f));
        });
        this.fields = all;
    }

    /** The records of the entity with these ids that exist (deleted ones included), by id. */
    public Map<String, JsonNode> byIds(String entity, List<String> ids) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i += IDS_PER_QUERY) {
            List<String> chunk = ids.subList(i, Math.min(ids.size(), i + IDS_PER_QUERY));
            StringBuilder in = new StringBuilder();
            for (String id : chunk) {
                if (!id.matches("[A-Za-z0-9]{15,18}")) continue; // never splice anything but an id into SOQL
                if (in.length() > 0) in.append(", ");
                in.append('\'').append(id).append('\'');
            }
            if (in.length() == 0) continue;
            queryAll(select(entity) + " WHERE Id IN (" + in + ")", r -> out.put(r.path("Id").asText(), r));
        }
        return out;
    }

    /** Every record of the entity changed at or after {@code since} (to the whole second), oldest first. */
    public List<JsonNode> changedSince(String entity, Instant since) {
        List<JsonNode> out = new ArrayList<>();
        changedSince(entity, since, out::add);
        return out;
    }

    /** As {@link #changedSince(String, Instant)}, page by page into {@code sink}. */
    public void changedSince(String entity, Instant since, Consumer<JsonNode> sink) {
        queryAll(select(entity) + " WHERE SystemModstamp >= " + SOQL_TIME.format(since.truncatedTo(ChronoUnit.SECONDS))
                + " ORDER BY SystemModstamp ASC", sink);
    }

    /**
     * Every record of the entity created before {@code before} (to the whole second) whose {@code field} is
     * {@code value} (deleted ones included, {@code IsDeleted} true), by id, page by page into {@code sink}: a
     * reconciliation's read of one legal entity's records. {@code field} must be a field name, {@code value} is quoted.
     */
    public void createdBefore(String entity, Instant before, String field, String value, Consumer<JsonNode> sink) {
        if (!field.matches("[A-Za-z][A-Za-z0-9_]*")) throw new IllegalArgumentException("not a field name: " + field);
        String quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
        queryAll(select(entity) + " WHERE " + field + " = " + quoted + " AND CreatedDate < "
                + SOQL_TIME.format(before.truncatedTo(ChronoUnit.SECONDS)) + " ORDER BY Id ASC", sink);
    }

    private String select(String entity) {
        List<String> f = fields.get(entity);
        if (f == null) throw new IllegalArgumentException("no fields configured for " + entity);
        return "SELECT " + String.join(", ", f) + " FROM " + entity;
    }

    private void queryAll(String soql, Consumer<JsonNode> sink) {
        JsonNode page = request("salesforce:queryAll?rawPayload=true", soql);
        while (true) {
            page.path("records").forEach(sink);
            if (page.path("done").asBoolean(true) || !page.hasNonNull("nextRecordsUrl")) return;
            page = request("salesforce:queryMore?rawPayload=true", page.get("nextRecordsUrl").asText());
        }
    }

    private JsonNode request(String uri, String query) {
        String body = template.requestBodyAndHeader(uri, query, SalesforceEndpointConfig.SOBJECT_QUERY, query,
                String.class);
        try {
            return WebhookJson.JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("Salesforce query answered what is not JSON", e);
        }
    }

    /** Salesforce's dateTime text ({@code 2026-12-05T10:31:22.000+0000}, or ISO-8601) as an instant, or null. */
    static Instant instant(String text) {
        if (text == null || text.isEmpty()) return null;
        try {
            return OffsetDateTime.parse(text, SALESFORCE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(text).toInstant();
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }
}
