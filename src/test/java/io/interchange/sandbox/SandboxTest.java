package io.interchange.sandbox;

import io.interchange.testkit.SandboxSettings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.store.DeadLetter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@code --sandbox} end to end, briefly, on the newest Stripe API version: the simulated billing platform's invoices,
 * payments (partial ones among them), refunds, credit notes and disputes reach the ERP peers as journal entries, and
 * nothing is dead-lettered but the deliberate {@value BillingSimulator#UNKNOWN_LEGAL_ENTITY} invoices.
 */
class SandboxTest {

    static final String RECEIVABLE = "12600000";
    static final String REVENUE = "41000000";
    static final String BANK = "11001020";
    static final String REFUNDS = "41100000";
    static final String DISPUTES = "12800000";
    static final String DISPUTE_FEES = "65100000";

    /** One journal entry as an ERP peer took it: its reference (S/4HANA only) and its lines as account and side. */
    record Entry(String reference, List<String> debits, List<String> credits) {
    }

    @Test
    void aSandboxOnTheNewestApiVersionPostsEveryKindOfBillingDocumentAtTheErpPeers() throws Exception {
        SandboxSettings settings = SandboxSettings.forTest("interchange-sandbox-test");
        Map<String, String> values = settings.values();
        values.put(Settings.SANDBOX_STRIPE_API_VERSION.key(), StripeEventFactory.NEWEST_API_VERSION);
        ByteArrayOutputStream banner = new ByteArrayOutputStream();

        try (settings; Sandbox sandbox = Sandbox.start(Config.of(values), 30,
                new PrintStream(banner, true, StandardCharsets.UTF_8))) {
            assertThat(sandbox.billing().apiVersion()).isEqualTo(StripeEventFactory.API_DAHLIA);
            Set<String> wanted = Set.of("invoice", "payment", "partial payment", "refund", "credit note", "dispute");
            await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> kinds(sandbox).keySet().containsAll(wanted));
            Map<String, Integer> kinds = kinds(sandbox);
            String summary = sandbox.summary();
            System.out.println(summary + "\n    posted by kind: " + kinds);

            BillingSimulator.Stats stats = sandbox.billing().stats();
            assertThat(stats.failed()).isZero();
            assertThat(stats.recentRejections()).allSatisfy(r -> assertThat(r).contains("wrong-signature"));
            assertThat(stats.sentPerType()).containsKeys("invoice.finalized", "invoice_payment.paid", "invoice.paid",
                    "refund.created", "credit_note.created", "charge.dispute.funds_withdrawn");
            List<DeadLetter> dead = sandbox.runtime().store().deadLetters().list(null, DeadLetter.OPEN, 1000);
            assertThat(dead).as("only the deliberate unknown-entity invoices are dead-lettered").allSatisfy(d ->
                    assertThat(d.headers().get("ce_legalentity")).as(d.errorMessage())
                            .isEqualTo(BillingSimulator.UNKNOWN_LEGAL_ENTITY));
            assertThat(banner.toString(StandardCharsets.UTF_8)).contains("API 2026-07-29.dahlia");
            assertThat(summary).contains("to post").contains("events (Stripe API 2026-07-29.dahlia)");

            // the sandbox runs the archive flow: billing events and ledger confirmations reach it, each record once
            Path archive = Path.of(values.get(Settings.DATA_DIR.key())).resolve("archive").resolve("events");
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.isDirectory(archive.resolve("domain=billing"))
                    && Files.isDirectory(archive.resolve("domain=ledger")));
            List<String> records = new ArrayList<>();
            try (var files = Files.walk(archive)) {
                for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".jsonl.gz")
                        && !f.getFileName().toString().startsWith(".")).toList()) {
                    try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(f))) {
                        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                            var event = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
                            records.add(event.get("kafkatopic").asText() + "/" + event.get("kafkapartition").asInt()
                                    + "/" + event.get("kafkaoffset").asLong());
                        }
                    }
                }
            }
            assertThat(records).isNotEmpty().doesNotHaveDuplicates();
        }
    }

    /** The journal entries both peers took, by kind, told apart by their accounts (and S/4HANA's references). */
    private static Map<String, Integer> kinds(Sandbox sandbox) {
        List<Entry> entries = new ArrayList<>();
        for (S4HanaPeer.Posting p : sandbox.s4().postings()) {
            List<String> debits = new ArrayList<>();
            List<String> credits = new ArrayList<>();
            p.lines().stream().filter(l -> l.glAccount() != null)
                    .forEach(l -> (l.debitCreditCode().equals("S") ? debits : credits).add(l.glAccount()));
            // the header text is the posting's kind and business reference ("PAYMENT ACME-2026-0042")
            entries.add(new Entry(p.headerText(), debits, credits));
        }
        for (LegacyErpPeer.Posting p : sandbox.legacy().postings()) {
            List<String> debits = new ArrayList<>();
            List<String> credits = new ArrayList<>();
            p.lines().forEach(l -> (l.side().equals("D") ? debits : credits).add(l.account()));
            entries.add(new Entry(null, debits, credits));
        }
        Map<String, Integer> kinds = new TreeMap<>();
        Map<String, Integer> paymentsPerInvoice = new HashMap<>();
        for (Entry e : entries) {
            String kind;
            if (e.debits().contains(DISPUTES) && e.debits().contains(DISPUTE_FEES)) {
                kind = "dispute";
            } else if (e.credits().contains(REVENUE) && e.debits().contains(RECEIVABLE)) {
                kind = "invoice";
            } else if (e.debits().equals(List.of(BANK)) && e.credits().equals(List.of(RECEIVABLE))) {
                kind = "payment";
                if (e.reference() != null) {
                    paymentsPerInvoice.merge(e.reference().substring(e.reference().indexOf(' ') + 1), 1, Integer::sum);
                }
            } else if (e.debits().equals(List.of(REFUNDS)) && e.credits().equals(List.of(BANK))) {
                kind = "refund";
            } else if (e.debits().contains(REVENUE) && (e.credits().contains(REFUNDS)
                    || e.reference() != null && e.reference().startsWith("CREDIT_NOTE "))) {
                kind = "credit note";
            } else {
                kind = "other";
            }
            kinds.merge(kind, 1, Integer::sum);
        }
        // two payments of one invoice: an InvoicePayment of part of it, and one of the rest
        long partial = paymentsPerInvoice.values().stream().filter(n -> n > 1).count();
        if (partial > 0) {
            kinds.put("partial payment", (int) partial);
        }
        return kinds;
    }
}
