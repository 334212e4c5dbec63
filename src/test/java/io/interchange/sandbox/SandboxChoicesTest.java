package io.interchange.sandbox;

import io.interchange.config.Config;
import io.interchange.config.Settings;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What the sandbox chooses itself, and what it leaves to the configuration given. */
class SandboxChoicesTest {

    @Test
    void flowsGivenAtTheRuntimesDefaultAreTheFlowsRunNotTheSandboxOwn() {
        Config base = Config.of(Map.of(Settings.FLOWS.key(), Settings.FLOWS.defaultValue()));

        Map<String, String> own = Sandbox.choicesOfItsOwn(base);

        assertThat(own).doesNotContainKey(Settings.FLOWS.key());
        assertThat(base.with(own).get(Settings.FLOWS)).isEqualTo("billing-webhook,billing-ledger");
    }

    @Test
    void withoutFlowsGivenTheSandboxRunsItsOwn() {
        Config base = Config.of(Map.of());

        assertThat(base.with(Sandbox.choicesOfItsOwn(base)).get(Settings.FLOWS)).isEqualTo(Sandbox.SANDBOX_FLOWS);
    }

    @Test
    void everySettingItChoosesYieldsToAValueGivenEvenAtItsDefault() {
        Map<String, String> nothingGiven = Sandbox.choicesOfItsOwn(Config.of(Map.of()));
        assertThat(nothingGiven).containsOnlyKeys(Settings.FLOWS.key(), Settings.CUSTOMER_TOPIC.key(),
                Settings.CONSENT_TOPIC.key(), Settings.LOYALTY_API_MAX_RATE.key(), Settings.MAILCHIMP_LIST_ID.key());
        assertThat(nothingGiven.get(Settings.CUSTOMER_TOPIC.key()))
                .startsWith(Settings.CUSTOMER_TOPIC.defaultValue() + ".sandbox-");

        Map<String, String> defaults = new java.util.HashMap<>();
        for (String key : nothingGiven.keySet()) defaults.put(key, Settings.find(key).defaultValue());
        assertThat(Sandbox.choicesOfItsOwn(Config.of(defaults))).isEmpty();
    }
}
