package io.interchange.connectors.crm;

import io.interchange.connectors.webhook.InboundEvent;
import io.interchange.store.StreamPositions;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.salesforce.SalesforceComponent;
import org.apache.camel.component.salesforce.internal.streaming.ReplayControl;
import org.cometd.bayeux.Channel;
import org.cometd.bayeux.Message;
import org.cometd.bayeux.client.ClientSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The Change Data Capture subscriptions of the crm-salesforce flow, one camel-salesforce consumer per channel, and
 * what camel-salesforce does not do for them (see {@link ReplayControl} for why it is done here):
 * <ul>
 *   <li><b>Start from the stored position.</b> Each channel subscribes from the replay id of the last event fully
 *   processed ({@link StreamPositions}); a channel without one subscribes from new events (-1).</li>
 *   <li><b>Subscribe again after a failure.</b> camel-salesforce has moved past an event before the route processed
 *   it; when an event fails, the channel's later events are skipped and the channel subscribes again from its stored
 *   position after a delay (doubling while failures go on), so nothing after a failed event is lost.</li>
 *   <li><b>Read back what an expired replay id lost.</b> Salesforce keeps events 72 hours and refuses an older replay
 *   id; camel-salesforce then subscribes from new events, silently. That refusal is seen here first: the channel is
 *   marked (in the store, before any new event can move its position) and every record of its entities changed since
 *   the last committed change is read back by query and published as a backfill, counted in
 *   {@code interchange_crm_backfills_total} and {@code interchange_crm_backfill_records_total}. The subscription from
 *   new events began before the query ran, so there is no gap between them; a stop before the read-back finishes runs
 *   it again at the next start.</li>
 * </ul>
 */
