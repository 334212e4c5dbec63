package io.interchange.testkit;

import io.interchange.config.Settings;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The settings every sandbox test starts from: its own data directory, ports of its own, embedded Kafka on any port.
 * Closing them deletes the data directory: a test closes them after its sandbox, e.g. {@code try (settings; Sandbox
 * sandbox = Sandbox.start(Config.of(settings.values()), ...))}.
 */
public final class SandboxSettings implements AutoCloseable {

    private final Path dir;
    private final Map<String, String> values = new HashMap<>();

    private SandboxSettings(Path dir) {
        this.dir = dir;
    }

    public static SandboxSettings forTest(String name) {
        SandboxSettings settings = new SandboxSettings(TempDirs.create(name));
        settings.values.put(Settings.DATA_DIR.key(), settings.dir.resolve("data").toString());
        settings.values.put(Settings.HTTP_PORT.key(), String.valueOf(Ports.free()));
        settings.values.put(Settings.MANAGEMENT_PORT.key(), String.valueOf(Ports.free()));
        settings.values.put(Settings.JMX_PORT.key(), "0");
        settings.values.put(Settings.KAFKA_EMBEDDED_PORT.key(), "0");
        return settings;
    }

    /** Mutable, so that a test adds what it is about (flows, API version). */
    public Map<String, String> values() {
        return values;
    }

    /** Deletes the data directory (the sandbox's Kafka log, store and archive): once the sandbox is closed. */
    @Override
    public void close() {
        TempDirs.delete(dir);
    }
}
