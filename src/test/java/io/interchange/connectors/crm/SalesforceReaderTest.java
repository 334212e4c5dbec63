package io.interchange.connectors.crm;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.config.Config;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link SalesforceReader#createdBefore} through camel-salesforce against the Salesforce peer over HTTP: one legal
 * entity's Accounts by SOQL, every page followed by {@code nextRecordsUrl} as Salesforce pages a query.
 */
class SalesforceReaderTest {

    static final String KEY = "reader-test-key";
    static final String SECRET = "reader-test-secret";

    SalesforcePeer peer;
    CamelContext context;

    @BeforeEach
    void start() throws Exception {
        peer = new SalesforcePeer(0, KEY, SECRET).start();
        Config config = Config.of(Map.of("interchange.salesforce.login-url", peer.url(),
                "interchange.salesforce.consumer-key", KEY, "interchange.salesforce.consumer-secret", SECRET));
        context = new DefaultCamelContext();
        context.addComponent(SalesforceConnection.COMPONENT, SalesforceConnection.component(config, "reconciliation"));
        context.start();
    }

    @AfterEach
    void stop() {
        if (context != null) context.stop();
        if (peer != null) peer.close();
    }

    @Test
    void oneEntitysAccountsAreReadAcrossEveryPage() {
        for (int i = 0; i < 5; i++) account("DE Company " + i, "DE01");
        account("US Company", "US01");
        peer.pageSize(2);
        SalesforceReader reader = new SalesforceReader(context.createProducerTemplate(),
                Map.of("Account", List.of("Name", "BillingCountry", "Legal_Entity__c", "CreatedDate")));

        List<JsonNode> read = new ArrayList<>();
        reader.createdBefore("Account", Instant.now().plusSeconds(60), "Legal_Entity__c", "DE01", read::add);

        assertThat(read).hasSize(5).allSatisfy(a -> assertThat(a.path("Legal_Entity__c").asText()).isEqualTo("DE01"));
        assertThat(read).extracting(a -> a.path("Id").asText()).doesNotHaveDuplicates();
        assertThat(peer.requests()).anySatisfy(r -> assertThat(r).contains("/query/"));
    }

    @Test
    void accountsCreatedFromThePeriodsEndOnAreLeftOut() {
        account("Early", "DE01");
        SalesforceReader reader = new SalesforceReader(context.createProducerTemplate(),
                Map.of("Account", List.of("Name", "Legal_Entity__c", "CreatedDate")));

        List<JsonNode> read = new ArrayList<>();
        reader.createdBefore("Account", Instant.now().minusSeconds(3600), "Legal_Entity__c", "DE01", read::add);

        assertThat(read).isEmpty();
    }

    private void account(String name, String entity) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("Name", name);
        fields.put("BillingCountry", entity.substring(0, 2));
        fields.put("Legal_Entity__c", entity);
        peer.create("Account", fields);
    }
}
