package io.interchange.connectors;

import io.interchange.config.Config;
import io.interchange.connectors.crm.HubSpotCrm;
import io.interchange.connectors.rest.RestClient;
import io.interchange.reliability.TransientFailure;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.rest.RestPeerSupport;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * HubSpot's CRM v3 batch upsert under the outbound REST contract (OAuth access tokens from the app's refresh token,
 * HubSpot's rate-limit headers), and what is HubSpot's own: records matched by their unique property, so writing one
 * again updates it; more than 100 records go in several requests; a private app's token works as well.
 */
class HubSpotBatchUpsertContractTest extends OutboundRestContract {

    static final String CLIENT_ID = "client-id-1";
    static final String CLIENT_SECRET = "client-secret-1";
    static final String REFRESH = "refresh-token-1";
    HubSpotPeer peer;
    HubSpotCrm crm;

    @Override
    protected RestPeerSupport startPeer() throws Exception {
        return peer = new HubSpotPeer(0).oauthApp(CLIENT_ID, CLIENT_SECRET, REFRESH, Duration.ofMinutes(30)).start();
    }

    @Override
    protected RestClient newClient(String peerUrl) {
        crm = HubSpotCrm.from(Config.of(Map.of("interchange.hubspot.api-url", peerUrl,
                "interchange.hubspot.oauth-client-id", CLIENT_ID, "interchange.hubspot.oauth-client-secret", CLIENT_SECRET,
                "interchange.hubspot.oauth-refresh-token", REFRESH, "interchange.hubspot.api-timeout", "PT1S")));
        return crm.client();
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.hubspot.api-url", "interchange.hubspot.access-token",
                "interchange.hubspot.oauth-token-url", "interchange.hubspot.oauth-client-id",
                "interchange.hubspot.oauth-client-secret", "interchange.hubspot.oauth-refresh-token",
                "interchange.hubspot.api-timeout", "interchange.hubspot.api-max-rate");
    }

    static HubSpotCrm.Input contact(String seed, String firstName) {
        return new HubSpotCrm.Input(seed + "@example.com", "email", Map.of("firstname", firstName, "global_customer_id", "gc-" + seed));
    }

    @Override
    protected Object write(String seed) {
        return crm.batchUpsert("contacts", List.of(contact(seed, "Ada")));
    }

    @Override
    protected void assertWrittenOnce(String seed) {
        assertThat(peer.records("contacts"))
                .filteredOn(r -> (seed + "@example.com").equals(r.path("properties").path("email").asText())).hasSize(1);
    }

    @Override
    protected boolean tokenRefreshes() {
        return true;
    }

    @Override
    protected String idempotencyHeader() {
        return null;
    }

    @Override
    protected boolean announcesRateLimits() {
        return true;
    }

    @Test
    void theCrmV3ListIsReadPageByPageWithItsAfterCursorUntilNoNextPageIsNamed() {
        String seed = seed();
        List<HubSpotCrm.Input> inputs = new ArrayList<>();
        for (int i = 0; i < 5; i++) inputs.add(contact(seed + "-" + i, "Ada " + i));
        crm.batchUpsert("contacts", inputs);
        int before = peer.requestLog().size();

        List<String> emails = new ArrayList<>();
        List<Integer> pageSizes = new ArrayList<>();
        long read = crm.listPages("contacts", List.of("email", "firstname"), 2, page -> {
            pageSizes.add(page.size());
            page.forEach(r -> emails.add(r.path("properties").path("email").asText()));
        });

        assertThat(read).isEqualTo(peer.records("contacts").size());
        assertThat(emails).doesNotHaveDuplicates()
                .containsAll(inputs.stream().map(HubSpotCrm.Input::id).toList());
        assertThat(pageSizes.subList(0, pageSizes.size() - 1)).allSatisfy(n -> assertThat(n).isEqualTo(2));
        List<RestPeerSupport.Request> asked = peer.requestLog().subList(before, peer.requestLog().size());
        assertThat(asked.get(0).path()).isEqualTo("/crm/v3/objects/contacts");
        assertThat(asked.get(0).queryParams()).containsEntry("limit", "2").containsEntry("properties", "email,firstname")
                .doesNotContainKey("after");
        assertThat(asked.get(1).queryParams()).containsKey("after");
    }

    @Test
    void aRecordWrittenAgainIsUpdatedNeverCreatedTwice() {
        String seed = seed();
        List<HubSpotCrm.Result> first = crm.batchUpsert("contacts", List.of(contact(seed, "Ada")));
        List<HubSpotCrm.Result> second = crm.batchUpsert("contacts", List.of(contact(seed, "Grace")));
        assertThat(first).singleElement().satisfies(r -> assertThat(r.created()).isTrue());
        assertThat(second).singleElement().satisfies(r -> {
            assertThat(r.created()).isFalse();
            assertThat(r.hubSpotId()).isEqualTo(first.get(0).hubSpotId());
            assertThat(r.properties().path("firstname").asText()).isEqualTo("Grace");
        });
        assertWrittenOnce(seed);
        RestPeerSupport.Request sent = peer.requestLog().get(peer.requestLog().size() - 1);
        assertThat(sent.path()).isEqualTo("/crm/v3/objects/contacts/batch/upsert");
        assertThat(sent.header("Content-Type")).startsWith("application/json");
    }

    @Test
    void aBatchUpdateUpdatesTheRecordsHubSpotHoldsAndNamesThoseItDoesNot() {
        HubSpotPeer hubSpot = (HubSpotPeer) peer();
        String held = hubSpot.create("contacts", Map.of("email", seed() + "@example.com"));
        String other = hubSpot.create("contacts", Map.of("email", seed() + "@example.com"));
        Map<String, Map<String, String>> updates = new java.util.LinkedHashMap<>();
        updates.put(held, Map.of("interchange_global_id", "gc-1"));
        updates.put("999999999", Map.of("interchange_global_id", "gc-2"));
        updates.put(other, Map.of("interchange_global_id", "gc-3"));

        // 207 Multi-Status: the missing record named, the others updated
        Map<String, String> failed = crm.batchUpdate("contacts", updates);
        assertThat(failed).containsOnlyKeys("999999999");
        assertThat(failed.get("999999999")).startsWith("OBJECT_NOT_FOUND");
        assertThat(hubSpot.records("contacts")).filteredOn(r -> r.path("id").asText().equals(held))
                .singleElement().satisfies(r -> assertThat(r.path("properties").path("interchange_global_id").asText())
                        .isEqualTo("gc-1"));
        assertThat(hubSpot.records("contacts")).filteredOn(r -> r.path("id").asText().equals(other))
                .singleElement().satisfies(r -> assertThat(r.path("properties").path("interchange_global_id").asText())
                        .isEqualTo("gc-3"));
        // 200: nothing to name
        assertThat(crm.batchUpdate("contacts", Map.of(held, Map.of("interchange_sync_status", "synced")))).isEmpty();
    }

    @Test
    void moreThanOneHundredRecordsGoInBatchesOfOneHundred() {
        String seed = seed();
        List<HubSpotCrm.Input> inputs = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            inputs.add(new HubSpotCrm.Input("co-" + seed + "-" + i, "domain_key", Map.of("name", "Company " + i)));
        }
        int before = peer.requestLog().size();
        List<HubSpotCrm.Result> results = crm.batchUpsert("companies", inputs);
        assertThat(results).hasSize(150).allSatisfy(r -> assertThat(r.created()).isTrue());
        assertThat(peer.requestLog().size() - before).isEqualTo(2);
        assertThat(peer.records("companies")).filteredOn(r -> r.path("properties").path("domain_key").asText()
                .startsWith("co-" + seed + "-")).hasSize(150);
    }

    @Test
    void aSpentDailyAllowanceFailsTheNextWriteAsTransientWithoutSendingIt() throws Exception {
        try (HubSpotPeer privatePeer = new HubSpotPeer(0).privateApp("pat-na1-daily").dailyLimit(1000, 999).start()) {
            HubSpotCrm privateCrm = HubSpotCrm.from(Config.of(Map.of("interchange.hubspot.api-url", privatePeer.url(),
                    "interchange.hubspot.access-token", "pat-na1-daily")));
            try (CamelContext ctx = startRoute(privateCrm.client())) {
                privateCrm.batchUpsert("contacts", List.of(contact("d1", "Ada"))); // the last request of the day
                assertThatThrownBy(() -> privateCrm.batchUpsert("contacts", List.of(contact("d2", "Ada"))))
                        .isInstanceOf(TransientFailure.class).hasMessageContaining("not sent")
                        .hasMessageContaining("Daily-Remaining 0");
                assertThat(privatePeer.requestLog()).hasSize(1);
                assertThat(privatePeer.served429()).isZero();
            }
        }
    }

    @Test
    void aPrivateAppsTokenWorksAsWell() throws Exception {
        try (HubSpotPeer privatePeer = new HubSpotPeer(0).privateApp("pat-na1-token").start()) {
            HubSpotCrm privateCrm = HubSpotCrm.from(Config.of(Map.of("interchange.hubspot.api-url", privatePeer.url(),
                    "interchange.hubspot.access-token", "pat-na1-token")));
            try (CamelContext ctx = startRoute(privateCrm.client())) {
                assertThat(privateCrm.batchUpsert("contacts", List.of(contact("p1", "Ada")))).hasSize(1);
                assertThat(privatePeer.requestLog().get(0).header("Authorization")).isEqualTo("Bearer pat-na1-token");
                assertThat(privatePeer.tokensIssued()).isZero();
            }
        }
    }
}
