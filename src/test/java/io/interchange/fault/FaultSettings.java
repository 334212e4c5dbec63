package io.interchange.fault;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** The fault suite's knobs, from the system properties failsafe passes (see pom.xml). */
final class FaultSettings {

    private FaultSettings() {
    }

    /** The packaged runtime: {@code interchange.jar}, with its {@code lib/} beside it. */
    static Path jar() {
        String value = System.getProperty("interchange.jar");
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property interchange.jar is not set; run the fault suite with "
                    + "mvn verify (failsafe sets it to the packaged jar)");
        }
        Path jar = Path.of(value).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("interchange.jar " + jar + " does not exist; package the runtime first");
        }
        return jar;
    }

    /** Events per scenario: 3000 for the quick run, 100,000 with -Pfault-full. */
    static int events() {
        return Integer.getInteger("fault.events", 3000);
    }

    /** Webhooks per second the generator sends. */
    static double rate() {
        return Double.parseDouble(System.getProperty("fault.rate", "150"));
    }

    /** How long the stream lasts at the configured rate. */
    static Duration streamDuration() {
        return Duration.ofMillis(Math.round(events() * 1000.0 / rate()));
    }

    /**
     * A fault window that is {@code quick} in the quick run and grows with the stream (square root of its length),
     * never beyond {@code max}.
     */
    static Duration scaled(Duration quick, Duration max) {
        double factor = Math.sqrt(Math.max(1.0, events() / 3000.0));
        long ms = Math.round(quick.toMillis() * factor);
        return Duration.ofMillis(Math.min(ms, max.toMillis()));
    }

    /** How long S/4HANA is down in ErpOutageFaultIT: 20 s in the quick run, 180 s with -Pfault-full. */
    static Duration erpOutage() {
        String value = System.getProperty("fault.erp-outage-seconds", "20");
        long seconds = Long.parseLong(value.isBlank() ? "20" : value.trim());
        if (seconds < 2) throw new IllegalArgumentException("fault.erp-outage-seconds must be at least 2, not " + value);
        return Duration.ofSeconds(seconds);
    }

    /**
     * S/4HANA's rate limit in ErpOutageFaultIT: 30/s in the quick run, 100/s with -Pfault-full, so that the backlog of
     * a long outage drains into the limit within minutes instead of the better part of an hour.
     */
    static int erpOutageMaxRate() {
        String value = System.getProperty("fault.erp-outage-max-rate", "30");
        int rate = Integer.parseInt(value.isBlank() ? "30" : value.trim());
        if (rate < 1) throw new IllegalArgumentException("fault.erp-outage-max-rate must be at least 1, not " + value);
        return rate;
    }

    /** The file each scenario appends its report to. */
    static Path reportFile() {
        String value = System.getProperty("fault.report");
        return value == null || value.isBlank() ? jar().getParent().resolve("fault-report.txt") : Path.of(value);
    }
}
