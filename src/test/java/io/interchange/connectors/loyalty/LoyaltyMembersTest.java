package io.interchange.connectors.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.connectors.rest.RestClient;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.routes.RestTargetRoute;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.rest.RestPeerSupport;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the loyalty platform's client does beyond the REST contract, against the Voucherify peer over real HTTP: one
 * card per global customer however often it is ensured, a lost answer to the card's creation found again by the retry
 * (read before create, the platform having no idempotency key), the customer written under our global id with its
 * fields mapped, the card's balance and tier read back, and refusals with Voucherify's reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoyaltyMembersTest {

    static final String APP_ID = "app-id-1";
    static final String APP_TOKEN = "app-token-1";
    static final String CAMPAIGN = "camp_loyalty1";
    static final ObjectMapper JSON = new ObjectMapper();

    LoyaltyPeer peer;
    LoyaltyMembers members;
    CamelContext context;
    /** Headers of every exchange sent to the HTTP endpoint: the credential must be in none of them. */
    final List<Map<String, Object>> exchangeHeaders = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start() throws Exception {
        peer = new LoyaltyPeer(0, APP_ID, APP_TOKEN).program(CAMPAIGN, "Loyalty Program")
                .tier(CAMPAIGN, "ltr_silver", "Silver", 100, 499).tier(CAMPAIGN, "ltr_gold", "Gold", 500, 100_000).start();
        members = client(APP_TOKEN, CAMPAIGN);
        context = startRoute(members.client(), exchangeHeaders);
    }

    @AfterAll
    void stop() throws Exception {
        if (context != null) context.close();
        if (peer != null) peer.close();
    }

    LoyaltyMembers client(String token, String campaign) {
        return LoyaltyMembers.from(Config.of(Map.of("interchange.loyalty.api-url", peer.url(),
                "interchange.loyalty.app-id", APP_ID, "interchange.loyalty.app-token", token,
                "interchange.loyalty.campaign-id", campaign, "interchange.loyalty.api-timeout", "PT1S",
                "interchange.loyalty.api-max-rate", "50")));
    }

    static CamelContext startRoute(RestClient client, List<Map<String, Object>> sent) throws Exception {
        CamelContext context = new DefaultCamelContext();
        context.getRegistry().bind(client.target().clientBean(), client.clientConfigurer());
        context.getManagementStrategy().addEventNotifier(new EventNotifierSupport() {
            @Override
            public void notify(CamelEvent event) {
                if (event instanceof CamelEvent.ExchangeSendingEvent sending
                        && sending.getEndpoint().getEndpointUri().startsWith("http")) {
                    sent.add(Map.copyOf(sending.getExchange().getMessage().getHeaders()));
                }
            }
        });
        context.addRoutes(new RestTargetRoute(client.target()));
        context.start();
        client.start(context);
        return context;
    }

    static String globalId() {
        return "gc-" + UUID.randomUUID();
    }

    static Customer person(String globalId, String email) {
        return new Customer(globalId, "person", "Ada", "Lovelace", null, email, "+49 30 1234567",
                new Customer.PostalAddress("Hauptstraße", "5", "10115", "Berlin", "BE", "DE"), "DE123", "de");
    }

    List<JsonNode> cardsHeldBy(String customerId) {
        return peer.members().stream().filter(c -> customerId.equals(c.path("holder_id").asText()))
                .map(JsonNode.class::cast).toList();
    }

    List<RestPeerSupport.Request> since(int before) {
        List<RestPeerSupport.Request> log = peer.requestLog();
        return log.subList(before, log.size());
    }

    @Test
    void ensuringAMemberTwiceLeavesOneCardAndTheSecondTimeAddsNone() {
        String id = globalId();
        LoyaltyMembers.Member first = members.ensureMember(id, person(id, "ada@example.com"));
        int before = peer.requestLog().size();
        LoyaltyMembers.Member second = members.ensureMember(id, person(id, "ada@example.com"));

        assertThat(first.created()).isTrue();
        assertThat(first.customerId()).startsWith("cust_");
        assertThat(second).isEqualTo(new LoyaltyMembers.Member(first.memberId(), first.customerId(), false));
        assertThat(cardsHeldBy(first.customerId())).singleElement()
                .satisfies(c -> assertThat(c.path("code").asText()).isEqualTo(first.memberId()));
        assertThat(peer.customers()).filteredOn(c -> id.equals(c.path("source_id").asText())).hasSize(1);
        assertThat(since(before)).extracting(r -> r.method() + " " + r.path()).containsExactly(
                "POST /v1/customers", "GET /v1/loyalties/" + CAMPAIGN + "/members");
        RestPeerSupport.Request lookup = since(before).get(1);
        assertThat(lookup.queryParams()).containsEntry("customer", first.customerId()).containsEntry("order", "created_at");
    }

    @Test
    void aRetryAfterTheCardsCreationLostItsAnswerFindsTheSameCard() {
        String id = globalId();
        peer.loseAnswerNext(1, "POST", "/v1/loyalties/[^/]+/members");
        assertThatThrownBy(() -> members.ensureMember(id, person(id, "lost@example.com")))
                .isInstanceOf(TransientFailure.class).hasMessageContaining("unreachable");
        String customerId = peer.customers().stream().filter(c -> id.equals(c.path("source_id").asText())).findFirst()
                .orElseThrow().path("id").asText();
        List<JsonNode> assigned = cardsHeldBy(customerId);
        assertThat(assigned).as("the platform assigned the card whose answer was lost").hasSize(1);

        int before = peer.requestLog().size();
        LoyaltyMembers.Member retried = members.ensureMember(id, person(id, "lost@example.com"));
        assertThat(retried.created()).isFalse();
        assertThat(retried.memberId()).isEqualTo(assigned.get(0).path("code").asText());
        assertThat(cardsHeldBy(customerId)).as("cards after the retry").hasSize(1);
        assertThat(since(before)).noneMatch(r -> r.method().equals("POST") && r.path().endsWith("/members"));
    }

    @Test
    void theCustomerIsWrittenUnderTheGlobalIdWithItsFieldsMappedAndUpdatedInPlace() throws Exception {
        String id = globalId();
        int before = peer.requestLog().size();
        String customerId = members.upsertCustomer(id, person(id, "ada@example.com"));

        JsonNode sent = since(before).get(0).json();
        assertThat(sent.path("source_id").asText()).isEqualTo(id);
        assertThat(sent.path("metadata").path("global_customer_id").asText()).isEqualTo(id);
        assertThat(sent.path("name").asText()).isEqualTo("Ada Lovelace");
        assertThat(sent.path("email").asText()).isEqualTo("ada@example.com");
        assertThat(sent.path("phone").asText()).isEqualTo("+49 30 1234567");
        JsonNode address = sent.path("address");
        assertThat(address.path("line_1").asText()).isEqualTo("Hauptstraße 5");
        assertThat(address.path("postal_code").asText()).isEqualTo("10115");
        assertThat(address.path("city").asText()).isEqualTo("Berlin");
        assertThat(address.path("state").asText()).isEqualTo("BE");
        assertThat(address.path("country").asText()).isEqualTo("DE");
        assertThat(sent.has("tax_id")).as("fields Voucherify has no place for are not sent").isFalse();

        String again = members.upsertCustomer(id, person(id, "ada.lovelace@example.com"));
        assertThat(again).isEqualTo(customerId);
        assertThat(peer.customers()).filteredOn(c -> id.equals(c.path("source_id").asText())).singleElement()
                .satisfies(c -> {
                    assertThat(c.path("id").asText()).isEqualTo(customerId);
                    assertThat(c.path("email").asText()).isEqualTo("ada.lovelace@example.com");
                    assertThat(c.path("address").path("city").asText()).isEqualTo("Berlin");
                });
    }

    @Test
    void anOrganisationIsNamedByItsCompanyAndAbsentFieldsAreLeftOut() {
        String id = globalId();
        ObjectNode body = LoyaltyMembers.customerBody(id, new Customer(id, "organisation", null, null, "Acme GmbH",
                null, null, null, null, null));
        ObjectNode expected = JSON.createObjectNode().put("source_id", id).put("name", "Acme GmbH");
        expected.putObject("metadata").put("global_customer_id", id);
        assertThat(body).isEqualTo(expected);
        assertThatThrownBy(() -> members.upsertCustomer(id, person("gc-other", null)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aMembersBalanceAndTierAreReadBack() {
        String id = globalId();
        LoyaltyMembers.Member member = members.ensureMember(id, person(id, "points@example.com"));
        LoyaltyMembers.MemberCard fresh = members.member(member.memberId());
        assertThat(fresh).isEqualTo(new LoyaltyMembers.MemberCard(member.memberId(), member.customerId(), CAMPAIGN, 0, 0,
                null));

        peer.addPoints(member.memberId(), 320);
        peer.addPoints(member.memberId(), -20);
        LoyaltyMembers.MemberCard later = members.member(member.memberId());
        assertThat(later.points()).isEqualTo(320);
        assertThat(later.balance()).isEqualTo(300);
        assertThat(later.tier()).isEqualTo(new LoyaltyMembers.Tier("ltr_silver", "Silver"));

        assertThatThrownBy(() -> members.member("NOSUCHCARD")).isInstanceOf(PermanentFailure.class)
                .hasMessageContaining("answered 404").hasMessageContaining("not_found")
                .hasMessageContaining("Cannot find voucher with id NOSUCHCARD");
    }

    @Test
    void aWrongTokenIsPermanentWithVoucherifysReasonAndWritesNothing() throws Exception {
        LoyaltyMembers wrong = client("not-the-token", CAMPAIGN);
        try (CamelContext ctx = startRoute(wrong.client(), new CopyOnWriteArrayList<>())) {
            int customers = peer.customers().size();
            int before = peer.requestLog().size();
            String id = globalId();
            assertThatThrownBy(() -> wrong.ensureMember(id, person(id, "x@example.com")))
                    .isInstanceOf(PermanentFailure.class)
                    .hasMessageContaining("Voucherify API POST /v1/customers answered 401")
                    .hasMessageContaining("unauthorized");
            assertThat(peer.requestLog().size() - before).as("a refused key is not asked again").isEqualTo(1);
            assertThat(peer.customers()).hasSize(customers);
        }
    }

    @Test
    void anUnknownProgramIsPermanentWithVoucherifysReasonAndAnUnconfiguredOneSendsNothing() throws Exception {
        LoyaltyMembers unknown = client(APP_TOKEN, "camp_missing");
        try (CamelContext ctx = startRoute(unknown.client(), new CopyOnWriteArrayList<>())) {
            String id = globalId();
            assertThatThrownBy(() -> unknown.ensureMember(id, person(id, "x@example.com")))
                    .isInstanceOf(PermanentFailure.class).hasMessageContaining("answered 404")
                    .hasMessageContaining("not_found: Resource not found (Cannot find campaign with id camp_missing)");
        }
        LoyaltyMembers unconfigured = client(APP_TOKEN, "");
        int before = peer.requestLog().size();
        String id = globalId();
        assertThatThrownBy(() -> unconfigured.ensureMember(id, person(id, "x@example.com")))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("interchange.loyalty.campaign-id");
        assertThat(peer.requestLog()).hasSize(before);
    }

    @Test
    void theCredentialTravelsOnlyInTheHttpClientsHeadersNeverInAnExchange() {
        String id = globalId();
        int before = peer.requestLog().size();
        members.upsertCustomer(id, person(id, "headers@example.com"));
        assertThat(since(before)).singleElement().satisfies(r -> {
            assertThat(r.header("X-App-Id")).isEqualTo(APP_ID);
            assertThat(r.header("X-App-Token")).isEqualTo(APP_TOKEN);
        });
        assertThat(exchangeHeaders).isNotEmpty().allSatisfy(h -> {
            assertThat(h.keySet()).noneMatch(k -> k.equalsIgnoreCase("X-App-Token") || k.equalsIgnoreCase("X-App-Id")
                    || k.equalsIgnoreCase("Authorization"));
            assertThat(h.values()).noneMatch(v -> String.valueOf(v).contains(APP_TOKEN));
        });
        assertThat(context.getEndpoints()).noneMatch(e -> e.getEndpointUri().contains(APP_TOKEN));
    }
}
