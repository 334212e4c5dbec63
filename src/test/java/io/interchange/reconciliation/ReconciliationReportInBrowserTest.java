package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.management.OperatorRole;
import io.interchange.management.ReconciliationOperations;
import io.interchange.reconciliation.ReconciliationTest.Sale;
import io.interchange.sandbox.StripeApiPeer;
import io.interchange.store.DeadLetter;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Difference;
import io.interchange.store.ReconciliationRuns.Kind;
import io.interchange.testkit.Databases;
import io.interchange.testkit.HeadlessChromium;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

import static io.interchange.reconciliation.ReconciliationTest.as;
import static io.interchange.reconciliation.ReconciliationTest.parkInvoice;
import static io.interchange.reconciliation.ReconciliationTest.post;
import static io.interchange.reconciliation.ReconciliationTest.postWithRefundChangedAfterwards;
import static io.interchange.reconciliation.ReconciliationTest.sale;
import static io.interchange.reconciliation.ReconciliationTest.subject;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The report page as a person sees it: a real run with injected differences (as {@link ReconciliationTest} makes them)
 * writes its HTML file, headless Chromium (Debian's) opens it, and the test reads what the browser rendered: the totals
 * per entity and currency, the differences table with each difference, its dead letter and its acknowledgement, and
 * that every drill-down link leads to an anchor in the page and a click on one shows that difference's records.
 * Skipped when Chromium is not installed.
 */
class ReconciliationReportInBrowserTest {

    private static RuntimeKit kit;
    private static StripeApiPeer api;

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
        if (api != null) api.close();
    }

    @Test
    void theReportShowsTotalsDifferencesAndTheirRecordsInChromium() throws Exception {
        HeadlessChromium.assumeInstalled();
        api = new StripeApiPeer(0, ReconciliationTest.KEY).start();
        kit = ReconciliationTest.start(Databases.Backend.H2, api);
        LocalDate day = LocalDate.of(2026, 11, 3);
        Sale clean = post(kit, api, sale("DE01", day, 0, 5880));
        Sale wrongAmount = postWithRefundChangedAfterwards(kit, api, sale("DE01", day, 1, 5880));
        // an invoice whose event never came, and one the ERP rejected (dead-lettered)
        Sale neverSent = sale("DE01", day, 2, 5880);
        api.putObject(neverSent.invoice());
        Sale rejected = sale("DE01", day, 3, 5880);
        DeadLetter parked = parkInvoice(kit, api, rejected);

        Reconciliation.Summary s = kit.runtime.reconciliation().run("DE01", day, day.plusDays(1));
        ReconciliationRuns runs = kit.runtime.store().reconciliationRuns();
        List<Difference> found = runs.differences(s.runId(), null, 0, 100);
        assertThat(found).as(s.text()).hasSize(3);
        Difference amount = found.stream().filter(d -> d.kind() == Kind.AMOUNT_DIFFERENCE).findFirst().orElseThrow();
        Difference neverPosted = byInvoice(found, neverSent);
        Difference rejectedInvoice = byInvoice(found, rejected);
        String acknowledged = as(subject("auditor", OperatorRole.PRIVILEGED), () -> new ReconciliationOperations(
                kit.runtime.reconciliation(), runs, kit.runtime.store().audit())
                .acknowledge(neverPosted.id(), "test invoice, never sent"));
        assertThat(acknowledged).startsWith("acknowledged");
        Path page = kit.runtime.reconciliation().reportFiles(s.runId())[0];

        try (HeadlessChromium chromium = HeadlessChromium.start()) {
            chromium.open(page.toUri().toString());

            assertThat(chromium.evaluate("document.title").asText())
                    .isEqualTo("Reconciliation #" + s.runId() + " DE01 " + day + " to " + day.plusDays(1));

            // totals per entity and currency, as rendered: every sale's invoice, payment and refund on billing's side
            long total = clean.invoice().path("total").asLong();
            long billing = 2 * (2 * total + 5880) + 100 + 2 * total; // two sales (one refund 1.00 more), two invoices
            long erp = 2 * (2 * total + 5880);
            assertThat(rows(chromium, "#totals")).containsExactly(List.of("DE01", "EUR", "8", money(billing), "6",
                    money(erp), money(billing - erp)));

            // the differences table: each injected difference, its dead letter, its acknowledgement
            List<List<String>> differences = rows(chromium, "#differences");
            assertThat(differences).hasSize(3);
            // columns: #, kind, side, document, ERP document, currency, billing, ERP, detail, dead letters, acknowledged
            List<String> amountRow = row(differences, amount);
            assertThat(amountRow.subList(1, 4)).containsExactly("AMOUNT_DIFFERENCE", "",
                    "REFUND|" + wrongAmount.refund().path("id").asText());
            assertThat(amountRow.get(4)).startsWith("1010/2026/");
            assertThat(amountRow.subList(5, 8)).containsExactly("EUR", "59.80", "58.80");
            assertThat(amountRow.subList(9, 11)).containsExactly("", "");
            List<String> rejectedRow = row(differences, rejectedInvoice);
            assertThat(rejectedRow.subList(1, 4)).containsExactly("MISSING_IN_ERP", "",
                    "INVOICE|" + rejected.invoice().path("number").asText());
            assertThat(rejectedRow.subList(6, 8)).containsExactly(money(total), "");
            assertThat(rejectedRow.subList(9, 11)).containsExactly("#" + parked.id(), "");
            List<String> acknowledgedRow = row(differences, neverPosted);
            assertThat(acknowledgedRow.subList(1, 4)).containsExactly("MISSING_IN_ERP", "",
                    "INVOICE|" + neverSent.invoice().path("number").asText());
            assertThat(acknowledgedRow.get(9)).isEmpty();
            assertThat(acknowledgedRow.get(10)).startsWith("acknowledged by jmx:auditor at ")
                    .endsWith(": test invoice, never sent");

            // every drill-down link points at an anchor the page has
            JsonNode links = chromium.evaluate("[...document.querySelectorAll('a[href^=\"#\"]')].map(a => "
                    + "[a.getAttribute('href'), document.getElementById(a.getAttribute('href').slice(1)) !== null])");
            assertThat(links.size()).isEqualTo(6); // three differences, each with a way back
            links.forEach(l -> assertThat(l.get(1).asBoolean()).as(l.get(0).asText() + " has its anchor").isTrue());

            // a click on a difference's link shows its records
            chromium.click("#differences a[href=\"#d" + rejectedInvoice.id() + "\"]");
            chromium.await("location.hash === '#d" + rejectedInvoice.id() + "'");
            JsonNode target = chromium.evaluate("(() => { const t = document.querySelector(':target'); "
                    + "const r = t.getBoundingClientRect(); return {id: t.id, top: r.top, height: innerHeight, "
                    + "text: t.innerText}; })()");
            assertThat(target.path("id").asText()).isEqualTo("d" + rejectedInvoice.id());
            assertThat(target.path("top").asDouble()).as("scrolled into view").isBetween(-1.0,
                    target.path("height").asDouble() / 2);
            assertThat(target.path("text").asText()).contains("MISSING_IN_ERP",
                    rejected.invoice().path("id").asText(), "Open dead letters of these records when the run completed: #"
                            + parked.id());
            List<List<String>> records = rows(chromium, ":target table");
            assertThat(records).singleElement().satisfies(r -> assertThat(r).containsSubsequence("BILLING", "INVOICE",
                    rejected.invoice().path("id").asText()).contains(money(total)));

            chromium.click(":target a[href=\"#differences\"]");
            chromium.await("location.hash === '#differences'");

            chromium.click("#differences a[href=\"#d" + amount.id() + "\"]");
            chromium.await("location.hash === '#d" + amount.id() + "'");
            assertThat(rows(chromium, ":target table")).extracting(r -> r.get(0) + " " + r.get(8))
                    .containsExactly("BILLING 59.80", "ERP 58.80", "OURS ");

            chromium.click("#differences a[href=\"#d" + neverPosted.id() + "\"]");
            chromium.await("location.hash === '#d" + neverPosted.id() + "'");
            assertThat(chromium.evaluate("document.querySelector(':target .acknowledgement').innerText").asText())
                    .startsWith("acknowledged by jmx:auditor").endsWith(": test invoice, never sent");
        }
    }

    private static Difference byInvoice(List<Difference> found, Sale sale) {
        return found.stream().filter(d -> d.key().equals("INVOICE|" + sale.invoice().path("number").asText()))
                .findFirst().orElseThrow();
    }

    /** The rows below the header of a table the selector finds, each as the text of its cells as rendered. */
    private static List<List<String>> rows(HeadlessChromium chromium, String table) {
        JsonNode rows = chromium.evaluate("[...document.querySelector(" + quote(table) + ").rows].slice(1)"
                + ".map(tr => [...tr.cells].map(td => td.innerText.trim()))");
        List<List<String>> out = new ArrayList<>();
        rows.forEach(r -> {
            List<String> cells = new ArrayList<>();
            r.forEach(c -> cells.add(c.asText()));
            out.add(cells);
        });
        return out;
    }

    private static List<String> row(List<List<String>> rows, Difference d) {
        return rows.stream().filter(r -> r.get(0).equals(String.valueOf(d.id()))).findFirst().orElseThrow();
    }

    private static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String money(long minor) {
        return Money.format(minor, "EUR");
    }
}
