package io.interchange.flow;

import io.interchange.connectors.S4PartnerConfirmationContractTest;
import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.connectors.erp.SoapSupport;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Customer;
import io.interchange.store.CrossReferences;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The customer sync's first link: a customer's business partner replicated to the simulated S/4HANA comes back as
 * S/4HANA's asynchronous confirmation, which completes the customer's pending erp-s4hana link with the partner's
 * number; sent again it is the same partner and the same link; a rejection releases the creation and reaches an
 * operator as a dead letter with S/4HANA's notes.
 */
class CustomerPartnerLinkTest {

    static final String CONFIRM_USER = "S4HANA";
    static final String CONFIRM_PASSWORD = "confirm-" + UUID.randomUUID();
    static RuntimeKit kit;
    static S4BusinessPartners partners;
    static CrossReferences xref;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.flows", "customer-sync",
                "interchange.erp.s4.confirmation-user", CONFIRM_USER,
                "interchange.erp.s4.confirmation-password", CONFIRM_PASSWORD));
        kit.s4.businessPartners().confirmTo(URI.create("http://127.0.0.1:" + kit.httpPort
                + "/soap/s4hana/business-partner-confirmation"), CONFIRM_USER, CONFIRM_PASSWORD);
        partners = new S4BusinessPartners(MappingEngine.load(MappingSource.directory(Path.of("mappings"))),
                "INTERCHANGE", null, Clock.systemUTC());
        xref = kit.runtime.store().crossReferences();
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    static Customer customer(String globalId, String email) {
        return new Customer(globalId, "organisation", null, null, "Contoso GmbH", email, null,
                new Customer.PostalAddress("Hauptstraße", "1", "80331", "München", "BY", "DE"), "DE811907980", "de");
    }

    private static void replicate(Customer customer, String entity, String companyCode) throws Exception {
        HttpResponse<byte[]> taken = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(kit.s4.businessPartnerUrl()))
                .header("Content-Type", SoapSupport.CONTENT_TYPE)
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((RuntimeKit.ERP_USER + ":"
                        + RuntimeKit.ERP_PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(partners.request(List.of(
                        new S4BusinessPartners.PartnerRequest(customer, entity, companyCode))))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        S4BusinessPartners.readAcceptance(taken.statusCode(), taken.body());
    }

    private static String number(String globalId) {
        return kit.s4.businessPartners().partners().stream()
                .filter(p -> p.senderUuid().equals(S4BusinessPartners.partnerUuid(globalId)))
                .findFirst().orElseThrow().number();
    }

    private static List<DeadLetter> deadLetters() {
        return kit.runtime.store().deadLetters().list("customer.erp-partner-link", DeadLetter.OPEN, 100);
    }

    @Test
    void aConfirmedPartnerCompletesTheCustomersLinkAndSentAgainStaysThatOne() throws Exception {
        String gid = xref.mint();
        CrossReferences.Claim claim = xref.claimCreation(gid, "erp-s4hana", "");
        assertThat(claim).isInstanceOf(CrossReferences.Claimed.class);
        assertThat(((CrossReferences.Claimed) claim).creationKey()).isEqualTo(S4BusinessPartners.partnerUuid(gid));

        replicate(customer(gid, "ap@contoso.example"), "DE01", "1010");
        // pending (an empty record id) until the confirmation links it
        assertThat(xref.recordOf(gid, "erp-s4hana", "")).hasValue("");
        await().atMost(Duration.ofSeconds(20)).until(() -> !xref.recordOf(gid, "erp-s4hana", "").orElse("").isEmpty());
        String linked = xref.recordOf(gid, "erp-s4hana", "").orElseThrow();
        assertThat(linked).isEqualTo(number(gid));

        // a retry of the same state (its confirmation a duplicate at the edge) and a change (a new confirmation of the
        // same partner): one partner, one link
        int confirmations = kit.s4.businessPartners().confirmationsSent();
        replicate(customer(gid, "ap@contoso.example"), "DE01", "1010");
        replicate(customer(gid, "payables@contoso.example"), "US01", "1710");
        await().atMost(Duration.ofSeconds(20)).until(() -> kit.s4.businessPartners().confirmationsSent() >= confirmations + 2);
        await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> true);
        assertThat(kit.s4.businessPartners().partners().stream()
                .filter(p -> p.senderUuid().equals(S4BusinessPartners.partnerUuid(gid)))).hasSize(1);
        assertThat(xref.linksOf(gid)).singleElement().satisfies(l -> assertThat(l.externalId()).isEqualTo(linked));
        assertThat(deadLetters()).noneMatch(d -> d.errorMessage().contains(gid));
    }

    @Test
    void aRejectedPartnerReleasesTheCreationAndReachesAnOperatorWithS4HanasNotes() throws Exception {
        String gid = xref.mint();
        xref.claimCreation(gid, "erp-s4hana", "");
        replicate(customer(gid, "ap@fabrikam.example"), "XX01", "9999");
        await().atMost(Duration.ofSeconds(20)).until(() -> deadLetters().stream().anyMatch(d -> d.errorMessage().contains(gid)));
        DeadLetter dl = deadLetters().stream().filter(d -> d.errorMessage().contains(gid)).findFirst().orElseThrow();
        assertThat(dl.errorMessage()).contains("rejected").contains("9999");
        assertThat(xref.recordOf(gid, "erp-s4hana", "")).as("still pending, not linked").hasValue("");
        // released: the next attempt takes the creation over at once, under the same key
        CrossReferences.Claim again = xref.claimCreation(gid, "erp-s4hana", "");
        assertThat(again).isInstanceOfSatisfying(CrossReferences.Claimed.class, c -> {
            assertThat(c.takenOver()).isTrue();
            assertThat(c.creationKey()).isEqualTo(S4BusinessPartners.partnerUuid(gid));
        });
    }

    @Test
    void aConfirmationNoCreationAwaitsIsDeadLetteredNotGuessed() throws Exception {
        String stranger = UUID.randomUUID().toString();
        byte[] body = S4PartnerConfirmationContractTest.confirmation(stranger, "MSG" + UUID.randomUUID().toString()
                .replace("-", "").substring(0, 20), "1234567");
        HttpResponse<String> answer = kit.post("/soap/s4hana/business-partner-confirmation", body, Map.of(
                "Content-Type", "text/xml; charset=utf-8", "Authorization", "Basic " + Base64.getEncoder()
                        .encodeToString((CONFIRM_USER + ":" + CONFIRM_PASSWORD).getBytes(StandardCharsets.UTF_8))));
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> deadLetters().stream()
                .anyMatch(d -> d.errorMessage().contains(stranger)));
        Optional<DeadLetter> dl = deadLetters().stream().filter(d -> d.errorMessage().contains(stranger)).findFirst();
        assertThat(dl.orElseThrow().errorMessage()).contains("no customer awaits");
    }
}
