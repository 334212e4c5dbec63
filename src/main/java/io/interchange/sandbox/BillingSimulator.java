package io.interchange.sandbox;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.StripeEventFactory.InvoiceSpec;
import io.interchange.sandbox.StripeEventFactory.StripeInvoice;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Simulated Stripe billing platform for the sandbox: a steady, signed stream of billing webhooks to one endpoint. */
public final class BillingSimulator implements AutoCloseable {

    public static final String USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";
    public static final String CONTENT_TYPE = "application/json; charset=utf-8";
    public static final String SIGNATURE_HEADER = "Stripe-Signature";
    public static final String UNKNOWN_LEGAL_ENTITY = "ZZ99";
    public static final Duration DEFAULT_BAD_EVENT_INTERVAL = Duration.ofSeconds(20);
    public static final int MAX_IN_FLIGHT = 8;

    /**
     * Delivery outcomes so far; each delivery counts once, by its final answer.
     *
     * @param sent                   deliveries started, bad ones included
     * @param accepted               deliveries answered 2xx, except re-deliveries
     * @param duplicatesAcknowledged deliberate re-deliveries answered 2xx
     * @param rejected               deliveries answered 4xx (bad ones at once, others after the last retry)
     * @param failed                 deliveries given up after 5xx answers or connection errors
     * @param retried                attempts beyond the first
     * @param recentRejections       the last few rejections: status, kind, event id and response body
     * @param sentPerLegalEntity     deliveries started per {@code metadata.legal_entity}
     */
    public record Stats(long sent, long accepted, long duplicatesAcknowledged, long rejected, long failed, long retried,
                        List<String> recentRejections, Map<String, Long> sentPerLegalEntity) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(BillingSimulator.class);

    private static final List<Entity> ENTITIES = List.of(
            new Entity("DE01", "EUR", new BigDecimal("19"), 8_000, 1_000),
            new Entity("US01", "USD", new BigDecimal("7.25"), 9_900, 1_200),
            new Entity("GB01", "GBP", new BigDecimal("20"), 7_000, 900),
            new Entity("FR01", "EUR", new BigDecimal("20"), 8_000, 1_000));
    private static final Entity UNKNOWN_ENTITY = new Entity(UNKNOWN_LEGAL_ENTITY, "EUR", new BigDecimal("19"), 8_000, 1_000);
    private static final int CUSTOMERS_PER_ENTITY = 6;
    private static final int MAX_ATTEMPTS = 4;
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(250);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_SLEEP = Duration.ofMillis(50);
    private static final int MAX_OPEN_INVOICES = 500;
    private static final int REDELIVERY_CANDIDATES = 64;
    private static final int RECENT_REJECTIONS = 10;
    private static final int REASON_CHARS = 300;

    private record Entity(String id, String currency, BigDecimal taxRatePercent, long planMinor, long seatMinor) {
    }

    private record Customer(String id, String globalId, Entity entity) {
    }

    private enum Kind {
        NORMAL, UNKNOWN_ENTITY, BAD_SIGNATURE, REDELIVERY;

        /** Bad on purpose, so a 4xx answer is a fair verdict rather than something to retry. */
        boolean rejectable() {
            return this == UNKNOWN_ENTITY || this == BAD_SIGNATURE;
        }
    }

    private static final class Delivery {
        final Kind kind;
        final String eventId;
        final String type;
        final String legalEntity;
        final byte[] body;
        // handed between the simulator thread and HTTP completion threads through thread-safe queues and futures
        int attempts;
        long dueNanos;

        Delivery(Kind kind, String eventId, String type, String legalEntity, byte[] body) {
            this.kind = kind;
            this.eventId = eventId;
            this.type = type;
            this.legalEntity = legalEntity;
            this.body = body;
        }
    }

    private final URI webhookUrl;
    private final String signingSecret;
    private final double eventsPerSecond;
    private final long badEventEvery;
    private final HttpClient http;

