package io.interchange.bench.e2e;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.PoolOptions;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop, constant-rate webhook load: request i is due at start + i/rate whatever the server does, and its
 * latency is measured from that due time, not from when it could be sent, so a server that falls behind shows it in
 * its latency instead of slowing the load down (no coordinated omission). One in ten requests re-delivers an event
 * answered at least a second earlier (a duplicate the server must acknowledge without a second effect).
 */
final class Load implements AutoCloseable {

    static final double DUPLICATE_SHARE = 0.10;

    record Result(double rate, int sent, int fresh, int ok, int errors, int duplicates, long p50Micros, long p99Micros,
                  long maxMicros, double seconds) {
        boolean holds(long p99LimitMicros) {
            return errors == 0 && p99Micros <= p99LimitMicros && sent > 0;
        }
    }

    private final Vertx vertx;
    private final HttpClient client;
    private final Events events;
    private final int port;
    private long nextSeq;
    /** sequence numbers of fresh events answered 200, by the time they were answered (for duplicates) */
    private final java.util.concurrent.ConcurrentLinkedDeque<long[]> answered = new java.util.concurrent.ConcurrentLinkedDeque<>();
    final java.util.Set<Long> acceptedFresh = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Load(Events events, int port) {
        this.events = events;
        this.port = port;
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
                        .setConnectTimeout(2_000).setIdleTimeout(30).setDefaultHost("127.0.0.1").setDefaultPort(port),
                new PoolOptions().setHttp1MaxSize(1024).setMaxWaitQueueSize(-1));
    }

    Result run(double rate, double seconds) throws InterruptedException {
        int total = (int) Math.round(rate * seconds);
        long[] latencies = new long[total];
        AtomicIntegerArray status = new AtomicIntegerArray(total);
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger ok = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(total);
        int duplicates = 0;
        int fresh = 0;
        long start = System.nanoTime() + 1_000_000;
        for (int i = 0; i < total; i++) {
            long due = start + (long) (i * 1e9 / rate);
            long wait;
            while ((wait = due - System.nanoTime()) > 50_000) LockSupport.parkNanos(Math.min(wait - 20_000, 500_000));
            long seq;
            boolean duplicate = false;
            long[] old = oldAnswered(due);
            if (old != null && ThreadLocalRandom.current().nextDouble() < DUPLICATE_SHARE) {
                seq = old[0];
                duplicate = true;
                duplicates++;
            } else {
                seq = nextSeq++;
                fresh++;
            }
            byte[] body = events.body(seq);
            final int index = i;
            final long s = seq;
            final boolean dup = duplicate;
            client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
                            .setURI("/webhooks/billing").setIdleTimeout(10_000))
                    .compose(req -> req.putHeader("Content-Type", "application/json")
                            .putHeader("Stripe-Signature", Events.signature(body))
                            .send(Buffer.buffer(body)))
                    .compose(resp -> resp.body().map(b -> resp.statusCode()))
                    .onComplete(ar -> {
                        long now = System.nanoTime();
                        latencies[index] = (now - due) / 1000;
                        int code = ar.succeeded() ? ar.result() : -1;
                        status.set(index, code);
                        if (code == 200) {
                            ok.incrementAndGet();
                            if (!dup) {
                                acceptedFresh.add(s);
                                answered.add(new long[]{s, now});
                            }
                        } else {
                            errors.incrementAndGet();
                        }
                        done.countDown();
                    });
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (!done.await(20, TimeUnit.SECONDS)) {
            errors.addAndGet((int) done.getCount());
        }
        return new Result(rate, total, fresh, ok.get(), errors.get(), duplicates, Stats.percentile(latencies, total, 50),
                Stats.percentile(latencies, total, 99), Stats.percentile(latencies, total, 100), elapsed);
    }

    /** A fresh event answered at least a second before {@code due}, or null. */
    private long[] oldAnswered(long due) {
        long[] head = answered.peekFirst();
        if (head == null || due - head[1] < 1_000_000_000L) return null;
        return answered.pollFirst();
    }

    long freshSent() {
        return nextSeq;
    }

    @Override
    public void close() {
        client.close();
        vertx.close();
    }
}
