package io.interchange.testkit;

import io.interchange.config.Settings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;

/** The settings every sandbox test starts from: its own data directory, ports of its own, embedded Kafka on any port. */
public final class SandboxSettings {

    private SandboxSettings() {
    }

    /** Mutable, so that a test adds what it is about (flows, API version). */
    public static Map<String, String> forTest(String name) {
        Map<String, String> values = new HashMap<>();
        try {
            values.put(Settings.DATA_DIR.key(), Files.createTempDirectory(name).resolve("data").toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        values.put(Settings.HTTP_PORT.key(), String.valueOf(Ports.free()));
        values.put(Settings.MANAGEMENT_PORT.key(), String.valueOf(Ports.free()));
        values.put(Settings.JMX_PORT.key(), "0");
        values.put(Settings.KAFKA_EMBEDDED_PORT.key(), "0");
        return values;
    }
}
