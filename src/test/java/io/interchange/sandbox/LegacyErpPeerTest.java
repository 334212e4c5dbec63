package io.interchange.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LegacyErpPeerTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String ACTION = "\"urn:PostJournal\"";

    private LegacyErpPeer peer;

    @BeforeEach
    void start() throws Exception {
        peer = new LegacyErpPeer(0, "legacy", "pw", Map.of("UK01", "GBP"));
        peer.start();
    }

    @AfterEach
    void stop() {
        peer.close();
    }

    @Test
    void balancedJournalIsPosted() throws Exception {
        HttpResponse<String> response = post(journal("UK01", "INV-1", line("1200", "D", "120.00") + line("4000", "C", "100.00")
                + line("2200", "C", "20.00")), ACTION, "legacy", "pw");
        HttpResponse<String> second = post(journal("UK01", "INV-2", line("1200", "D", "1") + line("4000", "C", "1")),
                ACTION, "legacy", "pw");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body())
                .contains("PostJournalResponse xmlns:l=\"urn:interchange:legacy-erp:ledger:v1\"")
                .contains("<l:DocumentNumber>LG00000001</l:DocumentNumber>")
                .contains("<l:FiscalYear>2025</l:FiscalYear>");
        assertThat(second.body()).contains("<l:DocumentNumber>LG00000002</l:DocumentNumber>");
        LegacyErpPeer.Posting posting = peer.postings().get(0);
        assertThat(posting.company()).isEqualTo("UK01");
        assertThat(posting.reference()).isEqualTo("INV-1");
        assertThat(posting.fiscalYear()).isEqualTo("2025");
        assertThat(posting.documentNumber()).isEqualTo("LG00000001");
        assertThat(posting.currency()).isEqualTo("GBP");
        assertThat(posting.lines()).containsExactly(
                new LegacyErpPeer.Line("1200", "D", new BigDecimal("120.00"), null),
                new LegacyErpPeer.Line("4000", "C", new BigDecimal("100.00"), null),
                new LegacyErpPeer.Line("2200", "C", new BigDecimal("20.00"), null));
        assertThat(peer.postings()).hasSize(2);
    }

    @Test
    void unbalancedJournalIsAClientFault() throws Exception {
        HttpResponse<String> response = post(journal("UK01", "INV-1", line("1200", "D", "120.00") + line("4000", "C", "100.00")),
                ACTION, "legacy", "pw");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body())
                .contains("<faultcode>soap:Client</faultcode>")
                .contains("Journal not balanced: debits 120.00 != credits 100.00");
        assertThat(peer.postings()).isEmpty();
        assertThat(peer.rejections()).containsExactly("Journal not balanced: debits 120.00 != credits 100.00");
    }

    @Test
    void unknownCompanyAndBadLinesAreNamed() throws Exception {
        HttpResponse<String> response = post(journal("XX99", "INV-1", line("1200", "D", "-5") + line("4000", "X", "5")),
                ACTION, "legacy", "pw");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body())
                .contains("<faultcode>soap:Client</faultcode>")
                .contains("Unknown company XX99")
                .contains("Line 1: Amount must be positive, got -5")
                .contains("Line 2: Side must be D or C, got X");
    }

    @Test
    void unqualifiedChildrenAreReportedAsMissing() throws Exception {
        String body = envelope("<l:PostJournal xmlns:l=\"urn:interchange:legacy-erp:ledger:v1\"><Company>UK01</Company></l:PostJournal>");

        HttpResponse<String> response = post(body, ACTION, "legacy", "pw");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body()).contains("Element PostJournal/Company missing (found Company, expected namespace");
    }

    @Test
    void missingSoapActionIsRefused() throws Exception {
        HttpResponse<String> response = post(journal("UK01", "INV-1", line("1200", "D", "1") + line("4000", "C", "1")),
                "urn:PostJournal", "legacy", "pw");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("<faultcode>soap:Client</faultcode>").contains("SOAPAction");
        assertThat(peer.postings()).isEmpty();
    }

    @Test
    void wrongCredentialsAreAnswered401() throws Exception {
        assertThat(post(journal("UK01", "INV-1", ""), ACTION, "legacy", "nope").statusCode()).isEqualTo(401);
    }

    @Test
    void injectedFailuresAndServerFaults() throws Exception {
        String body = journal("UK01", "INV-1", line("1200", "D", "1") + line("4000", "C", "1"));
        peer.failNext(1, 503);
        peer.serverFaultNext(1);

        HttpResponse<String> unavailable = post(body, ACTION, "legacy", "pw");
        HttpResponse<String> fault = post(body, ACTION, "legacy", "pw");
        HttpResponse<String> ok = post(body, ACTION, "legacy", "pw");

        assertThat(unavailable.statusCode()).isEqualTo(503);
        assertThat(fault.statusCode()).isEqualTo(500);
        assertThat(fault.body()).contains("<faultcode>soap:Server</faultcode>").contains("Internal error, try again");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(peer.postings()).hasSize(1);
        assertThat(peer.requestCount()).isEqualTo(3);
    }

    @Test
    void delayedAnswerStillPostsWhenTheClientGivesUp() throws Exception {
        peer.setDelay(Duration.ofMillis(800));
        HttpRequest request = request(journal("UK01", "INV-1", line("1200", "D", "1") + line("4000", "C", "1")), ACTION, "legacy", "pw")
                .timeout(Duration.ofMillis(200)).build();

        assertThatThrownBy(() -> HTTP.send(request, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(HttpTimeoutException.class);
        assertThat(peer.postings()).hasSize(1);
    }

    @Test
    void doctypeIsRefused() throws Exception {
        String xxe = "<?xml version=\"1.0\"?><!DOCTYPE j [<!ENTITY xxe SYSTEM \"file:///etc/hostname\">]>"
                + envelope("<l:PostJournal xmlns:l=\"urn:interchange:legacy-erp:ledger:v1\"><l:Company>&xxe;</l:Company></l:PostJournal>");

        HttpResponse<String> response = post(xxe, ACTION, "legacy", "pw");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("<faultcode>soap:Client</faultcode>").contains("DOCTYPE");
        assertThat(peer.rejections()).isEmpty();
    }

    private HttpResponse<String> post(String body, String soapAction, String user, String password) throws Exception {
        return HTTP.send(request(body, soapAction, user, password).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String body, String soapAction, String user, String password) {
        return HttpRequest.newBuilder(URI.create(peer.endpointUrl()))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "text/xml; charset=utf-8")
                .header("SOAPAction", soapAction)
                .header("Authorization", "Basic " + Base64.getEncoder()
                        .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    private static String envelope(String payload) {
        return "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>" + payload
                + "</soap:Body></soap:Envelope>";
    }

    private static String journal(String company, String reference, String lines) {
        return envelope("<l:PostJournal xmlns:l=\"urn:interchange:legacy-erp:ledger:v1\"><l:Company>" + company
                + "</l:Company><l:Reference>" + reference + "</l:Reference><l:PostingDate>2025-06-30</l:PostingDate>"
                + "<l:Currency>GBP</l:Currency>" + lines + "</l:PostJournal>");
    }

    private static String line(String account, String side, String amount) {
        return "<l:Line><l:Account>" + account + "</l:Account><l:Side>" + side + "</l:Side><l:Amount>" + amount
                + "</l:Amount></l:Line>";
    }
}
