package io.interchange.connectors.crm;

import io.interchange.config.Config;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.salesforce.SalesforceComponent;
import org.apache.camel.component.salesforce.SalesforceConstants;
import org.apache.camel.component.salesforce.api.SalesforceException;
import org.apache.camel.component.salesforce.api.dto.RestError;
import org.apache.camel.component.salesforce.internal.streaming.ReplayControl;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@link SalesforceCrm} through camel-salesforce against the Salesforce peer over HTTP: upsert by external id,
 * chunks of 200, per-record errors, the call options client in the request and in the change event it causes, a new
 * login after the session expired, and how whole-request failures are classified.
 */
class SalesforceCrmTest {

    static final String KEY = "crm-test-key";
    static final String SECRET = "crm-test-secret";
    static final String EXT = "Interchange_Global_Id__c";
    static final String UPSERT_PATH = "/services/data/v59.0/composite/sobjects/Account/" + EXT;

    SalesforcePeer peer;
    Config config;
    CamelContext context;
    SalesforceCrm crm;
    Fields fields;

    @BeforeEach
    void start() throws Exception {
        peer = new SalesforcePeer(0, KEY, SECRET).start();
        peer.holdMillis(300);
        config = Config.of(Map.of("interchange.salesforce.login-url", peer.url(),
                "interchange.salesforce.consumer-key", KEY, "interchange.salesforce.consumer-secret", SECRET));
        context = new DefaultCamelContext();
        context.addComponent(SalesforceConnection.COMPONENT, SalesforceConnection.component(config, "customer-sync"));
        context.start();
        crm = SalesforceCrm.from(context.createProducerTemplate(), config);
        fields = new Fields("Interchange_Global_Id__c", "Billing_Customer_Id__c", "ERP_Partner_Number__c",
                "Loyalty_Member_Id__c", "Interchange_Sync_Status__c");
    }

    @AfterEach
    void stop() {
        if (context != null) context.stop();
        if (peer != null) peer.close();
    }

