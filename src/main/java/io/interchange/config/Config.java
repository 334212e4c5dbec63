package io.interchange.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolved configuration: for each declared {@link Setting}, in order of precedence, a JVM system property,
 * an environment variable (or, for secrets, a file named by {@code <ENV>_FILE}), the configuration file, the default.
 */
public final class Config {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([a-z0-9.\\-]+)}");

    private final Map<String, String> values = new HashMap<>();
    /** The keys whose value was given rather than defaulted (see {@link #isGiven}). */
    private final Set<String> given = new HashSet<>();

    private Config(Map<String, String> fileValues, Map<String, String> env, Properties system,
                   Map<String, String> overrides) {
        for (String key : fileValues.keySet()) {
            if (key.startsWith("interchange.") && Settings.find(key) == null) {
                throw new IllegalArgumentException("Unknown configuration key '" + key
                        + "' in the configuration file; the README's configuration reference lists every key");
            }
        }
        for (Setting s : Settings.all()) {
            String v = overrides.get(s.key());
            if (v == null) v = system.getProperty(s.key());
            if (v == null) v = env.get(s.envName());
            if (v == null && s.secret() && env.get(s.envName() + "_FILE") != null) {
                v = readSecretFile(s, Path.of(env.get(s.envName() + "_FILE")));
            }
            if (v == null) v = fileValues.get(s.key());
            if (v != null) given.add(s.key());
            else v = s.defaultValue();
            values.put(s.key(), v);
        }
        values.replaceAll((k, v) -> expand(v, 0));
    }

    /** Loads from the process environment, system properties and an optional properties file. */
    public static Config load(Path configFile, Map<String, String> overrides) {
        return new Config(readFile(configFile), System.getenv(), System.getProperties(), overrides);
    }

    /** Resolution with an explicit environment and system properties (tests). */
    static Config load(Path configFile, Map<String, String> env, Properties system, Map<String, String> overrides) {
        return new Config(readFile(configFile), env, system, overrides);
    }

    /** For tests and embedding: only the given values over the defaults, nothing from the environment. */
    public static Config of(Map<String, String> values) {
        return new Config(Map.of(), Map.of(), new Properties(), values);
    }

    /** Same resolution with extra overrides on top; what was given here stays given, and the overrides are given. */
    public Config with(Map<String, String> overrides) {
        Map<String, String> merged = new HashMap<>(values);
        merged.putAll(overrides);
        Config out = new Config(Map.of(), Map.of(), new Properties(), merged);
        // every key is in merged: given are only those given here or overridden now
        out.given.removeIf(key -> !given.contains(key) && !overrides.containsKey(key));
        return out;
    }

    public String get(Setting s) {
        String v = values.get(s.key());
        if (v == null) {
            throw new IllegalStateException("Configuration key not declared: " + s.key());
        }
        return v;
    }

    public boolean isSet(Setting s) {
        return !get(s).isBlank();
    }

    /**
     * True when the setting's value was given (a JVM system property, the environment, a secret file, the
     * configuration file, or the caller's values) rather than taken from its default, even when it equals the default
     * or is blank: an operator's choice that a component's own default must not override.
     */
    public boolean isGiven(Setting s) {
        get(s); // a key not declared is refused as by get
        return given.contains(s.key());
    }

    public int getInt(Setting s) {
        try {
            return Integer.parseInt(get(s).trim());
        } catch (NumberFormatException e) {
            throw invalid(s, "an integer");
        }
    }

    public double getDouble(Setting s) {
        try {
            return Double.parseDouble(get(s).trim());
        } catch (NumberFormatException e) {
            throw invalid(s, "a number");
        }
    }

    public boolean getBoolean(Setting s) {
        String v = get(s).trim();
        if (!v.equals("true") && !v.equals("false")) {
            throw invalid(s, "true or false");
        }
        return Boolean.parseBoolean(v);
    }

    public Duration getDuration(Setting s) {
        try {
            return Duration.parse(get(s).trim());
        } catch (DateTimeParseException e) {
            throw invalid(s, "an ISO-8601 duration such as PT10S");
        }
    }

    public Path getPath(Setting s) {
        return Path.of(get(s));
    }

    /** Every key with secrets masked, sorted: safe to print. */
    public Map<String, String> describe() {
        Map<String, String> out = new TreeMap<>();
        for (Setting s : Settings.all()) {
            String v = values.get(s.key());
            out.put(s.key(), s.secret() ? (v == null || v.isEmpty() ? "(not set)" : "****") : v);
        }
        return out;
    }

    private ConfigurationException invalid(Setting s, String expected) {
        String shown = s.secret() ? "****" : "'" + get(s) + "'";
        return new ConfigurationException("Configuration key " + s.key() + " (env " + s.envName() + ") is "
                + shown + "; expected " + expected);
    }

    private String expand(String v, int depth) {
        if (depth > 5 || v == null || !v.contains("${")) return v;
        Matcher m = PLACEHOLDER.matcher(v);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String ref = values.get(m.group(1));
            if (ref == null) {
                throw new IllegalArgumentException("Configuration value refers to undeclared key ${" + m.group(1) + "}");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(expand(ref, depth + 1)));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static Map<String, String> readFile(Path file) {
        Map<String, String> out = new HashMap<>();
        if (file == null || !Files.exists(file)) return out;
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read configuration file " + file, e);
        }
        p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
        return out;
    }

    private static String readSecretFile(Setting s, Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the secret file for " + s.key() + " named by "
                    + s.envName() + "_FILE", e);
        }
    }
}
