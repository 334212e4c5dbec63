package io.interchange.connectors.erp;

import io.interchange.reliability.PermanentFailure;
import io.interchange.sandbox.S4BusinessPartnerReplication;
import io.interchange.sandbox.S4HanaPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The business partner read ({@code API_BUSINESS_PARTNER}, {@code A_BusinessPartner}) against the S/4HANA peer over
 * HTTP: the request the connector builds, the OData V2 answer the peer gives (expanded navigations, {@code d.results},
 * {@code __next} beyond its page size), and every partner read once across pages, whichever way SAP pages.
 */
class S4PartnerReadsTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private S4HanaPeer peer;

    @BeforeEach
    void start() throws Exception {
        peer = new S4HanaPeer(0, "INTERCHANGE", "secret", Map.of("1010", "EUR", "1710", "USD"));
        peer.start();
        for (int i = 1; i <= 7; i++) {
            peer.businessPartners().putPartner(new S4BusinessPartnerReplication.Partner(String.valueOf(1_000_000 + i),
                    "uuid-" + i, "INTERCHANGE", "sender-" + i, "2", "Company " + i, "c" + i + "@example.com",
                    i % 2 == 0 ? "US" : "DE", i % 2 == 0 ? Set.of("1710") : Set.of("1010"), 1,
                    LocalDate.of(2026, 11, i)));
        }
    }

    @AfterEach
    void stop() {
        peer.close();
    }

    @Test
    void everyPartnerCreatedBeforeTheDateIsReadOnceWithItsAddressEmailAndCompanyCodes() throws Exception {
        List<ErpConnector.Partner> read = readAll(LocalDate.of(2026, 11, 7), 2);

        assertThat(read).extracting(ErpConnector.Partner::number)
                .containsExactly("1000001", "1000002", "1000003", "1000004", "1000005", "1000006");
        ErpConnector.Partner first = read.get(0);
        assertThat(first.name()).isEqualTo("Company 1");
        assertThat(first.email()).isEqualTo("c1@example.com");
        assertThat(first.country()).isEqualTo("DE");
        assertThat(first.companyCodes()).containsExactly("1010");
        assertThat(first.createdOn()).isEqualTo(LocalDate.of(2026, 11, 1));
        assertThat(read.get(1).companyCodes()).containsExactly("1710");
    }

    @Test
    void theServicesOwnPagingIsFollowedByItsNextLink() throws Exception {
        peer.setMaxPageSize(3);

        String cursor = null;
        List<String> numbers = new ArrayList<>();
        List<String> cursors = new ArrayList<>();
        do {
            ErpConnector.PartnerPage page = page(LocalDate.of(2027, 1, 1), cursor, 100);
            page.partners().forEach(p -> numbers.add(p.number()));
            cursor = page.next();
            cursors.add(String.valueOf(cursor));
        } while (cursor != null);

        assertThat(numbers).hasSize(7).doesNotHaveDuplicates();
        assertThat(cursors.get(0)).startsWith("?").contains("$skip=3").contains("$top=97");
    }

    @Test
    void theRequestNamesThePublishedPropertiesAndNavigations() {
        ErpConnector.ReadRequest request = S4PartnerReads.request(LocalDate.of(2026, 12, 1), null, 50);
        String query = java.net.URLDecoder.decode(request.query(), StandardCharsets.UTF_8);

        assertThat(query).contains("$filter=CreationDate lt datetime'2026-12-01T00:00:00'")
                .contains("$expand=to_BusinessPartnerAddress,to_BusinessPartnerAddress/to_EmailAddress,"
                        + "to_Customer/to_CustomerCompany")
                .contains("BusinessPartnerFullName").contains("BusinessPartnerUUID")
                .contains("$orderby=BusinessPartner").contains("$top=50").contains("$skip=0").contains("$format=json");
    }

    @Test
    void refusedCredentialsArePermanentAndNameTheService() throws Exception {
        ErpConnector.ReadRequest request = S4PartnerReads.request(LocalDate.of(2026, 12, 1), null, 50);
        HttpResponse<byte[]> answer = HTTP.send(HttpRequest.newBuilder(URI.create(peer.partnerReadUrl() + "/"
                + S4PartnerReads.ENTITY_SET + "?" + request.query())).header("Accept", "application/json")
                .header("Authorization", basic("INTERCHANGE", "wrong")).GET().build(), HttpResponse.BodyHandlers.ofByteArray());

        assertThatThrownBy(() -> S4PartnerReads.read(answer.statusCode(), answer.body(), null, 50))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("API_BUSINESS_PARTNER");
    }

    private List<ErpConnector.Partner> readAll(LocalDate before, int pageSize) throws Exception {
        List<ErpConnector.Partner> out = new ArrayList<>();
        String cursor = null;
        do {
            ErpConnector.PartnerPage page = page(before, cursor, pageSize);
            out.addAll(page.partners());
            cursor = page.next();
        } while (cursor != null);
        return out;
    }

    private ErpConnector.PartnerPage page(LocalDate before, String cursor, int pageSize) throws Exception {
        ErpConnector.ReadRequest request = S4PartnerReads.request(before, cursor, pageSize);
        HttpResponse<byte[]> answer = HTTP.send(HttpRequest.newBuilder(URI.create(peer.partnerReadUrl() + "/"
                + S4PartnerReads.ENTITY_SET + "?" + request.query())).header("Accept", "application/json")
                .header("Authorization", basic("INTERCHANGE", "secret")).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        return S4PartnerReads.read(answer.statusCode(), answer.body(), cursor, pageSize);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
