package io.interchange.connectors;

import io.interchange.config.Config;
import io.interchange.connectors.mailchimp.MailchimpMembers;
import io.interchange.connectors.rest.RestClient;
import io.interchange.reliability.PermanentFailure;
import io.interchange.sandbox.mailchimp.MailchimpPeer;
import io.interchange.sandbox.rest.RestPeerSupport;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The e-mail marketing platform's members (Mailchimp Marketing API v3) under the outbound REST contract: HTTP Basic
 * with the API key as password, no idempotency key (setting a status is a PATCH that sets the same status again), no
 * rate-limit headers (Mailchimp answers 429 beyond its concurrent connections); and what is Mailchimp's own: a member
 * is named by the MD5 of the lower-cased address, and one not in the audience is a permanent 404.
 */
class MailchimpMembersContractTest extends OutboundRestContract {

    static final String API_KEY = "0123456789abcdef0123456789abcdef-us21";
    static final String LIST = "a1b2c3d4e5";
    MailchimpPeer peer;
    MailchimpMembers members;

    @Override
    protected RestPeerSupport startPeer() throws Exception {
        return peer = new MailchimpPeer(0, API_KEY).start();
    }

    @Override
    protected RestClient newClient(String peerUrl) {
        members = MailchimpMembers.from(Config.of(Map.of("interchange.mailchimp.api-url", peerUrl,
                "interchange.mailchimp.api-key", API_KEY, "interchange.mailchimp.api-timeout", "PT1S")));
        return members.client();
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.mailchimp.api-url", "interchange.mailchimp.api-key", "interchange.mailchimp.list-id",
                "interchange.mailchimp.api-timeout", "interchange.mailchimp.api-max-rate");
    }

    static String email(String seed) {
        return "Member." + seed + "@Example.com";
    }

    /** Unsubscribes the seed's member, who signed up through a form before (the peer holds it subscribed). */
    @Override
    protected Object write(String seed) {
        if (peer.status(LIST, email(seed)) == null) peer.subscribe(LIST, email(seed));
        return members.setStatus(LIST, MailchimpMembers.subscriberHash(email(seed)), MailchimpMembers.UNSUBSCRIBED);
    }

    @Override
    protected void assertWrittenOnce(String seed) {
        assertThat(peer.status(LIST, email(seed))).isEqualTo(MailchimpMembers.UNSUBSCRIBED);
        assertThat(peer.members()).filteredOn(m -> m.path("email_address").asText().equalsIgnoreCase(email(seed)))
                .hasSize(1);
    }

    @Override
    protected void assertAuthenticated(RestPeerSupport.Request request) {
        String authorization = request.header("Authorization");
        assertThat(authorization).startsWith("Basic ");
        String decoded = new String(Base64.getDecoder().decode(authorization.substring(6)), StandardCharsets.UTF_8);
        assertThat(decoded).endsWith(":" + API_KEY);
    }

    @Override
    protected boolean tokenRefreshes() {
        return false;
    }

    @Override
    protected String idempotencyHeader() {
        return null; // none: the PATCH of a status sets it once however often it is sent
    }

    @Override
    protected boolean announcesRateLimits() {
        return false;
    }

    @Test
    void aMemberIsNamedByTheHashOfItsLowerCasedAddressAndItsStatusIsWhatMailchimpHoldsAfter() throws Exception {
        String seed = seed();
        peer.subscribe(LIST, email(seed));
        String hash = MailchimpMembers.subscriberHash("  " + email(seed).toUpperCase() + " ");
        assertThat(hash).isEqualTo(MailchimpMembers.subscriberHash(email(seed).toLowerCase())).hasSize(32);

        assertThat(members.setStatus(LIST, hash, MailchimpMembers.UNSUBSCRIBED)).isEqualTo("unsubscribed");
        RestPeerSupport.Request sent = peer.requestLog().get(peer.requestLog().size() - 1);
        assertThat(sent.method()).isEqualTo("PATCH");
        assertThat(sent.path()).isEqualTo("/3.0/lists/" + LIST + "/members/" + hash);
        assertThat(sent.json().path("status").asText()).isEqualTo("unsubscribed");
        assertThat(members.setStatus(LIST, hash, MailchimpMembers.SUBSCRIBED)).isEqualTo("subscribed");
        assertThat(peer.status(LIST, email(seed))).isEqualTo("subscribed");
    }

    @Test
    void aMemberNotInTheAudienceIsPermanentAndNothingIsAdded() {
        String absent = MailchimpMembers.subscriberHash(email(seed()));
        int before = peer.members().size();
        assertThatThrownBy(() -> members.setStatus(LIST, absent, MailchimpMembers.UNSUBSCRIBED))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("answered 404");
        assertThat(peer.members()).hasSize(before);
    }

    @Test
    void theDataCenterIsTakenFromTheKeyWhenNoUrlIsSet() {
        MailchimpMembers fromKey = MailchimpMembers.from(Config.of(Map.of("interchange.mailchimp.api-key", API_KEY)));
        assertThat(fromKey.client().target().baseUrl().toString()).isEqualTo("https://us21.api.mailchimp.com");
    }
}
