package io.interchange.connectors;

import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.connectors.erp.SoapSupport;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Customer;
import io.interchange.model.PartnerConfirmation;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * S/4HANA's business partner confirmations (POST /soap/s4hana/business-partner-confirmation, SOAP 1.1, HTTP Basic)
 * under the inbound connector contract, and the round trip with the simulated S/4HANA: a replication request it takes
 * comes back as a confirmation naming the partner's number, published once as a canonical partner confirmation.
 */
public class S4PartnerConfirmationContractTest extends InboundWebhookContract {

    static final String USER = "S4HANA";
    static final String PASSWORD = "confirm-" + UUID.randomUUID();
    static final String TOPIC = "interchange.customer.v1";
    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.flows", "customer-sync",
                "interchange.erp.s4.confirmation-user", USER, "interchange.erp.s4.confirmation-password", PASSWORD));
        kit.s4.businessPartners().confirmTo(URI.create("http://127.0.0.1:" + kit.httpPort
                + "/soap/s4hana/business-partner-confirmation"), USER, PASSWORD);
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Override
    protected RuntimeKit kit() {
        return kit;
    }

    @Override
    protected String path() {
        return "/soap/s4hana/business-partner-confirmation";
    }

    @Override
    protected String flow() {
        return "customer-sync";
    }

    @Override
    protected String routeId() {
        return "erp.s4hana.partner-confirmation";
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.erp.s4.confirmation-user", "interchange.erp.s4.confirmation-password",
                "interchange.customer.topic");
    }

    @Override
    protected List<String> mappings() {
        return List.of();
    }

    @Override
    protected int signatureRefusal() {
        return 401;
    }

    @Override
    protected boolean signaturesCarryTime() {
        return false;
    }

    @Override
    protected byte[] malformedBody() {
        return "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap-env:Body>"
                .getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected String malformedReason() {
        return "not SOAP XML";
    }

    @Override
    protected Map<String, String> unsigned() {
        return Map.of("Content-Type", "text/xml; charset=utf-8");
    }

    @Override
    protected byte[] genuineBody() {
        return confirmation(UUID.randomUUID().toString(), UUID.randomUUID().toString().replace("-", ""),
                String.valueOf(1_000_000 + (System.nanoTime() & 0xFFFFF)));
    }

    /**
     * A confirmation as S/4HANA structures it (namespace http://sap.com/xi/SAPGlobal20/Global, unqualified children):
     * the bulk header, then per partner its header referring to our request message, the partner with our UUID and
     * S/4HANA's number, and the log.
     */
    public static byte[] confirmation(String partnerUuid, String requestMessageId, String number) {
        String xml = "<n0:BusinessPartnerSUITEBulkReplicateConfirmation xmlns:n0=\"" + S4BusinessPartners.NS + "\">"
                + "<MessageHeader><ID>" + UUID.randomUUID().toString().replace("-", "") + "</ID>"
                + "<CreationDateTime>2026-12-05T09:00:01Z</CreationDateTime><SenderBusinessSystemID>S4HCLNT100"
                + "</SenderBusinessSystemID></MessageHeader>"
                + "<BusinessPartnerSUITEReplicateConfirmationMessage><MessageHeader><ID>"
                + UUID.randomUUID().toString().replace("-", "") + "</ID><ReferenceID>" + requestMessageId
                + "</ReferenceID><CreationDateTime>2026-12-05T09:00:01Z</CreationDateTime></MessageHeader>"
                + "<BusinessPartner><UUID>" + partnerUuid + "</UUID><ReceiverUUID>" + UUID.randomUUID()
                + "</ReceiverUUID><ReceiverInternalID>" + number + "</ReceiverInternalID></BusinessPartner>"
                + "<Log><BusinessDocumentProcessingResultCode>3</BusinessDocumentProcessingResultCode>"
                + "<MaximumLogItemSeverityCode>1</MaximumLogItemSeverityCode><Item><TypeID>006(BUPA_INTERFACE)</TypeID>"
                + "<SeverityCode>1</SeverityCode><Note>Business partner " + number + " created</Note></Item></Log>"
                + "</BusinessPartnerSUITEReplicateConfirmationMessage></n0:BusinessPartnerSUITEBulkReplicateConfirmation>";
        return SoapSupport.envelope(xml).getBytes(StandardCharsets.UTF_8);
    }

    private static final Pattern PARTNER = Pattern.compile("<BusinessPartner><UUID>([^<]+)</UUID>");
    private static final Pattern REFERENCE = Pattern.compile("<ReferenceID>([^<]+)</ReferenceID>");

    @Override
    protected List<String> keys(byte[] body) {
        String xml = new String(body, StandardCharsets.UTF_8);
        List<String> keys = new ArrayList<>();
        Matcher partner = PARTNER.matcher(xml);
        Matcher reference = REFERENCE.matcher(xml);
        while (partner.find() && reference.find()) keys.add("erp:s4hana:partner:" + partner.group(1) + ":" + reference.group(1));
        return keys;
    }

    @Override
    protected Map<String, String> signed(byte[] body, Instant at, String secret) {
        return Map.of("Content-Type", "text/xml; charset=utf-8", "Authorization", "Basic "
                + Base64.getEncoder().encodeToString((USER + ":" + secret).getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    protected String secret() {
        return PASSWORD;
    }

    @Test
    void aPartnerReplicatedToTheSimulatedS4HanaComesBackAsOneCanonicalConfirmationWithItsNumber() throws Exception {
        MappingEngine engine = MappingEngine.load(MappingSource.directory(Path.of("mappings")));
        S4BusinessPartners partners = new S4BusinessPartners(engine, "INTERCHANGE", null, Clock.systemUTC());
        String globalId = UUID.randomUUID().toString();
        Customer customer = new Customer(globalId, "organisation", null, null, "Contoso GmbH", "ap@contoso.example",
                null, new Customer.PostalAddress("Hauptstraße", "1", "80331", "München", "BY", "DE"), "DE811907980", "de");
        HttpResponse<byte[]> taken = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(kit.s4.businessPartnerUrl()))
                .header("Content-Type", SoapSupport.CONTENT_TYPE)
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((RuntimeKit.ERP_USER + ":"
                        + RuntimeKit.ERP_PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(partners.request(List.of(
                        new S4BusinessPartners.PartnerRequest(customer, "DE01", "1010"))))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(taken.statusCode()).isEqualTo(202);

        String subject = "s4hana-partner:" + S4BusinessPartners.partnerUuid(globalId);
        await().atMost(Duration.ofSeconds(20)).until(() -> !records(subject).isEmpty());
        List<ConsumerRecord<String, byte[]>> records = records(subject);
        assertThat(records).hasSize(1);
        PartnerConfirmation confirmed = JSON.readValue(records.get(0).value(), PartnerConfirmation.class);
        assertThat(confirmed.saved()).isTrue();
        assertThat(confirmed.erp()).isEqualTo("S4HANA");
        assertThat(confirmed.partnerNumber()).isEqualTo(kit.s4.businessPartners().partners().stream()
                .filter(p -> p.senderUuid().equals(S4BusinessPartners.partnerUuid(globalId))).findFirst().orElseThrow().number());
        assertThat(RuntimeKit.header(records.get(0), "ce_type")).isEqualTo("io.interchange.customer.erp-partner.saved");
        assertThat(kit.s4.businessPartners().confirmationFailures()).as("the runtime took it at once").isZero();
    }

    @Test
    void aConfirmationSentAgainIsADuplicateAndARejectionIsPublishedAsSuch() throws Exception {
        byte[] body = genuineBody();
        assertThat(post(body, signed(body, Instant.now(), PASSWORD)).statusCode()).isEqualTo(200);
        HttpResponse<String> again = post(body, signed(body, Instant.now(), PASSWORD));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(JSON.readTree(again.body()).path("events").findValuesAsText("status")).containsOnly("duplicate");

        String partner = UUID.randomUUID().toString();
        String rejected = new String(confirmation(partner, "MSG" + UUID.randomUUID().toString().replace("-", "").substring(0, 20), "0"),
                StandardCharsets.UTF_8)
                .replaceAll("<ReceiverInternalID>[^<]*</ReceiverInternalID>", "")
                .replace("<MaximumLogItemSeverityCode>1<", "<MaximumLogItemSeverityCode>3<")
                .replace("<BusinessDocumentProcessingResultCode>3<", "<BusinessDocumentProcessingResultCode>5<")
                .replaceAll("<Note>[^<]*</Note>", "<Note>Company code 9999 does not exist</Note>");
        byte[] rejection = rejected.getBytes(StandardCharsets.UTF_8);
        assertThat(post(rejection, signed(rejection, Instant.now(), PASSWORD)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> !records("s4hana-partner:" + partner).isEmpty());
        ConsumerRecord<String, byte[]> r = records("s4hana-partner:" + partner).get(0);
        PartnerConfirmation c = JSON.readValue(r.value(), PartnerConfirmation.class);
        assertThat(c.saved()).isFalse();
        assertThat(c.partnerNumber()).isNull();
        assertThat(c.notes()).containsExactly("Company code 9999 does not exist");
        assertThat(RuntimeKit.header(r, "ce_type")).isEqualTo("io.interchange.customer.erp-partner.rejected");
    }

    private List<ConsumerRecord<String, byte[]>> records(String subject) {
        return kit.readTopic(TOPIC, Duration.ofSeconds(1)).stream().filter(r -> subject.equals(r.key())).toList();
    }

}
