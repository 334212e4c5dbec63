package io.interchange.sandbox.salesforce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Salesforce's Streaming API as Bayeux over HTTP long-polling ({@code /cometd/NN.0}), for change events: the
 * {@code /meta/handshake} (answering the {@code replay} extension as supported), {@code /meta/connect} (held until an
 * event is queued or the advised timeout passes), {@code /meta/subscribe} with the {@code replay} extension's map of
 * channel to replay id (-1 new events only, -2 every retained event, N the events after N), {@code /meta/unsubscribe}
 * and {@code /meta/disconnect}. Events are kept for a retention window (72 hours on Salesforce); a subscribe with a
 * replay id no longer retained is refused as Salesforce refuses it: {@code 400::The replayId {N} you provided was
 * invalid...}. That is what camel-salesforce's client sends and reads; nothing else of CometD is served.
 */
final class StreamingBus {

    static final String INVALID_REPLAY = "400::The replayId {%d} you provided was invalid.  Please provide a valid ID, "
            + "-2 to replay all events, or -1 to replay only new events.";

    private record Event(long replayId, String entity, Instant at, ObjectNode data) {
    }

    private static final class Session {
        final String clientId = UUID.randomUUID().toString().replace("-", "");
        final Set<String> channels = ConcurrentHashMap.newKeySet();
        final Deque<ObjectNode> queue = new ArrayDeque<>();
    }

    private final ObjectMapper json;
    private final Clock clock;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final List<Event> events = new ArrayList<>();
    /** Replay ids are opaque and not contiguous on Salesforce: they advance by a varying step here too. */
    private final AtomicLong replayIds = new AtomicLong(1000);
    private volatile Duration retention = Duration.ofHours(72);
    private volatile long holdMillis = 2000;

    StreamingBus(ObjectMapper json, Clock clock) {
        this.json = json;
        this.clock = clock;
    }

    void retention(Duration retention) {
        this.retention = retention;
    }

    void holdMillis(long millis) {
        this.holdMillis = millis;
    }

    /** Publishes one change event of an entity: stored with a new replay id and queued for every subscriber. */
    long publish(String entity, ObjectNode payload) {
        synchronized (this) {
            long replayId = replayIds.addAndGet(1 + (replayIds.get() % 7));
            ObjectNode data = json.createObjectNode();
            data.put("schema", "sch" + Integer.toHexString(entity.hashCode()) + "-Interchange-Peer");
            data.set("payload", payload);
            data.putObject("event").put("replayId", replayId);
            Event e = new Event(replayId, entity, clock.instant(), data);
            events.add(e);
            for (Session s : sessions.values()) {
                for (String channel : s.channels) {
                    if (matches(channel, entity)) s.queue.add(message(channel, e));
                }
            }
            notifyAll();
            return replayId;
        }
    }

    /** Drops the events older than the retention window, as Salesforce's event bus does. */
    private void purge() {
        Instant oldest = clock.instant().minus(retention);
        events.removeIf(e -> e.at().isBefore(oldest));
    }

    /** Forgets every stored event now (their retention ran out), whatever the window. */
    synchronized void expireAll() {
        events.clear();
    }

    synchronized long lastReplayId() {
        return events.isEmpty() ? -1 : events.get(events.size() - 1).replayId();
    }

    /** One Bayeux request: an array of messages; the answer is the array of replies (and queued events). */
    ArrayNode handle(JsonNode request) throws InterruptedException {
        List<JsonNode> messages = new ArrayList<>();
        if (request.isArray()) request.forEach(messages::add);
        else messages.add(request);
        ArrayNode out = json.createArrayNode();
        JsonNode connect = null;
        for (JsonNode m : messages) {
            String channel = m.path("channel").asText();
            switch (channel) {
                case "/meta/handshake" -> out.add(handshake(m));
                case "/meta/connect" -> connect = m;
                case "/meta/subscribe" -> out.add(subscribe(m));
                case "/meta/unsubscribe" -> out.add(unsubscribe(m));
                case "/meta/disconnect" -> out.add(disconnect(m));
                default -> out.add(reply(m, false).put("error", "403::Publishing is not supported"));
            }
        }
        if (connect != null) connect(connect, out);
        return out;
    }

    private ObjectNode handshake(JsonNode m) {
        Session s = new Session();
        sessions.put(s.clientId, s);
        ObjectNode r = reply(m, true);
        r.put("clientId", s.clientId);
        r.put("version", "1.0");
        r.put("minimumVersion", "1.0");
        r.putArray("supportedConnectionTypes").add("long-polling");
        ObjectNode ext = r.putObject("ext");
        ext.put("replay", true);
        ext.put("payload.format", true);
        advice(r);
        return r;
    }

