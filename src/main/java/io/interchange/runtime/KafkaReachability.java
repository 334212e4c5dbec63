package io.interchange.runtime;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Health check {@code kafka}: whether the brokers answer. A probe never talks to Kafka itself: one background thread
 * asks the cluster for its brokers every {@link #PERIOD} (a {@code DescribeCluster} round trip, bounded by
 * {@link #TIMEOUT}) and the check reads the last answer, so a probe costs nothing and cannot block on a broker
 * that does not answer. An answer older than {@link #maxAge()} counts as none (the asking thread itself is stuck).
 *
 * <p>Readiness only: a broker outage is waited out (webhooks get 503, consumers reconnect), a restart would not help.
 */
final class KafkaReachability extends AbstractHealthCheck implements AutoCloseable {

    static final String ID = "kafka";
    static final Duration PERIOD = Duration.ofSeconds(5);
    static final Duration TIMEOUT = Duration.ofSeconds(3);

    private static final Logger LOG = LoggerFactory.getLogger(KafkaReachability.class);
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    private record Answer(boolean up, int brokers, String error, Instant at) {
    }

    private final String bootstrapServers;
    private final Duration period;
    private final Duration timeout;
    private final Clock clock;
    private final ScheduledExecutorService asker;
    private Admin admin;
    private volatile Answer last;

    KafkaReachability(String bootstrapServers) {
        this(bootstrapServers, PERIOD, TIMEOUT, Clock.systemUTC());
    }

    KafkaReachability(String bootstrapServers, Duration period, Duration timeout, Clock clock) {
        super("connectors", ID);
        this.bootstrapServers = bootstrapServers;
        this.period = period;
        this.timeout = timeout;
        this.clock = clock;
        this.asker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "interchange-kafka-health");
            t.setDaemon(true);
            return t;
        });
    }

    /** Asks once now (so readiness is known when start-up ends), then every period in the background. */
    KafkaReachability start() {
        ask();
        asker.scheduleWithFixedDelay(this::ask, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** How old the last answer may be before the check no longer trusts it. */
    Duration maxAge() {
        return period.multipliedBy(2).plus(timeout);
    }

    private void ask() {
        Answer answer;
        try {
            if (admin == null) admin = Admin.create(adminConfig());
            int brokers = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
                    .nodes().get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS).size();
            answer = new Answer(brokers > 0, brokers, brokers > 0 ? null : "the cluster names no broker", clock.instant());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (ExecutionException e) {
            answer = new Answer(false, 0, describe(e.getCause() != null ? e.getCause() : e), clock.instant());
        } catch (Exception e) {
            answer = new Answer(false, 0, describe(e), clock.instant());
        }
        Answer before = last;
        if (before != null && before.up() != answer.up()) {
            if (answer.up()) LOG.info("Kafka reachable again at {}", bootstrapServers);
            else LOG.warn("Kafka not reachable at {}: {}", bootstrapServers, answer.error());
        }
        last = answer;
    }

    private Map<String, Object> adminConfig() {
        Map<String, Object> p = new HashMap<>();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        // one id per client: Kafka registers an MBean under it, and tests run several runtimes in one JVM
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "interchange-health-" + CLIENTS.incrementAndGet());
        int ms = (int) timeout.toMillis();
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, (long) Math.min(ms, 2000));
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, (long) ms);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000L);
        return p;
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        builder.detail("bootstrap.servers", bootstrapServers);
        Answer a = last;
        if (a == null) {
            builder.message("Kafka not asked yet").down();
            return;
        }
        builder.detail("checked.at", a.at().toString());
        Duration age = Duration.between(a.at(), clock.instant());
        if (age.compareTo(maxAge()) > 0) {
            builder.message("Kafka: no answer for " + age.toSeconds() + " s (the reachability check is stuck)").down();
        } else if (a.up()) {
            builder.detail("brokers", a.brokers()).up();
        } else {
            builder.message("Kafka not reachable at " + bootstrapServers + ": " + a.error()).down();
        }
    }

    @Override
    public boolean isLiveness() {
        // a broker outage is waited out: restarting the instance would not bring the broker back
        return false;
    }

    @Override
    public void close() {
        asker.shutdownNow();
        try {
            asker.awaitTermination(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (admin != null) admin.close(Duration.ofSeconds(1));
    }
}
