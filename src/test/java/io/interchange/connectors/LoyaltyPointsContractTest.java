package io.interchange.connectors;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.connectors.loyalty.LoyaltyMembers;
import io.interchange.connectors.loyalty.LoyaltyPoints;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.routes.RestTargetRoute;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.rest.RestPeerSupport;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Points on the loyalty platform (Voucherify's {@code POST /v1/loyalties/members/{memberId}/balance} and the member's
 * transactions) through the kit's REST target, against the peer. Not an {@link OutboundRestContract}: that contract
 * holds a write to one request, performed once by the target's own means (an idempotency key or an upsert), while an
 * add has neither and is made once by looking its {@code source_id} up, so its request counts differ; the kit's
 * classification (429, 401, 4xx, 5xx) is the same client's and is covered there by {@link LoyaltyMembersContractTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoyaltyPointsContractTest {

    static final String APP_ID = "app-id-points";
    static final String APP_TOKEN = "app-token-points";
    static final String CAMPAIGN = "camp_points";
    LoyaltyPeer peer;
    LoyaltyMembers members;
    LoyaltyPoints points;
    CamelContext context;

    @BeforeAll
    void start() throws Exception {
        peer = new LoyaltyPeer(0, APP_ID, APP_TOKEN).program(CAMPAIGN, "Points Program").start();
        members = LoyaltyMembers.from(Config.of(Map.of("interchange.loyalty.api-url", peer.url(),
                "interchange.loyalty.app-id", APP_ID, "interchange.loyalty.app-token", APP_TOKEN,
                "interchange.loyalty.campaign-id", CAMPAIGN, "interchange.loyalty.api-timeout", "PT1S",
                "interchange.loyalty.api-max-rate", "200")));
        points = new LoyaltyPoints(members.client());
        context = new DefaultCamelContext();
        context.getRegistry().bind(members.client().target().clientBean(), members.client().clientConfigurer());
        context.addRoutes(new RestTargetRoute(members.client().target()));
        context.start();
        members.client().start(context);
    }

    @AfterAll
    void stop() throws Exception {
        if (context != null) context.close();
        if (peer != null) peer.close();
    }

    String member() {
        String gc = "gc-" + UUID.randomUUID();
        return members.ensureMember(gc, new Customer(gc, "person", "Ada", "Lovelace", null, null, null, null, null, null))
                .memberId();
    }

    List<ObjectNode> withSource(String member, String sourceId) {
        return peer.transactions(member).stream().filter(t -> sourceId.equals(t.path("source_id").asText(null))).toList();
    }

    int sent() {
        return peer.requestLog().size();
    }

    @Test
    void anAddCarriesOurIdAsSourceIdAndTheBalanceReadsIt() {
        String member = member();
        LoyaltyPoints.Added added = points.add(member, 120, "earn:ev-1", "invoice INV-1", false, null);
        assertThat(added).isEqualTo(new LoyaltyPoints.Added(120, 120, null, false));
        RestPeerSupport.Request post = peer.requestLog().get(sent() - 1);
        assertThat(post.method()).isEqualTo("POST");
        assertThat(post.path()).isEqualTo("/v1/loyalties/members/" + member + "/balance");
        assertThat(post.header("X-App-Id")).isEqualTo(APP_ID);
        assertThat(post.header("X-App-Token")).isEqualTo(APP_TOKEN);
        assertThat(post.body()).contains("\"source_id\":\"earn:ev-1\"").contains("\"points\":120")
                .contains("\"expiration_type\":\"PROGRAM_RULES\"");
        assertThat(withSource(member, "earn:ev-1")).singleElement().satisfies(t -> {
            assertThat(t.path("id").asText()).startsWith("vtx_");
            assertThat(t.path("type").asText()).isEqualTo("POINTS_ADDITION");
            assertThat(t.path("reason").asText()).isEqualTo("invoice INV-1");
            assertThat(t.path("details").path("balance").path("points").asLong()).isEqualTo(120);
        });
        points.add(member, -20, "adjust:1", null, false, null);
        assertThat(points.balance(member)).isEqualTo(new LoyaltyPoints.Balance(member, 120, 100));
        assertThat(points.transactions(member, 10, "-id", null).transactions()).extracting(LoyaltyPoints.Transaction::type)
                .containsExactly("POINTS_REMOVAL", "POINTS_ADDITION");
    }

    @Test
    void aLostAnswerIsFoundByItsSourceIdAndNotAddedAgain() {
        String member = member();
        peer.loseAnswerNext(1, "POST", ".*/balance");
        int before = sent();
        LoyaltyPoints.Added added = points.add(member, 40, "earn:lost", null, false, null);
        assertThat(added.found()).as("found by the lookup after the lost answer").isTrue();
        assertThat(added.transactionId()).startsWith("vtx_");
        assertThat(added.points()).isEqualTo(40);
        assertThat(peer.requestLog().subList(before, sent())).extracting(RestPeerSupport.Request::method)
                .containsExactly("POST", "GET");
        assertThat(withSource(member, "earn:lost")).hasSize(1);
        // the caller's policy asks again anyway (a redelivery): found first, nothing sent
        assertThat(points.add(member, 40, "earn:lost", null, true, null).found()).isTrue();
        assertThat(withSource(member, "earn:lost")).hasSize(1);
        assertThat(points.balance(member).balance()).isEqualTo(40);
    }

    @Test
    void aTimeoutAfterThePlatformAppliedTheAddIsFoundToo() {
        String member = member();
        peer.delayNext(1, Duration.ofSeconds(3)); // applied on arrival, answered after the client's 1 s
        assertThat(points.add(member, 7, "earn:slow", null, false, null).found()).isTrue();
        assertThat(withSource(member, "earn:slow")).hasSize(1);
    }

    @Test
    void aServerErrorBeforeTheAddIsTransientAndTheRetryAddsOnce() {
        String member = member();
        peer.failNext(1, 503, "down for a moment");
        assertThatThrownBy(() -> points.add(member, 15, "earn:503", null, false, null))
                .isInstanceOf(TransientFailure.class).hasMessageContaining("answered 503");
        assertThat(withSource(member, "earn:503")).isEmpty();
        assertThat(points.add(member, 15, "earn:503", null, true, null).found()).isFalse();
        assertThat(withSource(member, "earn:503")).hasSize(1);
        assertThat(points.add(member, 15, "earn:503", null, true, null).found()).isTrue();
        assertThat(withSource(member, "earn:503")).hasSize(1);
    }

    @Test
    void theLookupPagesThroughTheTransactionsAndStopsAtTheEventsTime() {
        String member = member();
        points.add(member, 1, "earn:oldest", null, false, null);
        for (int i = 0; i < 230; i++) peer.addPoints(member, 1);
        int before = sent();
        assertThat(points.find(member, "earn:oldest", null)).isNotNull()
                .satisfies(t -> assertThat(t.points()).isEqualTo(1));
        assertThat(sent() - before).as("pages of 100 read").isEqualTo(3);
        before = sent();
        assertThat(points.find(member, "earn:never", Instant.now().plusSeconds(5))).isNull();
        assertThat(sent() - before).as("stopped at the first transaction older than the bound").isEqualTo(1);

        LoyaltyPoints.Page first = points.transactions(member, 100, "id", null);
        assertThat(first.hasMore()).isTrue();
        assertThat(first.transactions().get(0).sourceId()).isEqualTo("earn:oldest");
        LoyaltyPoints.Page third = points.transactions(member, 100, "id",
                points.transactions(member, 100, "id", first.moreStartingAfter()).moreStartingAfter());
        assertThat(third.transactions()).hasSize(31);
        assertThat(third.hasMore()).isFalse();
        assertThat(third.moreStartingAfter()).isNull();
    }

    @Test
    void subtractingMoreThanTheBalanceIsPermanent() {
        String member = member();
        points.add(member, 5, "earn:small", null, false, null);
        assertThatThrownBy(() -> points.add(member, -6, "refund:big", null, false, null))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("loyalty_card_points_exceeded");
        assertThat(points.balance(member).balance()).isEqualTo(5);
    }
}