    // touched only by the simulator thread
    private final Random random;
    private final StripeEventFactory events;
    private final String wrongSecret;
    private final String v0Secret;
    private final List<Customer> customers = new ArrayList<>();
    private final List<StripeInvoice> openInvoices = new ArrayList<>();
    private long generated;
    private int nextBadKind;

    private final List<Delivery> acceptedDeliveries = new ArrayList<>(); // guarded by itself
    private long acceptedTotal; // guarded by acceptedDeliveries
    private final PriorityBlockingQueue<Delivery> retryQueue =
            new PriorityBlockingQueue<>(16, Comparator.comparingLong(d -> d.dueNanos));
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final Set<CompletableFuture<?>> requests = ConcurrentHashMap.newKeySet();

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong duplicatesAcknowledged = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong retried = new AtomicLong();
    private final Deque<String> recentRejections = new ArrayDeque<>(); // guarded by itself
    private final Map<String, AtomicLong> sentPerEntity = new ConcurrentHashMap<>();

    private Thread thread;
    private volatile boolean running;
    private boolean closed;

    public BillingSimulator(URI webhookUrl, String signingSecret, long seed, double eventsPerSecond) {
        this(webhookUrl, signingSecret, seed, eventsPerSecond, DEFAULT_BAD_EVENT_INTERVAL);
    }

    /**
     * Events follow customer lifecycles across four legal entities (invoice finalized, then mostly paid, sometimes
     * declined and retried, occasionally partly refunded). Up to {@value #MAX_IN_FLIGHT} deliveries are in flight, so,
     * as with Stripe, arrival order is not guaranteed; each attempt is signed afresh and non-2xx answers are retried with
     * backoff, except 4xx answers to an unknown entity or a wrong signature (a 409 to a re-delivery is retried).
     *
     * @param seed             makes the generated stream (customers, amounts, ids, bad-delivery slots) reproducible
     * @param badEventInterval how often one deliberately bad delivery is made, counted in events at the given rate, in
     *                         turn: an invoice for {@value #UNKNOWN_LEGAL_ENTITY} (to be dead-lettered), one with a wrong
     *                         signature (to be answered 400), and an exact re-delivery of an accepted event (a duplicate,
     *                         to be answered 2xx without reposting)
     */
    public BillingSimulator(URI webhookUrl, String signingSecret, long seed, double eventsPerSecond,
                            Duration badEventInterval) {
        this.webhookUrl = Objects.requireNonNull(webhookUrl, "webhookUrl");
        if (!webhookUrl.isAbsolute() || !webhookUrl.getScheme().matches("https?")) {
            throw new IllegalArgumentException("webhook URL must be an absolute http(s) URL: " + webhookUrl);
        }
        if (signingSecret == null || signingSecret.isEmpty()) {
            throw new IllegalArgumentException("signing secret must not be empty");
        }
        if (!(eventsPerSecond > 0 && eventsPerSecond <= 10_000)) {
            throw new IllegalArgumentException("eventsPerSecond must be in (0, 10000]: " + eventsPerSecond);
        }
        if (badEventInterval == null || badEventInterval.isNegative() || badEventInterval.isZero()) {
            throw new IllegalArgumentException("badEventInterval must be positive");
        }
        this.signingSecret = signingSecret;
        this.eventsPerSecond = eventsPerSecond;
        this.badEventEvery = Math.max(2, Math.round(eventsPerSecond * badEventInterval.toNanos() / 1e9));
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.random = new Random(seed);
        this.events = new StripeEventFactory(random);
        this.wrongSecret = "whsec_" + events.newId("");
        // Stripe adds a v0 signature to test-mode deliveries; receivers must ignore it
        this.v0Secret = "whsec_" + events.newId("");
        int globalNumber = 100 + random.nextInt(900);
        for (Entity entity : ENTITIES) {
            for (int i = 0; i < CUSTOMERS_PER_ENTITY; i++) {
                globalNumber += 1 + random.nextInt(40);
                customers.add(new Customer(events.newCustomerId(),
                        String.format(Locale.ROOT, "cust-%06d", globalNumber), entity));
            }
        }
    }

