package io.interchange.connectors.erp;

import com.sun.net.httpserver.HttpServer;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.sandbox.S4BusinessPartnerReplication;
import io.interchange.sandbox.S4HanaPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * S/4HANA business partner replication end to end against the simulated S/4HANA: the request the mapping builds is
 * taken (202), the confirmation S/4HANA posts back names the partner's number, and a customer sent again (a retry, a
 * second legal entity) is the same partner, never a second one.
 */
class S4BusinessPartnersTest {

    static final MappingEngine ENGINE = MappingEngine.load(MappingSource.directory(Path.of("mappings")));
    static final String USER = "INTERCHANGE";
    static final String PASSWORD = "bp-" + UUID.randomUUID();

    S4HanaPeer s4;
    HttpServer confirmations;
    final List<byte[]> received = new CopyOnWriteArrayList<>();
    final HttpClient http = HttpClient.newHttpClient();
    final S4BusinessPartners partners = new S4BusinessPartners(ENGINE, "INTERCHANGE", "S4HCLNT100", Clock.systemUTC());

    @BeforeEach
    void start() throws Exception {
        s4 = new S4HanaPeer(0, USER, PASSWORD, Map.of("1010", "EUR", "1710", "USD"));
        s4.start();
        confirmations = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        confirmations.createContext("/soap/s4hana/business-partner-confirmation", ex -> {
            received.add(ex.getRequestBody().readAllBytes());
            ex.sendResponseHeaders(202, -1);
            ex.close();
        });
        confirmations.start();
        s4.businessPartners().confirmTo(URI.create("http://127.0.0.1:" + confirmations.getAddress().getPort()
                + "/soap/s4hana/business-partner-confirmation"), "S4CONFIRM", "secret");
    }

    @AfterEach
    void stop() {
        if (confirmations != null) confirmations.stop(0);
        if (s4 != null) s4.close();
    }

    static Customer person(String globalId) {
        return new Customer(globalId, "person", "Lena", "Schäfer", null, "lena@example.de", null,
                new Customer.PostalAddress("Friedrichstraße", "123", "10117", "Berlin", "BE", "DE"), "DE123456789", "de");
    }

