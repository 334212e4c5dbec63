package io.interchange.bench.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * One system under test as its own JVM (same heap flags for every variant), so its CPU time and resident memory are
 * its own: read from /proc, without the broker, the database and the load generator, which run elsewhere.
 */
final class ServerProcess implements AutoCloseable {

    static final List<String> JVM_FLAGS = List.of("-Xms256m", "-Xmx1g", "-XX:+UseG1GC");
    private static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux

    final String name;
    final Process process;
    final Path log;
    final long launchedNanos;
    long readyNanos;

    private ServerProcess(String name, Process process, Path log, long launchedNanos) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.launchedNanos = launchedNanos;
    }

    static ServerProcess launch(String name, List<String> command, Map<String, String> env, Path log) throws IOException {
        Files.createDirectories(log.getParent());
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        String extra = System.getProperty("e2e.jvm-extra-" + name.substring(0, name.indexOf('-')));
        if (extra != null) cmd.addAll(List.of(extra.split(" ")));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        // the systems under test log as shipped, whatever level the harness runs at: run-e2e.sh starts the harness with
        // INTERCHANGE_LOG_LEVEL=WARN, which a child inherited, so the runtime ran without its INFO lines (one per
        // confirmed posting among them) in every result up to bench/results/e2e-2026-12-06_140137.txt
        if (!env.containsKey("INTERCHANGE_LOG_LEVEL")) pb.environment().remove("INTERCHANGE_LOG_LEVEL");
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        return new ServerProcess(name, pb.start(), log, t0);
    }

    /**
     * Waits until the check passes; records the time to ready (from launch). A process that never gets ready is
     * stopped here: the caller has no handle to close yet, and it would otherwise outlive the run.
     */
    ServerProcess awaitReady(BooleanSupplier ready, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!ready.getAsBoolean()) {
                if (!process.isAlive()) throw new IllegalStateException(name + " exited (" + process.exitValue() + "); see " + log);
                if (System.nanoTime() > deadline) throw new IllegalStateException(name + " not ready after " + timeout + "; see " + log);
                Thread.sleep(20);
            }
        } catch (Exception e) {
            close();
            throw e;
        }
        readyNanos = System.nanoTime();
        return this;
    }

    double secondsToReady() {
        return (readyNanos - launchedNanos) / 1e9;
    }

    static BooleanSupplier httpOk(String url) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        return () -> {
            try {
                return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(1)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        };
    }

    BooleanSupplier logContains(String text) {
        return () -> {
            try {
                return Files.exists(log) && Files.readString(log).contains(text);
            } catch (IOException e) {
                return false;
            }
        };
    }

    /** CPU time (user + system) the process has used so far, in microseconds. */
    long cpuMicros() {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
            return ticks * 1_000_000 / TICKS_PER_SECOND;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read CPU time of " + name, e);
        }
    }

    /** Resident memory, in MiB. */
    double rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read memory of " + name, e);
        }
        return Double.NaN;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
