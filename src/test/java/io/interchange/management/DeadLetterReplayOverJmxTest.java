package io.interchange.management;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.store.AuditTrail;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
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
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Operators replay and discard dead letters over a real, authenticated JMX connection; replays post exactly once. */
class DeadLetterReplayOverJmxTest {

    static RuntimeKit kit;
    static JMXConnector jmx;
    static MBeanServerConnection mbeans;
    static final ObjectName NAME = name();

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of(
                "interchange.route.billing.ledger-posting.max-attempts", "3",
                // this test is about dead letters of an ERP that keeps failing: its circuit breaker (which would hold
                // the posting instead, ErpIsolationTest) judges more calls than the test makes
                "interchange.erp.breaker.window", "1000",
                "interchange.erp.breaker.minimum-calls", "1000"));
        jmx = JMXConnectorFactory.connect(url(), Map.of(JMXConnector.CREDENTIALS,
                new String[]{"operator", RuntimeKit.JMX_PASSWORD}));
        mbeans = jmx.getMBeanServerConnection();
    }

    @AfterAll
    static void stop() throws Exception {
        if (jmx != null) jmx.close();
        if (kit != null) kit.close();
    }

    @BeforeEach
    void reset() {
        kit.s4.reset();
        kit.s4.setAvailable(true);
    }

    @Test
    void replayAfterTheCauseIsFixedPostsOnceAndReplayingAgainDoesNothing() throws Exception {
        kit.s4.setAvailable(false);
        ObjectNode event = Events.invoicePaid("DE01");
        String eventId = event.get("id").asText();
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        long id = awaitDeadLetter(eventId);

        DeadLetter dl = kit.runtime.store().deadLetters().find(id).orElseThrow();
        assertThat(dl.failureKind()).isEqualTo("TRANSIENT");
        assertThat(dl.attempts()).isEqualTo(3);
        assertThat(dl.errorMessage()).contains("HTTP 503");
        assertThat((Long) mbeans.invoke(NAME, "count", null, null)).isGreaterThanOrEqualTo(1L);
        assertThat((String) invoke("list", "billing.ledger-posting", 10)).contains("#" + id).contains("HTTP 503");
        assertThat((String) invoke("show", id)).contains(eventId).contains("\"amountMinor\":11900");

        // still down: the replay fails again, the dead letter stays open with the attempts added up
        assertThat((String) invoke("replay", id)).startsWith("replay of #" + id + " failed again");
        assertThat(kit.runtime.store().deadLetters().find(id).orElseThrow().status()).isEqualTo(DeadLetter.OPEN);
        assertThat(kit.runtime.store().deadLetters().find(id).orElseThrow().attempts()).isEqualTo(6);

        kit.s4.setAvailable(true);
        assertThat((String) invoke("replay", id)).startsWith("replayed #" + id);
        assertThat(kit.s4.postings()).hasSize(1);
        assertThat(kit.s4.postings().get(0).companyCode()).isEqualTo("1010");
        assertThat(kit.runtime.store().deadLetters().find(id).orElseThrow().status()).isEqualTo(DeadLetter.REPLAYED);

        assertThat((String) invoke("replay", id)).contains("is REPLAYED; not replayed");
        Thread.sleep(500);
        assertThat(kit.s4.postings()).hasSize(1);

        List<AuditTrail.Entry> audit = kit.runtime.store().audit().recent(10);
        assertThat(audit).filteredOn(e -> e.target().equals("dead-letter:" + id))
                .extracting(AuditTrail.Entry::actor).containsOnly("jmx:operator");
        assertThat(audit).filteredOn(e -> e.target().equals("dead-letter:" + id)).hasSize(3);
    }

    @Test
    void replayRouteReplaysEveryOpenDeadLetterOfTheRouteOnce() throws Exception {
        kit.s4.forgetCompanyCode("1010");
        ObjectNode first = Events.invoicePaid("DE01");
        ObjectNode second = Events.invoiceFinalized("DE01");
        assertThat(kit.sendSigned(Events.bytes(first)).statusCode()).isEqualTo(200);
        assertThat(kit.sendSigned(Events.bytes(second)).statusCode()).isEqualTo(200);
        long a = awaitDeadLetter(first.get("id").asText());
        long b = awaitDeadLetter(second.get("id").asText());
        assertThat(kit.runtime.store().deadLetters().find(a).orElseThrow().failureKind()).isEqualTo("PERMANENT");
        assertThat(kit.s4.postings()).isEmpty();

        kit.s4.knowCompanyCode("1010", "EUR");
        String summary = (String) invoke("replayRoute", "billing.ledger-posting");
        assertThat(summary).contains("replayed");
        assertThat(kit.s4.postings()).extracting(p -> p.headerText())
                .contains("INVOICE ACME-2026-0042");
        assertThat(kit.runtime.store().deadLetters().find(a).orElseThrow().status()).isEqualTo(DeadLetter.REPLAYED);
        assertThat(kit.runtime.store().deadLetters().find(b).orElseThrow().status()).isEqualTo(DeadLetter.REPLAYED);
        int posted = kit.s4.postings().size();
        assertThat(posted).isEqualTo(2);
        invoke("replayRoute", "billing.ledger-posting");
        assertThat(kit.s4.postings()).hasSize(posted);
    }

    @Test
    void discardNeedsAReasonAndIsAudited() throws Exception {
        ObjectNode event = Events.invoicePaid("ZZ99");
        assertThat(kit.sendSigned(Events.bytes(event)).statusCode()).isEqualTo(200);
        long id = awaitDeadLetter(event.get("id").asText());
        assertThat((String) invoke("discard", id, " ")).contains("a reason is required");
        assertThat(kit.runtime.store().deadLetters().find(id).orElseThrow().status()).isEqualTo(DeadLetter.OPEN);
        assertThat((String) invoke("discard", id, "test entity, never posted")).isEqualTo("discarded #" + id);
        assertThat(kit.runtime.store().deadLetters().find(id).orElseThrow().status()).isEqualTo(DeadLetter.DISCARDED);
        assertThat((String) invoke("replay", id)).contains("is DISCARDED");
        assertThat(kit.runtime.store().audit().recent(5)).anySatisfy(e -> {
            assertThat(e.action()).isEqualTo("discard");
            assertThat(e.detail()).contains("test entity, never posted");
        });
    }

    @Test
    void wrongCredentialsAreRefused() {
        assertThatThrownBy(() -> JMXConnectorFactory.connect(url(), Map.of(JMXConnector.CREDENTIALS,
                new String[]{"operator", "wrong"}))).isInstanceOf(SecurityException.class);
        assertThatThrownBy(() -> JMXConnectorFactory.connect(url())).isInstanceOf(SecurityException.class);
    }

    private static Object invoke(String op, Object... args) throws Exception {
        String[] signature = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            signature[i] = args[i] instanceof Long ? "long" : args[i] instanceof Integer ? "int" : String.class.getName();
        }
        return mbeans.invoke(NAME, op, args, signature);
    }

    private static long awaitDeadLetter(String eventId) {
        await().atMost(Duration.ofSeconds(30)).until(() -> find(eventId) != null);
        return find(eventId).id();
    }

    private static DeadLetter find(String eventId) {
        return kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000).stream()
                .filter(d -> eventId.equals(d.headers().get("ce_id"))).findFirst().orElse(null);
    }

    private static JMXServiceURL url() throws Exception {
        return new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + kit.jmxPort + "/jmxrmi");
    }

    private static ObjectName name() {
        try {
            return new ObjectName("io.interchange:type=DeadLetters");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
