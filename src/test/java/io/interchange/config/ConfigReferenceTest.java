package io.interchange.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every key is declared once with a description, the README's reference is exactly the generated table, and no code
 * reads an undeclared {@code interchange.*} key. {@code -Dinterchange.docs.write=true} rewrites the README section.
 */
class ConfigReferenceTest {

    static final Path README = Path.of("README.md");
    static final Pattern KEY_LITERAL = Pattern.compile("\"(interchange\\.[a-z0-9.\\-]+)\"");
    /** Micrometer names share the prefix: they are declared as constants named {@code *_METRIC}, not read as keys. */
    static final Pattern METRIC_CONSTANT = Pattern.compile("static final String \\w+_METRIC = \"(interchange\\.[a-z0-9.\\-]+)\"");

    @Test
    void everyKeyHasADescriptionAndAnInterchangePrefix() {
        for (Setting s : Settings.all()) {
            assertThat(s.key()).startsWith("interchange.");
            assertThat(s.description()).as(s.key()).isNotBlank().endsWith(".");
        }
    }

    @Test
    void readmeReferenceIsTheGeneratedTable() throws Exception {
        String readme = Files.readString(README);
        int start = readme.indexOf(ConfigReference.START);
        int end = readme.indexOf(ConfigReference.END);
        String generated = ConfigReference.markdown();
        if (Boolean.getBoolean("interchange.docs.write") && start >= 0 && end > start) {
            readme = readme.substring(0, start + ConfigReference.START.length()) + "\n" + generated + readme.substring(end);
            Files.writeString(README, readme);
            start = readme.indexOf(ConfigReference.START);
            end = readme.indexOf(ConfigReference.END);
        }
        assertThat(start).as("README has the reference markers").isPositive();
        assertThat(readme.substring(start + ConfigReference.START.length(), end).strip()).isEqualTo(generated.strip());
    }

    @Test
    void noSourceReadsAnUndeclaredKey() throws Exception {
        TreeSet<String> undeclared = new TreeSet<>();
        for (String root : new String[]{"src/main/java", "routes"}) {
            try (Stream<Path> files = Files.walk(Path.of(root))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String source = METRIC_CONSTANT.matcher(Files.readString(f)).replaceAll("");
                    Matcher m = KEY_LITERAL.matcher(source);
                    while (m.find()) {
                        String key = m.group(1);
                        // topic names (interchange.<domain>.v<major>) and file names share the prefix; they are not keys
                        boolean notAKey = key.endsWith(".") || key.matches(".*\\.v\\d+") || key.endsWith(".properties")
                                || key.endsWith(".log");
                        if (!notAKey && Settings.find(key) == null) undeclared.add(key + " in " + f);
                    }
                }
            }
        }
        assertThat(undeclared).isEmpty();
    }

    @Test
    void unknownKeysInTheConfigurationFileAreRefusedByName() throws Exception {
        Path file = Files.createTempFile("interchange", ".properties");
        Files.writeString(file, "interchange.http.prot=8081\n");
        assertThatThrownBy(() -> Config.load(file, Map.of()))
                .hasMessageContaining("interchange.http.prot").hasMessageContaining("README");
    }

    @Test
    void environmentAndSecretFilesOverrideTheDefaults() throws Exception {
        Path secret = Files.createTempFile("secret", ".txt");
        Files.writeString(secret, "whsec_from_file\n");
        Path file = Files.createTempFile("interchange", ".properties");
        Files.writeString(file, "interchange.http.port=8181\ninterchange.jmx.port=7000\n");
        var system = new java.util.Properties();
        system.setProperty("interchange.jmx.port", "7001");
        Config fromAll = Config.load(file, Map.of("INTERCHANGE_HTTP_PORT", "8282",
                "INTERCHANGE_ERP_S4_PASSWORD_FILE", secret.toString()), system, Map.of());
        assertThat(fromAll.getInt(Settings.HTTP_PORT)).as("environment over file").isEqualTo(8282);
        assertThat(fromAll.getInt(Settings.JMX_PORT)).as("system property over file").isEqualTo(7001);
        assertThat(fromAll.get(Settings.S4_PASSWORD)).as("secret from file").isEqualTo("whsec_from_file");
        assertThat(fromAll.describe().get("interchange.erp.s4.password")).isEqualTo("****");

        Config c = Config.of(Map.of("interchange.http.port", "8181"));
        assertThat(c.getInt(Settings.HTTP_PORT)).isEqualTo(8181);
        assertThat(Settings.BILLING_WEBHOOK_SECRET.envName()).isEqualTo("INTERCHANGE_BILLING_WEBHOOK_SECRET");
        assertThat(c.describe().get("interchange.billing.webhook-secret")).isEqualTo("(not set)");
        Config withSecret = c.with(Map.of("interchange.billing.webhook-secret", "whsec_x"));
        assertThat(withSecret.describe().get("interchange.billing.webhook-secret")).isEqualTo("****");
        assertThat(withSecret.get(Settings.STORE_URL)).contains("./data/store");
        assertThatThrownBy(() -> Config.of(Map.of("interchange.http.port", "eighty")).getInt(Settings.HTTP_PORT))
                .hasMessageContaining("INTERCHANGE_HTTP_PORT").hasMessageContaining("integer");
    }
}
