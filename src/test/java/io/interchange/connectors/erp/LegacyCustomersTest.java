package io.interchange.connectors.erp;

import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.sandbox.LegacyErpPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The legacy ERP's customer service against the simulated legacy ERP: created once per company, then changed. */
class LegacyCustomersTest {

    static final String USER = "INTERCHANGE";
    static final String PASSWORD = "legacy-" + UUID.randomUUID();

    final LegacyCustomers customers = new LegacyCustomers(MappingEngine.load(MappingSource.directory(Path.of("mappings"))));
    final HttpClient http = HttpClient.newHttpClient();
    LegacyErpPeer legacy;

    @BeforeEach
    void start() throws Exception {
        legacy = new LegacyErpPeer(0, USER, PASSWORD, Map.of("FR-01", "EUR", "GB-01", "GBP"));
        legacy.start();
    }

    @AfterEach
    void stop() {
        if (legacy != null) legacy.close();
    }

    private HttpResponse<byte[]> send(String soap) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(legacy.customersUrl()))
                .header("Content-Type", SoapSupport.CONTENT_TYPE).header("SOAPAction", LegacyCustomers.SOAP_ACTION)
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD)
                        .getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(soap)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static Customer camille(String globalId, String email) {
        return new Customer(globalId, "person", "Camille", "Durand", null, email, null,
                new Customer.PostalAddress("Rue de Rivoli", "44", "75004", "Paris", null, "FR"), null, "fr");
    }

    @Test
    void aCustomerSentAgainIsChangedNotCreatedTwiceAndEachCompanyHasItsOwn() throws Exception {
        String gid = UUID.randomUUID().toString();
        HttpResponse<byte[]> first = send(customers.request(camille(gid, "c@example.fr"), "FR01", "FR-01"));
        LegacyCustomers.Answer created = LegacyCustomers.read(first.statusCode(), first.body());
        assertThat(created.created()).isTrue();

        HttpResponse<byte[]> again = send(customers.request(camille(gid, "camille@example.fr"), "FR01", "FR-01"));
        LegacyCustomers.Answer changed = LegacyCustomers.read(again.statusCode(), again.body());
        assertThat(changed.created()).isFalse();
        assertThat(changed.customerNumber()).isEqualTo(created.customerNumber());

        HttpResponse<byte[]> other = send(customers.request(camille(gid, "camille@example.fr"), "GB01", "GB-01"));
        assertThat(LegacyCustomers.read(other.statusCode(), other.body()).customerNumber())
                .isNotEqualTo(created.customerNumber());

        assertThat(legacy.customers()).hasSize(2);
        LegacyErpPeer.Customer inFrance = legacy.customers().stream().filter(c -> c.company().equals("FR-01"))
                .findFirst().orElseThrow();
        assertThat(inFrance.email()).isEqualTo("camille@example.fr");
        assertThat(inFrance.name()).isEqualTo("Durand, Camille");
        assertThat(inFrance.saves()).isEqualTo(2);
    }

    @Test
    void anUnknownCompanyIsAPermanentFailureSayingSoAndAnOutageATransientOne() throws Exception {
        HttpResponse<byte[]> refused = send(customers.request(camille(UUID.randomUUID().toString(), null), "XX01", "XX-01"));
        assertThatThrownBy(() -> LegacyCustomers.read(refused.statusCode(), refused.body()))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("Unknown company XX-01");
        legacy.setAvailable(false);
        HttpResponse<byte[]> down = send(customers.request(camille(UUID.randomUUID().toString(), null), "FR01", "FR-01"));
        assertThatThrownBy(() -> LegacyCustomers.read(down.statusCode(), down.body())).isInstanceOf(TransientFailure.class);
        assertThat(legacy.customers()).isEmpty();
    }
}
