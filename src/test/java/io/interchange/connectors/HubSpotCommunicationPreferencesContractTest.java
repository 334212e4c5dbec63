package io.interchange.connectors;

import io.interchange.config.Config;
import io.interchange.connectors.crm.HubSpotCommunicationPreferences;
import io.interchange.connectors.crm.HubSpotCrm;
import io.interchange.connectors.rest.RestClient;
import io.interchange.reliability.PermanentFailure;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.rest.RestPeerSupport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * HubSpot's Communication Preferences API v3 under the outbound REST contract (the HubSpot CRM client's target: OAuth,
 * rate-limit headers), and what is HubSpot's own: an address subscribed to and unsubscribed from one subscription type
 * with a legal basis; unsubscribing one already unsubscribed (HubSpot's 400) is success; one unsubscribed from all
 * e-mail is refused a subscription as permanent; and the contact property {@code hs_email_optout} is refused to the
 * CRM batch update, as in a real portal.
 */
class HubSpotCommunicationPreferencesContractTest extends OutboundRestContract {

    static final String SUBSCRIPTION = "7734001";
    HubSpotPeer peer;
    HubSpotCrm crm;
    HubSpotCommunicationPreferences preferences;

    @Override
    protected RestPeerSupport startPeer() throws Exception {
        return peer = new HubSpotPeer(0).oauthApp(HubSpotBatchUpsertContractTest.CLIENT_ID,
                HubSpotBatchUpsertContractTest.CLIENT_SECRET, HubSpotBatchUpsertContractTest.REFRESH, Duration.ofMinutes(30))
                .subscriptionType(SUBSCRIPTION, "Marketing Information").subscriptionType("7734002", "Newsletter").start();
    }

    @Override
    protected RestClient newClient(String peerUrl) {
        Config config = Config.of(Map.of("interchange.hubspot.api-url", peerUrl,
                "interchange.hubspot.oauth-client-id", HubSpotBatchUpsertContractTest.CLIENT_ID,
                "interchange.hubspot.oauth-client-secret", HubSpotBatchUpsertContractTest.CLIENT_SECRET,
                "interchange.hubspot.oauth-refresh-token", HubSpotBatchUpsertContractTest.REFRESH,
                "interchange.hubspot.api-timeout", "PT1S", "interchange.hubspot.consent-subscription-id", SUBSCRIPTION));
        crm = HubSpotCrm.from(config);
        preferences = HubSpotCommunicationPreferences.from(crm, config);
        return crm.client();
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.hubspot.api-url", "interchange.hubspot.access-token",
                "interchange.hubspot.oauth-client-id", "interchange.hubspot.oauth-refresh-token",
                "interchange.hubspot.consent-subscription-id", "interchange.hubspot.consent-legal-basis",
                "interchange.hubspot.consent-legal-basis-explanation");
    }

    static String email(String seed) {
        return seed + "@example.com";
    }

    @Override
    protected Object write(String seed) {
        return preferences.set(email(seed), true, "(test " + seed + ")");
    }

    @Override
    protected void assertWrittenOnce(String seed) {
        assertThat(peer.subscriptionStatus(email(seed), SUBSCRIPTION)).isEqualTo("SUBSCRIBED");
    }

    @Override
    protected boolean tokenRefreshes() {
        return true;
    }

    @Override
    protected String idempotencyHeader() {
        return null; // HubSpot takes none: setting a status twice sets it once
    }

    @Override
    protected boolean announcesRateLimits() {
        return true;
    }

    @Test
    void aSubscriptionIsWrittenWithItsLegalBasisAndReadBack() throws Exception {
        String seed = seed();
        HubSpotCommunicationPreferences.Status s = preferences.set(email(seed), true, "(loyalty, 2026-03-01T10:00:00.000Z)");
        assertThat(s.subscribed()).isTrue();
        assertThat(s.id()).isEqualTo(SUBSCRIPTION);
        assertThat(s.legalBasis()).isEqualTo("CONSENT_WITH_NOTICE");
        RestPeerSupport.Request sent = peer.requestLog().get(peer.requestLog().size() - 1);
        assertThat(sent.path()).isEqualTo("/communication-preferences/v3/subscribe");
        assertThat(sent.json().path("emailAddress").asText()).isEqualTo(email(seed));
        assertThat(sent.json().path("subscriptionId").asText()).isEqualTo(SUBSCRIPTION);
        assertThat(sent.json().path("legalBasisExplanation").asText()).endsWith("(loyalty, 2026-03-01T10:00:00.000Z)");

        assertThat(preferences.set(email(seed), false, "(mailchimp)").subscribed()).isFalse();
        assertThat(preferences.statuses(email(seed))).extracting(HubSpotCommunicationPreferences.Status::id)
                .containsExactly(SUBSCRIPTION, "7734002");
        assertThat(preferences.status(email(seed)).status()).isEqualTo("NOT_SUBSCRIBED");
        assertThat(peer.requestLog().get(peer.requestLog().size() - 1).path())
                .isEqualTo("/communication-preferences/v3/status/email/" + email(seed));
    }

    @Test
    void unsubscribingAnAddressAlreadyUnsubscribedIsSuccessAfterOneStatusRead() {
        String seed = seed();
        preferences.set(email(seed), false, "(first)");
        int before = peer.requestLog().size();
        assertThat(preferences.set(email(seed), false, "(again)").subscribed()).isFalse();
        List<RestPeerSupport.Request> asked = peer.requestLog().subList(before, peer.requestLog().size());
        assertThat(asked).extracting(RestPeerSupport.Request::path).containsExactly(
                "/communication-preferences/v3/unsubscribe", "/communication-preferences/v3/status/email/" + email(seed));
        assertThat(peer.requestLog().get(before).body()).isNotNull();
    }

    @Test
    void anAddressUnsubscribedFromAllEmailIsRefusedASubscriptionAsPermanent() {
        String seed = seed();
        preferences.set(email(seed), true, "");
        peer.unsubscribeFromAll(email(seed));
        assertThatThrownBy(() -> preferences.set(email(seed), true, "")).isInstanceOf(PermanentFailure.class)
                .hasMessageContaining("answered 400").hasMessageContaining("unsubscribed from all");
        assertThat(preferences.status(email(seed)).sourceOfStatus()).isEqualTo("PORTAL_WIDE_STATUS");
        // revoking it is already so
        assertThat(preferences.set(email(seed), false, "").subscribed()).isFalse();
    }

    @Test
    void withoutASubscriptionTypeNothingIsSentAndTheSettingIsNamed() {
        HubSpotCommunicationPreferences none = new HubSpotCommunicationPreferences(crm, "", "CONSENT_WITH_NOTICE", "");
        int before = peer.requestLog().size();
        assertThatThrownBy(() -> none.set(email(seed()), false, "")).isInstanceOf(PermanentFailure.class)
                .hasMessageContaining("interchange.hubspot.consent-subscription-id");
        assertThat(peer.requestLog()).hasSize(before);
    }

    @Test
    void theCrmRefusesToWriteTheOptOutOfAllAsARealPortalDoes() {
        String contact = peer.create("contacts", Map.of("email", email(seed())));
        assertThatThrownBy(() -> crm.batchUpdate("contacts", Map.of(contact, Map.of("hs_email_optout", "true"))))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("answered 400")
                .hasMessageContaining("READ_ONLY_VALUE");
        assertThatThrownBy(() -> crm.batchUpsert("contacts", List.of(new HubSpotCrm.Input(email(seed()), "email",
                Map.of("hs_email_optout_" + SUBSCRIPTION, "false"))))).isInstanceOf(PermanentFailure.class)
                .hasMessageContaining("read only property");
        assertThat(peer.records("contacts")).filteredOn(r -> r.path("id").asText().equals(contact)).singleElement()
                .satisfies(r -> assertThat(r.path("properties").has("hs_email_optout")).isFalse());
    }
}
