package io.interchange.fault;

import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4HanaPeer;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Notes when each posting first appears in the peers' ledgers (polled every 100 ms), so the report can tell how long
 * an accepted event took to reach the ERP: S/4HANA postings by MessageHeader/UUID, legacy ones by reference.
 */
final class PostingWatcher implements AutoCloseable {

    private final S4HanaPeer s4;
    private final LegacyErpPeer legacy;
    private final Map<String, Long> s4FirstSeen = new ConcurrentHashMap<>();
    private final Map<String, Long> legacyFirstSeen = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private int s4Seen;
    private int legacySeen;

    PostingWatcher(S4HanaPeer s4, LegacyErpPeer legacy) {
        this.s4 = s4;
        this.legacy = legacy;
        this.thread = new Thread(this::run, "posting-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            poll();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    synchronized void poll() {
        long now = System.currentTimeMillis();
        List<S4HanaPeer.Posting> s = s4.postings();
        for (int i = s4Seen; i < s.size(); i++) {
            if (s.get(i).uuid() != null) s4FirstSeen.putIfAbsent(s.get(i).uuid(), now);
        }
        s4Seen = s.size();
        List<LegacyErpPeer.Posting> l = legacy.postings();
        for (int i = legacySeen; i < l.size(); i++) {
            legacyFirstSeen.putIfAbsent(l.get(i).reference(), now);
        }
        legacySeen = l.size();
    }

    /** When the posting of the event first appeared at its ERP, or null. */
    Long firstSeen(LoadGenerator.SentEvent e) {
        Long t = s4FirstSeen.get(e.s4Uuid());
        return t != null ? t : legacyFirstSeen.get(e.postingId());
    }

    /** When the first posting seen after {@code millis} appeared, or -1 if none has yet. */
    long firstPostingAfter(long millis) {
        long best = Long.MAX_VALUE;
        for (long t : s4FirstSeen.values()) if (t > millis && t < best) best = t;
        for (long t : legacyFirstSeen.values()) if (t > millis && t < best) best = t;
        return best == Long.MAX_VALUE ? -1 : best;
    }

    synchronized int s4Count() {
        return s4Seen;
    }

    synchronized int legacyCount() {
        return legacySeen;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
