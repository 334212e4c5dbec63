package io.interchange.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class S4HanaPeerTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private S4HanaPeer peer;

    @BeforeEach
    void start() throws Exception {
        peer = new S4HanaPeer(0, "INTERCHANGE", "secret", Map.of("1010", "EUR", "1710", "USD"));
        peer.start();
    }

    @AfterEach
    void stop() {
        peer.close();
    }

    @Test
    void balancedEntryIsPostedWithSequentialDocumentNumbers() throws Exception {
        HttpResponse<String> first = post(envelope(entry("MSG-1", "1010", "2025-03-14",
                item("1", "0012100000", "119.00", "S") + item("2", "0041000000", "-100.00", "H")
                        + tax("-19.00", "-100.00", "H"))), "INTERCHANGE", "secret");
        HttpResponse<String> second = post(envelope(entry("MSG-2", "1010", "2025-03-15",
                item("1", "0012100000", "10", "S") + item("2", "0041000000", "-10", "H"))), "INTERCHANGE", "secret");

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body())
                .contains("<n0:JournalEntryBulkCreateConfirmation xmlns:n0=\"http://sap.com/xi/SAPSCORE/SFIN\">")
                .contains("<ReferenceID>BULK-MSG-1</ReferenceID>")
                .contains("<ReferenceID>MSG-1</ReferenceID>")
                .contains("<ReferenceUUID>uuid-MSG-1</ReferenceUUID>")
                .contains("<AccountingDocument>0100000001</AccountingDocument>")
                .contains("<FiscalYear>2025</FiscalYear>")
                .contains("<MaximumLogItemSeverityCode>1</MaximumLogItemSeverityCode>");
        assertThat(second.body()).contains("<AccountingDocument>0100000002</AccountingDocument>");

        assertThat(peer.postings()).hasSize(2);
        S4HanaPeer.Posting posting = peer.postings().get(0);
        assertThat(posting.messageId()).isEqualTo("MSG-1");
        assertThat(posting.uuid()).isEqualTo("uuid-MSG-1");
        assertThat(posting.companyCode()).isEqualTo("1010");
        assertThat(posting.fiscalYear()).isEqualTo("2025");
        assertThat(posting.accountingDocument()).isEqualTo("0100000001");
        assertThat(posting.documentReferenceId()).isEqualTo("INV-MSG-1");
        assertThat(posting.currency()).isEqualTo("EUR");
        assertThat(posting.lines()).containsExactly(
                new S4HanaPeer.Line("0012100000", new BigDecimal("119.00"), "S", false, "line"),
                new S4HanaPeer.Line("0041000000", new BigDecimal("-100.00"), "H", false, "line"),
                new S4HanaPeer.Line(null, new BigDecimal("-19.00"), "H", true, null));
        assertThat(posting.rawXml()).contains("JournalEntryBulkCreateRequest");
        assertThat(peer.requestCount()).isEqualTo(2);
        assertThat(peer.rejections()).isEmpty();
    }

    @Test
    void aValueLongerThanSapsFieldFailsTheMessageNamingTheField() throws Exception {
        String lines = item("1", "0012100000", "5.00", "S") + item("2", "0041000000", "-5.00", "H");
        String tooLong = envelope(entry("MSG-LONG", "1010", "2025-03-14", lines))
                .replace("<DocumentReferenceID>INV-MSG-LONG</DocumentReferenceID>",
                        "<DocumentReferenceID>re_3QJ7qALkdIwHu7ix0R3fnd1</DocumentReferenceID>");
        HttpResponse<String> answer = post(tooLong, "INTERCHANGE", "secret");

        assertThat(answer.statusCode()).isEqualTo(500);
        assertThat(answer.body()).contains("Client").contains("DocumentReferenceID").contains("maximum length of 16");
        assertThat(peer.postings()).isEmpty();
    }

    @Test
    void aRepeatedMessageUuidIsAnsweredWithTheOriginalConfirmationNotPostedAgain() throws Exception {
        String body = envelope(entry("MSG-1", "1010", "2025-03-14",
                item("1", "0012100000", "5.00", "S") + item("2", "0041000000", "-5.00", "H")));
        HttpResponse<String> first = post(body, "INTERCHANGE", "secret");
        HttpResponse<String> again = post(body, "INTERCHANGE", "secret");

        assertThat(peer.postings()).extracting(S4HanaPeer.Posting::accountingDocument).containsExactly("0100000001");
        assertThat(again.body()).contains("<AccountingDocument>0100000001</AccountingDocument>");
        assertThat(peer.idempotentReplays()).isEqualTo(1);
        assertThat(first.statusCode()).isEqualTo(200);
    }

    @Test
    void theSameEntryWithAnotherUuidIsPostedAgain() throws Exception {
        String lines = item("1", "0012100000", "5.00", "S") + item("2", "0041000000", "-5.00", "H");
        post(envelope(entry("MSG-1", "1010", "2025-03-14", lines)), "INTERCHANGE", "secret");
        post(envelope(entry("MSG-2", "1010", "2025-03-14", lines)), "INTERCHANGE", "secret");

        assertThat(peer.postings()).extracting(S4HanaPeer.Posting::accountingDocument)
                .containsExactly("0100000001", "0100000002");
    }

    @Test
    void aRejectedEntryIsNotRememberedSoItCanBeSentAgainOnceFixed() throws Exception {
        String body = envelope(entry("MSG-3", "1010", "2025-03-14",
                item("1", "0012100000", "5.00", "S") + item("2", "0041000000", "-5.00", "H")));
        peer.forgetCompanyCode("1010");
        assertThat(post(body, "INTERCHANGE", "secret").body()).contains("<MaximumLogItemSeverityCode>3");
        peer.knowCompanyCode("1010", "EUR");
        assertThat(post(body, "INTERCHANGE", "secret").body()).contains("<MaximumLogItemSeverityCode>1");
        assertThat(peer.postings()).hasSize(1);
        assertThat(peer.idempotentReplays()).isZero();
    }

    @Test
    void unbalancedEntryIsRejectedWithSeverityThree() throws Exception {
        HttpResponse<String> response = post(envelope(entry("MSG-1", "1010", "2025-03-14",
                item("1", "0012100000", "119.00", "S") + item("2", "0041000000", "-100.00", "H"))), "INTERCHANGE", "secret");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body())
                .contains("<AccountingDocument>0000000000</AccountingDocument>")
                .contains("<MaximumLogItemSeverityCode>3</MaximumLogItemSeverityCode>")
                .contains("Balance in transaction currency EUR not zero: 19.00");
        assertThat(peer.postings()).isEmpty();
        assertThat(peer.rejections()).containsExactly("Balance in transaction currency EUR not zero: 19.00");
    }

    @Test
    void unknownCompanyCodeIsRejectedWithSeverityThree() throws Exception {
        HttpResponse<String> response = post(envelope(entry("MSG-1", "9999", "2025-03-14",
                item("1", "0012100000", "1.00", "S") + item("2", "0041000000", "-1.00", "H"))), "INTERCHANGE", "secret");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body())
                .contains("<MaximumLogItemSeverityCode>3</MaximumLogItemSeverityCode>")
                .contains("Company code 9999 does not exist");
        assertThat(peer.postings()).isEmpty();
    }

    @Test
    void debitCreditCodeDecimalsAndCurrencyRulesAreEnforced() throws Exception {
        HttpResponse<String> response = post(envelope(entry("MSG-1", "1010", "2025-03-14",
                item("1", "0012100000", "-1.005", "S") + item("2", "0041000000", "1.005", "H"))), "INTERCHANGE", "secret");

        assertThat(response.body())
                .contains("Debit/credit code S requires a positive amount in item 1")
                .contains("Debit/credit code H requires a negative amount in item 2")
                .contains("has more than 2 decimals for currency EUR");
        assertThat(peer.postings()).isEmpty();
    }

    @Test
    void wrongCredentialsAreAnswered401() throws Exception {
        HttpResponse<String> response = post(envelope(entry("MSG-1", "1010", "2025-03-14", "")), "INTERCHANGE", "wrong");

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
    }

    @Test
    void wrongContentTypeIsAnswered415() throws Exception {
        HttpResponse<String> response = HTTP.send(request("{}", "INTERCHANGE", "secret").header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(415);
    }

    @Test
    void injectedUnavailabilityAnswers503ThenRecovers() throws Exception {
        String body = envelope(entry("MSG-1", "1010", "2025-03-14",
                item("1", "0012100000", "1.00", "S") + item("2", "0041000000", "-1.00", "H")));
        peer.failNext(2, 503);

        assertThat(post(body, "INTERCHANGE", "secret").statusCode()).isEqualTo(503);
        assertThat(post(body, "INTERCHANGE", "secret").statusCode()).isEqualTo(503);
        assertThat(post(body, "INTERCHANGE", "secret").statusCode()).isEqualTo(200);
        assertThat(peer.postings()).hasSize(1);
        assertThat(peer.requestCount()).isEqualTo(3);

        peer.setAvailable(false);
        assertThat(post(body, "INTERCHANGE", "secret").statusCode()).isEqualTo(503);
        peer.reset();
        assertThat(peer.postings()).isEmpty();
        assertThat(post(body, "INTERCHANGE", "secret").statusCode()).isEqualTo(200);
    }

    @Test
    void injectedServerFaultIsASoapServerFault() throws Exception {
        peer.serverFaultNext(1);

        HttpResponse<String> response = post(envelope(entry("MSG-1", "1010", "2025-03-14",
                item("1", "0012100000", "1.00", "S") + item("2", "0041000000", "-1.00", "H"))), "INTERCHANGE", "secret");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body())
                .contains("<faultcode>soap-env:Server</faultcode>")
                .contains("Internal error, try again");
        assertThat(peer.postings()).isEmpty();
    }

    @Test
    void doctypeAndExternalEntitiesAreRefused() throws Exception {
        String xxe = "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                + envelope(entry("&xxe;", "1010", "2025-03-14", "")).replaceFirst("^<\\?xml[^>]*>", "");

        HttpResponse<String> response = post(xxe, "INTERCHANGE", "secret");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("<faultcode>soap-env:Client</faultcode>").doesNotContain("root:");
        assertThat(peer.postings()).isEmpty();
    }

    @Test
    void structuralErrorsAreClientFaults() throws Exception {
        String qualified = "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap-env:Body>"
                + "<sfin:JournalEntryBulkCreateRequest xmlns:sfin=\"http://sap.com/xi/SAPSCORE/SFIN\">"
                + "<sfin:MessageHeader><sfin:ID>X</sfin:ID></sfin:MessageHeader></sfin:JournalEntryBulkCreateRequest>"
                + "</soap-env:Body></soap-env:Envelope>";

        HttpResponse<String> response = post(qualified, "INTERCHANGE", "secret");
        HttpResponse<String> garbage = post("<not-xml", "INTERCHANGE", "secret");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body()).contains("<faultcode>soap-env:Client</faultcode>")
                .contains("JournalEntryBulkCreateRequest/MessageHeader missing");
        assertThat(garbage.statusCode()).isEqualTo(500);
        assertThat(garbage.body()).contains("<faultcode>soap-env:Client</faultcode>");
    }

    private HttpResponse<String> post(String body, String user, String password) throws Exception {
        return HTTP.send(request(body, user, password).header("Content-Type", "text/xml; charset=utf-8").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String body, String user, String password) {
        return HttpRequest.newBuilder(URI.create(peer.endpointUrl()))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Basic " + Base64.getEncoder()
                        .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    private static String envelope(String entries) {
        return "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                + "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\""
                + " xmlns:sfin=\"http://sap.com/xi/SAPSCORE/SFIN\"><soapenv:Header/><soapenv:Body>"
                + "<sfin:JournalEntryBulkCreateRequest><MessageHeader><ID>BULK-" + firstId(entries) + "</ID>"
                + "<CreationDateTime>2025-03-14T10:00:00Z</CreationDateTime></MessageHeader>"
                + entries + "</sfin:JournalEntryBulkCreateRequest></soapenv:Body></soapenv:Envelope>";
    }

    private static String firstId(String entries) {
        int start = entries.indexOf("<ID>") + 4;
        return entries.substring(start, entries.indexOf("</ID>", start));
    }

    private static String entry(String id, String companyCode, String postingDate, String lines) {
        return "<JournalEntryCreateRequest><MessageHeader><ID>" + id + "</ID><UUID>uuid-" + id + "</UUID>"
                + "<CreationDateTime>2025-03-14T10:00:00Z</CreationDateTime></MessageHeader><JournalEntry>"
                + "<OriginalReferenceDocumentType>BKPFF</OriginalReferenceDocumentType>"
                + "<OriginalReferenceDocument>INV-" + id + "</OriginalReferenceDocument>"
                + "<OriginalReferenceDocumentLogicalSystem>INTERCHNG</OriginalReferenceDocumentLogicalSystem>"
                + "<BusinessTransactionType>RFBU</BusinessTransactionType>"
                + "<AccountingDocumentType>DR</AccountingDocumentType>"
                + "<DocumentReferenceID>INV-" + id + "</DocumentReferenceID>"
                + "<DocumentHeaderText>Invoice</DocumentHeaderText><CreatedByUser>INTERCHANGE</CreatedByUser>"
                + "<CompanyCode>" + companyCode + "</CompanyCode><DocumentDate>" + postingDate + "</DocumentDate>"
                + "<PostingDate>" + postingDate + "</PostingDate>" + lines + "</JournalEntry></JournalEntryCreateRequest>";
    }

    private static String item(String no, String glAccount, String amount, String debitCredit) {
        return "<Item><ReferenceDocumentItem>" + no + "</ReferenceDocumentItem><GLAccount>" + glAccount + "</GLAccount>"
                + "<AmountInTransactionCurrency currencyCode=\"EUR\">" + amount + "</AmountInTransactionCurrency>"
                + "<DebitCreditCode>" + debitCredit + "</DebitCreditCode><DocumentItemText>line</DocumentItemText></Item>";
    }

    private static String tax(String amount, String base, String debitCredit) {
        return "<ProductTaxItem><TaxCode>A1</TaxCode>"
                + "<AmountInTransactionCurrency currencyCode=\"EUR\">" + amount + "</AmountInTransactionCurrency>"
                + "<TaxBaseAmountInTransCrcy currencyCode=\"EUR\">" + base + "</TaxBaseAmountInTransCrcy>"
                + "<DebitCreditCode>" + debitCredit + "</DebitCreditCode><ConditionType>MWS</ConditionType></ProductTaxItem>";
    }
}
