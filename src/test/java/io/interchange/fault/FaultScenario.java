package io.interchange.fault;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What every fault scenario shares: one environment, one load generator and one posting watcher per test class, all
 * torn down (runtime processes killed first) after the class, whether it passed or not.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class FaultScenario {

    static final Duration READY = Duration.ofSeconds(120);

    FaultEnvironment env;
    LoadGenerator generator;
    PostingWatcher watcher;
    LedgerCheck check;

    /** Starts the environment (Kafka, PostgreSQL, peers) and the watcher. */
    void environment(String name) throws Exception {
        env = FaultEnvironment.start(name);
        watcher = new PostingWatcher(env.s4, env.legacy);
    }

    RuntimeProcess runtime(String name, Map<String, String> extraEnv) throws Exception {
        return env.runtime(name, extraEnv).start();
    }

    /** Starts the stream against the given instances and the check that will judge it. */
    void load(String scenario, long seed, List<URI> targets) {
        generator = LoadGenerator.forEnvironment(env, seed, targets).start();
        check = new LedgerCheck(scenario, env, generator, watcher);
    }

    /** Long enough for the whole stream with its faults on a busy 2-core machine. */
    static Duration streamTimeout() {
        return FaultSettings.streamDuration().multipliedBy(3).plus(Duration.ofMinutes(5));
    }

    static Duration drainTimeout() {
        return FaultSettings.streamDuration().plus(Duration.ofMinutes(5));
    }

    static Duration stallTimeout() {
        return Duration.ofSeconds(150);
    }

    /** Postings at both ERPs so far. */
    int postings() {
        watcher.poll();
        return watcher.s4Count() + watcher.legacyCount();
    }

    /** Waits until {@code n} more postings than {@code baseline} reached the ERPs (false on timeout). */
    boolean awaitPostings(int baseline, int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (postings() < baseline + n) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(50);
        }
        return true;
    }

    /** When the first webhook attempt started after {@code millis} was accepted, or -1. */
    long firstAcceptedAfter(long millis) {
        return generator.attempts().stream().filter(a -> a.startMillis() > millis && a.status() >= 200 && a.status() < 300)
                .mapToLong(LoadGenerator.Attempt::endMillis).min().orElse(-1);
    }

    static String seconds(long fromMillis, long toMillis) {
        return toMillis < 0 ? "never" : String.format("%.1f", (toMillis - fromMillis) / 1000.0);
    }

    static void sleep(Duration d) throws InterruptedException {
        Thread.sleep(d.toMillis());
    }

    @AfterAll
    void tearDown() {
        if (generator != null) generator.close();
        if (watcher != null) watcher.close();
        if (env != null) {
            for (RuntimeProcess p : env.processes()) {
                System.out.println(p + " log: " + p.log);
            }
            env.close();
        }
    }
}
