package io.interchange.connectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.config.Config;
import io.interchange.connectors.loyalty.LoyaltyMembers;
import io.interchange.connectors.loyalty.LoyaltyPoints;
import io.interchange.model.Customer;
import io.interchange.routes.RestTargetRoute;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.rest.RestPeerSupport;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A loyalty program's transactions as Voucherify's List Loyalty Campaign Transactions gives them
 * ({@code GET /v1/loyalties/{campaignId}/transactions}, response {@code LoyaltiesTransactionsListResponseBody}:
 * {@code object} {@code list}, {@code data_ref} {@code data}, {@code data} the transactions, {@code has_more},
 * {@code more_starting_after}), and a card with its holder ({@code GET /v1/vouchers/{code}}, which takes the card's
 * {@code v_...} id too, and {@code GET /v1/customers/{customerId}}): the peer's answers checked against the documented
 * shape, and read through the kit's REST target as the reconciliation reads them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoyaltyCampaignTransactionsContractTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String APP_ID = "app-id-campaign";
    static final String APP_TOKEN = "app-token-campaign";
    static final String CAMPAIGN = "camp_listed";
    static final Instant START = Instant.parse("2026-09-01T08:00:00Z");
    LoyaltyPeer peer;
    LoyaltyMembers members;
    LoyaltyPoints points;
    CamelContext context;
    final List<String> globalIds = new ArrayList<>();
    final List<String> codes = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        peer = new LoyaltyPeer(0, APP_ID, APP_TOKEN).program(CAMPAIGN, "Listed Program").program("camp_other", "Other")
                .start();
        members = LoyaltyMembers.from(Config.of(Map.of("interchange.loyalty.api-url", peer.url(),
                "interchange.loyalty.app-id", APP_ID, "interchange.loyalty.app-token", APP_TOKEN,
                "interchange.loyalty.campaign-id", CAMPAIGN, "interchange.loyalty.api-timeout", "PT2S",
                "interchange.loyalty.api-max-rate", "200")));
        points = new LoyaltyPoints(members.client());
        context = new DefaultCamelContext();
        context.getRegistry().bind(members.client().target().clientBean(), members.client().clientConfigurer());
        context.addRoutes(new RestTargetRoute(members.client().target()));
        context.start();
        members.client().start(context);
        // seven transactions of three members, a minute apart, in the order made
        for (int i = 0; i < 3; i++) {
            String gc = "gc-" + UUID.randomUUID();
            globalIds.add(gc);
            codes.add(members.ensureMember(gc, new Customer(gc, "person", "Ada", "Member " + i, null, null, null, null,
                    null, null)).memberId());
        }
        long[][] made = {{0, 100}, {1, 40}, {2, 7}, {0, -30}, {1, 12}, {0, 5}, {2, 1}};
        for (int i = 0; i < made.length; i++) {
            peer.clock(Clock.fixed(START.plusSeconds(60L * i), ZoneOffset.UTC));
            peer.addPoints(codes.get((int) made[i][0]), made[i][1]);
        }
        peer.clock(Clock.systemUTC());
    }

    @AfterAll
    void stop() throws Exception {
        if (context != null) context.close();
        if (peer != null) peer.close();
    }

    JsonNode get(String pathAndQuery, int status) throws Exception {
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(peer.url()
                        + pathAndQuery)).header("X-App-Id", APP_ID).header("X-App-Token", APP_TOKEN).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(status);
        return JSON.readTree(answer.body());
    }

    @Test
    void pagesAreTheDocumentedListNewestFirstEachAfterTheLastIdOfThePageBefore() throws Exception {
        String path = "/v1/loyalties/" + CAMPAIGN + "/transactions";
        JsonNode first = get(path + "?limit=3&order=-id", 200);
        assertThat(first.path("object").asText()).isEqualTo("list");
        assertThat(first.path("data_ref").asText()).isEqualTo("data");
        assertThat(first.path("has_more").asBoolean()).isTrue();
        assertThat(first.path("data")).hasSize(3);
        JsonNode newest = first.path("data").get(0);
        // LoyaltyCardTransaction's fields, the nullable ones present as null
        assertThat(newest.has("source_id") && newest.has("source") && newest.has("reason")
                && newest.has("related_transaction_id")).isTrue();
        assertThat(newest.path("id").asText()).startsWith("vtx_");
        assertThat(newest.path("voucher_id").asText()).startsWith("v_");
        assertThat(newest.path("campaign_id").asText()).isEqualTo(CAMPAIGN);
        assertThat(newest.path("type").asText()).isEqualTo("POINTS_ACCRUAL");
        assertThat(newest.path("details").path("balance").path("points").asLong()).isEqualTo(1);
        assertThat(newest.path("created_at").asText()).isEqualTo(START.plusSeconds(360).toString());
        assertThat(newest.has("holder")).as("a listed transaction names its card, not its holder").isFalse();
        assertThat(first.path("more_starting_after").asText()).isEqualTo(first.path("data").get(2).path("id").asText());

        JsonNode second = get(path + "?limit=3&order=-id&starting_after_id=" + first.path("more_starting_after").asText(),
                200);
        JsonNode third = get(path + "?limit=3&order=-id&starting_after_id=" + second.path("more_starting_after").asText(),
                200);
        assertThat(third.path("data")).hasSize(1);
        assertThat(third.path("has_more").asBoolean()).isFalse();
        assertThat(third.has("more_starting_after")).isFalse();
        List<Long> pointsNewestFirst = new ArrayList<>();
        for (JsonNode page : List.of(first, second, third)) {
            page.path("data").forEach(t -> pointsNewestFirst.add(t.path("details").path("balance").path("points").asLong()));
        }
        assertThat(pointsNewestFirst).containsExactly(1L, 5L, 12L, -30L, 7L, 40L, 100L);
        // oldest first, asked so
        assertThat(get(path + "?limit=2&order=id", 200).path("data").get(0).path("details").path("balance")
                .path("points").asLong()).isEqualTo(100);
        // the other program's list holds none of them
        assertThat(get("/v1/loyalties/camp_other/transactions", 200).path("data")).isEmpty();
    }

    @Test
    void wrongParametersGetVoucherifysErrors() throws Exception {
        String path = "/v1/loyalties/" + CAMPAIGN + "/transactions";
        for (String limit : List.of("0", "101", "x")) {
            JsonNode error = get(path + "?limit=" + limit, 400);
            assertThat(error.path("code").asInt()).isEqualTo(400);
            assertThat(error.path("key").asText()).isEqualTo("invalid_query_params");
        }
        assertThat(get(path + "?order=created_at", 400).path("key").asText()).isEqualTo("invalid_query_params");
        assertThat(get(path + "?starting_after_id=vtx_unknown", 404).path("key").asText()).isEqualTo("not_found");
        assertThat(get("/v1/loyalties/camp_unknown/transactions", 404).path("details").asText())
                .contains("camp_unknown");
        assertThat(get(path + "?limit=2", 200).path("data")).hasSize(2);
    }

    @Test
    void theClientReadsEveryPageAndEachCardsHolder() {
        List<JsonNode> all = new ArrayList<>();
        String after = null;
        int pages = 0;
        int before = peer.requestLog().size();
        do {
            LoyaltyPoints.Listed page = points.campaignTransactions(CAMPAIGN, 2, "-id", after);
            all.addAll(page.data());
            after = page.hasMore() ? page.moreStartingAfter() : null;
            pages++;
        } while (after != null);
        assertThat(pages).isEqualTo(4);
        assertThat(all).hasSize(7);
        List<RestPeerSupport.Request> sent = peer.requestLog().subList(before, peer.requestLog().size());
        assertThat(sent).extracting(RestPeerSupport.Request::path).containsOnly("/v1/loyalties/" + CAMPAIGN + "/transactions");
        assertThat(sent.get(1).query()).contains("limit=2", "order=-id", "starting_after_id=" + all.get(1).path("id").asText());
        Iterator<JsonNode> newestFirst = all.iterator();
        String last = newestFirst.next().path("id").asText();
        while (newestFirst.hasNext()) {
            String id = newestFirst.next().path("id").asText();
            assertThat(id).isLessThan(last);
            last = id;
        }

        // the card of the oldest transaction, by its v_ id, and its holder: the first member
        LoyaltyPoints.Card card = points.card(all.get(6).path("voucher_id").asText());
        assertThat(card.code()).isEqualTo(codes.get(0));
        assertThat(card.campaignId()).isEqualTo(CAMPAIGN);
        assertThat(card.holderId()).startsWith("cust_");
        assertThat(card.holderSourceId()).isEqualTo(globalIds.get(0));
        assertThat(points.card(codes.get(2)).holderSourceId()).as("by its code too").isEqualTo(globalIds.get(2));
    }
}
