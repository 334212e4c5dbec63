package io.interchange.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.mapping.ErpReference;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Unknown outcomes settled by reading the ERP's ledger, against strict peers: S/4HANA without SAP's UUID idempotency
 * (it rejects a second entry under a reference it holds, without naming the document), and a legacy ledger whose
 * duplicate fault does not name the journal either. Whatever the ledger holds of ours becomes the confirmation, never a
 * second posting or a dead letter; something else under our reference is a conflict an operator sees.
 */
class ErpLedgerSettlementTest {

    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of());
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @BeforeEach
    void strictPeers() {
        kit.s4.reset();
        kit.legacy.reset();
        kit.s4.setIdempotencyWindow(Duration.ZERO);
        kit.s4.setDuplicateReferenceCheck(true);
        kit.legacy.setNamesDuplicateDocument(false);
    }

    @Test
    void anS4AnswerLostAfterPostingIsFoundOnTheLedgerNotPostedTwice() throws Exception {
        kit.s4.setDelay(Duration.ofSeconds(4)); // longer than the runtime's ERP timeout (PT3S): the answer is lost
        ObjectNode event = Events.invoicePaid("DE01");
        String id = event.get("id").asText();
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> kit.s4.requestCount() >= 1);
        kit.s4.setDelay(Duration.ZERO);

        var confirmation = awaitConfirmation(id);
        assertThat(kit.s4.postings()).hasSize(1);
        assertThat(confirmation.accountingDocument()).isEqualTo(kit.s4.postings().get(0).accountingDocument());
        assertThat(kit.s4.readCount()).as("the ledger was read before sending again").isPositive();
        assertThat(kit.s4.idempotentReplays()).isZero();
        assertThat(kit.s4.duplicateReferences()).as("nothing was sent a second time").isZero();
        assertThat(openDeadLetters(id)).isZero();
    }

    @Test
    void aLegacyAnswerLostAfterPostingIsFoundOnTheLedgerNotPostedTwice() throws Exception {
        kit.legacy.setDelay(Duration.ofSeconds(4));
        ObjectNode event = Events.invoiceFinalized("FR01");
        String id = event.get("id").asText();
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> kit.legacy.requestCount() >= 1);
        kit.legacy.setDelay(Duration.ZERO);

        var confirmation = awaitConfirmation(id);
        assertThat(kit.legacy.postings()).hasSize(1);
        assertThat(confirmation.accountingDocument()).isEqualTo(kit.legacy.postings().get(0).documentNumber());
        assertThat(kit.legacy.finds()).isPositive();
        assertThat(kit.legacy.duplicateReferences()).isZero();
        assertThat(openDeadLetters(id)).isZero();
    }

    @Test
    void anEntryTheLedgerAlreadyHoldsIsConfirmedWhenS4RejectsItAsADuplicate() throws Exception {
        ObjectNode event = Events.invoicePaid("DE01");
        String id = event.get("id").asText();
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        String document = awaitConfirmation(id).accountingDocument();

        // the runtime's own records of it are gone (a store restored from an older backup); the event comes again
        forget(id);
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.duplicateReferences() == 1
                && kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent());
        assertThat(kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).orElseThrow()
                .accountingDocument()).isEqualTo(document);
        assertThat(kit.s4.postings()).hasSize(1);
        assertThat(openDeadLetters(id)).isZero();
    }

    @Test
    void anEntryTheLegacyLedgerAlreadyHoldsIsConfirmedWhenItRefusesTheReference() throws Exception {
        ObjectNode event = Events.invoiceFinalized("FR01");
        String id = event.get("id").asText();
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        String document = awaitConfirmation(id).accountingDocument();

        forget(id);
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(30)).until(() -> kit.legacy.duplicateReferences() == 1
                && kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent());
        assertThat(kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).orElseThrow()
                .accountingDocument()).isEqualTo(document);
        assertThat(kit.legacy.postings()).hasSize(1);
        assertThat(openDeadLetters(id)).isZero();
    }

    @Test
    void aDifferentEntryUnderOurReferenceIsAConflictDeadLetteredWithBoth() throws Exception {
        ObjectNode event = Events.invoicePaid("DE01");
        String id = event.get("id").asText();
        String reference = ErpReference.of(id);
        // someone else's entry of 1.00 EUR already carries the reference this posting will have
        soap(kit.s4.endpointUrl(), null, "<sfin:JournalEntryBulkCreateRequest xmlns:sfin=\"http://sap.com/xi/SAPSCORE/SFIN\">"
                + "<MessageHeader><ID>OTHER</ID></MessageHeader><JournalEntryCreateRequest><MessageHeader><ID>OTHER-1</ID>"
                + "</MessageHeader><JournalEntry><OriginalReferenceDocument>" + reference + "</OriginalReferenceDocument>"
                + "<AccountingDocumentType>SA</AccountingDocumentType><DocumentReferenceID>" + reference
                + "</DocumentReferenceID><CompanyCode>1010</CompanyCode><DocumentDate>2026-11-02</DocumentDate>"
                + "<PostingDate>2026-11-02</PostingDate>"
                + "<Item><GLAccount>1100000</GLAccount><AmountInTransactionCurrency currencyCode=\"EUR\">1.00"
                + "</AmountInTransactionCurrency><DebitCreditCode>S</DebitCreditCode></Item>"
                + "<Item><GLAccount>4000000</GLAccount><AmountInTransactionCurrency currencyCode=\"EUR\">-1.00"
                + "</AmountInTransactionCurrency><DebitCreditCode>H</DebitCreditCode></Item>"
                + "</JournalEntry></JournalEntryCreateRequest></sfin:JournalEntryBulkCreateRequest>");
        assertThat(kit.s4.postings()).hasSize(1);
        String theirs = kit.s4.postings().get(0).accountingDocument();

        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        DeadLetter dl = awaitDeadLetter(id);
        assertThat(dl.failureKind()).isEqualTo("PERMANENT");
        assertThat(dl.errorMessage()).contains(theirs).contains("1.00 EUR").contains("119.00 EUR").contains(reference);
        assertThat(kit.s4.postings()).hasSize(1);
        assertThat(kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id))).isEmpty();
    }

    @Test
    void aRejectionOfAnEntryTheLedgerDoesNotHoldIsStillAFailure() throws Exception {
        kit.s4.forgetCompanyCode("1010");
        try {
            ObjectNode event = Events.invoicePaid("DE01");
            String id = event.get("id").asText();
            assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
            DeadLetter dl = awaitDeadLetter(id);
            assertThat(dl.errorMessage()).contains("S/4HANA rejected the journal entry").contains("1010");
            assertThat(kit.s4.readCount()).as("the ledger was asked before the rejection was taken").isPositive();
            assertThat(kit.s4.postings()).isEmpty();
        } finally {
            kit.s4.knowCompanyCode("1010", "EUR");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static io.interchange.store.ErpConfirmations.Confirmation awaitConfirmation(String eventId) {
        await().atMost(Duration.ofSeconds(30)).until(() ->
                kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(eventId)).isPresent());
        return kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(eventId)).orElseThrow();
    }

    /** Removes the runtime's records of an event: its webhook and posting keys and its confirmation. */
    private static void forget(String eventId) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() ->
                "DONE".equals(kit.runtime.store().idempotency().state(LedgerPostingService.postingKey(eventId))));
        kit.runtime.store().idempotency().remove("billing:stripe:" + eventId);
        kit.runtime.store().idempotency().remove(LedgerPostingService.postingKey(eventId));
        try (Connection c = kit.runtime.store().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM erp_confirmation WHERE posting_key = ?")) {
            ps.setString(1, LedgerPostingService.postingKey(eventId));
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
    }

    private static long openDeadLetters(String eventId) {
        return kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000).stream()
                .filter(d -> LedgerPostingService.postingKey(eventId).equals(d.idempotencyKey())).count();
    }

    private static DeadLetter awaitDeadLetter(String eventId) {
        await().atMost(Duration.ofSeconds(30)).until(() -> openDeadLetters(eventId) > 0);
        return kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000).stream()
                .filter(d -> LedgerPostingService.postingKey(eventId).equals(d.idempotencyKey())).findFirst().orElseThrow();
    }

    private static void soap(String url, String action, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "text/xml; charset=utf-8")
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (RuntimeKit.ERP_USER + ":" + RuntimeKit.ERP_PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                        + "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap-env:Body>"
                        + body + "</soap-env:Body></soap-env:Envelope>"));
        if (action != null) request.header("SOAPAction", action);
        HttpResponse<String> answer = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }
}