    public synchronized void start() {
        if (thread != null || closed) {
            throw new IllegalStateException("billing simulator already started or closed");
        }
        running = true;
        thread = new Thread(this::run, "billing-simulator");
        thread.setDaemon(true);
        thread.start();
        LOG.info("Billing simulator posting {} events/s to {} (one bad delivery every {} events)",
                eventsPerSecond, webhookUrl, badEventEvery);
    }

    /** Stops the stream and abandons requests in flight and retries not yet due. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        running = false;
        if (thread == null) {
            return;
        }
        thread.interrupt();
        try {
            thread.join(JOIN_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("Billing simulator thread did not stop within {}", JOIN_TIMEOUT);
        }
        requests.forEach(request -> request.cancel(true));
        retryQueue.clear();
        LOG.info("Billing simulator stopped: {}", stats());
    }

    public Stats stats() {
        Map<String, Long> perEntity = new TreeMap<>();
        sentPerEntity.forEach((entity, count) -> perEntity.put(entity, count.get()));
        List<String> reasons;
        synchronized (recentRejections) {
            reasons = List.copyOf(recentRejections);
        }
        return new Stats(sent.get(), accepted.get(), duplicatesAcknowledged.get(), rejected.get(), failed.get(),
                retried.get(), reasons, Collections.unmodifiableMap(perEntity));
    }

    private void run() {
        long period = Math.max(1, Math.round(1e9 / eventsPerSecond));
        long next = System.nanoTime();
        while (running) {
            try {
                long now = System.nanoTime();
                Delivery retry = retryQueue.peek();
                if (retry != null && retry.dueNanos - now <= 0) {
                    send(retryQueue.poll());
                } else if (next - now <= 0) {
                    // after a stall (slow endpoint, long GC) resume the rate instead of bursting to catch up
                    next = now - next > TimeUnit.SECONDS.toNanos(1) ? now + period : next + period;
                    Delivery delivery = nextDelivery();
                    sent.incrementAndGet();
                    sentPerEntity.computeIfAbsent(delivery.legalEntity, e -> new AtomicLong()).incrementAndGet();
                    send(delivery);
                } else {
                    long wake = retry != null && retry.dueNanos - next < 0 ? retry.dueNanos : next;
                    // retries are queued by HTTP threads meanwhile, so never sleep long
                    TimeUnit.NANOSECONDS.sleep(Math.min(wake - now, MAX_SLEEP.toNanos()));
                }
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                LOG.error("Billing simulator step failed; continuing", e);
            }
        }
    }

    private Delivery nextDelivery() {
        generated++;
        if (generated % badEventEvery == 0) {
            Kind kind = List.of(Kind.UNKNOWN_ENTITY, Kind.BAD_SIGNATURE, Kind.REDELIVERY).get(nextBadKind++ % 3);
            if (kind == Kind.UNKNOWN_ENTITY) {
                Customer stranger = new Customer(events.newCustomerId(), "cust-" + (900_000 + random.nextInt(99_999)),
                        UNKNOWN_ENTITY);
                return newDelivery(Kind.UNKNOWN_ENTITY, finalized(stranger));
            }
            if (kind == Kind.BAD_SIGNATURE) {
                return newDelivery(Kind.BAD_SIGNATURE, finalized(customers.get(random.nextInt(customers.size()))));
            }
            Delivery original = redeliveryCandidate();
            if (original != null) {
                return new Delivery(Kind.REDELIVERY, original.eventId, original.type, original.legalEntity, original.body);
            }
        }
        boolean followUp = !openInvoices.isEmpty()
                && (openInvoices.size() >= MAX_OPEN_INVOICES || random.nextDouble() < 0.5);
        if (!followUp) {
            StripeInvoice invoice = newInvoice(customers.get(random.nextInt(customers.size())));
            openInvoices.add(invoice);
            return newDelivery(Kind.NORMAL, events.invoiceFinalized(invoice, nowSeconds()));
        }
        int index = random.nextInt(openInvoices.size());
        StripeInvoice invoice = openInvoices.get(index);
        ObjectNode event;
        boolean stillOpen;
        if (invoice.paid()) {
            long refundable = invoice.refundableMinor();
            long amount = Math.max(1, Math.round(refundable * (0.1 + 0.4 * random.nextDouble())));
            event = events.refundCreated(invoice, amount, nowSeconds());
            stillOpen = invoice.refundableMinor() > 0 && random.nextDouble() < 0.2;
        } else if (random.nextDouble() < 0.82) {
            event = events.invoicePaid(invoice, nowSeconds());
            stillOpen = invoice.refundableMinor() > 0 && random.nextDouble() < 0.12;
        } else {
            event = events.invoicePaymentFailed(invoice, nowSeconds());
            // after the last smart retry Stripe gives up and the invoice stays unpaid
            stillOpen = invoice.attemptCount() < MAX_ATTEMPTS;
        }
        if (!stillOpen) {
            openInvoices.set(index, openInvoices.get(openInvoices.size() - 1));
            openInvoices.remove(openInvoices.size() - 1);
        }
        return newDelivery(Kind.NORMAL, event);
    }

    private ObjectNode finalized(Customer customer) {
        return events.invoiceFinalized(newInvoice(customer), nowSeconds());
    }

    private StripeInvoice newInvoice(Customer customer) {
        Entity entity = customer.entity();
        List<InvoiceSpec.Line> lines = new ArrayList<>();
        lines.add(new InvoiceSpec.Line("1 x Pro plan (at " + money(entity, entity.planMinor()) + " / month)", 1,
                entity.planMinor()));
        int seats = random.nextInt(6);
        if (seats > 0) {
            lines.add(new InvoiceSpec.Line(seats + " x Extra seat (at " + money(entity, entity.seatMinor()) + " / month)",
                    seats, seats * entity.seatMinor()));
        }
        if (random.nextDouble() < 0.3) {
            lines.add(new InvoiceSpec.Line("Usage overage", 1, 50 + random.nextInt(5_000)));
        }
        // Stripe finalizes subscription invoices about an hour after creating them
        return events.issue(new InvoiceSpec(customer.id(), customer.globalId(), entity.id(), entity.currency(), lines,
                entity.taxRatePercent(), nowSeconds() - 3_600));
    }

    private Delivery newDelivery(Kind kind, ObjectNode event) {
        ObjectNode object = (ObjectNode) event.path("data").path("object");
        return new Delivery(kind, event.path("id").asText(), event.path("type").asText(),
                object.path("metadata").path("legal_entity").asText(), StripeEventFactory.toBytes(event));
    }

    private void send(Delivery delivery) throws InterruptedException {
        if (delivery.kind != Kind.NORMAL && delivery.attempts == 0) {
            LOG.info("Sending a deliberate {}: {} {} for legal entity {}",
                    describe(delivery.kind), delivery.type, delivery.eventId, delivery.legalEntity);
        }
        // Stripe signs every attempt afresh, so a retry carries a current timestamp
        String secret = delivery.kind == Kind.BAD_SIGNATURE ? wrongSecret : signingSecret;
        HttpRequest request = HttpRequest.newBuilder(webhookUrl)
                .timeout(REQUEST_TIMEOUT)
                .header("Accept", "*/*; q=0.5, application/xml")
                .header("Cache-Control", "no-cache")
                .header("Content-Type", CONTENT_TYPE)
                .header("User-Agent", USER_AGENT)
                .header(SIGNATURE_HEADER, StripeSigner.header(secret, nowSeconds(), delivery.body, List.of(), v0Secret))
                .POST(HttpRequest.BodyPublishers.ofByteArray(delivery.body))
                .build();
        inFlight.acquire();
        CompletableFuture<HttpResponse<String>> response;
        try {
            response = http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
        } catch (RuntimeException e) {
            inFlight.release();
            throw e;
        }
        requests.add(response);
        response.whenComplete((answer, error) -> {
            requests.remove(response);
            inFlight.release();
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            // requests cancelled by close() are abandoned, not failed
            if (!(cause instanceof CancellationException) && (running || cause == null)) {
                settle(delivery, answer, cause);
            }
        });
    }

    private void settle(Delivery delivery, HttpResponse<String> response, Throwable error) {
        int status = response == null ? 0 : response.statusCode();
        String answer = response != null ? response.body() : String.valueOf(error);
        delivery.attempts++;
        boolean clientError = status >= 400 && status < 500;
        if (status >= 200 && status < 300) {
            if (delivery.kind == Kind.REDELIVERY) {
                duplicatesAcknowledged.incrementAndGet();
            } else {
                accepted.incrementAndGet();
                if (delivery.kind == Kind.NORMAL) {
                    rememberAccepted(delivery);
                }
            }
        } else if (clientError && delivery.kind.rejectable()) {
            rejected.incrementAndGet();
            recordRejection(delivery, status, answer);
            LOG.info("{} {} rejected as expected with {}: {}", describe(delivery.kind), delivery.eventId, status,
                    abbreviate(answer));
        } else if (delivery.attempts < MAX_ATTEMPTS) {
            if (!running) {
                return; // closed: pending retries are abandoned
            }
            retried.incrementAndGet();
            delivery.dueNanos = System.nanoTime() + (FIRST_BACKOFF.toNanos() << (delivery.attempts - 1));
            retryQueue.add(delivery);
            LOG.debug("{} {} answered {}; retry {} scheduled", delivery.type, delivery.eventId, statusText(status),
                    delivery.attempts);
        } else if (clientError) {
            rejected.incrementAndGet();
            recordRejection(delivery, status, answer);
            LOG.warn("{} {} rejected with {} after {} attempts: {}", delivery.type, delivery.eventId, status,
                    delivery.attempts, abbreviate(answer));
        } else {
            failed.incrementAndGet();
            LOG.warn("{} {} failed after {} attempts, last answer {}: {}", delivery.type, delivery.eventId,
                    delivery.attempts, statusText(status), abbreviate(answer));
        }
    }

    private void rememberAccepted(Delivery delivery) {
        synchronized (acceptedDeliveries) {
            if (acceptedDeliveries.size() < REDELIVERY_CANDIDATES) {
                acceptedDeliveries.add(delivery);
            } else {
                acceptedDeliveries.set((int) (acceptedTotal % REDELIVERY_CANDIDATES), delivery);
            }
            acceptedTotal++;
        }
    }

    private Delivery redeliveryCandidate() {
        synchronized (acceptedDeliveries) {
            return acceptedDeliveries.isEmpty() ? null
                    : acceptedDeliveries.get(random.nextInt(acceptedDeliveries.size()));
        }
    }

    private void recordRejection(Delivery delivery, int status, String answer) {
        String reason = status + " " + describe(delivery.kind) + " " + delivery.eventId + ": " + abbreviate(answer);
        synchronized (recentRejections) {
            if (recentRejections.size() == RECENT_REJECTIONS) {
                recentRejections.removeFirst();
            }
            recentRejections.addLast(reason);
        }
    }

    private static String describe(Kind kind) {
        return switch (kind) {
            case NORMAL -> "event";
            case UNKNOWN_ENTITY -> "unknown-legal-entity";
            case BAD_SIGNATURE -> "wrong-signature";
            case REDELIVERY -> "redelivery";
        };
    }

    private static String statusText(int status) {
        return status == 0 ? "no response" : String.valueOf(status);
    }

    private static String abbreviate(String text) {
        String flat = text == null ? "" : text.strip().replaceAll("\\s+", " ");
        return flat.length() <= REASON_CHARS ? flat : flat.substring(0, REASON_CHARS) + "...";
    }

    private static String money(Entity entity, long minor) {
        return entity.currency() + " " + BigDecimal.valueOf(minor, 2).toPlainString();
    }

    private static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }
}
