package io.interchange.management;

import io.interchange.testkit.TempDirs;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.ConfigurationException;
import io.interchange.config.Settings;
import io.interchange.runtime.InterchangeRuntime;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.store.AuditTrail;
import io.interchange.store.DeadLetter;
import io.interchange.store.DeadLetterFilter;
import io.interchange.store.DeadLetterStore;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.Ports;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * The failed-exchange console over a real, authenticated JMX connection, on PostgreSQL and Kafka: search by each
 * filter, bulk replay and discard with a dry run first, edit-and-replay, the audit trail, masking by role, refusals.
 * Each test works on dead letters of customers of its own, so the tests share one runtime without seeing each other's.
 */
class DeadLetterConsoleOverJmxTest {

    static final String AUDITOR_PASSWORD = "auditor-" + UUID.randomUUID();
    static final ObjectName NAME = name();
    static final String LEDGER = "billing.ledger-posting";

    static RuntimeKit kit;
    static JMXConnector operatorConnection;
    static JMXConnector auditorConnection;
    /** The operator role: personal data masked. */
    static MBeanServerConnection operator;
    /** The privileged role: personal data shown. */
    static MBeanServerConnection auditor;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of(
                "interchange.route.billing.ledger-posting.max-attempts", "2",
                // an ERP that keeps failing must dead-letter here, not be held by its circuit breaker (ErpIsolationTest)
                "interchange.erp.breaker.window", "1000",
                "interchange.erp.breaker.minimum-calls", "1000",
                "interchange.jmx.privileged-user", "auditor",
                "interchange.jmx.privileged-password", AUDITOR_PASSWORD));
        connect();
    }

    static void connect() throws Exception {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + kit.jmxPort + "/jmxrmi");
        operatorConnection = JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS,
                new String[]{"operator", RuntimeKit.JMX_PASSWORD}));
        auditorConnection = JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS,
                new String[]{"auditor", AUDITOR_PASSWORD}));
        operator = operatorConnection.getMBeanServerConnection();
        auditor = auditorConnection.getMBeanServerConnection();
    }

    static void disconnect() throws Exception {
        if (operatorConnection != null) operatorConnection.close();
        if (auditorConnection != null) auditorConnection.close();
    }

    @AfterAll
    static void stop() throws Exception {
        disconnect();
        if (kit != null) kit.close();
    }

    @BeforeEach
    void reset() {
        kit.s4.reset();
        kit.s4.setAvailable(true);
        kit.s4.knowCompanyCode("1010", "EUR");
    }

    @Test
    void searchFindsDeadLettersByEachFieldInSqlNewestFirstInPages() throws Exception {
        String customer = customer();
        String other = customer();
        Instant before = Instant.now();
        kit.s4.forgetCompanyCode("1010");
        long a = deadLetter(invoicePaid(customer));
        long b = deadLetter(invoicePaid(other));
        Instant between = kit.runtime.store().deadLetters().find(b).orElseThrow().createdAt();
        long c = deadLetter(invoicePaid(customer));
        DeadLetter stored = kit.runtime.store().deadLetters().find(a).orElseThrow();
        assertThat(stored.headers()).containsEntry("ce_legalentity", "DE01").containsEntry("ce_subject", customer);
        String error = stored.errorClass().substring(stored.errorClass().lastIndexOf('.') + 1);
        assertThat(error).isEqualTo("PermanentFailure");

        assertThat(ids(search("customer=" + customer, 10, 0))).containsExactly(c, a);
        assertThat(ids(search("customer=" + other, 10, 0))).containsExactly(b);
        assertThat(ids(search("route=" + LEDGER + " customer=" + customer, 10, 0))).containsExactly(c, a);
        assertThat(ids(search("route=billing.stripe-event customer=" + customer, 10, 0))).isEmpty();
        assertThat(ids(search("error=PermanentFailure customer=" + customer, 10, 0))).containsExactly(c, a);
        assertThat(ids(search("error=TransientFailure customer=" + customer, 10, 0))).isEmpty();
        assertThat(ids(search("kind=PERMANENT entity=DE01 customer=" + customer, 10, 0))).containsExactly(c, a);
        assertThat(ids(search("entity=US01 customer=" + customer, 10, 0))).isEmpty();
        assertThat(ids(search("entity=DE01 from=" + before + " to=" + between, 100, 0))).containsExactly(a);
        assertThat(ids(search("entity=DE01 from=" + between, 100, 0))).containsExactly(c, b);
        assertThat(ids(search("customer=" + customer + " to=" + before, 10, 0))).isEmpty();

        // pages: one line each, the next page after the last id shown
        String first = search("customer=" + customer, 1, 0);
        assertThat(ids(first)).containsExactly(c);
        assertThat(first).contains("next page with after=" + c)
                .contains(LEDGER + " OPEN PERMANENT PermanentFailure entity=DE01 customer=" + customer);
        assertThat(ids(search("customer=" + customer, 1, c))).containsExactly(a);

        // status: open by default, any or one status on request
        assertThat((String) invoke(operator, "discard", b, "test")).isEqualTo("discarded #" + b);
        assertThat(ids(search("customer=" + other, 10, 0))).isEmpty();
        assertThat(ids(search("customer=" + other + " status=DISCARDED", 10, 0))).containsExactly(b);
        assertThat(ids(search("customer=" + other + " status=any", 10, 0))).containsExactly(b);
    }

    @Test
    void bulkReplayAfterTheCauseIsFixedPostsEachOnceResumesWhatIsStillOpenAndThenDoesNothing() throws Exception {
        String customer = customer();
        String bystander = customer();
        kit.s4.forgetCompanyCode("1010");
        ObjectNode[] events = {invoicePaid(customer), invoicePaid(customer), invoicePaid(customer)};
        long[] ids = new long[events.length];
        for (int i = 0; i < events.length; i++) ids[i] = deadLetter(events[i]);
        long untouched = deadLetter(invoicePaid(bystander));
        String filter = "route=" + LEDGER + " customer=" + customer;

        String dryRun = (String) invoke(operator, "replayMatching", filter, true);
        assertThat(dryRun).startsWith("dry run: 3 open dead letter(s) match").contains(LEDGER + " 3")
                .contains("nothing changed");
        assertThat(openCount(customer)).isEqualTo(3);

        // still unfixed: every replay fails again, every dead letter stays open for the next run
        String failed = (String) invoke(operator, "replayMatching", filter, false);
        assertThat(failed).isEqualTo("3 open dead letter(s) matched " + DeadLetterFilter.parse(filter)
                + ", 0 replayed, 3 failed again or skipped");
        assertThat(kit.s4.postings()).isEmpty();

        // a run stopped by the process going down: one replayed, one in flight, one not reached
        kit.s4.knowCompanyCode("1010", "EUR");
        assertThat((String) invoke(operator, "replay", ids[0])).startsWith("replayed #" + ids[0]);
        assertThat(kit.runtime.store().deadLetters().transition(ids[1], DeadLetter.OPEN, DeadLetter.REPLAYING)).isTrue();
        disconnect();
        kit.restartRuntime();
        // RMI keeps idle connections to the old connector's port for a while: connect again until a fresh one answers
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(DeadLetterConsoleOverJmxTest::connect);

        String dryAgain = (String) invoke(operator, "replayMatching", filter, true);
        assertThat(dryAgain).startsWith("dry run: 2 open dead letter(s) match");
        String resumed = (String) invoke(operator, "replayMatching", filter, false);
        assertThat(resumed).isEqualTo("2 open dead letter(s) matched " + DeadLetterFilter.parse(filter)
                + ", 2 replayed, 0 failed again or skipped");
        await().atMost(Duration.ofSeconds(10)).until(() -> kit.s4.postings().size() >= 3);
        for (long id : ids) {
            assertThat(kit.runtime.store().deadLetters().find(id).orElseThrow().status()).isEqualTo(DeadLetter.REPLAYED);
        }
        assertThat(kit.runtime.store().deadLetters().find(untouched).orElseThrow().status()).isEqualTo(DeadLetter.OPEN);

        assertThat((String) invoke(operator, "replayMatching", filter, false)).startsWith("0 open dead letter(s) matched");
        Thread.sleep(500);
        List<S4HanaPeer.Posting> postings = kit.s4.postings();
        assertThat(postings).hasSize(3);
        assertThat(postings).extracting(S4HanaPeer.Posting::originalReferenceDocument).doesNotHaveDuplicates();

        List<AuditTrail.Entry> audit = kit.runtime.store().audit().recent(50);
        assertThat(audit).filteredOn(e -> e.action().equals("replay-matching"))
                .extracting(AuditTrail.Entry::actor, AuditTrail.Entry::target)
                .containsOnly(tuple("jmx:operator", "filter:" + DeadLetterFilter.parse(filter)));
        for (long id : ids) {
            assertThat(audit).filteredOn(e -> e.target().equals("dead-letter:" + id) && e.detail().startsWith("replayed"))
                    .hasSize(1);
        }
    }

    @Test
    void bulkDiscardNeedsAReasonAndAuditsEachDeadLetterWithIt() throws Exception {
        String customer = customer();
        kit.s4.forgetCompanyCode("1010");
        long a = deadLetter(invoicePaid(customer));
        long b = deadLetter(invoicePaid(customer));
        String filter = "customer=" + customer;

        assertThat((String) invoke(operator, "discardMatching", filter, "", true))
                .startsWith("dry run: 2 open dead letter(s) match");
        assertThat((String) invoke(operator, "discardMatching", filter, " ", false))
                .isEqualTo("refused: a reason is required to discard dead letters in bulk");
        assertThat(openCount(customer)).isEqualTo(2);

        assertThat((String) invoke(operator, "discardMatching", filter, "test customer, never billed", false))
                .startsWith("2 open dead letter(s) matched").contains("2 discarded");
        assertThat(openCount(customer)).isZero();
        assertThat((String) invoke(operator, "replay", a)).contains("is DISCARDED");

        List<AuditTrail.Entry> audit = kit.runtime.store().audit().recent(20);
        for (long id : new long[]{a, b}) {
            assertThat(audit).filteredOn(e -> e.target().equals("dead-letter:" + id) && e.action().equals("discard"))
                    .singleElement().satisfies(e -> {
                        assertThat(e.actor()).isEqualTo("jmx:operator");
                        assertThat(e.detail()).contains("discarded #" + id).contains("test customer, never billed");
                    });
        }
        assertThat(audit).filteredOn(e -> e.action().equals("discard-matching")).first().satisfies(e -> {
            assertThat(e.actor()).isEqualTo("jmx:operator");
            assertThat(e.detail()).contains("2 discarded").contains("reason: test customer, never billed");
        });
    }

    @Test
    void editAndReplayPostsOnlyTheEditedVersionKeepsTheOriginalAndRefusesTheOriginalAfterwards() throws Exception {
        String customer = customer();
        kit.s4.forgetCompanyCode("1010");
        long id = deadLetter(invoicePaid(customer));
        DeadLetter original = kit.runtime.store().deadLetters().find(id).orElseThrow();
        String payload = new String(original.payload(), StandardCharsets.UTF_8);
        assertThat(payload).contains("\"invoiceNumber\":\"ACME-2026-0042\"");
        String edited = payload.replace("ACME-2026-0042", "ACME-2026-0042-C");

        // an edit that does not parse is refused with the parser's message and changes nothing
        String refused = (String) invoke(auditor, "replayEdited", id, "{\"id\": \"evt_1\", ", "typo");
        assertThat(refused).startsWith("refused: the edited payload is not valid JSON: Unexpected end-of-input")
                .contains("dead letter #" + id + " unchanged");
        // so is one without a reason
        assertThat((String) invoke(auditor, "replayEdited", id, edited, "")).startsWith("refused: a reason is required");
        assertThat(kit.runtime.store().deadLetters().edits(id)).isEmpty();
        assertThat(kit.runtime.store().deadLetters().find(id).orElseThrow().status()).isEqualTo(DeadLetter.OPEN);

        kit.s4.knowCompanyCode("1010", "EUR");
        assertThat((String) invoke(auditor, "replayEdited", id, edited, "invoice number corrected by billing"))
                .matches("replayed #" + id + " with edit #\\d+ through " + LEDGER);
        await().atMost(Duration.ofSeconds(10)).until(() -> !kit.s4.postings().isEmpty());
        assertThat(kit.s4.postings()).singleElement()
                .satisfies(p -> assertThat(p.headerText()).contains("ACME-2026-0042-C"));

        // the original is kept, the edit beside it with who and why; the original is never replayed now
        DeadLetter after = kit.runtime.store().deadLetters().find(id).orElseThrow();
        assertThat(after.payload()).isEqualTo(original.payload());
        assertThat(after.status()).isEqualTo(DeadLetter.REPLAYED);
        assertThat(kit.runtime.store().deadLetters().edits(id)).singleElement().satisfies(e -> {
            assertThat(new String(e.payload(), StandardCharsets.UTF_8)).isEqualTo(edited);
            assertThat(e.actor()).isEqualTo("jmx:auditor");
            assertThat(e.reason()).isEqualTo("invoice number corrected by billing");
            assertThat(e.outcome()).startsWith("replayed #" + id);
        });
        assertThat((String) invoke(operator, "replay", id)).contains("is REPLAYED; not replayed");
        assertThat((String) invoke(operator, "replayEdited", id, edited, "again")).contains("is REPLAYED; not replayed");
        assertThat((String) invoke(operator, "show", id)).contains("\"invoiceNumber\":\"ACME-2026-0042\"").contains("edit #")
                .contains("by jmx:auditor").contains("ACME-2026-0042-C");
        Thread.sleep(500);
        assertThat(kit.s4.postings()).hasSize(1);

        assertThat(kit.runtime.store().audit().recent(20)).filteredOn(e -> e.action().equals("replay-edited"))
                .singleElement().satisfies(e -> {
                    assertThat(e.actor()).isEqualTo("jmx:auditor");
                    assertThat(e.target()).isEqualTo("dead-letter:" + id);
                    assertThat(e.detail()).startsWith("replayed #" + id).endsWith("reason: invoice number corrected by billing");
                });
    }

    @Test
    void anEditedReplayThatFailsAgainLeavesTheOriginalRefusedForReplayAlsoInBulk() throws Exception {
        String customer = customer();
        kit.s4.forgetCompanyCode("1010");
        long id = deadLetter(invoicePaid(customer));
        String edited = new String(kit.runtime.store().deadLetters().find(id).orElseThrow().payload(),
                StandardCharsets.UTF_8).replace("ACME-2026-0042", "ACME-2026-0042-D");

        assertThat((String) invoke(operator, "replayEdited", id, edited, "number fixed, company code not yet"))
                .startsWith("replay of #" + id + " with edit #").contains("failed again");
        assertThat(kit.runtime.store().deadLetters().find(id).orElseThrow().status()).isEqualTo(DeadLetter.OPEN);

        kit.s4.knowCompanyCode("1010", "EUR");
        assertThat((String) invoke(operator, "replay", id)).contains("was replayed edited before; its original is not replayed");
        assertThat((String) invoke(operator, "replayMatching", "customer=" + customer, false))
                .endsWith("0 replayed, 1 failed again or skipped");
        assertThat(kit.s4.postings()).isEmpty();
        assertThat((String) invoke(operator, "replayEdited", id, edited, "company code added"))
                .startsWith("replayed #" + id + " with edit #");
        await().atMost(Duration.ofSeconds(10)).until(() -> !kit.s4.postings().isEmpty());
        assertThat(kit.s4.postings()).singleElement()
                .satisfies(p -> assertThat(p.headerText()).contains("ACME-2026-0042-D"));
    }

    @Test
    void personalDataIsMaskedForTheOperatorAndShownToThePrivilegedUser() throws Exception {
        // a customer change as the CRM flows dead-letter them: name and e-mail in the payload and in the error
        String customer = customer();
        long id = kit.runtime.store().deadLetters().add("customer.sync", "cid-" + customer, "crm:" + customer,
                "PERMANENT", "io.interchange.reliability.PermanentFailure", "duplicate e-mail jane.doe@example.org", 1,
                Map.of("ce_subject", customer, "content-type", "application/json"),
                ("{\"globalId\":\"" + customer + "\",\"name\":\"Jane Doe\",\"email\":\"jane.doe@example.org\"}")
                        .getBytes(StandardCharsets.UTF_8));

        String masked = (String) invoke(operator, "show", id);
        assertThat(masked).contains("dead letter #" + id).contains("\"name\":\"***\"").contains("***@***")
                .doesNotContain("jane.doe").doesNotContain("Jane Doe").contains("personal data masked");
        assertThat((String) invoke(operator, "search", "customer=" + customer, 10, 0L))
                .contains("#" + id).contains("duplicate e-mail ***@***").doesNotContain("jane.doe");
        assertThat((String) invoke(operator, "list", "customer.sync", 10)).contains("#" + id).doesNotContain("jane.doe");

        String shown = (String) invoke(auditor, "show", id);
        assertThat(shown).contains("\"name\":\"Jane Doe\"").contains("jane.doe@example.org").doesNotContain("***");
        assertThat((String) invoke(auditor, "search", "customer=" + customer, 10, 0L))
                .contains("duplicate e-mail jane.doe@example.org");
        assertThat((String) invoke(auditor, "list", "customer.sync", 10)).contains("jane.doe@example.org");
        assertThat((String) invoke(operator, "discard", id, "test data")).isEqualTo("discarded #" + id);
    }

    @Test
    void wrongRequestsAreRefusedNamingWhatIsWrongAndChangeNothing() throws Exception {
        String customer = customer();
        kit.s4.forgetCompanyCode("1010");
        long id = deadLetter(invoicePaid(customer));
        long unknown = id + 1_000_000;

        assertThat((String) invoke(operator, "replayMatching", "", false))
                .startsWith("refused: a bulk replay needs a filter naming at least one of route");
        assertThat((String) invoke(operator, "replayMatching", "status=OPEN", true))
                .startsWith("refused: a bulk replay needs a filter");
        assertThat((String) invoke(operator, "discardMatching", " ", "cleanup", false))
                .startsWith("refused: a bulk discard needs a filter");
        assertThat((String) invoke(operator, "replayMatching", "customer=" + customer + " status=any", false))
                .isEqualTo("refused: a bulk replay acts on open dead letters only; drop status=any");
        assertThat((String) invoke(operator, "search", "costumer=" + customer, 10, 0L))
                .isEqualTo("refused: unknown filter field 'costumer'; fields: route, error, kind, entity, customer, from, to, status");
        assertThat((String) invoke(operator, "replayMatching", "customer=" + customer + " from=yesterday", false))
                .startsWith("refused: from 'yesterday' is not an ISO-8601 instant");
        assertThat((String) invoke(operator, "discardMatching", "customer=", "cleanup", false))
                .isEqualTo("refused: filter field 'customer' has an empty value");
        assertThat((String) invoke(operator, "search", "customer=" + customer, 10, -1L)).startsWith("refused: after must be 0");

        assertThat((String) invoke(operator, "show", unknown)).isEqualTo("no dead letter #" + unknown);
        assertThat((String) invoke(operator, "replay", unknown)).isEqualTo("no dead letter #" + unknown);
        assertThat((String) invoke(operator, "discard", unknown, "gone")).isEqualTo("no dead letter #" + unknown);
        assertThat((String) invoke(operator, "replayEdited", unknown, "{}", "fix")).isEqualTo("no dead letter #" + unknown);
        assertThat((String) invoke(operator, "replayEdited", id, "not json", "fix"))
                .startsWith("refused: the edited payload is not valid JSON: Unrecognized token 'not'");
        // an event whose payload carries its id (the idempotency key's source): an edit may not change it
        long parked = kit.runtime.store().deadLetters().add(LEDGER, "cid", "evt_1", "PERMANENT", "x.Y", "m", 1,
                Map.of("ce_subject", customer), "{\"id\":\"evt_1\",\"amount\":1}".getBytes(StandardCharsets.UTF_8));
        assertThat((String) invoke(operator, "replayEdited", parked, "{\"id\":\"evt_2\",\"amount\":1}", "fix"))
                .isEqualTo("refused: the edit changes the event id (evt_1 to \"evt_2\"), which the idempotency key is "
                        + "derived from; keep the id; dead letter #" + parked + " unchanged");
        assertThat(kit.runtime.store().deadLetters().edits(parked)).isEmpty();
        assertThat((String) invoke(operator, "discard", parked, "test data")).isEqualTo("discarded #" + parked);

        assertThat(openCount(customer)).isEqualTo(1);
        assertThat(kit.runtime.store().deadLetters().edits(id)).isEmpty();
        assertThat(kit.runtime.store().audit().recent(100)).noneMatch(e -> e.target().equals("dead-letter:" + id)
                || e.action().endsWith("-matching") && e.target().contains(customer));
    }

    @Test
    void jolokiaCallsTheSameOperationsWithTheManagementCredentialsAndSeesPersonalDataMasked() throws Exception {
        String customer = customer();
        long id = kit.runtime.store().deadLetters().add("customer.sync", "cid", "crm:" + customer, "PERMANENT",
                "x.Y", "duplicate e-mail jane.doe@example.org", 1, Map.of("ce_subject", customer), "{}".getBytes());
        // the README's examples: POST a JSON request to /observe/jolokia
        JsonNode search = jolokia("{\"type\":\"exec\",\"mbean\":\"io.interchange:type=DeadLetters\",\"operation\":\"search\","
                + "\"arguments\":[\"customer=" + customer + "\",20,0]}");
        assertThat(search.path("value").asText()).startsWith("#" + id + " ").contains("***@***").doesNotContain("jane.doe");
        JsonNode dryRun = jolokia("{\"type\":\"exec\",\"mbean\":\"io.interchange:type=DeadLetters\","
                + "\"operation\":\"discardMatching\",\"arguments\":[\"customer=" + customer + "\",\"\",true]}");
        assertThat(dryRun.path("value").asText()).startsWith("dry run: 1 open dead letter(s) match");
        JsonNode discarded = jolokia("{\"type\":\"exec\",\"mbean\":\"io.interchange:type=DeadLetters\","
                + "\"operation\":\"discardMatching\",\"arguments\":[\"customer=" + customer + "\",\"test data\",false]}");
        assertThat(discarded.path("value").asText()).contains("1 discarded");
        assertThat(kit.runtime.store().audit().recent(10)).filteredOn(e -> e.target().equals("dead-letter:" + id))
                .singleElement().satisfies(e -> assertThat(e.actor()).isEqualTo("jmx:local"));
    }

    @Test
    void aPrivilegedUserThatCouldNeverSignInStopsStartUpNamingTheKeys() throws Exception {
        Map<String, String> base = Map.of("interchange.data-dir", TempDirs.untilExit("refused").toString(),
                "interchange.jmx.port", String.valueOf(Ports.free()),
                "interchange.kafka.bootstrap-servers", "127.0.0.1:1",
                "interchange.jmx.privileged-user", "auditor");
        assertThatThrownBy(() -> InterchangeRuntime.start(Config.of(base)).close())
                .isInstanceOf(ConfigurationException.class).hasMessage("interchange.jmx.privileged-user needs "
                        + "interchange.jmx.password and interchange.jmx.privileged-password set");
        Map<String, String> sameName = new HashMap<>(base);
        sameName.putAll(Map.of("interchange.jmx.password", "a", "interchange.jmx.privileged-password", "b",
                "interchange.jmx.privileged-user", "operator"));
        assertThatThrownBy(() -> InterchangeRuntime.start(Config.of(sameName)).close())
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("interchange.jmx.privileged-user must differ from interchange.jmx.user ('operator')");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static String customer() {
        return "gc-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static ObjectNode invoicePaid(String customer) {
        ObjectNode event = Events.invoicePaid("DE01");
        ((ObjectNode) event.path("data").path("object").path("metadata")).put("global_customer_id", customer);
        return event;
    }

    private static String search(String filter, int limit, long after) throws Exception {
        return (String) invoke(operator, "search", filter, limit, after);
    }

    private static long openCount(String customer) {
        return kit.runtime.store().deadLetters().search(DeadLetterFilter.parse("customer=" + customer), 0, 1000).size();
    }

    /** The ids of a search's lines, in order. */
    private static List<Long> ids(String lines) {
        Matcher m = Pattern.compile("(?m)^#(\\d+) ").matcher(lines);
        List<Long> out = new ArrayList<>();
        while (m.find()) out.add(Long.parseLong(m.group(1)));
        return out;
    }

    private static JsonNode jolokia(String request) throws Exception {
        String basic = Base64.getEncoder().encodeToString(("operator:" + kit.runtime.config().get(Settings.MANAGEMENT_PASSWORD))
                .getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + kit.managementPort + "/observe/jolokia"))
                .header("Authorization", "Basic " + basic).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request)).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = new ObjectMapper().readTree(response.body());
        assertThat(body.path("status").asInt()).as(response.body()).isEqualTo(200);
        return body;
    }

    private static Object invoke(MBeanServerConnection connection, String op, Object... args) throws Exception {
        String[] signature = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            signature[i] = args[i] instanceof Long ? "long" : args[i] instanceof Integer ? "int"
                    : args[i] instanceof Boolean ? "boolean" : String.class.getName();
        }
        return connection.invoke(NAME, op, args, signature);
    }

    /** Sends the event and waits for its dead letter on the ledger route. */
    private static long deadLetter(ObjectNode event) throws Exception {
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        String eventId = event.get("id").asText();
        DeadLetterStore store = kit.runtime.store().deadLetters();
        await().atMost(Duration.ofSeconds(30)).until(() -> find(store, eventId) != null);
        return find(store, eventId).id();
    }

    private static DeadLetter find(DeadLetterStore store, String eventId) {
        return store.search(DeadLetterFilter.parse("route=" + LEDGER), 0, 1000).stream()
                .filter(d -> eventId.equals(d.headers().get("ce_id"))).findFirst().orElse(null);
    }

    private static ObjectName name() {
        try {
            return new ObjectName(DeadLetterOperations.OBJECT_NAME);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
