package io.interchange.fault;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.StripeEventFactory;
import io.interchange.sandbox.StripeEventFactory.InvoiceSpec;
import io.interchange.sandbox.StripeEventFactory.StripeInvoice;
import io.interchange.sandbox.StripeSigner;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The billing platform under load, as Stripe behaves: realistic signed events per customer (an invoice finalized,
 * then paid — now and then after a declined attempt — sometimes partly refunded, then the next invoice) across DE01,
 * US01, GB01 and FR01, sent at a constant rate with several deliveries in flight. Every non-2xx answer and every
 * connection error is retried with backoff (each attempt signed afresh) until accepted or until the delivery time
 * bound runs out, so a runtime that is down or restarting loses nothing on the sender's side. A customer's next event
 * is sent only after the previous one was accepted, which keeps per-customer order meaningful downstream.
 */
public final class LoadGenerator implements AutoCloseable {

    /** Ledger effect of an event type, as the posting rules define it. */
    public enum Kind {
        INVOICE, PAYMENT, REFUND, NONE;

        static Kind of(String stripeType) {
            return switch (stripeType) {
                case "invoice.finalized" -> INVOICE;
                case "invoice.paid" -> PAYMENT;
                case "refund.created" -> REFUND;
                default -> NONE;
            };
        }
    }

    /** One event the generator made, and what became of its delivery. */
    public static final class SentEvent {
        public final String eventId;
        public final String type;
        public final Kind kind;
        public final int customer;
        public final int seqInCustomer;
        public final String globalCustomerId;
        public final String legalEntity;
        public final String invoiceId;
        volatile long firstAttemptMillis;
        volatile long acceptedMillis;
        volatile int attempts;
        volatile int lastStatus;
        volatile boolean gaveUp;

        SentEvent(String eventId, String type, int customer, int seqInCustomer, String globalCustomerId,
                  String legalEntity, String invoiceId) {
            this.eventId = eventId;
            this.type = type;
            this.kind = Kind.of(type);
            this.customer = customer;
            this.seqInCustomer = seqInCustomer;
            this.globalCustomerId = globalCustomerId;
            this.legalEntity = legalEntity;
            this.invoiceId = invoiceId;
        }

        public boolean accepted() {
            return acceptedMillis > 0;
        }

        public long acceptedMillis() {
            return acceptedMillis;
        }

        public int attempts() {
            return attempts;
        }

        /** The posting id the runtime derives from the event ({@code mappings/ledger/posting-rules.jslt}). */
        public String postingId() {
            return "posting:" + eventId;
        }

        /** The S/4HANA MessageHeader/UUID of the posting ({@code name-uuid(postingId)} in the SAP mapping). */
        public String s4Uuid() {
            return UUID.nameUUIDFromBytes(postingId().getBytes(StandardCharsets.UTF_8)).toString();
        }

        @Override
        public String toString() {
            return type + " " + eventId + " (" + legalEntity + ", " + globalCustomerId + ", invoice " + invoiceId
                    + ", attempts " + attempts + ", last status " + lastStatus + ")";
        }
    }

    /** One HTTP attempt: when, to which instance, and its status (0 for a connection error or timeout). */
    public record Attempt(String eventId, int target, long startMillis, long endMillis, int status) {
    }

    private record Entity(String id, String currency, BigDecimal taxRatePercent, long planMinor, long seatMinor) {
    }