    private HttpResponse<byte[]> send(String soap) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(s4.businessPartnerUrl()))
                .header("Content-Type", SoapSupport.CONTENT_TYPE)
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD)
                        .getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(soap)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private List<S4BusinessPartners.Confirmation> awaitConfirmation(int n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() >= n);
        return S4BusinessPartners.readConfirmation(received.get(n - 1));
    }

    @Test
    void aNewCustomerIsTakenConfirmedWithItsNumberAndSentAgainStaysOnePartner() throws Exception {
        String gid = UUID.randomUUID().toString();
        HttpResponse<byte[]> taken = send(partners.request(List.of(
                new S4BusinessPartners.PartnerRequest(person(gid), "DE01", "1010"))));
        assertThat(taken.statusCode()).isEqualTo(202);
        S4BusinessPartners.readAcceptance(taken.statusCode(), taken.body());

        S4BusinessPartners.Confirmation first = awaitConfirmation(1).get(0);
        assertThat(first.saved()).as(first.notes().toString()).isTrue();
        assertThat(first.partnerUuid()).isEqualTo(S4BusinessPartners.partnerUuid(gid));
        assertThat(first.partnerNumber()).matches("\\d{7,10}");

        // a retry after a lost acceptance, and the customer's second legal entity: the same partner, both company codes
        send(partners.request(List.of(new S4BusinessPartners.PartnerRequest(person(gid), "DE01", "1010"))));
        send(partners.request(List.of(new S4BusinessPartners.PartnerRequest(person(gid), "US01", "1710"))));
        S4BusinessPartners.Confirmation third = awaitConfirmation(3).get(0);
        assertThat(third.partnerNumber()).isEqualTo(first.partnerNumber());
        List<S4BusinessPartnerReplication.Partner> held = s4.businessPartners().partners();
        assertThat(held).hasSize(1);
        assertThat(held.get(0).companyCodes()).isEqualTo(Set.of("1010", "1710"));
        assertThat(held.get(0).saves()).isEqualTo(3);
        assertThat(held.get(0).email()).isEqualTo("lena@example.de");
    }

    @Test
    void aBulkRequestIsConfirmedPartnerByPartnerAndARejectedOneSaysWhy() throws Exception {
        String good = UUID.randomUUID().toString();
        String unknownCompany = UUID.randomUUID().toString();
        S4BusinessPartners.PartnerRequest a = new S4BusinessPartners.PartnerRequest(person(good), "DE01", "1010");
        S4BusinessPartners.PartnerRequest b = new S4BusinessPartners.PartnerRequest(person(unknownCompany), "XX01", "9999");
        assertThat(send(partners.request(List.of(a, b))).statusCode()).isEqualTo(202);

        List<S4BusinessPartners.Confirmation> confirmed = awaitConfirmation(1);
        assertThat(confirmed).hasSize(2);
        S4BusinessPartners.Confirmation ok = confirmed.stream()
                .filter(c -> S4BusinessPartners.partnerUuid(good).equals(c.partnerUuid())).findFirst().orElseThrow();
        S4BusinessPartners.Confirmation refused = confirmed.stream()
                .filter(c -> S4BusinessPartners.partnerUuid(unknownCompany).equals(c.partnerUuid())).findFirst().orElseThrow();
        assertThat(ok.saved()).isTrue();
        assertThat(refused.saved()).isFalse();
        assertThat(refused.partnerNumber()).isNull();
        assertThat(refused.notes()).anySatisfy(n -> assertThat(n).contains("9999"));
        assertThat(s4.businessPartners().partners()).hasSize(1);
    }

    @Test
    void aConfirmationEndpointThatFailsIsRetriedUntilItTakesIt() throws Exception {
        confirmations.removeContext("/soap/s4hana/business-partner-confirmation");
        int[] refusals = {2};
        confirmations.createContext("/soap/s4hana/business-partner-confirmation", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            if (refusals[0]-- > 0) {
                ex.sendResponseHeaders(503, -1);
            } else {
                received.add(body);
                ex.sendResponseHeaders(202, -1);
            }
            ex.close();
        });
        send(partners.request(List.of(new S4BusinessPartners.PartnerRequest(person(UUID.randomUUID().toString()),
                "DE01", "1010"))));
        assertThat(awaitConfirmation(1).get(0).saved()).isTrue();
        assertThat(s4.businessPartners().confirmationFailures()).isEqualTo(2);
    }

    @Test
    void answersAreClassified() {
        S4BusinessPartners.readAcceptance(202, new byte[0]);
        S4BusinessPartners.readAcceptance(200, "  ".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> S4BusinessPartners.readAcceptance(503, new byte[0])).isInstanceOf(TransientFailure.class);
        assertThatThrownBy(() -> S4BusinessPartners.readAcceptance(401, new byte[0])).isInstanceOf(PermanentFailure.class);
        String clientFault = SoapSupport.envelope("<soap-env:Fault><faultcode>soap-env:Client</faultcode>"
                + "<faultstring>BusinessPartnerSUITEBulkReplicateRequest holds no message</faultstring></soap-env:Fault>");
        assertThatThrownBy(() -> S4BusinessPartners.readAcceptance(500, clientFault.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("holds no message");
        assertThatThrownBy(() -> S4BusinessPartners.readConfirmation(SoapSupport.envelope(
                "<n0:BusinessPartnerSUITEBulkReplicateConfirmation xmlns:n0=\"" + S4BusinessPartners.NS + "\">"
                        + "<MessageHeader><ID>1</ID></MessageHeader></n0:BusinessPartnerSUITEBulkReplicateConfirmation>")
                .getBytes(StandardCharsets.UTF_8))).isInstanceOf(PermanentFailure.class).hasMessageContaining("no partner");
    }

    @Test
    void theMappingNamesWhatAPartnerLacks() {
        Customer nameless = new Customer(UUID.randomUUID().toString(), "person", "Lena", null, null, null, null, null,
                null, null);
        assertThatThrownBy(() -> partners.request(List.of(new S4BusinessPartners.PartnerRequest(nameless, "DE01", "1010"))))
                .hasMessageContaining("customer.lastName");
    }
}