public final class SalesforceSubscription implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SalesforceSubscription.class);
    /** Salesforce's refusal of a replay id (camel-salesforce matches the same text to fall back). */
    static final Pattern INVALID_REPLAY_ID = Pattern.compile("400::The replayId \\{.*} you provided was invalid.*");
    private static final int BACKFILL_PAGE = 500;
    private static final Duration MAX_DELAY = Duration.ofMinutes(1);
    private static final Duration CLOCK_MARGIN = Duration.ofMinutes(1);

    private final SalesforceChangeEvents events;
    private final StreamPositions positions;
    private final List<String> channels;
    private final Map<String, List<String>> fields;
    private final Duration rewindDelay;
    private final Map<String, Boolean> stalled = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> failuresInRow = new ConcurrentHashMap<>();
    /** Per channel: whether Salesforce confirmed the subscription made since the channel's route last started. */
    private final Map<String, Boolean> subscribed = new ConcurrentHashMap<>();
    /** Channels whose read-back is queued or running (one at a time per channel). */
    private final Set<String> backfilling = ConcurrentHashMap.newKeySet();
    /**
     * One thread per channel processes its events in order, off camel-salesforce's HTTP client threads: a gap event
     * queries Salesforce through the same client, which does not answer a thread it is itself waiting on.
     */
    private final Map<String, ExecutorService> channelWorkers = new ConcurrentHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "salesforce-subscription");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;
    private CamelContext context;
    private SalesforceComponent component;
    private ProducerTemplate template;

    public SalesforceSubscription(SalesforceChangeEvents events, List<String> channels, Map<String, List<String>> fields,
                                  Duration rewindDelay) {
        this.events = events;
        this.positions = events.positions();
        this.channels = List.copyOf(channels);
        this.fields = fields;
        this.rewindDelay = rewindDelay;
        for (String c : channels) {
            if (!c.equals("/data/ChangeEvents") && !c.matches("/data/\\w+ChangeEvent")) {
                throw new IllegalArgumentException("not a Change Data Capture channel: " + c
                        + " (expected /data/ChangeEvents or /data/<Entity>ChangeEvent)");
            }
        }
    }

    public List<String> channels() {
        return channels;
    }

    /** The route id of a channel's consumer: {@code crm.salesforce-account-changes} for /data/AccountChangeEvent. */
    public static String routeId(String channel) {
        if (channel.equals("/data/ChangeEvents")) return "crm.salesforce-changes";
        String entity = channel.substring("/data/".length(), channel.length() - "ChangeEvent".length());
        return "crm.salesforce-" + entity.replace("__", "").toLowerCase(Locale.ROOT) + "-changes";
    }

    public List<String> routeIds() {
        return channels.stream().map(SalesforceSubscription::routeId).toList();
    }

    /** The camel-salesforce endpoint of a channel, subscribing from its stored position. */
    public String uri(String channel) {
        return "salesforce:subscribe:" + channel + "?rawPayload=true&replayId=" + startFrom(channel)
                + "&consumerWorkerPoolEnabled=true&consumerWorkerPoolExecutorService=#" + workerBean(channel);
    }

    /** The registry name of a channel's event thread ({@link #workers()}). */
    public static String workerBean(String channel) {
        return "salesforceWorker-" + routeId(channel);
    }

    /** Each channel's event thread by its registry name, to bind before the routes are built. */
    public Map<String, ExecutorService> workers() {
        Map<String, ExecutorService> out = new java.util.LinkedHashMap<>();
        for (String channel : channels) {
            out.put(workerBean(channel), channelWorkers.computeIfAbsent(channel, c -> Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "salesforce-" + routeId(c));
                t.setDaemon(true);
                return t;
            })));
        }
        return out;
    }

    /** The stored replay id; -1 (new events) without one, or while a read-back stands in for the lost ones. */
    long startFrom(String channel) {
        Optional<StreamPositions.Position> p = positions.find(SalesforceChangeEvents.SYSTEM, channel);
        return p.map(StreamPositions.Position::replayId).orElse(-1L);
    }

    /**
     * Once Camel runs: logs in (camel-salesforce did at start), starts the streaming client with the watch on its
     * replies, sets each channel's replay id and starts the channel routes (built not to start with Camel), then runs
     * any read-back a stop interrupted.
     */
    public void start(CamelContext context, MeterRegistry meters) throws Exception {
        this.context = context;
        this.component = context.getComponent("salesforce", SalesforceComponent.class);
        this.template = context.createProducerTemplate();
        SalesforceReader reader = new SalesforceReader(template, fields);
        events.connect(() -> component.getSession().getOrgId(), reader, meters, new SalesforceChangeEvents.Stalls() {
            @Override
            public void failed(String channel, SalesforceChangeEvents.Position failed) {
                SalesforceSubscription.this.failed(channel, failed);
            }

            @Override
            public boolean stalled(String channel) {
                return stalled.getOrDefault(channel, false);
            }

            @Override
            public void processed(String channel) {
                succeeded(channel);
            }
        });
        if (!ReplayControl.watch(component, new Watch())) {
            throw new IllegalStateException("camel-salesforce's streaming client did not start");
        }
        for (String channel : channels) {
            Optional<StreamPositions.Position> p = positions.find(SalesforceChangeEvents.SYSTEM, channel);
            if (p.isEmpty()) {
                // from new events: should the runtime stop before one arrives, the next start reads back from here
                // (the margin covers a clock behind Salesforce's; what it reads twice is published twice)
                positions.anchor(SalesforceChangeEvents.SYSTEM, channel, Instant.now().minus(CLOCK_MARGIN));
            } else if (p.get().replayId() == null && p.get().backfillFrom() == null && p.get().commitTimestamp() != null) {
                // no event of this channel was processed before the last stop: no replay id to resume from
                positions.markBackfill(SalesforceChangeEvents.SYSTEM, channel, p.get().commitTimestamp());
            }
            long from = startFrom(channel);
            ReplayControl.subscribeFrom(component, channel, from);
            LOG.info("Salesforce {}: subscribing from {}", channel, from == -1 ? "new events (-1)" : "replay id " + from);
            subscribed.put(channel, false);
            context.getRouteController().startRoute(routeId(channel));
        }
        for (String channel : channels) {
            positions.find(SalesforceChangeEvents.SYSTEM, channel).map(StreamPositions.Position::backfillFrom)
                    .filter(from -> !backfilling.contains(channel))
                    .ifPresent(from -> {
                        LOG.warn("Salesforce {}: reading back the changes since {} (no replay id to resume from, or a "
                                + "read-back the last stop interrupted)", channel, from);
                        scheduleBackfill(channel, from, false);
                    });
        }
    }

    // ------------------------------------------------------------------------------------------- failures

    private void failed(String channel, SalesforceChangeEvents.Position failed) {
        if (closed || Boolean.TRUE.equals(stalled.put(channel, true))) return; // a resubscription is pending already
        int n = failuresInRow.computeIfAbsent(channel, c -> new AtomicInteger()).incrementAndGet();
        long delay = Math.min(MAX_DELAY.toMillis(), rewindDelay.toMillis() << Math.min(n - 1, 16));
        LOG.warn("Salesforce {}: event {} failed; later events are skipped and the channel subscribes again from its last "
                + "processed event in {} ms", channel, failed.replayId(), delay);
        worker.submit(() -> rewind(channel, delay));
    }

    private void rewind(String channel, long delayMillis) {
        try {
            Thread.sleep(delayMillis);
            if (closed) return;
            resubscribe(channel);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("Salesforce {}: subscribing again failed ({}); trying again", channel, e.toString());
            if (!closed) worker.submit(() -> rewind(channel, Math.min(MAX_DELAY.toMillis(), delayMillis * 2)));
        }
    }

    /**
     * Stops the channel's consumer, lets its event thread finish what it holds (skipped, as the channel is stalled),
     * and subscribes again from the stored position.
     */
    private void resubscribe(String channel) throws Exception {
        context.getRouteController().stopRoute(routeId(channel));
        ExecutorService events = channelWorkers.get(channel);
        if (events != null) events.submit(() -> { }).get(30, TimeUnit.SECONDS);
        Optional<StreamPositions.Position> p = positions.find(SalesforceChangeEvents.SYSTEM, channel);
        // no event of this channel was processed yet: every retained event (-2), the keys absorb repeats; after a lost
        // position, new events (-1), the read-back covers the rest
        long from = p.map(StreamPositions.Position::replayId)
                .orElse(p.map(StreamPositions.Position::backfillFrom).isPresent() ? -1L : -2L);
        ReplayControl.subscribeFrom(component, channel, from);
        stalled.put(channel, false);
        subscribed.put(channel, false);
        context.getRouteController().startRoute(routeId(channel));
        LOG.info("Salesforce {}: subscribing again from replay id {}", channel, from);
    }

    /** Called when an event of the channel was processed: the failures in a row are over. */
    void succeeded(String channel) {
        AtomicInteger n = failuresInRow.get(channel);
        if (n != null) n.set(0);
    }

    // ------------------------------------------------------------------------------------------- read-back

    /** Sees camel-salesforce's subscribe replies first: a refused replay id marks the channel for a read-back. */
    private final class Watch implements ClientSession.Extension {
        @Override
        public boolean rcvMeta(ClientSession session, Message.Mutable message) {
            try {
                if (Channel.META_SUBSCRIBE.equals(message.getChannel()) && message.isSuccessful()
                        && message.get(Message.SUBSCRIPTION_FIELD) != null) {
                    subscribed.put(message.get(Message.SUBSCRIPTION_FIELD).toString(), true);
                } else if (Channel.META_SUBSCRIBE.equals(message.getChannel()) && !message.isSuccessful()) {
                    Object error = message.get(Message.ERROR_FIELD);
                    Object channel = message.get(Message.SUBSCRIPTION_FIELD);
                    if (error != null && channel != null && INVALID_REPLAY_ID.matcher(error.toString()).matches()) {
                        invalidReplayId(channel.toString(), error.toString());
                    }
                }
            } catch (RuntimeException e) {
                LOG.error("Salesforce: handling a subscribe reply failed: {}", e.toString(), e);
            }
            return true;
        }
    }

    private void invalidReplayId(String channel, String error) {
        Optional<StreamPositions.Position> p = positions.find(SalesforceChangeEvents.SYSTEM, channel);
        Instant from = p.map(StreamPositions.Position::backfillFrom)
                .orElse(p.map(StreamPositions.Position::commitTimestamp).orElse(null));
        if (from == null) {
            LOG.warn("Salesforce {}: {} -- no change of this channel was committed yet, so there is nothing to read "
                    + "back; subscribing from new events", channel, error);
            return;
        }
        // recorded before camel-salesforce subscribes from new events, so no new event can move the position first
        positions.markBackfill(SalesforceChangeEvents.SYSTEM, channel, from);
        LOG.warn("Salesforce {}: {} -- the stored position is past Salesforce's retention; subscribing from new events "
                + "and reading back the records changed since {}", channel, error, from);
        scheduleBackfill(channel, from, true);
    }

    /**
     * Queues the read-back of a channel (unless one is queued or running), after subscribing it again from new events
     * if asked (camel-salesforce's own fallback subscribe is not relied on); the read-back waits until Salesforce has
     * confirmed the subscription, so every change after the read-back's query comes as an event.
     */
    private void scheduleBackfill(String channel, Instant from, boolean resubscribe) {
        if (!backfilling.add(channel)) return;
        worker.submit(() -> {
            try {
                if (resubscribe) resubscribe(channel);
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!subscribed.getOrDefault(channel, false) && System.nanoTime() < until && !closed) {
                    Thread.sleep(50);
                }
                if (!subscribed.getOrDefault(channel, false)) {
                    LOG.warn("Salesforce {}: the subscription is not confirmed yet; reading back anyway", channel);
                }
                backfill(channel, from);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.error("Salesforce {}: the read-back since {} could not run ({}); it runs at the next start",
                        channel, from, e.toString(), e);
            } finally {
                backfilling.remove(channel);
            }
        });
    }

    private void backfill(String channel, Instant from) {
        long delay = rewindDelay.toMillis();
        while (!closed) {
            try {
                Instant started = Instant.now();
                int published = 0;
                int read = 0;
                for (String entity : entities(channel)) {
                    List<InboundEvent> page = new ArrayList<>();
                    int[] counts = new int[2];
                    events.reader().changedSince(entity, from, r -> {
                        page.add(events.fromRecord(r, "backfill", null, "crm:salesforce:backfill:"
                                + r.path("Id").asText() + ":" + r.path("SystemModstamp").asText(), "backfill " + channel));
                        if (page.size() >= BACKFILL_PAGE) {
                            counts[0] += page.size();
                            counts[1] += publish(page);
                            page.clear();
                        }
                    });
                    counts[0] += page.size();
                    counts[1] += publish(page);
                    read += counts[0];
                    published += counts[1];
                }
                // a channel still without a processed event reads back from here at its next start, not from the start
                positions.clearBackfill(SalesforceChangeEvents.SYSTEM, channel, from, started.minus(CLOCK_MARGIN));
                events.count(SalesforceChangeEvents.BACKFILLS_METRIC, "system", SalesforceChangeEvents.SYSTEM, "channel", channel);
                events.count(SalesforceChangeEvents.BACKFILL_RECORDS_METRIC, read, "system", SalesforceChangeEvents.SYSTEM,
                        "channel", channel);
                LOG.warn("Salesforce {}: backfill done: {} record(s) changed from {} up to {} read back, {} published "
                        + "as changes (origin backfill), {} already published", channel, read, from, started,
                        published, read - published);
                return;
            } catch (RuntimeException e) {
                LOG.warn("Salesforce {}: backfill since {} failed ({}); trying again in {} ms", channel, from,
                        e.toString(), delay);
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                delay = Math.min(MAX_DELAY.toMillis(), delay * 2);
            }
        }
    }

    /** Publishes one page of read-back records through the backfill route; returns how many were new. */
    private int publish(List<InboundEvent> page) {
        if (page.isEmpty()) return 0;
        Exchange done = template.send(SalesforceChangeEvents.BACKFILL_ENDPOINT,
                e -> e.setProperty(SalesforceChangeEvents.EVENTS, List.copyOf(page)));
        if (done.getException() != null) {
            throw new IllegalStateException("publishing the backfill failed: " + done.getException(), done.getException());
        }
        return SalesforceChangeEvents.claimed(done).size();
    }

    private static List<String> entities(String channel) {
        if (channel.equals("/data/ChangeEvents")) return List.copyOf(SalesforceChangeEvents.ENTITIES.keySet());
        String entity = channel.substring("/data/".length(), channel.length() - "ChangeEvent".length());
        return SalesforceChangeEvents.ENTITIES.containsKey(entity) ? List.of(entity) : List.of();
    }

    @Override
    public void close() {
        closed = true;
        worker.shutdownNow();
        channelWorkers.values().forEach(ExecutorService::shutdownNow);
        if (template != null) {
            try {
                template.stop();
            } catch (Exception ignored) {
                // stopping anyway
            }
        }
    }
}
