package io.interchange.sandbox.hubspot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.rest.RestPeerSupport;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HubSpot's CRM v3 object API as far as the runtime writes it, for the sandbox and tests (also reading a record's
 * properties, searching with EQ filters and creating tasks with their associations, for the loyalty-crm flow):
 * {@code POST /crm/v3/objects/{objectType}/batch/upsert} with {@code {"inputs":[{"id","idProperty","properties"}]}}
 * (at most 100 inputs, each naming the unique property it is matched by), which really upserts into an in-memory store:
 * a record whose {@code idProperty} holds the input's {@code id} is updated, otherwise one is created with that value
 * (a second upsert of the same value updates, never creates twice); each result says {@code new}. Authentication by a
 * private app's token or by OAuth access tokens from {@code /oauth/v1/token} (refresh token grant); the burst limit
 * announced in {@code X-HubSpot-RateLimit-Max}, {@code -Remaining} and {@code -Interval-Milliseconds} (and the daily
 * headers, which HubSpot sends to private apps, not to OAuth calls) and enforced with HubSpot's 429 body; errors in
 * HubSpot's shape ({@code status}, {@code message}, {@code correlationId}, {@code category}).
 * <p>
 * Consent as a portal holds it: subscription types ({@link #subscriptionType}) and each address's status of them,
 * written through the Communication Preferences API v3 ({@code POST /communication-preferences/v3/subscribe} and
 * {@code /unsubscribe}, read by {@code GET /communication-preferences/v3/status/email/{emailAddress}}); unsubscribing
 * an address that is not subscribed is refused 400, and so is subscribing one that unsubscribed from all e-mail. The
 * contact properties HubSpot keeps from them ({@code hs_email_optout}, {@code hs_email_optout_<type id>}) follow, and
 * are read-only to the CRM API: a batch upsert or update setting one is refused 400 as a whole, as a portal does.
 */
public final class HubSpotPeer extends RestPeerSupport {

    public static final String TOKEN_PATH = "/oauth/v1/token";
    public static final int MAX_INPUTS = 100;
    private static final String UPSERT = "/crm/v3/objects/([a-z_0-9]+)/batch/upsert";
    private static final String UPDATE = "/crm/v3/objects/([a-z_0-9]+)/batch/update";
    private static final String READ = "/crm/v3/objects/([a-z_0-9]+)/([0-9]+)";
    private static final String SEARCH = "/crm/v3/objects/([a-z_0-9]+)/search";
    private static final String LIST = "/crm/v3/objects/([a-z_0-9]+)";
    private static final String PREFERENCES = "/communication-preferences/v3/";
    private static final String STATUS = PREFERENCES + "status/email/(.+)";
    /** HubSpot's "Unsubscribed from all email", set by HubSpot and the contact only. */
    public static final String OPT_OUT_ALL = "hs_email_optout";
    /** HubSpot's legal bases ({@code legalBasis} of a subscription status). */
    private static final Set<String> LEGAL_BASES = Set.of("LEGITIMATE_INTEREST_PQL", "LEGITIMATE_INTEREST_CLIENT",
            "PERFORMANCE_OF_CONTRACT", "CONSENT_WITH_NOTICE", "NON_GDPR", "PROCESS_AND_STORE", "LEGITIMATE_INTEREST_OTHER");
    /** HubSpot-defined association types from a task: to a contact 204, to a company 192. */
    private static final Map<Integer, String> TASK_ASSOCIATIONS = Map.of(204, "contacts", 192, "companies");

    private final Map<String, Map<String, ObjectNode>> objects = new LinkedHashMap<>();
    private final AtomicLong ids = new AtomicLong(1000);
    /** The portal's subscription types, id to name. */
    private final Map<String, String> subscriptionTypes = new LinkedHashMap<>();
    /** Per address (lower case): its explicit subscription statuses by type id. */
    private final Map<String, Map<String, ObjectNode>> subscriptions = new HashMap<>();
    /** Addresses unsubscribed from all e-mail. */
    private final Set<String> optedOutOfAll = new HashSet<>();
    private volatile boolean oauth;
    private volatile int dailyMax = 250_000;
    private final AtomicLong dailyUsed = new AtomicLong();

    public HubSpotPeer(int port) throws IOException {
        super("hubspot", port);
        // OAuth apps' burst limit (HubSpot's changelog: 100 requests per 10 seconds per app and account)
        limitWindow(100, Duration.ofSeconds(10));
    }

    @Override
    public HubSpotPeer start() {
        super.start();
        return this;
    }

    /** A private app's access token is accepted. */
    public HubSpotPeer privateApp(String token) {
        acceptBearer(token);
        oauth = false;
        return this;
    }

    /** OAuth access tokens from {@link #TOKEN_PATH} are accepted, obtained with this app's refresh token. */
    public HubSpotPeer oauthApp(String clientId, String clientSecret, String refreshToken, Duration lifetime) {
        serveTokens(TOKEN_PATH, clientId, clientSecret, refreshToken, lifetime);
        oauth = true;
        return this;
    }

    /** The daily allowance a private app is told of (and how much of it is already spent). */
    public HubSpotPeer dailyLimit(int max, int used) {
        dailyMax = max;
        dailyUsed.set(used);
        return this;
    }

    /** The records of an object type (contacts, companies), each with {@code id} and {@code properties}. */
    public List<ObjectNode> records(String objectType) {
        synchronized (objects) {
            return objects.getOrDefault(objectType, Map.of()).values().stream().map(ObjectNode::deepCopy).toList();
        }
    }

    @Override
    protected Answer handle(Request request) throws IOException {
        if ("GET".equals(request.method()) && request.path().matches(STATUS)) {
            return Answer.json(200, statuses(request.path().replaceAll(STATUS, "$1")));
        }
        if ("POST".equals(request.method()) && request.path().equals(PREFERENCES + "subscribe")) return preference(request, true);
        if ("POST".equals(request.method()) && request.path().equals(PREFERENCES + "unsubscribe")) return preference(request, false);
        if ("GET".equals(request.method()) && request.path().matches(READ)) return read(request);
        if ("GET".equals(request.method()) && request.path().matches(LIST)) return list(request);
        if ("POST".equals(request.method()) && request.path().matches(SEARCH)) return search(request);
        if ("POST".equals(request.method()) && request.path().equals("/crm/v3/objects/tasks")) return createTask(request);
        boolean update = request.path().matches(UPDATE);
        if (!"POST".equals(request.method()) || !request.path().matches(UPSERT) && !update) {
            return error(404, null, "Unable to route " + request.method() + " request with path " + request.path());
        }
        String type = request.path().replaceAll(update ? UPDATE : UPSERT, "$1");
        JsonNode body;
        try {
            body = request.json();
        } catch (IOException e) {
            return error(400, "VALIDATION_ERROR", "Invalid input JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        JsonNode inputs = body == null ? null : body.path("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            return error(400, "VALIDATION_ERROR", "inputs must be a non-empty array");
        }
        if (inputs.size() > MAX_INPUTS) {
            return error(400, "VALIDATION_ERROR", "Batch input of " + inputs.size() + " exceeds the limit of "
                    + MAX_INPUTS + " inputs");
        }
        Answer readOnly = readOnly(inputs);
        if (readOnly != null) return readOnly;
        if (update) return update(type, inputs);
        Set<String> seen = new HashSet<>();
        for (JsonNode input : inputs) {
            String idProperty = input.path("idProperty").asText("");
            String id = input.path("id").asText("");
            if (idProperty.isEmpty() || id.isEmpty()) {
                return error(400, "VALIDATION_ERROR", "each input needs an id and the idProperty it is the value of");
            }
            if (!seen.add(idProperty + "\u0000" + id)) {
                return error(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input: [" + id + "]");
            }
        }
        String now = Instant.now().toString();
        ObjectNode answer = JSON.createObjectNode();
        answer.put("status", "COMPLETE");
        ArrayNode results = answer.putArray("results");
        synchronized (objects) {
            Map<String, ObjectNode> store = objects.computeIfAbsent(type, t -> new LinkedHashMap<>());
            for (JsonNode input : inputs) {
                String idProperty = input.path("idProperty").asText();
                String value = input.path("id").asText();
                ObjectNode record = find(store, idProperty, value);
                boolean created = record == null;
                if (created) {
                    record = JSON.createObjectNode().put("id", String.valueOf(ids.incrementAndGet())).put("createdAt", now);
                    record.putObject("properties").put(idProperty, value);
                    store.put(record.path("id").asText(), record);
                }
                ObjectNode properties = record.with("properties");
                input.path("properties").fields().forEachRemaining(p -> properties.put(p.getKey(), p.getValue().asText()));
                record.put("updatedAt", now).put("archived", false);
                results.add(record.deepCopy().put("new", created));
            }
        }
        answer.put("startedAt", now).put("completedAt", Instant.now().toString());
        return Answer.json(200, answer);
    }

    /**
     * Batch update by record id: 200 when every record was updated; 207 Multi-Status when some were not (an id HubSpot
     * does not hold), the others updated and the missing ones named in {@code errors[].context.ids}.
     */
    private Answer update(String type, JsonNode inputs) {
        String now = Instant.now().toString();
        ObjectNode answer = JSON.createObjectNode();
        answer.put("status", "COMPLETE");
        ArrayNode results = answer.putArray("results");
        List<String> missing = new ArrayList<>();
        synchronized (objects) {
            Map<String, ObjectNode> store = objects.computeIfAbsent(type, t -> new LinkedHashMap<>());
            for (JsonNode input : inputs) {
                ObjectNode record = store.get(input.path("id").asText(""));
                if (record == null) {
                    missing.add(input.path("id").asText());
                    continue;
                }
                ObjectNode properties = record.with("properties");
                input.path("properties").fields().forEachRemaining(p -> properties.put(p.getKey(), p.getValue().asText()));
                record.put("updatedAt", now);
                results.add(record.deepCopy());
            }
        }
        answer.put("startedAt", now).put("completedAt", Instant.now().toString());
        if (missing.isEmpty()) return Answer.json(200, answer);
        answer.put("numErrors", missing.size());
        ObjectNode error = answer.putArray("errors").addObject().put("status", "error").put("category", "OBJECT_NOT_FOUND")
                .put("message", "Could not get some " + type + " objects, they may be deleted or not exist.");
        ArrayNode ids = error.putObject("context").putArray("ids");
        missing.forEach(ids::add);
        return Answer.json(207, answer);
    }

    /**
     * {@code GET /crm/v3/objects/<type>/<id>?properties=a,b}: the record with the properties asked for (those it has)
     * and {@code hs_object_id}; 404 when HubSpot holds no such record.
     */
    private Answer read(Request request) {
        String type = request.path().replaceAll(READ, "$1");
        String id = request.path().replaceAll(READ, "$2");
        ObjectNode record;
        synchronized (objects) {
            record = objects.getOrDefault(type, Map.of()).get(id);
            record = record == null ? null : record.deepCopy();
        }
        if (record == null) return error(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.");
        ObjectNode answer = JSON.createObjectNode().put("id", id);
        ObjectNode properties = answer.putObject("properties").put("hs_object_id", id);
        String wanted = request.queryParams().getOrDefault("properties", "");
        for (String p : wanted.split(",")) {
            if (!p.isBlank() && record.path("properties").has(p.strip())) {
                properties.set(p.strip(), record.path("properties").get(p.strip()));
            }
        }
        answer.put("createdAt", record.path("createdAt").asText()).put("updatedAt", record.path("updatedAt")
                .asText(record.path("createdAt").asText())).put("archived", false);
        return Answer.json(200, answer);
    }

    /**
     * {@code GET /crm/v3/objects/<type>?limit=&after=&properties=a,b&archived=false}, CRM v3's list: records in id
     * order, {@code limit} 1 to 100 (default 10; more is HubSpot's 400), each with {@code id}, the asked properties it
     * has (and {@code hs_object_id}), {@code createdAt}, {@code updatedAt}, {@code archived}; while more follow,
     * {@code paging.next.after} (the cursor to send as {@code after}) and {@code paging.next.link}.
     */
    private Answer list(Request request) {
        String type = request.path().replaceAll(LIST, "$1");
        Map<String, String> q = request.queryParams();
        int limit;
        try {
            limit = Integer.parseInt(q.getOrDefault("limit", "10"));
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > 100) {
            return error(400, "VALIDATION_ERROR", "limit must be between 1 and 100, not " + q.get("limit"));
        }
        long after;
        try {
            after = Long.parseLong(q.getOrDefault("after", "0"));
        } catch (NumberFormatException e) {
            return error(400, "VALIDATION_ERROR", "after is not a valid paging cursor: " + q.get("after"));
        }
        List<ObjectNode> all;
        synchronized (objects) {
            all = objects.getOrDefault(type, Map.of()).values().stream()
                    .filter(r -> Long.parseLong(r.path("id").asText()) > after)
                    .sorted(java.util.Comparator.comparingLong(r -> Long.parseLong(r.path("id").asText())))
                    .limit(limit + 1L).map(ObjectNode::deepCopy).toList();
        }
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode results = answer.putArray("results");
        String[] wanted = q.getOrDefault("properties", "").split(",");
        for (ObjectNode r : all.subList(0, Math.min(limit, all.size()))) {
            ObjectNode out = results.addObject().put("id", r.path("id").asText());
            ObjectNode properties = out.putObject("properties").put("hs_object_id", r.path("id").asText());
            for (String p : wanted) {
                if (!p.isBlank() && r.path("properties").has(p.strip())) properties.set(p.strip(), r.path("properties").get(p.strip()));
            }
            out.put("createdAt", r.path("createdAt").asText()).put("updatedAt", r.path("updatedAt")
                    .asText(r.path("createdAt").asText())).put("archived", false);
        }
        if (all.size() > limit) {
            String next = results.get(results.size() - 1).path("id").asText();
            answer.putObject("paging").putObject("next").put("after", next)
                    .put("link", url() + "/crm/v3/objects/" + type + "?limit=" + limit + "&after=" + next);
        }
        return Answer.json(200, answer);
    }

    /**
     * {@code POST /crm/v3/objects/<type>/search} with {@code filterGroups} of {@code EQ} filters (a group matches when
     * all its filters do, the search when any group does); answers {@code total} and {@code results} with the asked
     * {@code properties}. Unlike HubSpot, whose index follows writes by seconds, it finds a record at once.
     */
    private Answer search(Request request) throws IOException {
        String type = request.path().replaceAll(SEARCH, "$1");
        JsonNode body = request.json();
        List<ObjectNode> found = new ArrayList<>();
        synchronized (objects) {
            for (ObjectNode r : objects.getOrDefault(type, Map.of()).values()) {
                boolean any = false;
                for (JsonNode group : body.path("filterGroups")) {
                    boolean all = true;
                    for (JsonNode f : group.path("filters")) {
                        if (!"EQ".equals(f.path("operator").asText())) {
                            return error(400, "VALIDATION_ERROR", "the peer searches with EQ filters only");
                        }
                        all &= f.path("value").asText().equals(r.path("properties").path(f.path("propertyName").asText())
                                .asText(null));
                    }
                    any |= all;
                }
                if (any) found.add(r.deepCopy());
            }
        }
        ObjectNode answer = JSON.createObjectNode().put("total", found.size());
        ArrayNode results = answer.putArray("results");
        int limit = body.path("limit").asInt(10);
        for (ObjectNode r : found.subList(0, Math.min(limit, found.size()))) {
            ObjectNode out = results.addObject().put("id", r.path("id").asText());
            ObjectNode properties = out.putObject("properties").put("hs_object_id", r.path("id").asText());
            for (JsonNode p : body.path("properties")) {
                if (r.path("properties").has(p.asText())) properties.set(p.asText(), r.path("properties").get(p.asText()));
            }
            out.put("archived", false);
        }
        return Answer.json(200, answer);
    }

    /**
     * {@code POST /crm/v3/objects/tasks}: a task with its {@code properties} ({@code hs_timestamp} required) and
     * {@code associations} (each {@code to.id} with HubSpot-defined types 204 contact or 192 company, the record
     * existing); 201 with the task. Like HubSpot it takes no idempotency key: the same body twice makes two tasks.
     */
    private Answer createTask(Request request) throws IOException {
        JsonNode body = request.json();
        JsonNode properties = body == null ? null : body.path("properties");
        if (properties == null || !properties.isObject() || !properties.hasNonNull("hs_timestamp")) {
            return error(400, "VALIDATION_ERROR", "Property values were not valid: hs_timestamp is required");
        }
        String now = Instant.now().toString();
        synchronized (objects) {
            for (JsonNode a : body.path("associations")) {
                for (JsonNode t : a.path("types")) {
                    String to = TASK_ASSOCIATIONS.get(t.path("associationTypeId").asInt());
                    if (to == null || !"HUBSPOT_DEFINED".equals(t.path("associationCategory").asText())) {
                        return error(400, "VALIDATION_ERROR", "invalid association type " + t);
                    }
                    if (!objects.getOrDefault(to, Map.of()).containsKey(a.path("to").path("id").asText())) {
                        return error(400, "VALIDATION_ERROR", "association target " + to + " "
                                + a.path("to").path("id").asText() + " does not exist");
                    }
                }
            }
            ObjectNode task = JSON.createObjectNode().put("id", String.valueOf(ids.incrementAndGet()));
            ObjectNode p = task.putObject("properties");
            properties.fields().forEachRemaining(f -> p.put(f.getKey(), f.getValue().asText()));
            p.put("hs_object_id", task.path("id").asText());
            task.put("createdAt", now).put("updatedAt", now).put("archived", false);
            task.set("associations", body.path("associations").deepCopy());
            objects.computeIfAbsent("tasks", k -> new LinkedHashMap<>()).put(task.path("id").asText(), task);
            ObjectNode answer = task.deepCopy();
            answer.remove("associations");
            return Answer.json(201, answer);
        }
    }

    /**
     * A batch setting a property HubSpot keeps itself is refused as a whole, 400 VALIDATION_ERROR with HubSpot's
     * per-property detail ({@code READ_ONLY_VALUE}) in the message, as a portal answers it (shape as seen in HubSpot's
     * answers to such writes; HubSpot documents the category, not the text).
     */
    private Answer readOnly(JsonNode inputs) {
        for (JsonNode input : inputs) {
            var names = input.path("properties").fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                if (name.equals(OPT_OUT_ALL) || name.startsWith(OPT_OUT_ALL + "_")) {
                    ObjectNode detail = JSON.createObjectNode().put("isValid", false)
                            .put("message", "\"" + name + "\" is a read only property; its value cannot be set.")
                            .put("error", "READ_ONLY_VALUE").put("name", name);
                    return error(400, "VALIDATION_ERROR", "Property values were not valid: ["
                            + detail.toString() + "]");
                }
            }
        }
        return null;
    }

    /** A subscription type of the portal (Settings, Marketing, Email, Subscription types). */
    public HubSpotPeer subscriptionType(String id, String name) {
        synchronized (objects) {
            subscriptionTypes.put(id, name);
        }
        return this;
    }

    /**
     * {@code POST /communication-preferences/v3/subscribe|unsubscribe} with {@code emailAddress}, {@code subscriptionId}
     * and optionally {@code legalBasis} (one of HubSpot's) and {@code legalBasisExplanation}: the status set, answered
     * as a {@code PublicSubscriptionStatus}. Refused 400: an unknown subscription type, unsubscribing an address that is
     * not subscribed, subscribing one that unsubscribed from all e-mail (only the contact may undo that).
     */
    private Answer preference(Request request, boolean subscribe) {
        JsonNode body;
        try {
            body = request.json();
        } catch (IOException e) {
            return error(400, "VALIDATION_ERROR", "Invalid input JSON");
        }
        String email = body == null ? "" : body.path("emailAddress").asText("").strip();
        String type = body == null ? "" : body.path("subscriptionId").asText("");
        String basis = body == null ? null : body.path("legalBasis").asText(null);
        if (email.isEmpty() || type.isEmpty()) {
            return error(400, "VALIDATION_ERROR", "emailAddress and subscriptionId are required");
        }
        if (basis != null && !LEGAL_BASES.contains(basis)) {
            return error(400, "VALIDATION_ERROR", "legalBasis " + basis + " is not one of " + LEGAL_BASES);
        }
        synchronized (objects) {
            if (!subscriptionTypes.containsKey(type)) {
                return error(400, "VALIDATION_ERROR", "Subscription " + type + " does not exist in this portal");
            }
            String key = email.toLowerCase(java.util.Locale.ROOT);
            if (subscribe && optedOutOfAll.contains(key)) {
                return error(400, "VALIDATION_ERROR", email + " has unsubscribed from all email and cannot be "
                        + "resubscribed through the API");
            }
            boolean subscribed = isSubscribed(key, type);
            if (!subscribe && !subscribed) {
                return error(400, "VALIDATION_ERROR", email + " is already unsubscribed from subscription " + type);
            }
            ObjectNode status = setStatus(key, type, subscribe, "SUBSCRIPTION_STATUS", basis,
                    body.path("legalBasisExplanation").asText(null));
            return Answer.json(200, status.deepCopy());
        }
    }

    /** {@code {"recipient", "subscriptionStatuses"}}: every subscription type of the portal with the address's status. */
    private ObjectNode statuses(String email) {
        synchronized (objects) {
            String key = email.toLowerCase(java.util.Locale.ROOT);
            ObjectNode answer = JSON.createObjectNode().put("recipient", email);
            ArrayNode list = answer.putArray("subscriptionStatuses");
            for (String type : subscriptionTypes.keySet()) {
                ObjectNode s = subscriptions.getOrDefault(key, Map.of()).get(type);
                if (s == null) s = status(type, false, "SUBSCRIPTION_STATUS", null, null);
                s = s.deepCopy();
                if (optedOutOfAll.contains(key)) s.put("status", "NOT_SUBSCRIBED").put("sourceOfStatus", "PORTAL_WIDE_STATUS");
                list.add(s);
            }
            return answer;
        }
    }

    /** The contact's own choice on HubSpot's preferences page: one subscription type subscribed or not. */
    public void preferencesPage(String email, String type, boolean subscribed) {
        synchronized (objects) {
            if (!subscriptionTypes.containsKey(type)) throw new IllegalArgumentException("no subscription type " + type);
            String key = email.toLowerCase(java.util.Locale.ROOT);
            if (subscribed) {
                optedOutOfAll.remove(key); // a contact may resubscribe itself; HubSpot then clears the opt-out of all
                mirror(key, OPT_OUT_ALL, "false");
            }
            setStatus(key, type, subscribed, "SUBSCRIPTION_STATUS", "CONSENT_WITH_NOTICE", "Preferences page");
        }
    }

    /** The contact unsubscribes from all e-mail (HubSpot's {@code hs_email_optout} true, every type not subscribed). */
    public void unsubscribeFromAll(String email) {
        synchronized (objects) {
            String key = email.toLowerCase(java.util.Locale.ROOT);
            optedOutOfAll.add(key);
            for (String type : subscriptionTypes.keySet()) {
                setStatus(key, type, false, "PORTAL_WIDE_STATUS", null, null);
            }
            mirror(key, OPT_OUT_ALL, "true");
        }
    }

    /** The address's status of a subscription type as HubSpot would report it: SUBSCRIBED, NOT_SUBSCRIBED. */
    public String subscriptionStatus(String email, String type) {
        synchronized (objects) {
            for (JsonNode s : statuses(email).path("subscriptionStatuses")) {
                if (s.path("id").asText().equals(type)) return s.path("status").asText();
            }
            return null;
        }
    }

    private boolean isSubscribed(String key, String type) {
        ObjectNode s = subscriptions.getOrDefault(key, Map.of()).get(type);
        return !optedOutOfAll.contains(key) && s != null && "SUBSCRIBED".equals(s.path("status").asText());
    }

    private ObjectNode setStatus(String key, String type, boolean subscribed, String source, String basis,
                                 String explanation) {
        ObjectNode status = status(type, subscribed, source, basis, explanation);
        subscriptions.computeIfAbsent(key, k -> new HashMap<>()).put(type, status);
        mirror(key, OPT_OUT_ALL + "_" + type, String.valueOf(!subscribed));
        return status;
    }

    private ObjectNode status(String type, boolean subscribed, String source, String basis, String explanation) {
        ObjectNode s = JSON.createObjectNode().put("id", type).put("name", subscriptionTypes.get(type))
                .put("description", "").put("status", subscribed ? "SUBSCRIBED" : "NOT_SUBSCRIBED")
                .put("sourceOfStatus", source);
        if (basis != null) s.put("legalBasis", basis);
        if (explanation != null) s.put("legalBasisExplanation", explanation);
        return s;
    }

    /** HubSpot's contact properties following the statuses, on the contacts of the address. */
    private void mirror(String key, String property, String value) {
        String now = Instant.now().toString();
        for (ObjectNode r : objects.getOrDefault("contacts", Map.of()).values()) {
            if (key.equalsIgnoreCase(r.path("properties").path("email").asText(""))) {
                r.with("properties").put(property, value);
                r.put("updatedAt", now);
            }
        }
    }

    /** A record HubSpot holds already (made there by a person), with these properties; returns its id. */
    public String create(String objectType, Map<String, String> properties) {
        synchronized (objects) {
            ObjectNode record = JSON.createObjectNode().put("id", String.valueOf(ids.incrementAndGet()))
                    .put("createdAt", Instant.now().toString());
            ObjectNode p = record.putObject("properties");
            properties.forEach(p::put);
            objects.computeIfAbsent(objectType, t -> new LinkedHashMap<>()).put(record.path("id").asText(), record);
            return record.path("id").asText();
        }
    }

    /**
     * A person's edit of a record HubSpot holds (in HubSpot's UI): these properties set, {@code updatedAt} moved on.
     * HubSpot then sends a propertyChange webhook per property, which the caller sends (see HubSpotWebhookSender).
     */
    public void update(String objectType, String id, Map<String, String> properties) {
        synchronized (objects) {
            ObjectNode record = objects.getOrDefault(objectType, Map.of()).get(id);
            if (record == null) throw new IllegalArgumentException("no " + objectType + " record " + id);
            ObjectNode p = record.with("properties");
            properties.forEach(p::put);
            record.put("updatedAt", Instant.now().toString());
        }
    }

    private static ObjectNode find(Map<String, ObjectNode> store, String idProperty, String value) {
        if (idProperty.equals("hs_object_id")) return store.get(value);
        List<ObjectNode> matches = new ArrayList<>();
        for (ObjectNode r : store.values()) {
            if (value.equals(r.path("properties").path(idProperty).asText(null))) matches.add(r);
        }
        return matches.isEmpty() ? null : matches.get(0);
    }

    @Override
    protected Answer error(int status, String category, String message) {
        ObjectNode body = JSON.createObjectNode().put("status", "error").put("message", message)
                .put("correlationId", UUID.randomUUID().toString());
        body.put("category", category != null ? category : switch (status) {
            case 401 -> "INVALID_AUTHENTICATION";
            case 403 -> "MISSING_SCOPES";
            case 404 -> "OBJECT_NOT_FOUND";
            case 429 -> "RATE_LIMITS";
            default -> status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR";
        });
        return Answer.json(status, body);
    }

    @Override
    protected Answer overLimit() {
        ObjectNode body = JSON.createObjectNode().put("status", "error")
                .put("message", "You have reached your ten_secondly_rolling limit.").put("errorType", "RATE_LIMIT")
                .put("correlationId", UUID.randomUUID().toString()).put("policyName", "TEN_SECONDLY_ROLLING");
        return Answer.json(429, body);
    }

    @Override
    protected Map<String, String> windowHeaders(int max, int remaining, Duration interval, Duration resetIn) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("X-HubSpot-RateLimit-Max", String.valueOf(max));
        h.put("X-HubSpot-RateLimit-Remaining", String.valueOf(remaining));
        h.put("X-HubSpot-RateLimit-Interval-Milliseconds", String.valueOf(interval.toMillis()));
        if (!oauth) {
            long left = Math.max(0, dailyMax - dailyUsed.incrementAndGet());
            h.put("X-HubSpot-RateLimit-Daily", String.valueOf(dailyMax));
            h.put("X-HubSpot-RateLimit-Daily-Remaining", String.valueOf(left));
        }
        return h;
    }
}
