package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.management.DeadLetterOperations;
import io.interchange.management.OperatorRole;
import io.interchange.management.ReconciliationOperations;
import io.interchange.sandbox.StripeApiPeer;
import io.interchange.store.DeadLetter;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Difference;
import io.interchange.store.ReconciliationRuns.Kind;
import io.interchange.store.Store;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import io.interchange.testkit.StripeFixtures;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXPrincipal;
import javax.management.remote.JMXServiceURL;
import javax.security.auth.Subject;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reconciliation of billing against the ERP ledgers and our confirmations, end to end: sales sent as Stripe webhooks
 * to a whole runtime (real Kafka, store on H2 and PostgreSQL, S/4HANA and legacy ERP peers), the same objects served by
 * the Stripe API peer's list endpoints, then runs over periods read page by page from each system. Clean data reports
 * nothing; each injected difference is found with its record.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReconciliationTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "sk_test_" + UUID.randomUUID().toString().replace("-", "");
    static final String AUDITOR_PASSWORD = "auditor-" + UUID.randomUUID();
    static final Map<Databases.Backend, RuntimeKit> KITS = new EnumMap<>(Databases.Backend.class);
    static final Map<Databases.Backend, StripeApiPeer> APIS = new EnumMap<>(Databases.Backend.class);

    /** One sale as billing holds it: the invoice, its payment and a refund, each sent as its event. */
    record Sale(ObjectNode invoice, ObjectNode payment, ObjectNode refund, List<String> eventIds) {
    }

    static synchronized RuntimeKit kit(Databases.Backend backend) throws Exception {
        RuntimeKit kit = KITS.get(backend);
        if (kit != null) return kit;
        StripeApiPeer api = new StripeApiPeer(0, KEY).start();
        APIS.put(backend, api);
        kit = start(backend, api);
        KITS.put(backend, kit);
        return kit;
    }

    /** A runtime reading billing from {@code api}, with the privileged JMX user {@code auditor}. */
    static RuntimeKit start(Databases.Backend backend, StripeApiPeer api) throws Exception {
        // small pages everywhere, so that every read crosses several
        RuntimeKit kit = RuntimeKit.start(backend, Map.of("interchange.billing.api-url", api.url(),
                "interchange.billing.api-key", KEY,
                "interchange.reconciliation.daily", "false",
                "interchange.jmx.privileged-user", "auditor",
                "interchange.jmx.privileged-password", AUDITOR_PASSWORD,
                "interchange.reconciliation.billing-page-size", "2",
                "interchange.reconciliation.erp-page-size", "4"));
        // S/4HANA pages on its own beyond 3 items: the reader follows its __next links
        kit.s4.setMaxPageSize(3);
        return kit;
    }

    @AfterAll
    static void stop() {
        KITS.values().forEach(RuntimeKit::close);
        APIS.values().forEach(StripeApiPeer::close);
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void cleanDataReportsNothingOnEitherErpAcrossSeveralPages(Databases.Backend backend) throws Exception {
        RuntimeKit kit = kit(backend);
        StripeApiPeer api = APIS.get(backend);
        LocalDate day = LocalDate.of(2026, 10, 1);
        for (String entity : List.of("DE01", "GB01")) {
            for (int i = 0; i < 3; i++) post(kit, api, sale(entity, day, i, 5880));
        }
        int before = api.requests().size();

        for (String entity : List.of("DE01", "GB01")) {
            Reconciliation.Summary s = kit.runtime.reconciliation().run(entity, day, day.plusDays(1));
            assertThat(s.run().status()).as(s.text()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(s.run().differences()).as(s.text()).isZero();
            assertThat(s.run().billingRecords()).as(s.text()).isEqualTo(9); // 3 invoices, 3 payments, 3 refunds
            assertThat(s.run().erpRecords()).as(s.text()).isEqualTo(9);
            assertThat(s.run().confirmationRecords()).as(s.text()).isEqualTo(9);
            assertThat(s.run().matched()).as(s.text()).isEqualTo(9);
            assertThat(s.run().unreadableRecords()).as(s.text()).isZero();
            if (entity.equals("GB01")) {
                // totals per entity and currency: 3 × (invoice 1800.00 + its payment 1800.00 + refund 58.80) a side
                StringWriter html = new StringWriter();
                kit.runtime.reconciliation().html(s.runId(), html);
                assertThat(html.toString()).contains("<tr><td>GB01</td><td>GBP</td><td class=\"num\">9</td>"
                        + "<td class=\"num\">10976.40</td><td class=\"num\">9</td><td class=\"num\">10976.40</td>"
                        + "<td class=\"num\">0.00</td></tr>").contains("No differences");
                StringWriter csv = new StringWriter();
                kit.runtime.reconciliation().csv(s.runId(), csv);
                assertThat(csv.toString().split("\r\n")).hasSize(1); // the header alone
            }
        }
        // the billing lists were read in pages of two, each after the last object of the page before
        assertThat(api.requests().subList(before, api.requests().size()))
                .anySatisfy(r -> assertThat(r.pathAndQuery()).startsWith("/v1/invoices?limit=2&created")
                        .contains("starting_after=in_"))
                .anySatisfy(r -> assertThat(r.pathAndQuery()).startsWith("/v1/invoice_payments?limit=2"))
                .anySatisfy(r -> assertThat(r.pathAndQuery()).startsWith("/v1/refunds?limit=2"));
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void eachInjectedDifferenceIsFoundWithItsRecord(Databases.Backend backend) throws Exception {
        RuntimeKit kit = kit(backend);
        StripeApiPeer api = APIS.get(backend);
        LocalDate day = LocalDate.of(2026, 10, 11);
        Sale clean = post(kit, api, sale("DE01", day, 0, 5880));

        Sale wrongAmount = postWithRefundChangedAfterwards(kit, api, sale("DE01", day, 1, 5880));

        // a payment billing holds whose event never reached the runtime: not posted at the ERP
        Sale unposted = sale("DE01", day, 2, 5880);
        post(kit, api, unposted, true, false, true);

        // an invoice in billing the ERP never got
        Sale invoiceOnly = sale("DE01", day, 3, 5880);
        api.putObject(invoiceOnly.invoice());

        // the same invoice posted twice in the ERP: its event came again under another id
        Sale twice = post(kit, api, sale("DE01", day, 4, 5880));
        ObjectNode again = event("invoice.finalized", twice.invoice());
        send(kit, again);
        awaitConfirmed(kit, again.path("id").asText());

        // a posting on the ERP ledger for which no confirmation is recorded here (as a crash between the ERP's answer
        // and the store's commit leaves it)
        Sale unconfirmed = post(kit, api, sale("DE01", day, 5, 5880));
        String lostEvent = unconfirmed.eventIds().get(1);
        String lostDocument = kit.runtime.store().confirmations().find("ledger:" + lostEvent).orElseThrow()
                .accountingDocument();
        try (Connection c = kit.runtime.store().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM erp_confirmation WHERE posting_key = ?")) {
            ps.setString(1, "ledger:" + lostEvent);
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }

        Reconciliation.Summary s = kit.runtime.reconciliation().run("DE01", day, day.plusDays(1));

        assertThat(s.run().status()).as(s.text()).isEqualTo(ReconciliationRuns.COMPLETED);
        List<Difference> found = kit.runtime.store().reconciliationRuns().differences(s.runId(), null, 0, 100);
        ReconciliationRuns runs = kit.runtime.store().reconciliationRuns();
        assertThat(found).as(s.text()).hasSize(5);

        Difference amount = only(found, Kind.AMOUNT_DIFFERENCE);
        assertThat(amount.key()).isEqualTo("REFUND|" + wrongAmount.refund().path("id").asText());
        assertThat(amount.billingAmountMinor()).isEqualTo(5980);
        assertThat(amount.erpAmountMinor()).isEqualTo(5880);
        assertThat(runs.records(s.runId(), amount)).extracting(ReconciliationRuns.Record::side)
                .containsExactly("BILLING", "ERP", "OURS");

        List<Difference> missing = found.stream().filter(d -> d.kind() == Kind.MISSING_IN_ERP).toList();
        assertThat(missing).extracting(Difference::key).containsExactlyInAnyOrder(
                "PAYMENT|" + unposted.payment().path("payment").path("payment_intent").asText(),
                "INVOICE|" + invoiceOnly.invoice().path("number").asText());
        Difference missingPayment = missing.stream().filter(d -> d.key().startsWith("PAYMENT|")).findFirst().orElseThrow();
        assertThat(runs.records(s.runId(), missingPayment)).singleElement().satisfies(r -> {
            assertThat(r.side()).isEqualTo("BILLING");
            assertThat(r.recordId()).isEqualTo(unposted.payment().path("id").asText());
            assertThat(r.amountMinor()).isEqualTo(unposted.invoice().path("total").asLong());
        });

        Difference duplicate = only(found, Kind.DUPLICATE);
        assertThat(duplicate.side()).isEqualTo("ERP");
        assertThat(duplicate.key()).isEqualTo("INVOICE|" + twice.invoice().path("number").asText());
        assertThat(duplicate.erpCount()).isEqualTo(2);
        assertThat(runs.records(s.runId(), duplicate)).filteredOn(r -> r.side().equals("ERP")).hasSize(2);

        Difference unconfirmedPosting = only(found, Kind.CONFIRMATION_MISSING);
        assertThat(unconfirmedPosting.erpDocument()).isEqualTo("1010/2026/" + lostDocument);
        assertThat(unconfirmedPosting.key()).isEqualTo("PAYMENT|"
                + unconfirmed.payment().path("payment").path("payment_intent").asText());
        assertThat(runs.records(s.runId(), unconfirmedPosting)).extracting(ReconciliationRuns.Record::side)
                .containsExactly("BILLING", "ERP");

        assertThat(s.differences()).containsEntry(Kind.AMOUNT_DIFFERENCE, 1L).containsEntry(Kind.MISSING_IN_ERP, 2L)
                .containsEntry(Kind.DUPLICATE, 1L).containsEntry(Kind.CONFIRMATION_MISSING, 1L);
        // the clean sale in the same period is matched, not reported
        assertThat(found).noneMatch(d -> d.key().contains(clean.invoice().path("number").asText()));

        // the report: totals per entity and currency, the differences, each with an anchor to its records, all escaped
        StringWriter html = new StringWriter();
        kit.runtime.reconciliation().html(s.runId(), html);
        assertThat(html.toString()).contains("<h2>Totals in the period</h2>", "<td>DE01</td><td>EUR</td>",
                "<a href=\"#d" + amount.id() + "\">", "<section id=\"d" + amount.id() + "\">",
                wrongAmount.refund().path("id").asText(), "59.80", "58.80", "MISSING_IN_ERP", "CONFIRMATION_MISSING");
        StringWriter csv = new StringWriter();
        kit.runtime.reconciliation().csv(s.runId(), csv);
        String[] lines = csv.toString().split("\r\n");
        assertThat(lines).hasSize(6);
        assertThat(lines[0]).startsWith("run,legal_entity,period_from,period_to,difference,kind,");
        assertThat(csv.toString()).contains("AMOUNT_DIFFERENCE,,REFUND|" + wrongAmount.refund().path("id").asText())
                .contains(",59.80,58.80,1,1,");
        assertThat(Files.readString(kit.runtime.reconciliation().reportFiles(s.runId())[1])).isEqualTo(csv.toString());

        // the metrics hold the last run's count per kind, the runs counter its outcome
        MeterRegistry meters = kit.runtime.camelContext().getRegistry().findSingleByType(MeterRegistry.class);
        if (meters == null) meters = kit.runtime.camelContext().getRegistry().findByType(MeterRegistry.class).iterator().next();
        assertThat(meters.get(Reconciliation.DIFFERENCES_METRIC).tags("comparison", "billing-erp", "entity", "DE01",
                "kind", "missing_in_erp").gauge().value()).isEqualTo(2.0);
        assertThat(meters.get(Reconciliation.RUNS_METRIC).tags("comparison", "billing-erp", "outcome", "differences")
                .counter().count()).isGreaterThanOrEqualTo(1.0);

        // the event announcing the run
        await().atMost(Duration.ofSeconds(20)).until(() -> kit.readTopic("interchange.reconciliation.v1",
                Duration.ofSeconds(1)).stream().anyMatch(r -> ("reconciliation-" + s.runId())
                .equals(RuntimeKit.header(r, "ce_id"))));
    }

    @ParameterizedTest
    @MethodSource("io.interchange.testkit.Databases#backends")
    void aDifferenceAndTheDeadLetterOfItsDocumentNameEachOtherAndAnAcknowledgementKeepsItWithItsReason(
            Databases.Backend backend) throws Exception {
        RuntimeKit kit = kit(backend);
        StripeApiPeer api = APIS.get(backend);
        LocalDate day = LocalDate.of(2026, 10, 16);
        Store store = kit.runtime.store();
        ReconciliationRuns runs = store.reconciliationRuns();
        post(kit, api, sale("DE01", day, 0, 5880));
        // an invoice the ERP rejected (its company code unknown there for a moment): a dead letter of the ledger posting
        Sale rejected = sale("DE01", day, 1, 5880);
        DeadLetter parked = parkInvoice(kit, api, rejected);
        // an invoice whose event never came: no dead letter names it
        Sale neverSent = sale("DE01", day, 2, 5880);
        api.putObject(neverSent.invoice());

        Reconciliation.Summary s = kit.runtime.reconciliation().run("DE01", day, day.plusDays(1));

        List<Difference> found = runs.differences(s.runId(), null, 0, 100);
        assertThat(found).as(s.text()).extracting(Difference::key).containsExactlyInAnyOrder(
                "INVOICE|" + rejected.invoice().path("number").asText(),
                "INVOICE|" + neverSent.invoice().path("number").asText());
        Difference linked = found.stream().filter(d -> d.key().endsWith(rejected.invoice().path("number").asText()))
                .findFirst().orElseThrow();
        Difference unlinked = found.stream().filter(d -> d != linked).findFirst().orElseThrow();
        // one query for the whole run's links
        assertThat(runs.deadLetters(s.runId(), 0, Long.MAX_VALUE)).containsOnlyKeys(linked.id())
                .containsEntry(linked.id(), List.of(parked.id()));

        ReconciliationOperations reconciliation = new ReconciliationOperations(kit.runtime.reconciliation(), runs,
                store.audit());
        assertThat(reconciliation.differences(s.runId(), "*", 10, 0)).contains("open dead letters: #" + parked.id());
        DeadLetterOperations console = new DeadLetterOperations(kit.runtime.camelContext(), store.deadLetters(),
                store.audit());
        assertThat(console.show(parked.id())).contains("reconciliation differences naming it",
                "difference #" + linked.id() + " of run #" + s.runId() + " DE01 " + day + " to " + day.plusDays(1)
                        + ": MISSING_IN_ERP " + linked.key()).doesNotContain("difference #" + unlinked.id() + " ");

        // acknowledging: only the privileged user, with a reason, once; refusals change nothing
        Subject operator = subject("operator", OperatorRole.OPERATOR);
        Subject auditor = subject("auditor", OperatorRole.PRIVILEGED);
        int audited = store.audit().recent(1000).size();
        assertThat(as(operator, () -> reconciliation.acknowledge(linked.id(), "booked by hand")))
                .startsWith("refused: only the privileged JMX user");
        assertThat(as(auditor, () -> reconciliation.acknowledge(linked.id(), "  "))).startsWith("refused: a reason is required");
        assertThat(as(auditor, () -> reconciliation.acknowledge(999_999_999L, "booked by hand")))
                .isEqualTo("refused: no reconciliation difference #999999999");
        assertThat(runs.difference(linked.id()).orElseThrow().acknowledgement()).isNull();
        assertThat(store.audit().recent(1000)).hasSize(audited);

        String done = as(auditor, () -> reconciliation.acknowledge(linked.id(), "company code 1010 was missing, ticket 4711"));
        assertThat(done).startsWith("acknowledged difference #" + linked.id() + " of run #" + s.runId())
                .contains("by jmx:auditor");
        String again = as(auditor, () -> reconciliation.acknowledge(linked.id(), "a second reason"));
        assertThat(again).startsWith("refused: difference #" + linked.id() + " was acknowledged by jmx:auditor")
                .contains("company code 1010 was missing, ticket 4711");

        Difference after = runs.difference(linked.id()).orElseThrow();
        assertThat(after.acknowledgement().by()).isEqualTo("jmx:auditor");
        assertThat(after.acknowledgement().reason()).isEqualTo("company code 1010 was missing, ticket 4711");
        // never deleted nor corrected: the same difference, counted as before
        assertThat(after.kind()).isEqualTo(linked.kind());
        assertThat(after.billingAmountMinor()).isEqualTo(linked.billingAmountMinor());
        assertThat(runs.differences(s.runId(), null, 0, 100)).hasSize(2);
        assertThat(kit.runtime.reconciliation().summary(s.runId()).run().differences()).isEqualTo(2);
        assertThat(store.audit().recent(1000)).hasSize(audited + 1);
        assertThat(store.audit().recent(1)).singleElement().satisfies(e -> {
            assertThat(e.actor()).isEqualTo("jmx:auditor");
            assertThat(e.action()).isEqualTo("reconciliation-acknowledge");
            assertThat(e.target()).isEqualTo("reconciliation-difference:" + linked.id());
            assertThat(e.detail()).contains("company code 1010 was missing, ticket 4711");
        });

        // the report files, written again, show it acknowledged and its dead letter
        String html = Files.readString(kit.runtime.reconciliation().reportFiles(s.runId())[0]);
        assertThat(html).contains("<tr class=\"diff acknowledged\" id=\"row-d" + linked.id() + "\">",
                "<td class=\"dead-letters\">#" + parked.id() + "</td>",
                "acknowledged by jmx:auditor at ", ": company code 1010 was missing, ticket 4711",
                "Differences</th><td>2 (1 acknowledged)");
        String csv = Files.readString(kit.runtime.reconciliation().reportFiles(s.runId())[1]);
        assertThat(csv.split("\r\n")[0]).endsWith(",records,dead_letters,acknowledged_by,acknowledged_at,acknowledged_reason");
        assertThat(csv).contains(",#" + parked.id() + ",jmx:auditor,")
                .contains(",\"company code 1010 was missing, ticket 4711\"\r\n");
        assertThat(console.show(parked.id())).contains("(acknowledged by jmx:auditor)");
    }

    // first: every kit of the JVM registers its MBeans in the one platform MBean server, where the first one stays
    @Test
    @Order(1)
    void anOperatorRunsAndReadsAReconciliationOverJmx() throws Exception {
        RuntimeKit kit = kit(Databases.Backend.H2);
        StripeApiPeer api = APIS.get(Databases.Backend.H2);
        LocalDate day = LocalDate.of(2026, 10, 21);
        post(kit, api, sale("GB01", day, 0, 5880));
        Sale invoiceOnly = sale("GB01", day, 1, 5880);
        invoiceOnly.invoice().put("number", "<b>&\"x,y\"</b>");
        api.putObject(invoiceOnly.invoice());

        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + kit.jmxPort + "/jmxrmi");
        try (JMXConnector jmx = JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS,
                new String[]{"operator", RuntimeKit.JMX_PASSWORD}))) {
            MBeanServerConnection c = jmx.getMBeanServerConnection();
            ObjectName name = new ObjectName(ReconciliationOperations.OBJECT_NAME);
            String[] three = {String.class.getName(), String.class.getName(), String.class.getName()};

            String refused = (String) c.invoke(name, "run", new Object[]{"ZZ99", "2026-10-21", "2026-10-22"}, three);
            assertThat(refused).startsWith("refused: unknown legal entity 'ZZ99'");
            assertThat((String) c.invoke(name, "run", new Object[]{"GB01", "21.10.2026", "2026-10-22"}, three))
                    .startsWith("refused: from and to must be dates");

            String ran = (String) c.invoke(name, "run", new Object[]{"GB01", "2026-10-21", "2026-10-22"}, three);
            assertThat(ran).startsWith("run id ").contains("COMPLETED", "MISSING_IN_ERP 1", "matched 3");
            long runId = Long.parseLong(ran.substring("run id ".length(), ran.indexOf('\n')));
            // the same run in the background: its id at once, RUNNING until it completes
            assertThat((String) c.invoke(name, "start", new Object[]{"ZZ99", "2026-10-21", "2026-10-22"}, three))
                    .startsWith("refused: unknown legal entity 'ZZ99'");
            String started = (String) c.invoke(name, "start", new Object[]{"GB01", "2026-10-21", "2026-10-22"}, three);
            assertThat(started).startsWith("started run id ");
            long background = Long.parseLong(started.substring("started run id ".length(), started.indexOf(':')));
            assertThat(background).isGreaterThan(runId);
            String[] oneLong = {"long"};
            await().atMost(Duration.ofSeconds(30)).until(() -> !((String) c.invoke(name, "report",
                    new Object[]{background}, oneLong)).contains("RUNNING"));
            assertThat((String) c.invoke(name, "report", new Object[]{background}, oneLong))
                    .contains("COMPLETED", "MISSING_IN_ERP 1", "matched 3");

            String differences = (String) c.invoke(name, "differences", new Object[]{runId, "missing_in_erp", 10, 0L},
                    new String[]{"long", String.class.getName(), "int", "long"});
            assertThat(differences).contains("MISSING_IN_ERP INVOICE|<b>&\"x,y\"</b>")
                    .contains("BILLING " + invoiceOnly.invoice().path("id").asText());
            assertThat((String) c.invoke(name, "report", new Object[]{runId}, new String[]{"long"}))
                    .contains("reconciliation run #" + runId, "GB01", "report: ", ".html");
            String html = (String) c.invoke(name, "html", new Object[]{runId}, new String[]{"long"});
            assertThat(html).contains("INVOICE|&lt;b&gt;&amp;&quot;x,y&quot;&lt;/b&gt;").doesNotContain("<b>&");
            String csv = (String) c.invoke(name, "csv", new Object[]{runId}, new String[]{"long"});
            assertThat(csv).contains(",\"INVOICE|<b>&\"\"x,y\"\"</b>\",");
            assertThat((String) c.invoke(name, "report", new Object[]{999_999L}, new String[]{"long"}))
                    .isEqualTo("refused: no reconciliation run #999999");

            long differenceId = Long.parseLong(differences.substring(1, differences.indexOf(' ')));
            String[] acknowledge = {"long", String.class.getName()};
            assertThat((String) c.invoke(name, "acknowledge", new Object[]{differenceId, "sent by hand"}, acknowledge))
                    .startsWith("refused: only the privileged JMX user (interchange.jmx.privileged-user)");
            try (JMXConnector privileged = JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS,
                    new String[]{"auditor", AUDITOR_PASSWORD}))) {
                assertThat((String) privileged.getMBeanServerConnection().invoke(name, "acknowledge",
                        new Object[]{differenceId, "test invoice, never sent"}, acknowledge))
                        .isEqualTo("acknowledged difference #" + differenceId + " of run #" + runId
                                + " (MISSING_IN_ERP INVOICE|<b>&\"x,y\"</b>) by jmx:auditor: test invoice, never sent");
            }
            assertThat((String) c.invoke(name, "differences", new Object[]{runId, "*", 10, 0L},
                    new String[]{"long", String.class.getName(), "int", "long"}))
                    .contains("; acknowledged by jmx:auditor at ", ": test invoice, never sent");
        }
        assertThat(kit.runtime.store().audit().recent(5)).anySatisfy(e -> {
            assertThat(e.actor()).isEqualTo("jmx:operator");
            assertThat(e.action()).isEqualTo("reconciliation-run");
        }).anySatisfy(e -> {
            assertThat(e.actor()).isEqualTo("jmx:auditor");
            assertThat(e.action()).isEqualTo("reconciliation-acknowledge");
            assertThat(e.detail()).contains("reason: test invoice, never sent");
        });
    }

    @Test
    @Order(2)
    void theDailyJobReconcilesEachEntitysLastClosedDayOnce() throws Exception {
        RuntimeKit kit = kit(Databases.Backend.H2);
        Reconciliation reconciliation = kit.runtime.reconciliation();

        List<Reconciliation.Summary> first = reconciliation.runClosedDays();
        List<Reconciliation.Summary> second = reconciliation.runClosedDays();

        assertThat(first).extracting(x -> x.run().legalEntity()).containsExactlyInAnyOrder("DE01", "US01", "GB01", "FR01");
        assertThat(first).allSatisfy(x -> {
            assertThat(x.run().status()).isEqualTo(ReconciliationRuns.COMPLETED);
            assertThat(x.run().to()).isEqualTo(x.run().from().plusDays(1));
            assertThat(x.run().to()).isBeforeOrEqualTo(LocalDate.now(ZoneOffset.UTC).plusDays(1));
        });
        assertThat(second).as("a day with a completed run is not run again").isEmpty();
    }

    // ----------------------------------------------------------------------------------------------- the sales

    /**
     * Sends the sale's invoice while S/4HANA does not know DE01's company code: the posting is rejected and
     * dead-lettered. Its object is in billing's lists. The dead letter, named by the invoice's document.
     */
    static DeadLetter parkInvoice(RuntimeKit kit, StripeApiPeer api, Sale sale) throws Exception {
        api.putObject(sale.invoice());
        ObjectNode event = event("invoice.finalized", sale.invoice());
        String eventId = event.path("id").asText();
        kit.s4.forgetCompanyCode("1010");
        DeadLetter[] parked = new DeadLetter[1];
        try {
            send(kit, event);
            await().atMost(Duration.ofSeconds(30)).until(() -> (parked[0] = kit.runtime.store().deadLetters()
                    .list(null, DeadLetter.OPEN, 1000).stream().filter(d -> eventId.equals(d.headers().get("ce_id")))
                    .findFirst().orElse(null)) != null);
        } finally {
            kit.s4.knowCompanyCode("1010", "EUR");
        }
        sale.eventIds().add(eventId);
        return parked[0];
    }

    static Subject subject(String user, OperatorRole role) {
        return new Subject(true, java.util.Set.of(new JMXPrincipal(user), role), java.util.Set.of(), java.util.Set.of());
    }

    /** Runs an operation as the JMX connector runs it for an authenticated user. */
    @SuppressWarnings("removal")
    static String as(Subject subject, java.util.function.Supplier<String> operation) {
        return Subject.doAs(subject, (java.security.PrivilegedAction<String>) operation::get);
    }

    private static Difference only(List<Difference> found, Kind kind) {
        List<Difference> of = found.stream().filter(d -> d.kind() == kind).toList();
        assertThat(of).as(kind.name()).hasSize(1);
        return of.get(0);
    }

    /** A sale of the entity on the day (at noon UTC, plus {@code n} minutes): invoice, its payment, a refund. */
    static Sale sale(String entity, LocalDate day, int n, long refunded) throws Exception {
        long t = day.atTime(12, n).toEpochSecond(ZoneOffset.UTC);
        String tag = UUID.randomUUID().toString().replace("-", "").substring(0, 14);
        String currency = entity.equals("GB01") ? "gbp" : "eur";
        ObjectNode invoice = object("invoice-finalized-basic");
        invoice.put("id", "in_" + tag).put("number", tag.substring(0, 8).toUpperCase() + "-0001").put("created", t)
                .put("effective_at", t).put("currency", currency);
        ((ObjectNode) invoice.path("status_transitions")).put("finalized_at", t);
        ((ObjectNode) invoice.path("metadata")).put("legal_entity", entity).put("global_customer_id", "gc-" + tag);
        ObjectNode payment = object("invoice-payment-paid");
        String intent = "pi_" + tag;
        payment.put("id", "inpay_" + tag).put("invoice", invoice.path("id").asText()).put("created", t + 60)
                .put("amount_paid", invoice.path("total").asLong()).put("currency", currency);
        ((ObjectNode) payment.path("payment")).put("payment_intent", intent);
        ((ObjectNode) payment.path("status_transitions")).put("paid_at", t + 60);
        ObjectNode refund = object("refund-created");
        refund.put("id", "re_" + tag).put("amount", refunded).put("charge", "ch_" + tag).put("payment_intent", intent)
                .put("created", t + 120).put("currency", currency);
        ((ObjectNode) refund.path("metadata")).put("legal_entity", entity);
        return new Sale(invoice, payment, refund, new java.util.ArrayList<>());
    }

    /** Posts the sale, then billing changes its refund of 58.80 to 59.80: the ERP's stays at 58.80. */
    static Sale postWithRefundChangedAfterwards(RuntimeKit kit, StripeApiPeer api, Sale sale) throws Exception {
        post(kit, api, sale);
        sale.refund().put("amount", 5980);
        api.putObject(sale.refund());
        return sale;
    }

    /** Sends the sale's events and puts its objects in billing's lists; waits until the ERP confirmed each. */
    static Sale post(RuntimeKit kit, StripeApiPeer api, Sale sale) throws Exception {
        return post(kit, api, sale, true, true, true);
    }

    static Sale post(RuntimeKit kit, StripeApiPeer api, Sale sale, boolean invoice, boolean payment, boolean refund)
            throws Exception {
        api.putObject(sale.invoice());
        api.putObject(sale.payment());
        api.putObject(sale.refund());
        ObjectNode[] events = {invoice ? event("invoice.finalized", sale.invoice()) : null,
                payment ? event("invoice_payment.paid", sale.payment()) : null,
                refund ? event("refund.created", sale.refund()) : null};
        for (ObjectNode e : events) {
            if (e == null) continue;
            send(kit, e);
            sale.eventIds().add(e.path("id").asText());
            awaitConfirmed(kit, e.path("id").asText());
        }
        return sale;
    }

    static void send(RuntimeKit kit, ObjectNode event) throws Exception {
        HttpResponse<String> answer = kit.sendSigned(JSON.writeValueAsBytes(event));
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).path("status").asText()).as(answer.body()).isEqualTo("accepted");
    }

    static void awaitConfirmed(RuntimeKit kit, String eventId) {
        await().atMost(Duration.ofSeconds(30)).until(() ->
                kit.runtime.store().confirmations().find("ledger:" + eventId).isPresent());
    }

    static ObjectNode event(String type, JsonNode object) throws Exception {
        ObjectNode e = (ObjectNode) JSON.readTree(StripeFixtures.CORPUS.resolve("dahlia").resolve(
                "invoice-finalized-basic.json").toFile());
        e.put("id", "evt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
        e.put("type", type);
        e.put("created", object.path("created").asLong() + 5);
        ((ObjectNode) e.path("data")).set("object", object.deepCopy());
        return e;
    }

    static ObjectNode object(String fixture) throws Exception {
        return (ObjectNode) JSON.readTree(StripeFixtures.CORPUS.resolve("dahlia").resolve(fixture + ".json").toFile())
                .path("data").path("object").deepCopy();
    }
}
