package io.interchange.connectors;

import io.interchange.config.Config;
import io.interchange.connectors.loyalty.LoyaltyMembers;
import io.interchange.connectors.rest.RestClient;
import io.interchange.model.Customer;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.rest.RestPeerSupport;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The loyalty platform's customers (Voucherify's {@code POST /v1/customers}, an upsert by {@code source_id}, under
 * {@code X-App-Id} and {@code X-App-Token}) under the outbound REST contract: Voucherify has no idempotency key, the
 * upsert by our global id is what makes a retried write land once; its {@code X-Rate-Limit-*} headers are announced in
 * every answer. Members (read before create) are {@code loyalty/LoyaltyMembersTest}'s.
 */
class LoyaltyMembersContractTest extends OutboundRestContract {

    static final String APP_ID = "app-id-contract";
    static final String APP_TOKEN = "app-token-contract";
    static final String CAMPAIGN = "camp_contract";
    LoyaltyPeer peer;
    LoyaltyMembers members;

    @Override
    protected RestPeerSupport startPeer() throws Exception {
        return peer = new LoyaltyPeer(0, APP_ID, APP_TOKEN).program(CAMPAIGN, "Contract Loyalty Program").start();
    }

    @Override
    protected RestClient newClient(String peerUrl) {
        members = LoyaltyMembers.from(Config.of(Map.of("interchange.loyalty.api-url", peerUrl,
                "interchange.loyalty.app-id", APP_ID, "interchange.loyalty.app-token", APP_TOKEN,
                "interchange.loyalty.campaign-id", CAMPAIGN, "interchange.loyalty.api-timeout", "PT1S",
                "interchange.loyalty.api-max-rate", "20")));
        return members.client();
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.loyalty.api-url", "interchange.loyalty.app-id", "interchange.loyalty.app-token",
                "interchange.loyalty.campaign-id", "interchange.loyalty.api-timeout", "interchange.loyalty.api-max-rate");
    }

    @Override
    protected Object write(String seed) {
        return members.upsertCustomer("gc-" + seed, new Customer("gc-" + seed, "person", "Ada", seed, null,
                seed + "@example.com", null, null, null, null));
    }

    @Override
    protected void assertWrittenOnce(String seed) {
        assertThat(peer.customers()).filteredOn(c -> ("gc-" + seed).equals(c.path("source_id").asText())).singleElement()
                .satisfies(c -> assertThat(c.path("email").asText()).isEqualTo(seed + "@example.com"));
    }

    @Override
    protected void assertAuthenticated(RestPeerSupport.Request request) {
        assertThat(request.header("X-App-Id")).isEqualTo(APP_ID);
        assertThat(request.header("X-App-Token")).isEqualTo(APP_TOKEN);
        assertThat(request.header("Authorization")).as("no Authorization header").isNull();
    }

    @Override
    protected boolean tokenRefreshes() {
        return false;
    }

    @Override
    protected String idempotencyHeader() {
        return null;
    }

    @Override
    protected boolean announcesRateLimits() {
        return true;
    }
}
