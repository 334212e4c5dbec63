package io.interchange.sandbox.salesforce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Salesforce org for the sandbox and tests, on loopback, with Account and Contact records and Change Data Capture
 * on both: the OAuth 2.0 client-credentials token endpoint ({@code POST /services/oauth2/token}), REST query and
 * queryAll ({@code GET /services/data/vNN.0/query/?q=}, {@link Soql}, paginated with {@code nextRecordsUrl}), sObject Collections upsert by
 * external id ({@code PATCH /services/data/vNN.0/composite/sobjects/{SObject}/{ExternalIdField}}, up to 200 records,
 * honouring {@code Sforce-Call-Options: client=<id>} and {@code allOrNone}, with per-record errors for a missing
 * external id value, a value matching several records and a create without the type's required field), and the Streaming API ({@link StreamingBus}) carrying a change
 * event for every change: the REST writes' (with {@code changeOrigin} {@code com/salesforce/api/rest/NN.0;client=<id>}),
 * and those a test makes as a user would ({@link #create}, {@link #update}, ...); as in Change Data Capture, an
 * event nests compound fields ({@code BillingAddress}, a contact's {@code Name}) and names their parts in
 * {@code changedFields} as {@code BillingAddress.City}, while REST and SOQL keep the flat component fields. Gap and overflow events, changes
 * that make no event (as database-level jobs do on Salesforce) and the loss of events past retention can be injected.
 */
public final class SalesforcePeer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SalesforcePeer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Salesforce's dateTime text in REST answers and change events. */
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final Pattern DATA_PATH = Pattern.compile("/services/data/v(\\d+\\.\\d)/(.*)");
    private static final Map<String, String> PREFIX = Map.of("Account", "001", "Contact", "003", "Task", "00T");
    /** Fields Salesforce maintains: not writable, not in change events (SystemModstamp, IsDeleted) or set by it. */
    private static final List<String> SYSTEM_FIELDS = List.of("Id", "CreatedDate", "CreatedById", "LastModifiedDate",
            "LastModifiedById", "SystemModstamp", "IsDeleted");
    /** Fields a record of the type cannot be created without (Account's Name, Contact's LastName). */
    private static final Map<String, String> REQUIRED = Map.of("Account", "Name", "Contact", "LastName");

    public final String clientId;
    private final String clientSecret;
    public final String orgId;
    public final String userId;
    private final Clock clock;
    private final HttpServer server;
    private final StreamingBus bus;
    private final Map<String, Map<String, Map<String, Object>>> records = new ConcurrentHashMap<>();
    private final Map<String, List<Map<String, Object>>> cursors = new ConcurrentHashMap<>();
    private final Map<String, Boolean> tokens = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong(1);
    private final AtomicLong commitNumbers = new AtomicLong(10_592_733_780_000L);
    private final List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<Write> writes = java.util.Collections.synchronizedList(new ArrayList<>());
    /** Per {@code <type>.<field>}, how many records an update by id through the API set it on. */
    private final Map<String, Long> fieldUpdates = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong tokensIssued = new AtomicLong();
    /** REST requests counted against the org's daily allowance, reported in {@code Sforce-Limit-Info}. */
    private final AtomicLong apiCalls = new AtomicLong();
    static final long API_LIMIT = 15_000;
    private volatile int pageSize = 2000;
    private volatile long latencyMinMillis;
    private volatile long latencyMaxMillis;

    public SalesforcePeer(int port, String clientId, String clientSecret) throws IOException {
        this(port, clientId, clientSecret, Clock.systemUTC());
    }

    public SalesforcePeer(int port, String clientId, String clientSecret, Clock clock) throws IOException {
        this(port, clientId, clientSecret, clock, 1);
    }

    /**
     * An org of its own number: its id ({@link #orgId}, 00D...) scopes its records in the runtime's cross-reference,
     * so an org of another number (the sandbox makes one per run) never meets the records of an earlier org, whose
     * record ids it repeats.
     */
    public SalesforcePeer(int port, String clientId, String clientSecret, Clock clock, long orgNumber)
            throws IOException {
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.clock = clock;
        this.orgId = sfid("00D", orgNumber);
        this.userId = sfid("005", 1);
        this.bus = new StreamingBus(JSON, clock);
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        // long-polls hold a thread each for up to the advised timeout
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "salesforce-peer");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/services/oauth2/", this::oauth);
        server.createContext("/services/data/", this::data);
        server.createContext("/cometd/", this::cometd);
        records.put("Account", new ConcurrentHashMap<>());
        records.put("Contact", new ConcurrentHashMap<>());
        // the account managers' tasks (Interchange_Key__c an External ID, Unique, as the loyalty task mapping needs)
        records.put("Task", new ConcurrentHashMap<>());
    }

    private final java.util.concurrent.atomic.AtomicInteger lostLeft = new java.util.concurrent.atomic.AtomicInteger();
    private volatile String lostMethod = "";
    private volatile Pattern lostPath = Pattern.compile("^$");

    /**
     * The next {@code n} REST data requests with this method whose path matches {@code pathRegex} are performed
     * (their effect is kept, their change events published) but get no answer: the connection is closed before the
     * status line, as when the network fails after Salesforce committed.
     */
    public void loseAnswerNext(int n, String method, String pathRegex) {
        lostMethod = method;
        lostPath = Pattern.compile(pathRegex);
        lostLeft.set(n);
    }

    private boolean lose(HttpExchange ex) {
        if (!lostMethod.equals(ex.getRequestMethod()) || !lostPath.matcher(ex.getRequestURI().getPath()).matches()) {
            return false;
        }
        return lostLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    }

    /**
     * Every REST data request (queries, sObject Collections writes) from now on is answered after a delay drawn
     * uniformly from {@code [min, max]}, as Salesforce answers over the internet (a benchmark's "realistic latency";
     * the peer on the loopback interface would otherwise answer at once). Log-ins and the streaming API are not
     * delayed. Zero min and max turn it off.
     */
    public SalesforcePeer latency(Duration min, Duration max) {
        if (min.isNegative() || max.compareTo(min) < 0) throw new IllegalArgumentException("latency needs 0 <= min <= max");
        latencyMinMillis = min.toMillis();
        latencyMaxMillis = max.toMillis();
        return this;
    }

    public SalesforcePeer start() {
        server.start();
        LOG.info("Salesforce peer listening on {}", url());
        return this;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    // ------------------------------------------------------------------------------------------------ test controls

    /** Events older than this are gone, as past Salesforce's 72 hours. */
    public void retention(Duration retention) {
        bus.retention(retention);
    }

    /** Every event published so far is gone from the event bus (their retention ran out). */
    public void expireEvents() {
        bus.expireAll();
    }

    /** How long a {@code /meta/connect} is held when no event is waiting. */
    public void holdMillis(long millis) {
        bus.holdMillis(millis);
    }

    /** Most records a query answers per page before {@code nextRecordsUrl}. */
    public void pageSize(int size) {
        this.pageSize = size;
    }

    /** Drops every streaming client, so each must handshake again. */
    public void dropStreamingClients() {
        bus.dropClients();
    }

    public int streamingClients() {
        return bus.clients();
    }

    /** The channels streaming clients are subscribed to, one entry per client and channel. */
    public List<String> subscriptions() {
        return bus.subscriptions();
    }

    public long lastReplayId() {
        return bus.lastReplayId();
    }

    /** Paths (and query) of the REST requests served, in order. */
    public List<String> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /**
     * One sObject Collections upsert as the peer received it: its path, the {@code Sforce-Call-Options} header (null
     * when absent), the body's {@code allOrNone} (null when absent), how many records it carried, and the status
     * answered.
     */
    public record Write(String path, String callOptions, Boolean allOrNone, int records, int status) {
    }

    /**
     * How many records the API's updates by id (sObject Collections {@code PATCH}) set the field on, successfully,
     * whatever the value (an integration's writes; a person's changes are not counted).
     */
    public long fieldUpdates(String type, String field) {
        return fieldUpdates.getOrDefault(type + "." + field, 0L);
    }

    /** The sObject Collections upserts received, in order. */
    public List<Write> writes() {
        synchronized (writes) {
            return List.copyOf(writes);
        }
    }

    /**
     * Every access token issued so far stops working, as when a session times out or is revoked: the next REST or
     * streaming request with one is answered 401 {@code INVALID_SESSION_ID}, and the client must fetch a new token.
     */
    public void expireTokens() {
        tokens.clear();
    }

    /** Access tokens the token endpoint has issued since start. */
    public long tokensIssued() {
        return tokensIssued.get();
    }

    /** Creates a record as a user in the UI would: one CREATE event without a changeOrigin client. */
    public String create(String type, Map<String, Object> fields) {
        synchronized (this) {
            Transaction tx = new Transaction("");
            String id = insert(tx, type, fields);
            tx.publish();
            return id;
        }
    }

    /** Sets the same values on several records in one transaction: one UPDATE event naming every record. */
    public void update(String type, List<String> ids, Map<String, Object> fields) {
        synchronized (this) {
            Transaction tx = new Transaction("");
            tx.merge = true;
            for (String id : ids) modify(tx, type, id, fields);
            tx.publish();
        }
    }

    public void update(String type, String id, Map<String, Object> fields) {
        update(type, List.of(id), fields);
    }

    public void delete(String type, String id) {
        synchronized (this) {
            Map<String, Object> r = record(type, id);
            Transaction tx = new Transaction("");
            r.put("IsDeleted", true);
            touch(r);
            tx.event(type, "DELETE", List.of(id), List.of(), Map.of());
            tx.publish();
        }
    }

    public void undelete(String type, String id) {
        synchronized (this) {
            Map<String, Object> r = record(type, id);
            Transaction tx = new Transaction("");
            r.put("IsDeleted", false);
            touch(r);
            tx.event(type, "UNDELETE", List.of(id), List.of(), visible(r));
            tx.publish();
        }
    }

    /** Changes a record without a change event, as archiving or clean-up jobs applied to the database do. */
    public void changeWithoutEvent(String type, String id, Map<String, Object> fields) {
        synchronized (this) {
            Map<String, Object> r = record(type, id);
            r.putAll(fields);
            touch(r);
        }
    }

    /**
     * Publishes a gap event ({@code GAP_CREATE}, {@code GAP_UPDATE}, {@code GAP_DELETE}, {@code GAP_UNDELETE} or
     * {@code GAP_OVERFLOW}): the header only, no field values; an overflow names no records.
     */
    public long gap(String type, String changeType, List<String> ids) {
        if (!changeType.startsWith("GAP_")) throw new IllegalArgumentException(changeType + " is not a gap event");
        synchronized (this) {
            Transaction tx = new Transaction("");
            tx.event(type, changeType, changeType.equals("GAP_OVERFLOW") ? List.of() : ids, List.of(), Map.of());
            return tx.publish();
        }
    }

    /** Publishes a change event payload exactly as given (a shape Salesforce does not document, for tests). */
    public long publishRaw(String entity, ObjectNode payload) {
        return bus.publish(entity, payload);
    }

    /** A copy of a record's fields, or null. */
    public Map<String, Object> get(String type, String id) {
        Map<String, Object> r = records.get(type).get(id);
        return r == null ? null : new LinkedHashMap<>(r);
    }

    public Collection<Map<String, Object>> all(String type) {
        List<Map<String, Object>> out = new ArrayList<>();
        records.get(type).values().forEach(r -> out.add(new LinkedHashMap<>(r)));
        return out;
    }

    // ------------------------------------------------------------------------------------------------ transactions

    /** One Salesforce transaction: its change events share a transaction key and are numbered in order. */
    private final class Transaction {
        final String origin;
        final String key = UUID.randomUUID().toString().replace("-", "").substring(0, 23);
        final long commitTimestamp = clock.millis();
        final long commitNumber = commitNumbers.addAndGet(17);
        final List<Object[]> pending = new ArrayList<>();
        boolean merge;

        Transaction(String origin) {
            this.origin = origin;
        }

        void event(String type, String changeType, List<String> ids, List<String> changed, Map<String, Object> values) {
            pending.add(new Object[]{type, changeType, new ArrayList<>(ids), changed, values});
        }

        long publish() {
            List<Object[]> events = pending;
            if (merge && events.size() > 1) {
                // the same change to several records of one type in one transaction: one event naming them all
                Object[] first = events.get(0);
                @SuppressWarnings("unchecked") List<String> all = (List<String>) first[2];
                for (int i = 1; i < events.size(); i++) {
                    @SuppressWarnings("unchecked") List<String> more = (List<String>) events.get(i)[2];
                    all.addAll(more);
                }
                events = List.<Object[]>of(first);
            }
            long last = -1;
            int seq = 1;
            for (Object[] e : events) {
                ObjectNode payload = JSON.createObjectNode();
                ObjectNode h = payload.putObject("ChangeEventHeader");
                h.put("entityName", (String) e[0]);
                ArrayNode recordIds = h.putArray("recordIds");
                @SuppressWarnings("unchecked") List<String> ids = (List<String>) e[2];
                ids.forEach(recordIds::add);
                h.put("changeType", (String) e[1]);
                h.put("changeOrigin", origin);
                h.put("transactionKey", key);
                h.put("sequenceNumber", seq++);
                h.put("commitTimestamp", commitTimestamp);
                h.put("commitNumber", commitNumber);
                h.put("commitUser", userId);
                ArrayNode changed = h.putArray("changedFields");
                @SuppressWarnings("unchecked") List<String> changedFields = (List<String>) e[3];
                changedFields.forEach(f -> changed.add(compoundPath(f)));
                h.putArray("diffFields");
                h.putArray("nulledFields");
                @SuppressWarnings("unchecked") Map<String, Object> values = (Map<String, Object>) e[4];
                compound(values).forEach((k, v) -> payload.set(k, JSON.valueToTree(v)));
                last = bus.publish((String) e[0], payload);
            }
            return last;
        }
    }

    private String insert(Transaction tx, String type, Map<String, Object> fields) {
        Map<String, Map<String, Object>> table = table(type);
        String id = sfid(PREFIX.get(type), ids.getAndIncrement());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("Id", id);
        r.putAll(fields);
        String now = DATE_TIME.format(Instant.ofEpochMilli(tx.commitTimestamp));
        r.put("CreatedDate", now);
        r.put("CreatedById", userId);
        r.put("LastModifiedDate", now);
        r.put("LastModifiedById", userId);
        r.put("SystemModstamp", now);
        r.put("IsDeleted", false);
        table.put(id, r);
        // a create event carries every field set, the system fields among them, but not SystemModstamp or IsDeleted
        tx.event(type, "CREATE", List.of(id), List.of(), visible(r));
        return id;
    }

    private void modify(Transaction tx, String type, String id, Map<String, Object> fields) {
        Map<String, Object> r = record(type, id);
        Map<String, Object> values = new LinkedHashMap<>();
        List<String> changed = new ArrayList<>();
        fields.forEach((k, v) -> {
            if (!Objects.equals(r.get(k), v)) {
                changed.add(k);
                if (v != null) values.put(k, v);
                r.put(k, v);
            }
        });
        String now = DATE_TIME.format(Instant.ofEpochMilli(tx.commitTimestamp));
        r.put("LastModifiedDate", now);
        r.put("LastModifiedById", userId);
        r.put("SystemModstamp", now);
        changed.add("LastModifiedDate");
        values.put("LastModifiedDate", now);
        tx.event(type, "UPDATE", List.of(id), changed, values);
    }

    private void touch(Map<String, Object> r) {
        String now = DATE_TIME.format(clock.instant());
        r.put("LastModifiedDate", now);
        r.put("SystemModstamp", now);
    }

    /** The compound fields change events nest, by prefix of their component fields (address parts, a contact's name). */
    private static final List<String> ADDRESS_PREFIXES = List.of("Billing", "Shipping", "Mailing", "Other");
    private static final List<String> ADDRESS_PARTS = List.of("Street", "City", "State", "PostalCode", "Country",
            "StateCode", "CountryCode", "Latitude", "Longitude", "GeocodeAccuracy");
    private static final List<String> NAME_PARTS = List.of("Salutation", "FirstName", "MiddleName", "LastName", "Suffix");

    /**
     * A component field's name in a change event's {@code changedFields}: its compound field and part
     * ({@code BillingCity} is {@code BillingAddress.City}, a contact's {@code FirstName} is {@code Name.FirstName}),
     * as Change Data Capture names them; REST and SOQL keep the flat names.
     */
    static String compoundPath(String field) {
        String[] c = compoundOf(field);
        return c == null ? field : c[0] + "." + c[1];
    }

    /** A change event's fields with compound fields nested ({@code BillingAddress: {City: ...}}), as CDC sends them. */
    static Map<String, Object> compound(Map<String, Object> values) {
        Map<String, Object> out = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            String[] c = compoundOf(k);
            if (c == null) {
                out.put(k, v);
            } else {
                @SuppressWarnings("unchecked") Map<String, Object> nested =
                        (Map<String, Object>) out.computeIfAbsent(c[0], x -> new LinkedHashMap<String, Object>());
                nested.put(c[1], v);
            }
        });
        return out;
    }

    private static String[] compoundOf(String field) {
        for (String prefix : ADDRESS_PREFIXES) {
            if (field.startsWith(prefix) && ADDRESS_PARTS.contains(field.substring(prefix.length()))) {
                return new String[]{prefix + "Address", field.substring(prefix.length())};
            }
        }
        // only contacts (and leads) have a compound Name; an account's Name is a plain field
        return NAME_PARTS.contains(field) ? new String[]{"Name", field} : null;
    }

    private static Map<String, Object> visible(Map<String, Object> r) {
        Map<String, Object> out = new LinkedHashMap<>(r);
        out.remove("Id");
        out.remove("SystemModstamp");
        out.remove("IsDeleted");
        out.values().removeIf(Objects::isNull);
        return out;
    }

    private Map<String, Map<String, Object>> table(String type) {
        Map<String, Map<String, Object>> table = records.get(type);
        if (table == null) throw new IllegalArgumentException("the peer has no object " + type);
        return table;
    }

    private Map<String, Object> record(String type, String id) {
        Map<String, Object> r = table(type).get(id);
        if (r == null) throw new IllegalArgumentException("no " + type + " " + id);
        return r;
    }

    // ------------------------------------------------------------------------------------------------ HTTP

    private void oauth(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (path.equals("/services/oauth2/revoke")) {
                send(ex, 200, null);
                return;
            }
            if (!path.equals("/services/oauth2/token") || !ex.getRequestMethod().equals("POST")) {
                send(ex, 404, JSON.createObjectNode().put("error", "not_found"));
                return;
            }
            Map<String, String> form = form(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            if (!"client_credentials".equals(form.get("grant_type"))) {
                send(ex, 400, JSON.createObjectNode().put("error", "unsupported_grant_type")
                        .put("error_description", "grant type not supported"));
                return;
            }
            if (!clientId.equals(form.get("client_id")) || !clientSecret.equals(form.get("client_secret"))) {
                send(ex, 400, JSON.createObjectNode().put("error", "invalid_client")
                        .put("error_description", "invalid client credentials"));
                return;
            }
            String token = orgId + "!" + UUID.randomUUID().toString().replace("-", "");
            tokens.put(token, true);
            tokensIssued.incrementAndGet();
            ObjectNode r = JSON.createObjectNode();
            r.put("access_token", token);
            r.put("signature", "peer");
            r.put("scope", "api");
            r.put("instance_url", url());
            r.put("id", url() + "/id/" + orgId + "/" + userId);
            r.put("token_type", "Bearer");
            r.put("issued_at", String.valueOf(clock.millis()));
            send(ex, 200, r);
        } catch (RuntimeException e) {
            LOG.warn("Salesforce peer: {}", e.toString());
        }
    }

    private boolean authorised(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null) return false;
        String token = auth.replaceFirst("^(OAuth|Bearer) ", "");
        return tokens.containsKey(token);
    }

    private void data(HttpExchange ex) throws IOException {
        try (ex) {
            long lo = latencyMinMillis;
            long hi = latencyMaxMillis;
            if (hi > 0) {
                try {
                    Thread.sleep(lo == hi ? lo : java.util.concurrent.ThreadLocalRandom.current().nextLong(lo, hi + 1));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            String path = ex.getRequestURI().getPath();
            String query = ex.getRequestURI().getRawQuery();
            requests.add(ex.getRequestMethod() + " " + path + (query == null ? "" : "?" + query));
            // as Salesforce reports the org's API use on every REST answer
            ex.getResponseHeaders().set("Sforce-Limit-Info", "api-usage=" + apiCalls.incrementAndGet() + "/" + API_LIMIT);
            if (!authorised(ex)) {
                send(ex, 401, error("INVALID_SESSION_ID", "Session expired or invalid"));
                return;
            }
            Matcher m = DATA_PATH.matcher(path);
            if (!m.matches()) {
                send(ex, 404, error("NOT_FOUND", "The requested resource does not exist"));
                return;
            }
            String version = m.group(1);
            String rest = m.group(2);
            if (ex.getRequestMethod().equals("GET") && (rest.equals("query/") || rest.equals("queryAll/"))) {
                String q = form(query == null ? "" : query).get("q");
                query(ex, version, q, rest.equals("queryAll/"));
            } else if (ex.getRequestMethod().equals("GET") && rest.startsWith("query/")) {
                more(ex, version, rest.substring("query/".length()));
            } else if (ex.getRequestMethod().equals("PATCH") && rest.equals("composite/sobjects")) {
                updateById(ex, version);
            } else if (ex.getRequestMethod().equals("PATCH") && rest.startsWith("composite/sobjects/")) {
                String[] parts = rest.substring("composite/sobjects/".length()).split("/");
                if (parts.length != 2) {
                    send(ex, 404, error("NOT_FOUND", "The requested resource does not exist"));
                    return;
                }
                upsert(ex, version, parts[0], parts[1]);
            } else {
                send(ex, 404, error("NOT_FOUND", "The requested resource does not exist"));
            }
        } catch (RuntimeException e) {
            LOG.warn("Salesforce peer: {}", e.toString(), e);
        }
    }

    private void query(HttpExchange ex, String version, String q, boolean all) throws IOException {
        Soql soql;
        try {
            soql = Soql.parse(q == null ? "" : q);
        } catch (Soql.Malformed e) {
            send(ex, 400, error("MALFORMED_QUERY", e.getMessage()));
            return;
        }
        if (!records.containsKey(soql.object)) {
            send(ex, 400, error("INVALID_TYPE", "sObject type '" + soql.object + "' is not supported."));
            return;
        }
        List<Map<String, Object>> rows;
        synchronized (this) {
            List<Map<String, Object>> live = new ArrayList<>();
            // query leaves deleted records out, queryAll keeps them (IsDeleted true)
            for (Map<String, Object> r : records.get(soql.object).values()) {
                if (all || !Boolean.TRUE.equals(r.get("IsDeleted"))) live.add(r);
            }
            rows = new ArrayList<>();
            for (Map<String, Object> r : soql.run(live)) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("attributes", Map.of("type", soql.object,
                        "url", "/services/data/v" + version + "/sobjects/" + soql.object + "/" + r.get("Id")));
                for (String f : soql.fields) {
                    row.put(f, r.get(f));
                }
                rows.add(row);
            }
        }
        String locator = "01g" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        cursors.put(locator, rows);
        page(ex, version, locator, 0);
    }

    private void more(HttpExchange ex, String version, String cursor) throws IOException {
        int dash = cursor.lastIndexOf('-');
        List<Map<String, Object>> rows = dash < 0 ? null : cursors.get(cursor.substring(0, dash));
        if (rows == null) {
            send(ex, 400, error("INVALID_QUERY_LOCATOR", "invalid query locator"));
            return;
        }
        page(ex, version, cursor.substring(0, dash), Integer.parseInt(cursor.substring(dash + 1)));
    }

    private void page(HttpExchange ex, String version, String locator, int from) throws IOException {
        List<Map<String, Object>> rows = cursors.get(locator);
        int to = Math.min(rows.size(), from + pageSize);
        ObjectNode r = JSON.createObjectNode();
        r.put("totalSize", rows.size());
        r.put("done", to >= rows.size());
        if (to < rows.size()) r.put("nextRecordsUrl", "/services/data/v" + version + "/query/" + locator + "-" + to);
        else cursors.remove(locator);
        r.set("records", JSON.valueToTree(rows.subList(from, to)));
        send(ex, 200, r);
    }

    private void upsert(HttpExchange ex, String version, String type, String externalIdField) throws IOException {
        String callOptions = ex.getRequestHeaders().getFirst("Sforce-Call-Options");
        String path = ex.getRequestURI().getPath();
        if (!records.containsKey(type)) {
            writes.add(new Write(path, callOptions, null, 0, 404));
            send(ex, 404, error("NOT_FOUND", "The requested resource does not exist"));
            return;
        }
        JsonNode body;
        try {
            body = JSON.readTree(ex.getRequestBody());
        } catch (IOException e) {
            writes.add(new Write(path, callOptions, null, 0, 400));
            send(ex, 400, error("JSON_PARSER_ERROR", "Unexpected character: " + e.getMessage()));
            return;
        }
        JsonNode list = body.path("records");
        Boolean allOrNone = body.path("allOrNone").isBoolean() ? body.get("allOrNone").asBoolean() : null;
        int count = list.isArray() ? list.size() : 0;
        if (!list.isArray() || list.isEmpty()) {
            writes.add(new Write(path, callOptions, allOrNone, count, 400));
            send(ex, 400, error("INVALID_FIELD", "No records to process"));
            return;
        }
        if (list.size() > 200) {
            writes.add(new Write(path, callOptions, allOrNone, count, 400));
            send(ex, 400, error("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into "
                    + "this call"));
            return;
        }
        writes.add(new Write(path, callOptions, allOrNone, count, 200));
        String client = callOptionsClient(callOptions);
        String origin = "com/salesforce/api/rest/" + version + (client == null ? "" : ";client=" + client);
        ArrayNode results = JSON.createArrayNode();
        synchronized (this) {
            Transaction tx = new Transaction(origin);
            Map<String, Map<String, Object>> table = records.get(type);
            // allOrNone (default false): a failed record rolls back the others, so keep what the table held before
            Map<String, Map<String, Object>> before = new LinkedHashMap<>();
            if (Boolean.TRUE.equals(allOrNone)) table.forEach((id, r) -> before.put(id, new LinkedHashMap<>(r)));
            boolean failed = false;
            for (JsonNode rec : list) {
                ObjectNode result = results.addObject();
                JsonNode ext = rec.path(externalIdField);
                if (!ext.isTextual() || ext.asText().isEmpty()) {
                    failed = fail(result, "MISSING_ARGUMENT", externalIdField + " not specified");
                    continue;
                }
                Map<String, Object> fields = new LinkedHashMap<>();
                rec.fields().forEachRemaining(f -> {
                    if (!f.getKey().equals("attributes") && !SYSTEM_FIELDS.contains(f.getKey())) {
                        fields.put(f.getKey(), JSON.convertValue(f.getValue(), Object.class));
                    }
                });
                List<String> matches = new ArrayList<>();
                for (Map<String, Object> r : table.values()) {
                    if (ext.asText().equals(r.get(externalIdField)) && !Boolean.TRUE.equals(r.get("IsDeleted"))) {
                        matches.add((String) r.get("Id"));
                    }
                }
                if (matches.size() > 1) {
                    failed = fail(result, "DUPLICATE_EXTERNAL_ID",
                            "Provided external ID field value matches multiple records", externalIdField);
                    continue;
                }
                String id;
                boolean created = matches.isEmpty();
                String required = REQUIRED.get(type);
                if (created && required != null && (fields.get(required) == null || "".equals(fields.get(required)))) {
                    failed = fail(result, "REQUIRED_FIELD_MISSING", "Required fields are missing: [" + required + "]",
                            required);
                    continue;
                }
                if (created) {
                    id = insert(tx, type, fields);
                } else {
                    id = matches.get(0);
                    modify(tx, type, id, fields);
                }
                result.put("id", id);
                result.put("success", true);
                result.putArray("errors");
                result.put("created", created);
            }
            if (failed && Boolean.TRUE.equals(allOrNone)) {
                // nothing is written and no event published; the records that would have been written say why
                table.clear();
                table.putAll(before);
                for (JsonNode r : results) {
                    if (r.path("success").asBoolean()) {
                        ObjectNode o = (ObjectNode) r;
                        o.remove("created");
                        fail(o, "ALL_OR_NONE_OPERATION_ROLLED_BACK", "rolled back: another record of this "
                                + "request failed and allOrNone was true");
                    }
                }
            } else {
                tx.publish();
            }
        }
        if (lose(ex)) {
            LOG.info("Salesforce peer performed {} and drops its answer", path);
            return; // closed without a status line
        }
        send(ex, 200, results);
    }

    /**
     * sObject Collections update: up to 200 records, each with its type in {@code attributes} and its {@code id};
     * answered with a SaveResult per record (a record that does not exist fails on its own, allOrNone false).
     */
    private void updateById(HttpExchange ex, String version) throws IOException {
        String callOptions = ex.getRequestHeaders().getFirst("Sforce-Call-Options");
        JsonNode body;
        try {
            body = JSON.readTree(ex.getRequestBody());
        } catch (IOException e) {
            send(ex, 400, error("JSON_PARSER_ERROR", "Unexpected character: " + e.getMessage()));
            return;
        }
        JsonNode list = body.path("records");
        int count = list.isArray() ? list.size() : 0;
        writes.add(new Write(ex.getRequestURI().getPath(), callOptions, body.path("allOrNone").isBoolean()
                ? body.get("allOrNone").asBoolean() : null, count, count == 0 || count > 200 ? 400 : 200));
        if (count == 0) {
            send(ex, 400, error("INVALID_FIELD", "No records to process"));
            return;
        }
        if (count > 200) {
            send(ex, 400, error("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into "
                    + "this call"));
            return;
        }
        String client = callOptionsClient(callOptions);
        String origin = "com/salesforce/api/rest/" + version + (client == null ? "" : ";client=" + client);
        ArrayNode results = JSON.createArrayNode();
        synchronized (this) {
            Transaction tx = new Transaction(origin);
            for (JsonNode rec : list) {
                ObjectNode result = results.addObject();
                String type = rec.path("attributes").path("type").asText("");
                String id = rec.hasNonNull("id") ? rec.path("id").asText() : rec.path("Id").asText("");
                Map<String, Map<String, Object>> table = records.get(type);
                Map<String, Object> existing = table == null ? null : table.get(id);
                if (existing == null || Boolean.TRUE.equals(existing.get("IsDeleted"))) {
                    fail(result, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id");
                    continue;
                }
                Map<String, Object> fields = new LinkedHashMap<>();
                rec.fields().forEachRemaining(f -> {
                    if (!f.getKey().equals("attributes") && !f.getKey().equalsIgnoreCase("id")
                            && !SYSTEM_FIELDS.contains(f.getKey())) {
                        fields.put(f.getKey(), JSON.convertValue(f.getValue(), Object.class));
                    }
                });
                modify(tx, type, id, fields);
                fields.keySet().forEach(f -> fieldUpdates.merge(type + "." + f, 1L, Long::sum));
                result.put("id", id);
                result.put("success", true);
                result.putArray("errors");
            }
            tx.publish();
        }
        send(ex, 200, results);
    }

    /** Makes {@code result} a failed UpsertResult with one error; always true. */
    private static boolean fail(ObjectNode result, String statusCode, String message, String... fields) {
        result.putNull("id");
        result.put("success", false);
        ArrayNode f = result.putArray("errors").addObject().put("statusCode", statusCode).put("message", message)
                .putArray("fields");
        for (String field : fields) f.add(field);
        return true;
    }

    /** The {@code client} of {@code Sforce-Call-Options: client=<id>[, defaultNamespace=<ns>]}, or null. */
    static String callOptionsClient(String header) {
        if (header == null) return null;
        for (String part : header.split("[,;]")) {
            String p = part.strip();
            if (p.startsWith("client=")) return p.substring("client=".length());
        }
        return null;
    }

    private void cometd(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("POST")) {
                send(ex, 405, null);
                return;
            }
            JsonNode request = JSON.readTree(ex.getRequestBody());
            if (!authorised(ex)) {
                // as Salesforce answers a handshake or connect without a valid session
                ArrayNode out = JSON.createArrayNode();
                for (JsonNode m : request.isArray() ? request : JSON.createArrayNode().add(request)) {
                    ObjectNode r = out.addObject();
                    r.put("channel", m.path("channel").asText());
                    if (m.has("id")) r.set("id", m.get("id"));
                    r.put("successful", false);
                    r.put("error", "403::Handshake denied");
                    r.putObject("ext").putObject("sfdc").put("failureReason", "401::Authentication invalid");
                    r.putObject("advice").put("reconnect", "none");
                }
                send(ex, 200, out);
                return;
            }
            send(ex, 200, bus.handle(request));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("Salesforce peer (streaming): {}", e.toString(), e);
        }
    }

    private static ArrayNode error(String code, String message) {
        ArrayNode a = JSON.createArrayNode();
        a.addObject().put("message", message).put("errorCode", code);
        return a;
    }

    private static Map<String, String> form(String body) {
        Map<String, String> out = new HashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        if (body == null) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json;charset=UTF-8");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    /** An 18-character Salesforce id: key prefix, a number, and the case-folding suffix Salesforce appends. */
    static String sfid(String prefix, long n) {
        String id15 = prefix + "5g" + String.format("%010d", n);
        StringBuilder suffix = new StringBuilder();
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
        for (int chunk = 0; chunk < 3; chunk++) {
            int bits = 0;
            for (int i = 0; i < 5; i++) {
                char c = id15.charAt(chunk * 5 + i);
                if (c >= 'A' && c <= 'Z') bits |= 1 << i;
            }
            suffix.append(alphabet.charAt(bits));
        }
        return id15 + suffix;
    }

    @Override
    public void close() {
        bus.dropClients();
        server.stop(0);
    }
}
