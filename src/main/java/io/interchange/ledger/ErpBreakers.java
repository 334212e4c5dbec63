package io.interchange.ledger;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.reliability.FailureClassifier;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * One Resilience4j circuit breaker per ERP target, shared by everything that calls that ERP in this instance (the
 * batches' bulk requests, the single-posting route, replays, ledger reads, and the customer sync's partner and
 * customer requests; built by {@link io.interchange.connectors.erp.ErpAccess}): the ERP's routes
 * ({@code direct:erp.<target>}, {@code ...read}, {@code ...customer}) run their call inside Camel's circuit breaker
 * EIP with this breaker.
 *
 * <p>What counts as a failure is what the posting route would retry ({@link FailureClassifier#isTransient}): the ERP
 * unreachable, timing out, answering 408/429/5xx or a SOAP {@code Server} fault. Any answer, a business rejection
 * included, shows the ERP is there and counts as a success.
 *
 * <p>While a breaker is open, a call is not made. A customer request fails with a transient failure saying so. A
 * posting's ERP route marks the exchange {@link #HELD} (no exception, the
 * idempotency key released, the route stopped), and the target's ledger consumer holds the event and every later one
 * of its partition (see {@link LedgerHold}): nothing is dead-lettered, no redelivery attempt is spent, and the
 * consumer keeps polling, paused, until the breaker lets probes through (half-open, after
 * {@code interchange.erp.breaker.open-wait}).
 */
public final class ErpBreakers {

    /**
     * Exchange property the ERP route sets (to the target) when its breaker refused the call: nothing was sent, the
     * posting waits. Callers must neither confirm nor dead-letter it.
     */
    public static final String HELD = "InterchangeErpHeld";

    private static final Logger LOG = LoggerFactory.getLogger(ErpBreakers.class);
    /** Prefix of the metric names (Prometheus: interchange_...). */
    private static final String METRICS = "interchange.";
    private static final Set<CircuitBreaker.State> PERMITTING = Set.of(CircuitBreaker.State.CLOSED,
            CircuitBreaker.State.HALF_OPEN, CircuitBreaker.State.DISABLED, CircuitBreaker.State.METRICS_ONLY);

    private final Map<String, CircuitBreaker> breakers = new LinkedHashMap<>();
    private final Map<String, ToIntFunction<String>> heldConsumers = new LinkedHashMap<>();

    public ErpBreakers(Config config, Collection<String> targets) {
        CircuitBreakerConfig cbc = CircuitBreakerConfig.custom()
                .failureRateThreshold(config.getInt(Settings.ERP_BREAKER_FAILURE_RATE))
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(config.getInt(Settings.ERP_BREAKER_WINDOW))
                .minimumNumberOfCalls(config.getInt(Settings.ERP_BREAKER_MINIMUM_CALLS))
                .waitDurationInOpenState(config.getDuration(Settings.ERP_BREAKER_OPEN_WAIT))
                // probes start on their own once the wait is over: a paused consumer makes no call that would start them
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .permittedNumberOfCallsInHalfOpenState(config.getInt(Settings.ERP_BREAKER_HALF_OPEN_CALLS))
                .recordException(FailureClassifier::isTransient)
                .writableStackTraceEnabled(false)
                .build();
        for (String target : targets) {
            CircuitBreaker cb = CircuitBreaker.of(beanName(target), cbc);
            cb.getEventPublisher().onStateTransition(e -> LOG.warn("{} circuit breaker {}: {}", target,
                    e.getStateTransition().getToState(), describe(e.getStateTransition().getToState())));
            breakers.put(target, cb);
        }
    }

    private static String describe(CircuitBreaker.State to) {
        return switch (to) {
            case OPEN, FORCED_OPEN -> "its postings wait (consumers paused, nothing dead-lettered) until probes succeed";
            case HALF_OPEN -> "probing with a few requests";
            case CLOSED -> "postings flow again";
            default -> "";
        };
    }

    /** Registry name of a target's breaker, for the circuit breaker EIP of its ERP route. */
    public static String beanName(String target) {
        return "erpBreaker." + target.toLowerCase(Locale.ROOT);
    }

    public Map<String, CircuitBreaker> all() {
        return breakers;
    }

    public CircuitBreaker get(String target) {
        CircuitBreaker cb = breakers.get(target);
        if (cb == null) throw new IllegalArgumentException("no circuit breaker for ERP target " + target);
        return cb;
    }

    /** True unless the target's breaker is open: calls may be made (closed) or probes are let through (half-open). */
    public boolean permits(String target) {
        CircuitBreaker cb = breakers.get(target);
        return cb == null || PERMITTING.contains(cb.getState());
    }

    /** True when the ERP route answered this exchange without a call because the breaker was open. */
    public static boolean isHeld(Exchange exchange) {
        return exchange != null && exchange.getProperty(HELD) != null;
    }

    /** Where the health check and the metrics find how many consumers of a target hold their events right now. */
    public void heldConsumers(String target, ToIntFunction<String> count) {
        heldConsumers.put(target, count);
    }

    private int held(String target) {
        ToIntFunction<String> f = heldConsumers.get(target);
        return f == null ? 0 : f.applyAsInt(target);
    }

    /**
     * A readiness check per target ({@code breaker:<target>}): DOWN while the breaker is open. Never a liveness
     * check: restarting the instance would not bring the ERP back, and postings wait for it anyway.
     */
    public List<HealthCheck> healthChecks() {
        List<HealthCheck> checks = new ArrayList<>();
        for (var e : breakers.entrySet()) {
            String target = e.getKey();
            CircuitBreaker cb = e.getValue();
            checks.add(new AbstractHealthCheck("connectors", "breaker:" + target.toLowerCase(Locale.ROOT)) {
                @Override
                protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                    CircuitBreaker.Metrics m = cb.getMetrics();
                    builder.detail("state", cb.getState().name());
                    builder.detail("failureRate", m.getFailureRate());
                    builder.detail("bufferedCalls", m.getNumberOfBufferedCalls());
                    builder.detail("failedCalls", m.getNumberOfFailedCalls());
                    builder.detail("notPermittedCalls", m.getNumberOfNotPermittedCalls());
                    builder.detail("heldConsumers", held(target));
                    if (permits(target)) {
                        builder.up();
                    } else {
                        builder.message(target + " circuit breaker " + cb.getState() + ": postings to " + target
                                + " wait until probes succeed").down();
                    }
                }

                @Override
                public boolean isLiveness() {
                    return false;
                }
            });
        }
        return checks;
    }

    /**
     * Metrics per target: {@code interchange_erp_breaker_state{target,state}} (1 for the current state, 0 for the
     * others), {@code interchange_erp_breaker_failure_rate} (percent of the window, -1 until minimum-calls),
     * {@code interchange_erp_breaker_not_permitted_total} (calls refused while open) and
     * {@code interchange_ledger_held_consumers} (ledger consumers of the target holding their events).
     */
    public void bindMetrics(MeterRegistry registry) {
        for (var e : breakers.entrySet()) {
            String target = e.getKey();
            CircuitBreaker cb = e.getValue();
            for (CircuitBreaker.State state : CircuitBreaker.State.values()) {
                Gauge.builder(METRICS + "erp.breaker.state", cb, b -> b.getState() == state ? 1 : 0)
                        .tag("target", target).tag("state", state.name().toLowerCase(Locale.ROOT))
                        .description("1 for the ERP circuit breaker's current state").register(registry);
            }
            Gauge.builder(METRICS + "erp.breaker.failure.rate", cb, b -> b.getMetrics().getFailureRate())
                    .tag("target", target).description("failed requests in the breaker's window, percent (-1: too few)")
                    .register(registry);
            FunctionCounter.builder(METRICS + "erp.breaker.not.permitted", cb,
                            b -> b.getMetrics().getNumberOfNotPermittedCalls())
                    .tag("target", target).description("ERP calls the open breaker refused (the postings waited)")
                    .register(registry);
            Gauge.builder(METRICS + "ledger.held.consumers", this, b -> b.held(target))
                    .tag("target", target).description("ledger consumers of the target holding their events, paused")
                    .register(registry);
        }
    }
}
