package io.interchange.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A posting key left PENDING by a holder that died (kill -9 between claim and effect) must not turn the re-read record
 * into a skipped "duplicate": the delivery waits for the lease to run out, takes the key over and posts once.
 */
class CrashRecoveryTest {

    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of(
                "interchange.idempotency.lease", "PT1S",
                "interchange.route.billing.ledger-posting.max-attempts", "20",
                "interchange.route.billing.ledger-posting.initial-delay", "PT0.2S",
                "interchange.route.billing.ledger-posting.max-delay", "PT0.5S"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @BeforeEach
    void resetPeers() {
        kit.s4.reset();
    }

    @Test
    void aKeyLeftPendingByADeadHolderIsTakenOverAfterItsLeaseAndPostedOnce() throws Exception {
        ObjectNode event = Events.invoicePaid("DE01");
        String id = event.get("id").asText();
        // what a process killed right after claiming leaves behind
        assertThat(kit.runtime.store().idempotency().claim(LedgerPostingService.postingKey(id))).isNull();

        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 1);
        Thread.sleep(1500);
        assertThat(kit.s4.postings()).hasSize(1);
        assertThat(kit.runtime.store().idempotency().state(LedgerPostingService.postingKey(id))).isEqualTo("DONE");
        assertThat(kit.runtime.store().deadLetters().count(null, "OPEN")).isZero();
    }

    @Test
    void aWebhookKeyLeftPendingByADeadDeliveryIsAnswered409UntilItsLeaseRunsOutThenProcessedOnce() throws Exception {
        ObjectNode event = Events.invoicePaid("DE01");
        String id = event.get("id").asText();
        assertThat(kit.runtime.store().idempotency().claim("billing:stripe:" + id)).isNull();
        // stop the lease running out between the answers below: this test asks twice quickly, well inside PT1S
        var first = kit.sendSigned(Events.bytes(event));
        var second = kit.sendSigned(Events.bytes(event));
        assertThat(first.statusCode()).as(first.body()).isEqualTo(409);
        // a 409 must not complete anything: the dead holder's key stays PENDING, not DONE
        assertThat(second.statusCode()).as(second.body()).isIn(409, 200);
        if (second.statusCode() == 200) {
            assertThat(second.body()).contains("accepted");
        }
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).until(() ->
                "DONE".equals(kit.runtime.store().idempotency().state("billing:stripe:" + id))
                        || kit.sendSigned(Events.bytes(event)).statusCode() == 200);
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 1);
        Thread.sleep(1000);
        assertThat(kit.s4.postings()).hasSize(1);
        assertThat(kit.readTopic("interchange.billing.v1", Duration.ofSeconds(1)).stream()
                .filter(r -> id.equals(RuntimeKit.header(r, "ce_id"))).count()).isEqualTo(1);
    }

    @Test
    void aRedeliveredRecordOfAPostedEventIsNotPostedAgain() throws Exception {
        ObjectNode event = Events.invoiceFinalized("DE01");
        String id = event.get("id").asText();
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() ->
                "DONE".equals(kit.runtime.store().idempotency().state(LedgerPostingService.postingKey(id))));
        int before = kit.s4.postings().size();

        // the record read again (offset not committed before a crash): same headers and value straight into the route
        var producer = kit.runtime.camelContext().createProducerTemplate();
        var records = kit.readTopic("interchange.billing.v1", Duration.ofSeconds(2)).stream()
                .filter(r -> id.equals(RuntimeKit.header(r, "ce_id"))).toList();
        assertThat(records).hasSize(1);
        Map<String, Object> headers = new java.util.HashMap<>();
        records.get(0).headers().forEach(h -> headers.put(h.key(), h.value()));
        producer.sendBodyAndHeaders("direct:billing.ledger-posting", records.get(0).value(), headers);

        Thread.sleep(1000);
        assertThat(kit.s4.postings()).hasSize(before);
    }
}
