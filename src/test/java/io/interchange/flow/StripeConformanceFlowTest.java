package io.interchange.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.store.DeadLetter;
import io.interchange.store.ErpConfirmations;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import io.interchange.testkit.StripeFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every Stripe event of every supported API version family ({@link StripeFixtures}) through the running runtime:
 * webhook, billing topic, ledger, the in-process S/4HANA and legacy ERP peers. Each is answered as expected (accepted,
 * ignored, parked: never refused), each posting is balanced at the ERP, an invoice's receivable there is Stripe's
 * total to the cent, and each parked event waits as a dead letter of billing.stripe-event. On H2 and PostgreSQL.
 */
class StripeConformanceFlowTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RECEIVABLE = "12600000";

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void everyFamilyReachesTheErpBalancedAndAtStripesTotals(Databases.Backend backend) throws Exception {
        List<String> violations = new ArrayList<>();
        Map<String, Integer> answers = new TreeMap<>();
        Map<String, JsonNode> posted = new LinkedHashMap<>(); // event id -> event, for those with a ledger effect
        List<String> parked = new ArrayList<>();
        try (RuntimeKit kit = RuntimeKit.start(backend, Map.of())) {
            for (String family : StripeFixtures.FAMILIES) {
                for (Path file : StripeFixtures.events(family)) {
                    String name = family + "/" + StripeFixtures.name(file);
                    StripeFixtures.Expectation expected = StripeFixtures.expectation(family, file);
                    byte[] body = Files.readAllBytes(file);
                    JsonNode event = JSON.readTree(body);
                    HttpResponse<String> answer = kit.sendSigned(body);
                    String status = answer.statusCode() + " " + JSON.readTree(answer.body()).path("status").asText();
                    answers.merge(status, 1, Integer::sum);
                    String wanted = "200 " + switch (expected.outcome()) {
                        case "published" -> "accepted";
                        default -> expected.outcome();
                    };
                    if (!status.equals(wanted)) {
                        violations.add(name + ": answered " + status + ", expected " + wanted + ": " + answer.body());
                        continue;
                    }
                    if (expected.posts()) posted.put(event.path("id").asText(), event);
                    if (expected.outcome().equals("parked")) parked.add(event.path("id").asText());
                }
            }
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> posted.keySet().stream()
                    .allMatch(id -> kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent()));
            for (Map.Entry<String, JsonNode> e : posted.entrySet()) {
                checkAtTheErp(kit, e.getKey(), e.getValue(), violations);
            }
            List<DeadLetter> ledgerFailures = kit.runtime.store().deadLetters().list("billing.ledger-posting", DeadLetter.OPEN, 100);
            ledgerFailures.forEach(d -> violations.add("ledger dead letter: " + d.errorMessage()));
            for (String id : parked) {
                boolean found = kit.runtime.store().deadLetters().findOpen("billing.stripe-event", "billing:stripe:" + id).isPresent();
                if (!found) violations.add(id + ": parked without a dead letter on billing.stripe-event");
            }
            System.out.printf("Stripe conformance through the runtime (%s): answers %s; %d postings at the ERPs "
                            + "(S/4HANA %d, legacy %d); %d parked; %d violation(s)%n", backend, answers, posted.size(),
                    kit.s4.postings().size(), kit.legacy.postings().size(), parked.size(), violations.size());
        }
        assertThat(violations).as(String.join("\n", violations)).isEmpty();
    }

    /** The ERP's document for the event: balanced; an issued invoice's receivable is Stripe's total. */
    private static void checkAtTheErp(RuntimeKit kit, String eventId, JsonNode event, List<String> violations) {
        Optional<ErpConfirmations.Confirmation> c = kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(eventId));
        if (c.isEmpty()) {
            violations.add(eventId + " (" + event.path("type").asText() + "): never posted");
            return;
        }
        BigDecimal sum = BigDecimal.ZERO;
        BigDecimal receivable = BigDecimal.ZERO;
        boolean found = false;
        if (c.get().erpTarget().equals("S4HANA")) {
            for (S4HanaPeer.Posting p : kit.s4.postings()) {
                if (!p.accountingDocument().equals(c.get().accountingDocument()) || !p.companyCode().equals(c.get().companyCode())) continue;
                found = true;
                for (S4HanaPeer.Line l : p.lines()) {
                    sum = sum.add(l.amount());
                    if (RECEIVABLE.equals(l.glAccount())) receivable = receivable.add(l.amount());
                }
            }
        } else {
            for (LegacyErpPeer.Posting p : kit.legacy.postings()) {
                if (!p.documentNumber().equals(c.get().accountingDocument())) continue;
                found = true;
                for (LegacyErpPeer.Line l : p.lines()) {
                    BigDecimal signed = l.side().equals("D") ? l.amount() : l.amount().negate();
                    sum = sum.add(signed);
                    if (l.account().equals(RECEIVABLE)) receivable = receivable.add(signed);
                }
            }
        }
        String what = eventId + " (" + event.path("type").asText() + ")";
        if (!found) {
            violations.add(what + ": confirmed as " + c.get().accountingDocument() + " but not in the ERP's ledger");
        } else if (sum.signum() != 0) {
            violations.add(what + ": document " + c.get().accountingDocument() + " not balanced: " + sum);
        } else if (event.path("type").asText().equals("invoice.finalized")) {
            JsonNode inv = event.path("data").path("object");
            int digits = java.util.Currency.getInstance(inv.path("currency").asText().toUpperCase()).getDefaultFractionDigits();
            BigDecimal total = BigDecimal.valueOf(inv.path("total").asLong()).movePointLeft(digits);
            if (receivable.compareTo(total) != 0) {
                violations.add(what + ": receivable " + receivable + " at the ERP, Stripe's total " + total);
            }
        }
    }
}
