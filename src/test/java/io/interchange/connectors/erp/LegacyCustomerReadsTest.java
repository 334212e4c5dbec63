package io.interchange.connectors.erp;

import io.interchange.config.Config;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.reliability.PermanentFailure;
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
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The legacy ERP's customers read back with {@code ListCustomers} of its customer service, against the legacy ERP
 * peer over HTTP, in the manner of {@code ListJournals}: one company's customers created before a date, by number,
 * page after page ({@code After} the last number, while {@code More} says so), each read once.
 */
class LegacyCustomerReadsTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private LegacyErpPeer peer;
    private LegacyErpConnector connector;

    @BeforeEach
    void start() throws Exception {
        peer = new LegacyErpPeer(0, "legacy", "pw", Map.of("FR-01", "EUR", "GB-01", "GBP"));
        peer.start();
        connector = new LegacyErpConnector(Config.of(Map.of("interchange.erp.legacy.url", peer.endpointUrl(),
                "interchange.erp.legacy.password", "pw", "interchange.erp.legacy.user", "legacy")),
                MappingEngine.load(MappingSource.directory(Path.of("mappings"))));
        for (int i = 1; i <= 5; i++) {
            peer.putCustomer(new LegacyErpPeer.Customer(i == 3 ? "GB-01" : "FR-01", "key-" + i,
                    String.format("C%07d", i), "Doe, Jane " + i, "j" + i + "@example.com", "FR", null, 1,
                    LocalDate.of(2026, 11, i)));
        }
    }

    @AfterEach
    void stop() {
        peer.close();
    }

    @Test
    void oneCompanysCustomersCreatedBeforeTheDateAreReadOncePageByPage() throws Exception {
        List<ErpConnector.Partner> read = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            ErpConnector.PartnerPage page = page("FR-01", LocalDate.of(2026, 11, 5), cursor, 1);
            read.addAll(page.partners());
            cursor = page.next();
            pages++;
        } while (cursor != null);

        assertThat(read).extracting(ErpConnector.Partner::number).containsExactly("C0000001", "C0000002", "C0000004");
        assertThat(pages).isEqualTo(3);
        ErpConnector.Partner first = read.get(0);
        assertThat(first.name()).isEqualTo("Doe, Jane 1");
        assertThat(first.email()).isEqualTo("j1@example.com");
        assertThat(first.country()).isEqualTo("FR");
        assertThat(first.companyCodes()).containsExactly("FR-01");
        assertThat(first.createdOn()).isEqualTo(LocalDate.of(2026, 11, 1));
    }

    @Test
    void aPageSizeTheServiceRefusesIsAPermanentFailureNamingIt() throws Exception {
        assertThatThrownBy(() -> page("FR-01", LocalDate.of(2026, 12, 1), null, 5000))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("MaxCustomers");
    }

    private ErpConnector.PartnerPage page(String company, LocalDate before, String cursor, int size) throws Exception {
        ErpConnector.ReadRequest request = connector.partnerRequest(company, before, cursor, size);
        HttpResponse<byte[]> answer = HTTP.send(HttpRequest.newBuilder(URI.create(peer.customersUrl()))
                .header("Content-Type", SoapSupport.CONTENT_TYPE).header(request.headers()[0], request.headers()[1])
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString("legacy:pw"
                        .getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(request.body())).build(), HttpResponse.BodyHandlers.ofByteArray());
        return connector.readPartners(answer.statusCode(), answer.body(), cursor, size);
    }
}