    private static final List<Entity> ENTITIES = List.of(
            new Entity("DE01", "EUR", new BigDecimal("19"), 8_000, 1_000),
            new Entity("US01", "USD", new BigDecimal("7.25"), 9_900, 1_200),
            new Entity("GB01", "GBP", new BigDecimal("20"), 7_000, 900),
            new Entity("FR01", "EUR", new BigDecimal("20"), 8_000, 1_000));

    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private final String secret;
    private final int total;
    private final long periodNanos;
    private final int workers;
    private final Duration maxDeliveryTime;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).followRedirects(HttpClient.Redirect.NEVER).build();

    private final List<Customer> customers = new ArrayList<>();
    private final LinkedBlockingQueue<Customer> ready = new LinkedBlockingQueue<>();
    private final List<SentEvent> events = Collections.synchronizedList(new ArrayList<>());
    private final ConcurrentLinkedQueue<Attempt> attemptLog = new ConcurrentLinkedQueue<>();
    private final Map<Integer, AtomicLong> statusCounts = new ConcurrentHashMap<>();
    private final AtomicLong reserved = new AtomicLong();
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong gaveUp = new AtomicLong();
    private final AtomicInteger droppedCustomers = new AtomicInteger();
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final Object pacer = new Object();
    private long nextSlot;
    private volatile List<URI> targets;
    private volatile boolean closed;
    private CountDownLatch finished;
    private long startedAtMillis;
    private volatile long finishedAtMillis;

    /**
     * @param secret          the webhook signing secret
     * @param seed            makes the stream (customers, amounts, ids) reproducible
     * @param total           events to send
     * @param eventsPerSecond constant rate of new events (retries come on top, as with Stripe)
     * @param customers       customers in the stream, spread evenly over the four legal entities
     * @param inFlight        deliveries in flight at most (new ones and retries)
     * @param maxDeliveryTime how long one event is retried before the sender gives up on it
     */
    public LoadGenerator(String secret, long seed, int total, double eventsPerSecond, int customers, int inFlight,
                         Duration maxDeliveryTime, List<URI> targets) {
        this.secret = secret;
        this.total = total;
        this.periodNanos = Math.max(1, Math.round(1e9 / eventsPerSecond));
        this.workers = inFlight;
        this.maxDeliveryTime = maxDeliveryTime;
        this.targets = List.copyOf(targets);
        Random random = new Random(seed);
        for (int i = 0; i < customers; i++) {
            Entity entity = ENTITIES.get(i % ENTITIES.size());
            Customer c = new Customer(i, entity, random.nextLong());
            this.customers.add(c);
            ready.add(c);
        }
    }

    /** The quick-run defaults: constant rate from fault.rate, 240 customers, 16 in flight, 5 minutes per delivery. */
    public static LoadGenerator forEnvironment(FaultEnvironment env, long seed, List<URI> targets) {
        return new LoadGenerator(env.webhookSecret, seed, FaultSettings.events(), FaultSettings.rate(), 240, 16,
                Duration.ofMinutes(5), targets);
    }

    public synchronized LoadGenerator start() {
        if (finished != null) throw new IllegalStateException("already started");
        finished = new CountDownLatch(workers);
        startedAtMillis = System.currentTimeMillis();
        nextSlot = System.nanoTime();
        for (int i = 0; i < workers; i++) {
            Thread t = new Thread(this::work, "load-generator-" + i);
            t.setDaemon(true);
            t.start();
        }
        return this;
    }

    /** Where the next attempts go: spread round-robin over these instances. */
    public void setTargets(List<URI> targets) {
        if (targets.isEmpty()) throw new IllegalArgumentException("at least one target");
        this.targets = List.copyOf(targets);
    }

    public int total() {
        return total;
    }

    /** Events whose first delivery has started. */
    public long started() {
        return started.get();
    }

    public long accepted() {
        return accepted.get();
    }

    public long gaveUp() {
        return gaveUp.get();
    }

    /** Waits until {@code fraction} of the stream has been started. */
    public void awaitProgress(double fraction, Duration timeout) throws InterruptedException {
        long n = Math.round(total * fraction);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (started.get() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("generator reached " + started.get() + " of " + n + " events within "
                        + timeout + " (accepted " + accepted.get() + ", statuses " + statusCounts() + ")");
            }
            if (finished.getCount() == 0) return;
            Thread.sleep(20);
        }
    }

    /** Waits until every event was accepted or given up; true if the stream finished within the timeout. */
    public boolean awaitFinished(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Every event made so far, in the order it was made. */
    public List<SentEvent> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    public List<Attempt> attempts() {
        return List.copyOf(attemptLog);
    }

    /** Attempts by HTTP status (0: connection error or timeout). */
    public Map<Integer, Long> statusCounts() {
        Map<Integer, Long> out = new TreeMap<>();
        statusCounts.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    public long streamMillis() {
        long end = finishedAtMillis == 0 ? System.currentTimeMillis() : finishedAtMillis;
        return end - startedAtMillis;
    }

    @Override
    public void close() {
        closed = true;
    }

    // ------------------------------------------------------------------------------------------------ workers

    private void work() {
        try {
            while (!closed) {
                Customer c = ready.poll(100, TimeUnit.MILLISECONDS);
                if (c == null) {
                    if (reserved.get() >= total || droppedCustomers.get() == customers.size()) break;
                    continue;
                }
                if (reserved.incrementAndGet() > total) {
                    ready.add(c);
                    break;
                }
                pace();
                Delivery d = c.next();
                started.incrementAndGet();
                deliver(d);
                if (d.event.accepted()) {
                    ready.add(c);
                } else {
                    // this customer's later events would overtake the lost one: stop its stream
                    droppedCustomers.incrementAndGet();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            finishedAtMillis = System.currentTimeMillis();
            finished.countDown();
        }
    }

    /** Constant rate; after a stall (everything in retry) resumes the rate instead of bursting to catch up. */
    private void pace() throws InterruptedException {
        long slot;
        synchronized (pacer) {
            long now = System.nanoTime();
            if (now - nextSlot > TimeUnit.SECONDS.toNanos(1)) nextSlot = now;
            slot = nextSlot;
            nextSlot += periodNanos;
        }
        long wait = slot - System.nanoTime();
        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
    }

    private void deliver(Delivery d) throws InterruptedException {
        SentEvent e = d.event;
        long deadline = System.nanoTime() + maxDeliveryTime.toNanos();
        long backoff = FIRST_BACKOFF.toMillis();
        Random jitter = new Random(e.eventId.hashCode());
        while (!closed) {
            List<URI> ts = targets;
            int index = Math.floorMod(roundRobin.getAndIncrement(), ts.size());
            long t0 = System.currentTimeMillis();
            if (e.attempts == 0) e.firstAttemptMillis = t0;
            int status;
            try {
                HttpRequest request = HttpRequest.newBuilder(ts.get(index))
                        .timeout(REQUEST_TIMEOUT)
                        .header("Content-Type", "application/json; charset=utf-8")
                        .header("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
                        // Stripe signs every attempt afresh
                        .header("Stripe-Signature", StripeSigner.header(secret, System.currentTimeMillis() / 1000, d.body))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(d.body))
                        .build();
                status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (IOException ex) {
                status = 0;
            }
            long t1 = System.currentTimeMillis();
            e.attempts++;
            e.lastStatus = status;
            attemptLog.add(new Attempt(e.eventId, index, t0, t1, status));
            statusCounts.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
            if (status >= 200 && status < 300) {
                e.acceptedMillis = t1;
                accepted.incrementAndGet();
                return;
            }
            long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (remaining <= 0) {
                e.gaveUp = true;
                gaveUp.incrementAndGet();
                return;
            }
            long sleep = Math.min(remaining, Math.round(backoff * (0.8 + 0.4 * jitter.nextDouble())));
            Thread.sleep(sleep);
            backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
        }
    }

    // ------------------------------------------------------------------------------------------------ customers

    private record Delivery(SentEvent event, byte[] body) {
    }

    private enum Stage { NONE, FINALIZED, PAID }

    /** One customer's lifecycle; only the worker holding it (taken from the ready queue) touches it. */
    private final class Customer {
        final int index;
        final Entity entity;
        final Random random;
        final StripeEventFactory factory;
        final String customerId;
        final String globalId;
        StripeInvoice open;
        Stage stage = Stage.NONE;
        boolean declinedOnce;
        int seq;

        Customer(int index, Entity entity, long seed) {
            this.index = index;
            this.entity = entity;
            this.random = new Random(seed);
            this.factory = new StripeEventFactory(random);
            this.customerId = factory.newCustomerId();
            this.globalId = String.format(Locale.ROOT, "cust-%06d", 100_000 + index);
        }

        Delivery next() {
            long now = System.currentTimeMillis() / 1000;
            ObjectNode event;
            if (stage == Stage.FINALIZED) {
                if (!declinedOnce && random.nextDouble() < 0.05) {
                    declinedOnce = true;
                    event = factory.invoicePaymentFailed(open, now);
                } else {
                    stage = Stage.PAID;
                    event = factory.invoicePaid(open, now);
                }
            } else if (stage == Stage.PAID && random.nextDouble() < 0.25 && open.refundableMinor() > 0) {
                long amount = Math.max(1, Math.round(open.refundableMinor() * (0.1 + 0.4 * random.nextDouble())));
                stage = Stage.NONE;
                event = factory.refundCreated(open, amount, now);
            } else {
                open = factory.issue(spec(now));
                stage = Stage.FINALIZED;
                declinedOnce = false;
                event = factory.invoiceFinalized(open, now);
            }
            SentEvent e = new SentEvent(event.path("id").asText(), event.path("type").asText(), index, seq++,
                    globalId, entity.id(), open.id());
            events.add(e);
            return new Delivery(e, StripeEventFactory.toBytes(event));
        }

        private InvoiceSpec spec(long now) {
            List<InvoiceSpec.Line> lines = new ArrayList<>();
            lines.add(new InvoiceSpec.Line("1 x Pro plan", 1, entity.planMinor()));
            int seats = random.nextInt(6);
            if (seats > 0) {
                lines.add(new InvoiceSpec.Line(seats + " x Extra seat", seats, seats * entity.seatMinor()));
            }
            if (random.nextDouble() < 0.3) {
                lines.add(new InvoiceSpec.Line("Usage overage", 1, 50 + random.nextInt(5_000)));
            }
            // Stripe finalizes subscription invoices about an hour after creating them
            return new InvoiceSpec(customerId, globalId, entity.id(), entity.currency(), lines, entity.taxRatePercent(),
                    now - 3_600);
        }
    }
}
