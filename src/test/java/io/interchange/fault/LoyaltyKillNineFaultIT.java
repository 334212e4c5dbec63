package io.interchange.fault;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.ErpReference;
import io.interchange.sandbox.S4HanaPeer;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of the packaged runtime while the loyalty platform streams points transactions (earned, redeemed, expired)
 * at it, as Voucherify delivers them (signed, retried until a 2xx, some delivered twice), then started again on the same
 * store and Kafka: every transaction is one journal entry at S/4HANA, none twice, no dead letters, and the points
 * liability the ERP holds is the platform's points at their value.
 */
class LoyaltyKillNineFaultIT extends FaultScenario {

    static final String LIABILITY = "21800000";

    final LoyaltyPlatform platform = new LoyaltyPlatform();

    @Test
    void everyPointsTransactionIsPostedExactlyOnceAcrossAKillNine() throws Exception {
        environment("loyalty-kill-nine");
        RuntimeProcess rt = runtime("a", Map.of("INTERCHANGE_FLOWS", "loyalty-webhook,billing-ledger",
                "INTERCHANGE_LOYALTY_WEBHOOK_SECRET", platform.secret,
                // the fault environment's store has no customer master: every member's points are DE01's (S/4HANA)
                "INTERCHANGE_LOYALTY_DEFAULT_LEGAL_ENTITY", "DE01")).awaitReady(READY);
        URI url = URI.create("http://127.0.0.1:" + rt.httpPort + "/webhooks/loyalty");

        int total = Math.max(300, FaultSettings.events() / 5);
        Random random = new Random(12);
        List<ObjectNode> transactions = new ArrayList<>(total);
        for (int i = 0; i < total; i++) transactions.add(LoyaltyPlatform.transaction(i, random, Instant.now()));

        ExecutorService senders = Executors.newFixedThreadPool(4);
        for (ObjectNode t : transactions) {
            boolean twice = random.nextInt(10) == 0;
            senders.submit(() -> platform.deliver(url, t, twice));
        }
        senders.shutdown();

        while (platform.delivered.get() < total / 2) Thread.sleep(20);
        int before = platform.delivered.get();
        rt.kill9();
        rt.start().awaitReady(READY);
        check(senders.awaitTermination(streamTimeout().toMinutes(), TimeUnit.MINUTES), "every transaction delivered");

        // each transaction one S/4HANA journal entry, found by the reference its canonical event id gives
        Map<String, ObjectNode> byReference = new HashMap<>();
        for (ObjectNode t : transactions) byReference.put(ErpReference.of(LoyaltyPlatform.eventId(t)), t);
        long deadline = System.nanoTime() + drainTimeout().toNanos();
        Map<String, Integer> posted;
        do {
            Thread.sleep(500);
            posted = new HashMap<>();
            for (S4HanaPeer.Posting p : env.s4.postings()) {
                if (byReference.containsKey(p.documentReferenceId())) posted.merge(p.documentReferenceId(), 1, Integer::sum);
            }
        } while (posted.size() < total && System.nanoTime() < deadline);

        String report = "loyalty transactions " + total + ", delivered before the kill " + before
                + ", deliveries refused or unanswered (retried) " + platform.refusedOrDown.get() + ", posted " + posted.size()
                + ", posted twice " + posted.values().stream().filter(n -> n > 1).count();
        System.out.println(report);
        assertThat(posted).as(report).hasSize(total);
        assertThat(posted.values()).as("no transaction posted twice: " + report).containsOnly(1);
        assertThat(env.deadLetters()).as("no dead letters").isEmpty();

        // the liability at S/4HANA is the platform's points at DE01's value (one cent a point)
        BigDecimal liability = BigDecimal.ZERO;
        long points = 0;
        for (S4HanaPeer.Posting p : env.s4.postings()) {
            if (!byReference.containsKey(p.documentReferenceId())) continue;
            for (S4HanaPeer.Line l : p.lines()) if (LIABILITY.equals(l.glAccount())) liability = liability.add(l.amount());
        }
        for (ObjectNode t : transactions) points += t.path("data").path("transaction").path("details").path("balance")
                .path("points").asLong();
        assertThat(liability.negate()).as("SAP signs credits negative").isEqualByComparingTo(
                BigDecimal.valueOf(points).movePointLeft(2));
        assertThat(rt.starts()).isEqualTo(2);
    }

    private static void check(boolean ok, String what) {
        assertThat(ok).as(what).isTrue();
    }
}
