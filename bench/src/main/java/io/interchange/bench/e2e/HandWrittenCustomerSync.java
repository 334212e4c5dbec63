package io.interchange.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.interchange.connectors.erp.LegacyCustomers;
import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.connectors.erp.SoapSupport;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Customer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * Baseline (b) of the customer sync: no framework, one plain {@link KafkaConsumer} loop on the customer topic doing the
 * same writes as the runtime's {@code customer-sync}, batched as the targets allow and in parallel where they do not:
 * per poll (up to 500 changes), the new accounts get a global id (one JDBC transaction for the poll), then every
 * Stripe customer (one request: created with all its fields under an idempotency key) and loyalty customer and member
 * (two requests: the customer upserted by {@code source_id}, then the member) go out at once, at most
 * {@code parallel} requests in flight per API; S/4HANA's partners in {@code BusinessPartnerSUITEBulkReplicateRequest}s
 * of up to 100 (bodies built by the runtime's {@link S4BusinessPartners}, the partner UUID derived from the global id
 * as the runtime derives it), the legacy ERP's customers (GB01) one synchronous {@code UpsertCustomer} each (the
 * runtime's {@link LegacyCustomers}: the service takes one). S/4HANA's confirmations come to this process's HTTP
 * endpoint; a customer whose three ids are known goes to one writer thread that writes them back to Salesforce by
 * sObject Collections update, up to 200 records per request, with the runtime's call options (its echo tag). An edit
 * updates the Stripe customer, upserts the loyalty customer and sends the ERP record again, in the same batches.
 *
 * <p>State is a table of links (account id, global id, billing id, loyalty ids, ERP number, the account's fields),
 * loaded at start and written per poll, so a later phase (a new process) finds the customers of an earlier one. Like
 * the other baselines it measures the happy path: no retries, no identity rules beyond the account id, no field
 * ownership, no read-before-create (the link table is the only writer's memory), no dead letters.
 *
 * <p>Arguments: {@code <jdbcUrl> <bootstrap> <topic> <group> <httpPort> <salesforceUrl> <stripeUrl> <loyaltyUrl>
 * <s4PartnerUrl> <legacyCustomerUrl> <parallel>}.
 */
public final class HandWrittenCustomerSync {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SF_BATCH = 200;

    /** One customer as this baseline remembers it. */
    private static final class State {
        final String recordId;
        final String globalId;
        volatile ObjectNode fields;
        volatile String billingId;
        volatile String loyaltyCustomerId;
        volatile String loyaltyMemberId;
        volatile String erpNumber;
        volatile boolean writtenBack;

        State(String recordId, String globalId, ObjectNode fields) {
            this.recordId = recordId;
            this.globalId = globalId;
            this.fields = fields;
        }

        synchronized boolean readyToWriteBack() {
            if (writtenBack || billingId == null || loyaltyMemberId == null || erpNumber == null) return false;
            writtenBack = true;
            return true;
        }
    }

    private final Map<String, State> byRecord = new ConcurrentHashMap<>();
    private final Map<String, State> byPartnerUuid = new ConcurrentHashMap<>();
    private final BlockingQueue<State> writeBacks = new LinkedBlockingQueue<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final LegalEntityTable entities = LegalEntityTable.load(MappingSource.bundled());
    private final S4BusinessPartners partners;
    private final LegacyCustomers legacyCustomers;
    private final String[] a;
    private final Semaphore stripeSlots;
    private final Semaphore loyaltySlots;
    private final Semaphore erpSlots;
    private final String erpAuthorization = "Basic " + Base64.getEncoder().encodeToString(
            (CustomerPeers.ERP_USER + ":" + CustomerPeers.ERP_PASSWORD).getBytes(StandardCharsets.UTF_8));
    private volatile String sfToken;

    private HandWrittenCustomerSync(String[] args) {
        this.a = args;
        MappingEngine mappings = MappingEngine.load(MappingSource.bundled());
        partners = new S4BusinessPartners(mappings, "INTERCHNG", null, Clock.systemUTC());
        legacyCustomers = new LegacyCustomers(mappings);
        int parallel = Integer.parseInt(args[10]);
        stripeSlots = new Semaphore(parallel);
        loyaltySlots = new Semaphore(parallel);
        erpSlots = new Semaphore(parallel);
    }

    public static void main(String[] args) throws Exception {
        new HandWrittenCustomerSync(args).run();
    }

    private void run() throws Exception {
        String jdbcUrl = a[0];
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS bench_customer (record_id VARCHAR(40) PRIMARY KEY, "
                    + "global_id VARCHAR(40) NOT NULL, fields TEXT NOT NULL, billing_id VARCHAR(60), "
                    + "loyalty_customer_id VARCHAR(60), loyalty_member_id VARCHAR(60), erp_number VARCHAR(40), "
                    + "written_back BOOLEAN NOT NULL DEFAULT false)");
            try (ResultSet rs = c.createStatement().executeQuery("SELECT record_id, global_id, fields, billing_id, "
                    + "loyalty_customer_id, loyalty_member_id, erp_number, written_back FROM bench_customer")) {
                while (rs.next()) {
                    State s = new State(rs.getString(1), rs.getString(2), (ObjectNode) JSON.readTree(rs.getString(3)));
                    s.billingId = rs.getString(4);
                    s.loyaltyCustomerId = rs.getString(5);
                    s.loyaltyMemberId = rs.getString(6);
                    s.erpNumber = rs.getString(7);
                    // an earlier phase counted a customer done once its ids were written back; a confirmation that
                    // came after that phase's last poll did not reach the table, so its billing and loyalty ids say it
                    s.writtenBack = rs.getBoolean(8) || s.billingId != null && s.loyaltyMemberId != null;
                    byRecord.put(s.recordId, s);
                    byPartnerUuid.put(S4BusinessPartners.partnerUuid(s.globalId), s);
                }
            }
        }
        sfToken = salesforceToken();
        confirmations(Integer.parseInt(a[4]));
        Thread writer = new Thread(this::writeBackLoop, "salesforce-writer");
        writer.setDaemon(true);
        writer.start();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, a[1]);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, a[3]);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
            c.setAutoCommit(false);
            consumer.subscribe(List.of(a[2]));
            System.out.println("READY");
            while (true) {
                var records = consumer.poll(Duration.ofMillis(100));
                if (records.isEmpty()) continue;
                List<JsonNode> changes = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : records) changes.add(JSON.readTree(r.value()));
                poll(c, changes);
                consumer.commitSync();
            }
        }
    }

    /** One poll's changes: new accounts get a global id, then every target's writes of the poll go out together. */
    private void poll(Connection c, List<JsonNode> changes) throws Exception {
        List<State> created = new ArrayList<>();
        List<State> edited = new ArrayList<>();
        for (JsonNode change : changes) {
            String recordId = change.path("objectId").asText();
            ObjectNode values = (ObjectNode) change.path("values");
            State s = byRecord.get(recordId);
            if (s == null) {
                if (!"created".equals(change.path("change").asText())) continue; // an edit of an unknown record
                s = new State(recordId, UUID.randomUUID().toString(), values.deepCopy());
                byRecord.put(recordId, s);
                byPartnerUuid.put(S4BusinessPartners.partnerUuid(s.globalId), s);
                created.add(s);
            } else {
                ObjectNode merged = s.fields.deepCopy();
                merged.setAll(values);
                s.fields = merged;
                edited.add(s);
            }
        }
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO bench_customer (record_id, global_id, fields) "
                + "VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (State s : created) {
                insert.setString(1, s.recordId);
                insert.setString(2, s.globalId);
                insert.setString(3, s.fields.toString());
                insert.addBatch();
            }
            if (!created.isEmpty()) insert.executeBatch();
            c.commit();
        }
        List<CompletableFuture<?>> calls = new ArrayList<>();
        List<S4BusinessPartners.PartnerRequest> s4 = new ArrayList<>();
        for (State s : created) {
            calls.add(createBilling(s));
            calls.add(createLoyalty(s));
            LegalEntity e = entity(s);
            if (e.erpTargetOn(LocalDate.now()).equals(LegalEntity.S4HANA)) s4.add(partner(s, e));
            else calls.add(upsertLegacy(s, e));
        }
        for (State s : edited) {
            calls.add(updateBilling(s));
            calls.add(upsertLoyaltyCustomer(s).thenApply(id -> null));
            LegalEntity e = entity(s);
            if (e.erpTargetOn(LocalDate.now()).equals(LegalEntity.S4HANA)) s4.add(partner(s, e));
            else calls.add(upsertLegacy(s, e));
        }
        for (int from = 0; from < s4.size(); from += S4BusinessPartners.MAX_BULK) {
            calls.add(replicate(s4.subList(from, Math.min(s4.size(), from + S4BusinessPartners.MAX_BULK))));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
        try (PreparedStatement update = c.prepareStatement("UPDATE bench_customer SET fields = ?, billing_id = ?, "
                + "loyalty_customer_id = ?, loyalty_member_id = ?, erp_number = COALESCE(erp_number, ?) WHERE record_id = ?")) {
            for (List<State> group : List.of(created, edited)) {
                for (State s : group) {
                    update.setString(1, s.fields.toString());
                    update.setString(2, s.billingId);
                    update.setString(3, s.loyaltyCustomerId);
                    update.setString(4, s.loyaltyMemberId);
                    update.setString(5, s.erpNumber);
                    update.setString(6, s.recordId);
                    update.addBatch();
                }
            }
            update.executeBatch();
            c.commit();
        }
        for (State s : created) if (s.readyToWriteBack()) writeBacks.add(s);
    }

    private LegalEntity entity(State s) {
        String id = s.fields.path("Legal_Entity__c").asText();
        return entities.find(id).orElseThrow(() -> new IllegalStateException("unknown legal entity " + id));
    }

    /** The canonical customer of the account's fields (as the runtime's Salesforce field mapping reads them). */
    private static Customer customer(State s) {
        JsonNode f = s.fields;
        return new Customer(s.globalId, "organisation", null, null, text(f, "Name"), null, text(f, "Phone"),
                new Customer.PostalAddress(text(f, "BillingStreet"), null, text(f, "BillingPostalCode"),
                        text(f, "BillingCity"), null, text(f, "BillingCountry")), text(f, "Tax_Id__c"), null);
    }

    private static String text(JsonNode f, String name) {
        JsonNode v = f.get(name);
        return v == null || v.isNull() ? null : v.asText();
    }

    // ---- Stripe: one request per customer, many in flight

    private static String form(Map<String, String> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> {
            if (v == null) return;
            if (sb.length() > 0) sb.append('&');
            sb.append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
        });
        return sb.toString();
    }

    private CompletableFuture<Void> createBilling(State s) {
        Customer c = customer(s);
        Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("name", c.companyName());
        p.put("phone", c.phone());
        p.put("address[line1]", c.billingAddress().street());
        p.put("address[postal_code]", c.billingAddress().postalCode());
        p.put("address[city]", c.billingAddress().city());
        p.put("address[country]", c.billingAddress().country());
        p.put("metadata[global_customer_id]", s.globalId);
        return stripe("/v1/customers", form(p), "customer-create-" + s.globalId)
                .thenAccept(answer -> s.billingId = answer.path("id").asText());
    }

    private CompletableFuture<Void> updateBilling(State s) {
        return stripe("/v1/customers/" + s.billingId, form(Map.of("phone", text(s.fields, "Phone"))), null)
                .thenAccept(answer -> { });
    }

    private CompletableFuture<JsonNode> stripe(String path, String body, String idempotencyKey) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(a[6] + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + CustomerPeers.STRIPE_KEY)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (idempotencyKey != null) b.header("Idempotency-Key", idempotencyKey);
        return call(stripeSlots, b.build());
    }

    // ---- loyalty: the customer upserted by source_id, then its member; many in flight

    private CompletableFuture<Void> createLoyalty(State s) {
        return upsertLoyaltyCustomer(s).thenCompose(customerId -> {
            ObjectNode body = JSON.createObjectNode();
            body.putObject("customer").put("id", customerId).put("source_id", s.globalId);
            body.putObject("metadata").put("global_customer_id", s.globalId);
            return loyalty("/v1/loyalties/" + CustomerPeers.PROGRAM + "/members", body);
        }).thenAccept(card -> s.loyaltyMemberId = card.path("code").asText());
    }

    private CompletableFuture<String> upsertLoyaltyCustomer(State s) {
        Customer c = customer(s);
        ObjectNode body = JSON.createObjectNode();
        body.put("source_id", s.globalId);
        body.put("name", c.companyName());
        body.put("phone", c.phone());
        ObjectNode address = body.putObject("address");
        address.put("line_1", c.billingAddress().street());
        address.put("postal_code", c.billingAddress().postalCode());
        address.put("city", c.billingAddress().city());
        address.put("country", c.billingAddress().country());
        body.putObject("metadata").put("global_customer_id", s.globalId);
        return loyalty("/v1/customers", body).thenApply(answer -> {
            s.loyaltyCustomerId = answer.path("id").asText();
            return s.loyaltyCustomerId;
        });
    }

    private CompletableFuture<JsonNode> loyalty(String path, ObjectNode body) {
        return call(loyaltySlots, HttpRequest.newBuilder(URI.create(a[7] + path)).timeout(Duration.ofSeconds(30))
                .header("X-App-Id", CustomerPeers.LOYALTY_APP).header("X-App-Token", CustomerPeers.LOYALTY_TOKEN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build());
    }

    /** A JSON API call with a slot of the API's in-flight limit; a non-2xx answer fails the poll (no retries here). */
    private CompletableFuture<JsonNode> call(Semaphore slots, HttpRequest request) {
        slots.acquireUninterruptibly();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((r, e) -> slots.release())
                .thenApply(r -> {
                    if (r.statusCode() / 100 != 2) {
                        throw new IllegalStateException(request.uri() + " answered " + r.statusCode() + ": "
                                + new String(r.body(), StandardCharsets.UTF_8));
                    }
                    try {
                        return JSON.readTree(r.body());
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    // ---- ERPs: S/4HANA in bulk requests of up to 100 (numbers come with the confirmation), legacy one by one

    private static S4BusinessPartners.PartnerRequest partner(State s, LegalEntity e) {
        return new S4BusinessPartners.PartnerRequest(customer(s), e.id(), e.companyCode());
    }

    private CompletableFuture<Void> replicate(List<S4BusinessPartners.PartnerRequest> batch) {
        String body = partners.request(batch);
        erpSlots.acquireUninterruptibly();
        return http.sendAsync(HttpRequest.newBuilder(URI.create(a[8])).timeout(Duration.ofSeconds(30))
                        .header("Content-Type", SoapSupport.CONTENT_TYPE).header("Authorization", erpAuthorization)
                        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofByteArray()).whenComplete((r, e) -> erpSlots.release())
                .thenAccept(r -> S4BusinessPartners.readAcceptance(r.statusCode(), r.body()));
    }

    private CompletableFuture<Void> upsertLegacy(State s, LegalEntity e) {
        String body = legacyCustomers.request(customer(s), e.id(), e.legacyCompany());
        erpSlots.acquireUninterruptibly();
        return http.sendAsync(HttpRequest.newBuilder(URI.create(a[9])).timeout(Duration.ofSeconds(30))
                        .header("Content-Type", SoapSupport.CONTENT_TYPE).header("Authorization", erpAuthorization)
                        .header("SOAPAction", LegacyCustomers.SOAP_ACTION)
                        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofByteArray()).whenComplete((r, x) -> erpSlots.release())
                .thenAccept(r -> s.erpNumber = LegacyCustomers.read(r.statusCode(), r.body()).customerNumber());
    }

    /** S/4HANA's confirmations: each saved partner's number noted; a customer complete by it is written back. */
    private void confirmations(int port) throws Exception {
        String expected = "Basic " + Base64.getEncoder().encodeToString(
                (CustomerPeers.CONFIRM_USER + ":" + CustomerPeers.CONFIRM_PASSWORD).getBytes(StandardCharsets.UTF_8));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.createContext("/soap/s4hana/business-partner-confirmation", ex -> {
            try (ex) {
                if (!expected.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                    ex.sendResponseHeaders(401, -1);
                    return;
                }
                for (S4BusinessPartners.Confirmation conf : S4BusinessPartners.readConfirmation(ex.getRequestBody().readAllBytes())) {
                    State s = byPartnerUuid.get(conf.partnerUuid());
                    if (s == null || !conf.saved()) continue;
                    s.erpNumber = conf.partnerNumber();
                    if (s.readyToWriteBack()) writeBacks.add(s);
                }
                ex.sendResponseHeaders(202, -1);
            } catch (RuntimeException e) {
                e.printStackTrace();
                ex.sendResponseHeaders(500, -1);
            }
        });
        server.start();
    }

    // ---- Salesforce write-back: one writer, up to 200 records per sObject Collections update

    private String salesforceToken() throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(a[5] + "/services/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(Map.of("grant_type", "client_credentials",
                        "client_id", CustomerPeers.SF_KEY, "client_secret", CustomerPeers.SF_SECRET)))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        return JSON.readTree(r.body()).path("access_token").asText();
    }

    private void writeBackLoop() {
        List<State> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(writeBacks.take());
                Thread.sleep(5); // let a confirmation's or a poll's customers gather into one request
                writeBacks.drainTo(batch, SF_BATCH - 1);
                ObjectNode body = JSON.createObjectNode().put("allOrNone", false);
                ArrayNode records = body.putArray("records");
                for (State s : batch) {
                    ObjectNode r = records.addObject();
                    r.putObject("attributes").put("type", "Account");
                    r.put("id", s.recordId);
                    r.put("Interchange_Global_Id__c", s.globalId);
                    r.put("Billing_Customer_Id__c", s.billingId);
                    r.put("ERP_Partner_Number__c", s.erpNumber);
                    r.put("Loyalty_Member_Id__c", s.loyaltyMemberId);
                    r.put("Interchange_Sync_Status__c", "synced");
                }
                HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(
                                URI.create(a[5] + "/services/data/v59.0/composite/sobjects")).timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Bearer " + sfToken).header("Content-Type", "application/json")
                        .header("Sforce-Call-Options", "client=interchange")
                        .method("PATCH", HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                if (answer.statusCode() != 200) {
                    throw new IllegalStateException("Salesforce answered " + answer.statusCode() + ": "
                            + new String(answer.body(), StandardCharsets.UTF_8));
                }
                batch.clear();
            } catch (Exception e) {
                e.printStackTrace();
                System.exit(1);
            }
        }
    }
}
