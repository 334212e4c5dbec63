package io.interchange.connectors;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.config.Config;
import io.interchange.connectors.billing.StripeApi;
import io.interchange.connectors.rest.RestClient;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.sandbox.StripeApiPeer;
import io.interchange.sandbox.rest.RestPeerSupport;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Stripe's customers ({@code POST /v1/customers}, form-encoded, under {@code Idempotency-Key}) under the outbound REST
 * contract, and what is Stripe's own: nested metadata keys, a key reused with other parameters refused as Stripe does,
 * an update merging metadata.
 */
class StripeCustomersContractTest extends OutboundRestContract {

    static final String KEY = "sk_test_" + UUID.randomUUID().toString().replace("-", "");
    StripeApiPeer peer;
    StripeApi api;

    @Override
    protected RestPeerSupport startPeer() throws Exception {
        return peer = new StripeApiPeer(0, KEY).start();
    }

    @Override
    protected RestClient newClient(String peerUrl) {
        api = StripeApi.from(Config.of(Map.of("interchange.billing.api-url", peerUrl, "interchange.billing.api-key", KEY,
                "interchange.billing.api-timeout", "PT1S")));
        return api.client();
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.billing.api-url", "interchange.billing.api-key", "interchange.billing.api-timeout",
                "interchange.billing.api-max-rate");
    }

    static Map<String, Object> params(String seed) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("email", seed + "@example.com");
        params.put("name", "Customer " + seed);
        params.put("metadata", Map.of("global_customer_id", "gc-" + seed));
        return params;
    }

    @Override
    protected Object write(String seed) {
        Map<String, Object> params = params(seed);
        return api.createCustomer(params, StripeApi.customerCreateKey("gc-" + seed, params));
    }

    @Override
    protected void assertWrittenOnce(String seed) {
        assertThat(peer.customers()).filteredOn(c -> ("gc-" + seed).equals(c.path("metadata").path("global_customer_id").asText()))
                .hasSize(1);
    }

    @Override
    protected boolean tokenRefreshes() {
        return false;
    }

    @Override
    protected String idempotencyHeader() {
        return "Idempotency-Key";
    }

    @Override
    protected boolean announcesRateLimits() {
        return false;
    }

    @Test
    void aCustomerIsCreatedFormEncodedWithNestedMetadataAndUpdatedByMergingIt() {
        String seed = seed();
        JsonNode created = (JsonNode) write(seed);
        RestPeerSupport.Request sent = peer.requestLog().get(peer.requestLog().size() - 1);
        assertThat(sent.header("Content-Type")).startsWith("application/x-www-form-urlencoded");
        assertThat(sent.body()).contains("metadata%5Bglobal_customer_id%5D=gc-" + seed);
        assertThat(created.path("id").asText()).startsWith("cus_");
        assertThat(created.path("metadata").path("global_customer_id").asText()).isEqualTo("gc-" + seed);

        Map<String, Object> change = Map.of("metadata", Map.of("legal_entity", "FR01"));
        JsonNode updated = api.updateCustomer(created.path("id").asText(), change,
                "customer-update-" + created.path("id").asText() + "-fr01");
        assertThat(updated.path("metadata").path("global_customer_id").asText()).isEqualTo("gc-" + seed);
        assertThat(updated.path("metadata").path("legal_entity").asText()).isEqualTo("FR01");
    }

    @Test
    void a429WithStripeShouldRetryFalseIsTransientWithoutAskingAgain() {
        peer.rateLimitNext(1, "0", false);
        int before = peer.requestLog().size();
        assertThatThrownBy(() -> write(seed())).isInstanceOf(TransientFailure.class)
                .hasMessageContaining("429").hasMessageContaining("Stripe-Should-Retry: false");
        assertThat(peer.requestLog().size() - before).isEqualTo(1);
    }

    @Test
    void aKeyAskedAgainIsAnsweredWithTheFirstCustomerAndAKeyReusedWithOtherParametersIsRefused() {
        String seed = seed();
        Map<String, Object> params = params(seed);
        String key = StripeApi.customerCreateKey("gc-" + seed, params);
        JsonNode first = api.createCustomer(params, key);
        JsonNode again = api.createCustomer(params, key);
        assertThat(again.path("id").asText()).isEqualTo(first.path("id").asText());

        Map<String, Object> other = params(seed);
        other.put("name", "Someone else");
        assertThat(StripeApi.customerCreateKey("gc-" + seed, other)).as("other parameters, another key").isNotEqualTo(key);
        assertThatThrownBy(() -> api.createCustomer(other, key)).isInstanceOf(PermanentFailure.class)
                .hasMessageContaining("answered 400").hasMessageContaining("same parameters");
        assertWrittenOnce(seed);
    }
}
