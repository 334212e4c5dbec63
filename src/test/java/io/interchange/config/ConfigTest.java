package io.interchange.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigTest {

    @Test
    void aValueGivenIsGivenEvenWhenItIsTheDefaultAndADefaultIsNot() {
        Config config = Config.of(Map.of(Settings.FLOWS.key(), Settings.FLOWS.defaultValue()));

        assertThat(config.isGiven(Settings.FLOWS)).isTrue();
        assertThat(config.isGiven(Settings.CUSTOMER_TOPIC)).isFalse();
        assertThat(config.get(Settings.CUSTOMER_TOPIC)).isEqualTo(Settings.CUSTOMER_TOPIC.defaultValue());
    }

    @Test
    void aValueIsGivenByTheFileTheEnvironmentOrASystemProperty(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("interchange.properties");
        Files.writeString(file, Settings.CONSENT_TOPIC.key() + "=" + Settings.CONSENT_TOPIC.defaultValue() + "\n");
        Properties system = new Properties();
        system.setProperty(Settings.CUSTOMER_TOPIC.key(), Settings.CUSTOMER_TOPIC.defaultValue());
        Map<String, String> env = Map.of(Settings.LOYALTY_API_MAX_RATE.envName(), Settings.LOYALTY_API_MAX_RATE.defaultValue());

        Config config = Config.load(file, env, system, Map.of());

        assertThat(config.isGiven(Settings.CONSENT_TOPIC)).as("in the file").isTrue();
        assertThat(config.isGiven(Settings.CUSTOMER_TOPIC)).as("a system property").isTrue();
        assertThat(config.isGiven(Settings.LOYALTY_API_MAX_RATE)).as("in the environment").isTrue();
        assertThat(config.isGiven(Settings.FLOWS)).as("nowhere").isFalse();
    }

    @Test
    void withKeepsWhatWasGivenAndGivesItsOverridesButNotTheDefaultsItCarries() {
        Config base = Config.of(Map.of(Settings.FLOWS.key(), Settings.FLOWS.defaultValue()));

        Config more = base.with(Map.of(Settings.CUSTOMER_TOPIC.key(), "interchange.customer.other"));

        assertThat(more.isGiven(Settings.FLOWS)).isTrue();
        assertThat(more.isGiven(Settings.CUSTOMER_TOPIC)).isTrue();
        assertThat(more.isGiven(Settings.CONSENT_TOPIC)).isFalse();
        assertThat(more.get(Settings.CUSTOMER_TOPIC)).isEqualTo("interchange.customer.other");
    }
}