    /** The fields written back in these tests (the runtime's come from mappings/salesforce/write-back.jslt). */
    record Fields(String externalId, String billingCustomerId, String erpPartnerNumber, String loyaltyMemberId,
                         String syncStatus) {

        public Fields {
            for (String f : new String[]{externalId, billingCustomerId, erpPartnerNumber, loyaltyMemberId, syncStatus}) {
                if (f == null || !f.matches("[A-Za-z][A-Za-z0-9_]*")) {
                    throw new IllegalArgumentException("not a Salesforce field API name: " + f);
                }
            }
        }

        /**
         * One record to write back, for an upsert: the global customer id under the external-id field, and each
         * other value that is not null (a null leaves the field as Salesforce holds it); ERP partner numbers
         * comma-separated.
         */
        public Map<String, Object> record(String globalCustomerId, String billingCustomerId,
                                          List<String> erpPartnerNumbers, String loyaltyMemberId, String status) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put(externalId, Objects.requireNonNull(globalCustomerId, "globalCustomerId"));
            if (billingCustomerId != null) r.put(this.billingCustomerId, billingCustomerId);
            if (erpPartnerNumbers != null && !erpPartnerNumbers.isEmpty()) {
                r.put(erpPartnerNumber, String.join(",", erpPartnerNumbers));
            }
            if (loyaltyMemberId != null) r.put(this.loyaltyMemberId, loyaltyMemberId);
            if (status != null) r.put(syncStatus, status);
            return r;
        }
    }

    @Test
    void aNewRecordIsCreatedAndTheSameExternalIdLaterUpdatesIt() {
        Map<String, Object> first = named(fields.record("gc-1", "cus_1", List.of("1000001"), "L-1", "PENDING"), "Acme");
        List<SalesforceCrm.Result> created = crm.upsert("Account", EXT, List.of(first));
        assertThat(created).hasSize(1);
        assertThat(created.get(0).success()).isTrue();
        assertThat(created.get(0).created()).isTrue();
        assertThat(created.get(0).errors()).isEmpty();
        String id = created.get(0).id();
        assertThat(id).startsWith("001");
        Map<String, Object> stored = peer.get("Account", id);
        assertThat(stored).containsEntry(EXT, "gc-1").containsEntry("Name", "Acme")
                .containsEntry("Billing_Customer_Id__c", "cus_1").containsEntry("ERP_Partner_Number__c", "1000001")
                .containsEntry("Loyalty_Member_Id__c", "L-1").containsEntry("Interchange_Sync_Status__c", "PENDING");

        List<SalesforceCrm.Result> updated = crm.upsert("Account", EXT,
                List.of(fields.record("gc-1", null, List.of("1000001", "2000002"), null, "SYNCED")));
        assertThat(updated.get(0).success()).isTrue();
        assertThat(updated.get(0).created()).isFalse();
        assertThat(updated.get(0).id()).isEqualTo(id);
        assertThat(peer.all("Account")).hasSize(1);
        assertThat(peer.get("Account", id)).containsEntry("Interchange_Sync_Status__c", "SYNCED")
                .containsEntry("ERP_Partner_Number__c", "1000001,2000002")
                // fields not sent are left as they were
                .containsEntry("Billing_Customer_Id__c", "cus_1").containsEntry("Name", "Acme");
        // Sforce-Limit-Info of the last answer: the peer's second REST request of the day
        assertThat(crm.apiUsage()).isEqualTo(new SalesforceCrm.ApiUsage(2, 15_000));
        assertThat(crm.apiUsage().nearlyExhausted()).isFalse();
        assertThat(new SalesforceCrm.ApiUsage(13_500, 15_000).nearlyExhausted()).isTrue();
        assertThat(peer.writes()).extracting(SalesforcePeer.Write::path, SalesforcePeer.Write::allOrNone,
                        SalesforcePeer.Write::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(UPSERT_PATH, false, 200),
                        org.assertj.core.groups.Tuple.tuple(UPSERT_PATH, false, 200));
    }

    @Test
    void twoHundredFiftyRecordsGoAsTwoRequestsOfTwoHundredAndFifty() {
        List<Map<String, Object>> records = new ArrayList<>();
        for (int i = 0; i < 250; i++) records.add(named(fields.record("gc-" + i, null, null, null, "SYNCED"), "A" + i));
        List<SalesforceCrm.Result> results = crm.upsert("Account", EXT, records);
        assertThat(peer.writes()).extracting(SalesforcePeer.Write::records).containsExactly(200, 50);
        assertThat(results).hasSize(250).allSatisfy(r -> {
            assertThat(r.success()).isTrue();
            assertThat(r.created()).isTrue();
        });
        assertThat(peer.all("Account")).hasSize(250);
        // results in the order given: the 201st result is the record of gc-200
        assertThat(peer.get("Account", results.get(200).id())).containsEntry(EXT, "gc-200");
    }

    @Test
    void aRecordSalesforceRefusesComesBackInItsResultAndTheOthersAreWritten() {
        peer.create("Account", Map.of("Name", "Twin one", EXT, "gc-twin"));
        peer.create("Account", Map.of("Name", "Twin two", EXT, "gc-twin"));
        Map<String, Object> noExternalId = new LinkedHashMap<>(Map.of("Name", "Nobody", "Interchange_Sync_Status__c", "X"));
        List<SalesforceCrm.Result> results = crm.upsert("Account", EXT, List.of(
                named(fields.record("gc-ok-1", null, null, null, "SYNCED"), "Fine one"),
                noExternalId,
                fields.record("gc-nameless", null, null, null, "SYNCED"),
                fields.record("gc-twin", null, null, null, "SYNCED"),
                named(fields.record("gc-ok-2", null, null, null, "SYNCED"), "Fine two")));

        assertThat(results).extracting(SalesforceCrm.Result::success).containsExactly(true, false, false, false, true);
        assertThat(results.get(1).id()).isNull();
        assertThat(results.get(1).errors()).extracting(SalesforceCrm.Error::statusCode).containsExactly("MISSING_ARGUMENT");
        assertThat(results.get(2).errors()).containsExactly(new SalesforceCrm.Error("REQUIRED_FIELD_MISSING",
                "Required fields are missing: [Name]", List.of("Name")));
        assertThat(results.get(2).reason()).isEqualTo("REQUIRED_FIELD_MISSING: Required fields are missing: [Name] [Name]");
        assertThat(results.get(3).errors()).extracting(SalesforceCrm.Error::statusCode, SalesforceCrm.Error::fields)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("DUPLICATE_EXTERNAL_ID", List.of(EXT)));
        assertThat(results.get(3).created()).isFalse();
        // one request, the good records written: the two twins plus the two fine ones
        assertThat(peer.writes()).hasSize(1);
        assertThat(peer.all("Account")).hasSize(4).extracting(r -> r.get(EXT))
                .containsExactlyInAnyOrder("gc-twin", "gc-twin", "gc-ok-1", "gc-ok-2");
    }

    @Test
    void ourWritesNameOurClientInTheirChangeEventsWhichTheSubscriberTakesForEchoes() throws Exception {
        List<String> origins = new CopyOnWriteArrayList<>();
        // camel-salesforce keeps each channel's replay id in a JVM-wide map, which an earlier test in this JVM may have
        // set for another org: every retained event of this peer is asked for explicitly
        ReplayControl.subscribeFrom(context.getComponent(SalesforceConnection.COMPONENT, SalesforceComponent.class),
                "/data/AccountChangeEvent", -2);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("salesforce:subscribe:/data/AccountChangeEvent?rawPayload=true&replayId=-2").routeId("test-cdc")
                        .process(e -> origins.add(String.valueOf(
                                e.getIn().getHeader(SalesforceConstants.HEADER_SALESFORCE_CHANGE_ORIGIN))));
            }
        });
        peer.create("Account", Map.of("Name", "Typed by a user"));
        crm.upsert("Account", EXT, List.of(named(fields.record("gc-7", null, null, null, "SYNCED"), "Ours")));

        assertThat(peer.writes()).extracting(SalesforcePeer.Write::callOptions).containsExactly("client=interchange");
        String ours = "com/salesforce/api/rest/59.0;client=interchange";
        await().atMost(Duration.ofSeconds(20)).until(() -> origins.contains(ours));
        // camel-salesforce may subscribe twice while its handshake completes, each time from -2, so an event can arrive
        // twice (the flow's claims make that harmless); what matters here is each event's origin
        assertThat(new LinkedHashSet<>(origins)).containsExactly("", ours);
        assertThat(origins.indexOf("")).isLessThan(origins.indexOf(ours));

        SalesforceChangeEvents events = new SalesforceChangeEvents(
                MappingEngine.load(MappingSource.directory(Path.of("mappings"))), null, null, null, "interchange");
        assertThat(events.isEcho(ours)).isTrue();
        assertThat(events.isEcho("")).isFalse();
    }

    @Test
    void anExpiredSessionIsReplacedByOneNewLoginAndTheWriteGoesThrough() {
        crm.upsert("Account", EXT, List.of(named(fields.record("gc-1", null, null, null, "PENDING"), "Acme")));
        long issued = peer.tokensIssued();
        peer.expireTokens();

        List<SalesforceCrm.Result> results = crm.upsert("Account", EXT,
                List.of(fields.record("gc-1", null, null, null, "SYNCED")));
        assertThat(results.get(0).success()).isTrue();
        assertThat(results.get(0).created()).isFalse();
        assertThat(peer.tokensIssued()).isEqualTo(issued + 1);
        // the refused request and its repetition reached the peer; only the second was served
        assertThat(peer.requests()).filteredOn(r -> r.equals("PATCH " + UPSERT_PATH)).hasSize(3);
        assertThat(peer.writes()).hasSize(2);
        assertThat(peer.all("Account")).singleElement().satisfies(r ->
                assertThat(r).containsEntry("Interchange_Sync_Status__c", "SYNCED"));
    }

    @Test
    void aRequestRefusedAsAWholeIsThrownClassified() {
        // no such object at the peer: 404, permanent
        assertThatThrownBy(() -> crm.upsert("Lead", EXT, List.of(fields.record("gc-1", null, null, null, "SYNCED"))))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("answered 404");
        // Salesforce no longer reachable: transient
        peer.close();
        assertThatThrownBy(() -> crm.upsert("Account", EXT, List.of(fields.record("gc-1", null, null, null, "SYNCED"))))
                .isInstanceOf(TransientFailure.class);
    }

    @Test
    void wholeRequestAnswersAreClassifiedAsSalesforceDocumentsThem() {
        assertThat(SalesforceCrm.classify("w", new SalesforceException(List.of(new RestError("REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.")), 403))).isInstanceOf(TransientFailure.class)
                .hasMessageContaining("REQUEST_LIMIT_EXCEEDED");
        assertThat(SalesforceCrm.classify("w", new SalesforceException(List.of(new RestError("SERVER_UNAVAILABLE",
                "down for maintenance")), 503))).isInstanceOf(TransientFailure.class);
        assertThat(SalesforceCrm.classify("w", new SalesforceException(List.of(new RestError("INSUFFICIENT_ACCESS",
                "no")), 403))).isInstanceOf(PermanentFailure.class);
        assertThat(SalesforceCrm.classify("w", new SalesforceException(List.of(new RestError("INVALID_SESSION_ID",
                "Session expired or invalid")), 401))).isInstanceOf(PermanentFailure.class);
        assertThat(SalesforceCrm.classify("w", new SalesforceException(List.of(new RestError("JSON_PARSER_ERROR",
                "bad")), 400))).isInstanceOf(PermanentFailure.class);
        assertThat(SalesforceCrm.classify("w", new SalesforceException("timed out", 0,
                new java.util.concurrent.TimeoutException("Total timeout 60000 ms elapsed"))))
                .isInstanceOf(TransientFailure.class);
    }

    @Test
    void systemFieldsAreRefusedBeforeAnythingIsSent() {
        Map<String, Object> withId = new HashMap<>(fields.record("gc-1", null, null, null, "SYNCED"));
        withId.put("Id", "001000000000001AAA");
        assertThatThrownBy(() -> crm.upsert("Account", EXT, List.of(withId))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> crm.upsert("Account; DROP", EXT, List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThat(peer.writes()).isEmpty();
    }

    static Map<String, Object> named(Map<String, Object> record, String name) {
        Map<String, Object> r = new LinkedHashMap<>(record);
        r.put("Name", name);
        return r;
    }
}
