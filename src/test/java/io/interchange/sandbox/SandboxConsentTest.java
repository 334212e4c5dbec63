package io.interchange.sandbox;

import io.interchange.testkit.SandboxSettings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.config.Config;
import io.interchange.model.ConsentChange;
import io.interchange.store.ConsentStates;
import io.interchange.store.DeadLetter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@code --sandbox} runs flow {@code consent} by default: customers of the customer sync sign up in Mailchimp, some
 * unsubscribe there, revoke in the loyalty app or opt out in HubSpot or Salesforce, and HubSpot delivers older opt-ins
 * late. Once every kind has happened and the consent traffic stops, every signed-up customer's value in force is the
 * simulator's last statement and what every system holds (read from the peers), the late opt-ins all lost, nothing of
 * consent is dead-lettered, and the summary shows the consent block.
 */
class SandboxConsentTest {

    @Test
    void everyKindOfConsentChangeHappensAndEverySystemEndsHoldingTheValueInForce() throws Exception {
        SandboxSettings settings = SandboxSettings.forTest("interchange-sandbox-consent");
        Map<String, String> values = settings.values();
        ByteArrayOutputStream banner = new ByteArrayOutputStream();

        try (settings; Sandbox sandbox = Sandbox.start(Config.of(values), 2, Duration.ofMillis(500), 42L,
                new PrintStream(banner, true, StandardCharsets.UTF_8), null)) {
            ConsentSimulator traffic = sandbox.consentTraffic();
            assertThat(traffic).as("the sandbox runs the consent traffic by default").isNotNull();
            ConsentStates states = sandbox.runtime().store().consentStates();
            long started = System.nanoTime();
            await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofSeconds(1)).until(() ->
                    kindsSeen(traffic, states).containsAll(Set.of("mailchimp unsubscribe", "loyalty revocation",
                            "hubspot opt-out", "salesforce opt-out", "late opt-in lost")));
            long allKinds = (System.nanoTime() - started) / 1_000_000_000L;
            traffic.close();
            long stopped = System.nanoTime();

            // the traffic stopped: every system of every signed-up customer comes to hold the value in force
            List<ConsentSimulator.Customer> customers = traffic.customers();
            assertThat(customers).isNotEmpty();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                for (ConsentSimulator.Customer c : customers) {
                    ConsentStates.State state = states.current(c.globalId(), ConsentChange.EMAIL_MARKETING).orElse(null);
                    assertThat(state).as("consent in force of %s", c.globalId()).isNotNull();
                    assertThat(state.granted()).as("%s: the newest statement (%s) is in force", c.globalId(), c)
                            .isEqualTo(c.granted());
                    assertThat(held(sandbox, c)).as("what the systems hold for %s", c.globalId())
                            .allSatisfy((system, granted) -> assertThat(granted).as(system).isEqualTo(state.granted()));
                }
            });
            long settled = (System.nanoTime() - stopped) / 1_000_000L;

            // no HubSpot opt-in ever won: the late ones lost and the echoes of our own writes changed nothing
            for (ConsentSimulator.Customer c : customers) {
                assertThat(states.history(c.globalId(), ConsentChange.EMAIL_MARKETING))
                        .noneMatch(r -> r.source().equals("hubspot") && r.granted() && r.outcome().equals("APPLIED"));
            }
            assertThat(sandbox.runtime().store().deadLetters().list(null, DeadLetter.OPEN, 1000))
                    .as("consent dead letters").noneMatch(d -> d.routeId().startsWith("consent."));
            assertThat(traffic.stats().failed()).isZero();

            String summary = sandbox.summary();
            System.out.println(summary + "\n    every kind of change after " + allKinds + " s; systems settled "
                    + settled + " ms after the consent traffic stopped; customers " + customers.size());
            assertThat(summary).contains("    consent: changes received ").contains("        in force: revoked ")
                    .contains("dead letters consent 0").contains("        writes: Mailchimp ")
                    .contains("        consistency: " + customers.size() + " customers' systems all hold the value in force, 0 not yet")
                    .contains("    consent simulator: sign-ups ");
            assertThat(summary.substring(summary.indexOf("    consent: ")).lines())
                    .allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(111));
            assertThat(banner.toString(StandardCharsets.UTF_8)).contains("Mailchimp webhooks  POST http://127.0.0.1:")
                    .contains("sandbox webhook secret ").contains("sandbox API key ").contains(",consent");
        }
    }

    /** The kinds of change the runtime received with the outcome that shows them (from its consent history). */
    private static Set<String> kindsSeen(ConsentSimulator traffic, ConsentStates states) {
        Set<String> kinds = new TreeSet<>();
        for (ConsentSimulator.Customer c : traffic.customers()) {
            for (ConsentStates.Received r : states.history(c.globalId(), ConsentChange.EMAIL_MARKETING)) {
                boolean applied = r.outcome().equals("APPLIED");
                if (r.source().equals("mailchimp") && !r.granted() && applied) kinds.add("mailchimp unsubscribe");
                if (r.source().equals("loyalty") && !r.granted() && applied) kinds.add("loyalty revocation");
                if (r.source().equals("hubspot") && !r.granted() && applied) kinds.add("hubspot opt-out");
                if (r.source().equals("salesforce") && !r.granted() && applied) kinds.add("salesforce opt-out");
                if (r.source().equals("hubspot") && r.granted() && r.outcome().equals("STALE")) kinds.add("late opt-in lost");
            }
        }
        return kinds;
    }

    /**
     * What each system holds for the customer, read here from the peers (not through the simulator): Mailchimp's
     * member status, the HubSpot address's status of the marketing subscription type (as the Communication Preferences
     * API reports it), the Salesforce contact's HasOptedOutOfEmail (if it has
     * one), the loyalty customer's metadata; true = granted, false = revoked, null = states nothing.
     */
    private static Map<String, Boolean> held(Sandbox sandbox, ConsentSimulator.Customer c) {
        Map<String, Boolean> out = new HashMap<>();
        String status = sandbox.mailchimp().status(sandbox.consentTraffic().listId(), c.email());
        out.put("mailchimp", status == null ? null : status.equals("subscribed"));
        String hubSpot = sandbox.hubSpot().subscriptionStatus(c.email(), Sandbox.SANDBOX_SUBSCRIPTION);
        out.put("hubspot", hubSpot == null ? null : hubSpot.equals("SUBSCRIBED"));
        if (c.salesforceId() != null) {
            Object optOut = sandbox.salesforce().get("Contact", c.salesforceId()).get("HasOptedOutOfEmail");
            out.put("salesforce", optOut == null ? null : !Boolean.parseBoolean(String.valueOf(optOut)));
        }
        JsonNode loyalty = sandbox.loyalty().customers().stream()
                .filter(x -> c.globalId().equals(x.path("source_id").asText(null))).findFirst().orElseThrow()
                .path("metadata").path("email_marketing_optin");
        out.put("loyalty", loyalty.isBoolean() ? loyalty.asBoolean() : null);
        return out;
    }
}
