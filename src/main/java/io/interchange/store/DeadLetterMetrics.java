package io.interchange.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The dead-letter store in metrics: {@code interchange_dead_letters_parked_total{route,kind,error}}, dead letters this
 * instance parked (failures by reason: {@code kind} TRANSIENT or PERMANENT, {@code error} the exception's simple class
 * name), and {@code interchange_dead_letters_open{route,entity}}, open dead letters in the store by route and legal entity
 * ({@code entity="none"} when the headers name none). The open count is the shared store's, the same on every instance:
 * dashboards take its {@code max}, not its sum. It is read in one query every {@code refresh}, not on each scrape, and a
 * route once seen stays at 0 rather than vanishing when its last dead letter is replayed.
 */
public final class DeadLetterMetrics implements AutoCloseable {

    public static final String PARKED_METRIC = "interchange.dead.letters.parked";
    public static final String OPEN_METRIC = "interchange.dead.letters.open";
    static final String NO_ENTITY = "none";
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterMetrics.class);

    private record Key(String route, String entity) {
    }

    private final DeadLetterStore store;
    private final MeterRegistry meters;
    private final Map<Key, AtomicLong> open = new ConcurrentHashMap<>();
    private ScheduledExecutorService refresher;

    public DeadLetterMetrics(DeadLetterStore store, MeterRegistry meters) {
        this.store = store;
        this.meters = meters;
        store.onParked(this::parked);
    }

    /** Reads the open counts now and then every {@code interval} on a daemon thread, until {@link #close()}. */
    public DeadLetterMetrics start(Duration interval) {
        refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dead-letter-metrics");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(() -> {
            try {
                refresh();
            } catch (RuntimeException e) {
                // the gauge keeps its last values; the store's own health check says why it cannot be read
                LOG.debug("Open dead letters not read: {}", e.getMessage());
            }
        }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Reads the open dead letters by route and legal entity from the store into the gauge. */
    public void refresh() {
        Map<Key, Long> now = new HashMap<>();
        for (DeadLetterStore.OpenCount c : store.openByRouteAndEntity()) {
            now.merge(new Key(c.routeId(), c.entity() == null ? NO_ENTITY : c.entity()), c.count(), Long::sum);
        }
        now.forEach((key, count) -> open.computeIfAbsent(key, this::gauge));
        open.forEach((key, value) -> value.set(now.getOrDefault(key, 0L)));
    }

    private AtomicLong gauge(Key key) {
        AtomicLong value = new AtomicLong();
        Gauge.builder(OPEN_METRIC, value, AtomicLong::get)
                .description("open dead letters in the store by route and legal entity (the store's, same on every instance)")
                .tag("route", key.route()).tag("entity", key.entity())
                .register(meters);
        return value;
    }

    private void parked(String route, String kind, String errorClass) {
        String error = errorClass == null || errorClass.isBlank() ? "unknown"
                : errorClass.substring(errorClass.lastIndexOf('.') + 1);
        Counter.builder(PARKED_METRIC).description("dead letters parked by this instance, by route, kind and error class")
                .tag("route", route).tag("kind", kind == null ? "unknown" : kind).tag("error", error)
                .register(meters).increment();
    }

    @Override
    public void close() {
        if (refresher != null) refresher.shutdownNow();
        store.onParked((route, kind, error) -> { });
    }
}