    private void connect(JsonNode m, ArrayNode out) throws InterruptedException {
        Session s = sessions.get(m.path("clientId").asText());
        if (s == null) {
            ObjectNode r = reply(m, false).put("error", "403::Unknown client");
            r.putObject("advice").put("reconnect", "handshake").put("interval", 0);
            out.add(r);
            return;
        }
        // the first connect after a handshake advises timeout 0: answered at once, as CometD servers do
        long hold = m.path("advice").path("timeout").asLong(holdMillis) == 0 ? 0 : holdMillis;
        long until = System.nanoTime() + hold * 1_000_000;
        synchronized (this) {
            while (s.queue.isEmpty() && sessions.containsKey(s.clientId) && System.nanoTime() < until) {
                wait(Math.max(1, (until - System.nanoTime()) / 1_000_000));
            }
            while (!s.queue.isEmpty()) out.add(s.queue.poll());
        }
        ObjectNode r = reply(m, sessions.containsKey(s.clientId));
        r.put("clientId", s.clientId);
        advice(r);
        out.add(r);
    }

    private ObjectNode subscribe(JsonNode m) {
        Session s = sessions.get(m.path("clientId").asText());
        String channel = m.path("subscription").asText();
        ObjectNode r = reply(m, false);
        r.put("subscription", channel);
        if (s == null) {
            r.put("clientId", m.path("clientId").asText());
            r.put("error", "403::Unknown client");
            r.putObject("advice").put("reconnect", "handshake");
            return r;
        }
        r.put("clientId", s.clientId);
        if (!channel.equals("/data/ChangeEvents") && !channel.matches("/data/\\w+ChangeEvent")) {
            return r.put("error", "400::The channel you requested to subscribe to does not exist {" + channel + "}");
        }
        JsonNode replay = m.path("ext").path("replay").path(channel);
        long from = replay.isIntegralNumber() ? replay.asLong() : -1;
        synchronized (this) {
            purge();
            List<Event> replayed = new ArrayList<>();
            if (from == -2) {
                replayed.addAll(events);
            } else if (from != -1) {
                boolean retained = false;
                for (Event e : events) {
                    if (e.replayId() == from) retained = true;
                    else if (retained) replayed.add(e);
                }
                if (!retained) return r.put("error", String.format(INVALID_REPLAY, from));
            }
            s.channels.add(channel);
            for (Event e : replayed) {
                if (matches(channel, e.entity())) s.queue.add(message(channel, e));
            }
            notifyAll();
        }
        return r.put("successful", true);
    }

    private ObjectNode unsubscribe(JsonNode m) {
        Session s = sessions.get(m.path("clientId").asText());
        String channel = m.path("subscription").asText();
        ObjectNode r = reply(m, s != null && s.channels.remove(channel));
        r.put("subscription", channel);
        r.put("clientId", m.path("clientId").asText());
        if (s == null) r.put("error", "403::Unknown client");
        return r;
    }

    private ObjectNode disconnect(JsonNode m) {
        Session s = sessions.remove(m.path("clientId").asText());
        synchronized (this) {
            notifyAll();
        }
        ObjectNode r = reply(m, s != null);
        r.put("clientId", m.path("clientId").asText());
        return r;
    }

    /** Drops every client, as a Salesforce instance that lost its sessions does: they must handshake again. */
    void dropClients() {
        sessions.clear();
        synchronized (this) {
            notifyAll();
        }
    }

    int clients() {
        return sessions.size();
    }

    /** The channels clients are subscribed to, one entry per client and channel. */
    List<String> subscriptions() {
        List<String> out = new ArrayList<>();
        for (Session s : sessions.values()) out.addAll(s.channels);
        return out;
    }

    private void advice(ObjectNode r) {
        r.putObject("advice").put("reconnect", "retry").put("interval", 0).put("timeout", holdMillis);
    }

    private ObjectNode reply(JsonNode m, boolean successful) {
        ObjectNode r = json.createObjectNode();
        r.put("channel", m.path("channel").asText());
        if (m.has("id")) r.set("id", m.get("id"));
        r.put("successful", successful);
        return r;
    }

    private ObjectNode message(String channel, Event e) {
        ObjectNode msg = json.createObjectNode();
        msg.set("data", e.data().deepCopy());
        msg.put("channel", channel);
        return msg;
    }

    private static boolean matches(String channel, String entity) {
        return channel.equals("/data/ChangeEvents") || channel.equals("/data/" + entity + "ChangeEvent");
    }

    /** Events queued for clients and not fetched yet. */
    synchronized int pending() {
        int n = 0;
        for (Session s : sessions.values()) n += s.queue.size();
        return n;
    }
}
