package io.interchange.connectors.crm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.rest.OAuthTokens;
import io.interchange.connectors.rest.RestAuth;
import io.interchange.connectors.rest.RestBody;
import io.interchange.connectors.rest.RestClient;
import io.interchange.connectors.rest.RestRequest;
import io.interchange.connectors.rest.RestTarget;
import io.interchange.reliability.TransientFailure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * HubSpot's CRM as the runtime writes it, a REST target of the connector kit ({@link RestClient}, route
 * {@link #ROUTE_ID}): {@code POST /crm/v3/objects/{contacts|companies}/batch/upsert}, records matched by a unique
 * property ({@code idProperty}), so writing the same record again updates it and a retry never creates a second one:
 * HubSpot has no idempotency keys, the upsert is its idempotency. Authenticated with a private app's token or with OAuth
 * access tokens from the app's refresh token; HubSpot's {@code X-HubSpot-RateLimit-*} headers and 429s are honoured by
 * the kit.
 */
public final class HubSpotCrm {

    public static final String ROUTE_ID = "crm.hubspot-api";
    /** HubSpot's batch endpoints take at most 100 inputs. */
    public static final int MAX_BATCH = 100;
    public static final Set<String> OBJECT_TYPES = Set.of("contacts", "companies");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One record to write: {@code id} is the value of the unique property {@code idProperty} it is matched by. */
    public record Input(String id, String idProperty, Map<String, String> properties) {
        public Input {
            Objects.requireNonNull(id);
            Objects.requireNonNull(idProperty);
            properties = Map.copyOf(properties);
        }
    }

    /** One record as HubSpot holds it after the write: its HubSpot id, whether it was created, its properties. */
    public record Result(String hubSpotId, boolean created, JsonNode properties) {
    }

    private final RestClient client;

    public HubSpotCrm(RestTarget target) {
        this.client = new RestClient(target);
    }

    /** The target of the configuration: OAuth when a refresh token is set, else the private app's token. */
    public static HubSpotCrm from(Config config) {
        RestAuth auth = config.get(Settings.HUBSPOT_OAUTH_REFRESH_TOKEN).isBlank()
                ? RestAuth.bearer(config.get(Settings.HUBSPOT_ACCESS_TOKEN))
                : new OAuthTokens(config.get(Settings.HUBSPOT_OAUTH_TOKEN_URL), config.get(Settings.HUBSPOT_OAUTH_CLIENT_ID),
                config.get(Settings.HUBSPOT_OAUTH_CLIENT_SECRET), "", config.get(Settings.HUBSPOT_OAUTH_REFRESH_TOKEN),
                config.getDuration(Settings.HUBSPOT_API_TIMEOUT));
        return new HubSpotCrm(RestTarget.of(ROUTE_ID, "HubSpot API", config.get(Settings.HUBSPOT_API_URL),
                config.getDuration(Settings.HUBSPOT_API_TIMEOUT), config.getInt(Settings.HUBSPOT_API_MAX_RATE), auth));
    }

    /** The kit's client of this target: its route and HTTP client configuration are the runtime's to install. */
    public RestClient client() {
        return client;
    }

    /**
     * Creates or updates the records, in batches of {@link #MAX_BATCH}; the results of every batch, in HubSpot's order.
     * A failure after some batches were written leaves them written: asking again with the same inputs updates them to
     * the same values, so the caller may simply retry.
     */
    public List<Result> batchUpsert(String objectType, List<Input> inputs) {
        if (!OBJECT_TYPES.contains(objectType)) {
            throw new IllegalArgumentException("HubSpot object type " + objectType + " is not one of " + OBJECT_TYPES);
        }
        List<Result> results = new ArrayList<>();
        for (int from = 0; from < inputs.size(); from += MAX_BATCH) {
            List<Input> batch = inputs.subList(from, Math.min(inputs.size(), from + MAX_BATCH));
            ObjectNode body = JSON.createObjectNode();
            ArrayNode array = body.putArray("inputs");
            for (Input input : batch) {
                ObjectNode in = array.addObject().put("id", input.id()).put("idProperty", input.idProperty());
                ObjectNode properties = in.putObject("properties");
                input.properties().forEach(properties::put);
            }
            JsonNode answer = client.call(RestRequest.post("/crm/v3/objects/" + objectType + "/batch/upsert",
                    RestBody.json(body))).json();
            JsonNode list = answer.path("results");
            if (!list.isArray() || list.size() != batch.size()) {
                // a multi-status answer or a short list: which records were written is not known, so asking again is right
                throw new TransientFailure("HubSpot API batch upsert of " + batch.size() + " " + objectType
                        + " answered " + list.size() + " results (status " + answer.path("status").asText("?") + ")");
            }
            for (JsonNode r : list) {
                results.add(new Result(r.path("id").asText(), r.path("new").asBoolean(false), r.path("properties")));
            }
        }
        return results;
    }

    /**
     * Updates records by their HubSpot ids ({@code POST /crm/v3/objects/<type>/batch/update}), in batches of
     * {@link #MAX_BATCH}: how the runtime writes to records that exist in HubSpot already (its ids written back), where
     * an upsert by a property the record does not hold yet would create a second record. HubSpot answers 200 when every
     * record was updated and 207 Multi-Status when some were not, naming them in {@code errors[].context.ids}: those
     * are returned, id to HubSpot's reason, the others are updated. A 207 that does not say which records failed is a
     * transient failure of its batch (updating them again is harmless).
     */
    public Map<String, String> batchUpdate(String objectType, Map<String, Map<String, String>> propertiesById) {
        if (!OBJECT_TYPES.contains(objectType)) {
            throw new IllegalArgumentException("HubSpot object type " + objectType + " is not one of " + OBJECT_TYPES);
        }
        Map<String, String> failed = new LinkedHashMap<>();
        List<Map.Entry<String, Map<String, String>>> all = new ArrayList<>(propertiesById.entrySet());
        for (int from = 0; from < all.size(); from += MAX_BATCH) {
            List<Map.Entry<String, Map<String, String>>> batch = all.subList(from, Math.min(all.size(), from + MAX_BATCH));
            ObjectNode body = JSON.createObjectNode();
            ArrayNode array = body.putArray("inputs");
            for (Map.Entry<String, Map<String, String>> input : batch) {
                ObjectNode properties = array.addObject().put("id", input.getKey()).putObject("properties");
                input.getValue().forEach(properties::put);
            }
            JsonNode answer = client.call(RestRequest.post("/crm/v3/objects/" + objectType + "/batch/update",
                    RestBody.json(body))).json();
            Map<String, String> errors = new LinkedHashMap<>();
            for (JsonNode e : answer.path("errors")) {
                String reason = e.path("category").asText("error") + ": " + e.path("message").asText("");
                for (JsonNode id : e.path("context").path("ids")) errors.put(id.asText(), reason);
                if (e.hasNonNull("id")) errors.put(e.path("id").asText(), reason);
            }
            if (answer.path("results").size() + errors.size() < batch.size()) {
                throw new TransientFailure("HubSpot API batch update of " + batch.size() + " " + objectType
                        + " answered " + answer.path("results").size() + " results and " + answer.path("numErrors")
                        .asInt(answer.path("errors").size()) + " errors without naming every record (status "
                        + answer.path("status").asText("?") + ")");
            }
            failed.putAll(errors);
        }
        return failed;
    }
    /**
     * Every record of the type ({@code GET /crm/v3/objects/<type>}, CRM v3's list: {@code limit} up to 100, the next
     * page {@code after} the cursor {@code paging.next.after} names) with these properties, not archived, page by page
     * into {@code each}; the number read.
     */
    public long listPages(String objectType, List<String> properties, int pageSize,
                          java.util.function.Consumer<List<JsonNode>> each) {
        if (pageSize < 1 || pageSize > 100) throw new IllegalArgumentException("a HubSpot list page holds 1 to 100 records");
        long read = 0;
        String after = null;
        while (true) {
            JsonNode answer = client.call(RestRequest.get("/crm/v3/objects/" + objectType + "?limit=" + pageSize
                    + "&archived=false&properties=" + encode(String.join(",", properties))
                    + (after == null ? "" : "&after=" + encode(after)))).json();
            List<JsonNode> page = new java.util.ArrayList<>();
            answer.path("results").forEach(page::add);
            each.accept(page);
            read += page.size();
            JsonNode next = answer.path("paging").path("next").path("after");
            if (!next.isTextual() || next.asText().isEmpty() || page.isEmpty()) return read;
            after = next.asText();
        }
    }

    /**
     * One record's properties ({@code GET /crm/v3/objects/<type>/<id>?properties=...}): the owner of a contact
     * ({@code hubspot_owner_id}) before a task is made for it. A record HubSpot does not hold is a permanent failure.
     */
    public JsonNode read(String objectType, String id, List<String> properties) {
        return client.call(RestRequest.get("/crm/v3/objects/" + objectType + "/" + encode(id) + "?properties="
                + encode(String.join(",", properties)) + "&archived=false")).json().path("properties");
    }

    /**
     * The id of the record of {@code objectType} whose {@code property} equals {@code value}, through the CRM search API
     * ({@code POST /crm/v3/objects/<type>/search}, one EQ filter), or null when none is found. HubSpot's search index
     * follows writes with a short delay: a record made a moment ago may not be found yet.
     */
    public String findBy(String objectType, String property, String value) {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("filterGroups").addObject().putArray("filters").addObject().put("propertyName", property)
                .put("operator", "EQ").put("value", value);
        body.putArray("properties").add(property);
        body.put("limit", 2);
        JsonNode answer = client.call(RestRequest.post("/crm/v3/objects/" + objectType + "/search",
                RestBody.json(body))).json();
        for (JsonNode r : answer.path("results")) {
            if (value.equals(r.path("properties").path(property).asText(null))) return r.path("id").asText();
        }
        return null;
    }

    /**
     * Creates one record ({@code POST /crm/v3/objects/<type>}) with its {@code properties} and {@code associations} as
     * given; returns its id. HubSpot takes no idempotency key here: a caller that may have created it already (an
     * answer lost) looks it up first ({@link #findBy}).
     */
    public String create(String objectType, JsonNode body) {
        JsonNode answer = client.call(RestRequest.post("/crm/v3/objects/" + objectType, RestBody.json(body))).json();
        String id = answer.path("id").asText(null);
        if (id == null) throw new TransientFailure("HubSpot API create of a " + objectType + " answered no id");
        return id;
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }
}
