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
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
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

/**
 * Simulated Stripe billing platform for the sandbox: a steady, signed stream of billing webhooks to one endpoint, in the
 * shapes of one Stripe API version ({@link StripeEventFactory}).
 */
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
     * @param sentPerLegalEntity     deliveries started per legal entity of the billed customer (whether or not the
     *                               event itself names it: refunds, disputes, InvoicePayments and credit notes do not)
     * @param ledgerPerLegalEntity   of those, the genuine events with a ledger effect (money invoiced, paid, refunded,
     *                               credited, written off or moved by a dispute): one journal entry each is expected
     * @param sentPerType            genuine events sent per Stripe event type (no re-deliveries or wrongly signed ones)
     */
    public record Stats(long sent, long accepted, long duplicatesAcknowledged, long rejected, long failed, long retried,
                        List<String> recentRejections, Map<String, Long> sentPerLegalEntity,
                        Map<String, Long> ledgerPerLegalEntity, Map<String, Long> sentPerType) {
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
    private static final int NEXT_STEP_CANDIDATES = 6;
    private static final int REDELIVERY_CANDIDATES = 64;
    private static final int RECENT_REJECTIONS = 10;
    private static final int REASON_CHARS = 300;

    private record Entity(String id, String currency, BigDecimal taxRatePercent, long planMinor, long seatMinor) {
    }

    private record Customer(String id, String globalId, Entity entity) {
    }

    /**
     * One invoice's life: what the simulator does next with it waits until every delivery of its previous step is
     * settled, so the receiver has seen an invoice before its payments and credit notes, and a payment before its
     * refunds and disputes (they find their legal entity through them). {@code pending} and {@code broken} are written
     * by HTTP completion threads; the rest only by the simulator thread.
     */
    private static final class Lifecycle {
        final Customer customer;
        final StripeInvoice invoice;
        final AtomicInteger pending = new AtomicInteger();
        volatile boolean broken;
        boolean done;

        Lifecycle(Customer customer, StripeInvoice invoice) {
            this.customer = customer;
            this.invoice = invoice;
        }

        boolean ready() {
            return pending.get() == 0 && !broken && !done;
        }
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
        final Lifecycle lifecycle; // null for deliveries no later step waits for
        final boolean ledgerEffect;
        // handed between the simulator thread and HTTP completion threads through thread-safe queues and futures
        int attempts;
        long dueNanos;

        Delivery(Kind kind, String eventId, String type, String legalEntity, byte[] body, Lifecycle lifecycle,
                 boolean ledgerEffect) {
            this.kind = kind;
            this.eventId = eventId;
            this.type = type;
            this.legalEntity = legalEntity;
            this.body = body;
            this.lifecycle = lifecycle;
            this.ledgerEffect = ledgerEffect;
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
    private final List<Lifecycle> lifecycles = new ArrayList<>();
    private final Deque<Delivery> outbox = new ArrayDeque<>(); // the rest of the current step's events, sent in turn
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
    private final Map<String, AtomicLong> ledgerPerEntity = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> sentPerType = new ConcurrentHashMap<>();

    private Thread thread;
    private volatile boolean running;
    /** False once {@link #finish} asked for no new events: the deliveries under way and their retries go on. */
    private volatile boolean generating = true;
    private volatile java.util.function.Consumer<com.fasterxml.jackson.databind.JsonNode> objects = o -> { };
    private static final com.fasterxml.jackson.databind.ObjectMapper OBJECTS =
            new com.fasterxml.jackson.databind.ObjectMapper();
    private boolean closed;

    public BillingSimulator(URI webhookUrl, String signingSecret, long seed, double eventsPerSecond) {
        this(webhookUrl, signingSecret, seed, eventsPerSecond, DEFAULT_BAD_EVENT_INTERVAL);
    }

    /** Events in the factory's default API version ({@value StripeEventFactory#API_VERSION}). */
    public BillingSimulator(URI webhookUrl, String signingSecret, long seed, double eventsPerSecond,
                            Duration badEventInterval) {
        this(webhookUrl, signingSecret, seed, eventsPerSecond, badEventInterval, StripeEventFactory.API_VERSION);
    }

    /**
     * Events follow invoice lifecycles of customers across four legal entities: subscription invoices (some naming
     * their entity only in the subscription's metadata) and one-off invoices, some with a discount, finalized, then
     * mostly paid (from basil sometimes in two partial payments), sometimes declined and retried, credited before
     * payment, voided or written off; paid ones are sometimes partly refunded, credited with a refund, or disputed (won
     * or lost). Refunds, credit notes and disputes come more often than in a real account, so that a short run shows
     * every kind. An invoice's next step waits until the receiver has answered its previous one; apart from that up to
     * {@value #MAX_IN_FLIGHT} deliveries are in flight, so, as with Stripe, arrival order is not guaranteed. Each attempt
     * is signed afresh and non-2xx answers are retried with backoff, except 4xx answers to an unknown entity or a wrong
     * signature (a 409 to a re-delivery is retried).
     *
     * @param seed             makes the generated stream (customers, amounts, ids, bad-delivery slots) reproducible
     * @param badEventInterval how often one deliberately bad delivery is made, counted in events at the given rate, in
     *                         turn: an invoice for {@value #UNKNOWN_LEGAL_ENTITY} (to be dead-lettered), one with a wrong
     *                         signature (to be answered 400), and an exact re-delivery of an accepted event (a duplicate,
     *                         to be answered 2xx without reposting)
     * @param apiVersion       the Stripe API version of the events, one of {@link StripeEventFactory#API_VERSIONS}
     */
    public BillingSimulator(URI webhookUrl, String signingSecret, long seed, double eventsPerSecond,
                            Duration badEventInterval, String apiVersion) {
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
        this.events = new StripeEventFactory(random, apiVersion);
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
        LOG.info("Billing simulator posting {} events/s of Stripe API {} to {} (one bad delivery every {} events)",
                eventsPerSecond, events.apiVersion(), webhookUrl, badEventEvery);
    }

    /**
     * Stops making new events, lets the deliveries in flight and their retries finish, then closes: what the simulated
     * platform lists in its API has then been delivered (or given up on), as a test that compares the two needs. Returns
     * false when something was still under way after {@code timeout} (it is abandoned, as by {@link #close}).
     */
    public boolean finish(Duration timeout) throws InterruptedException {
        generating = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean settled;
        while (!(settled = requests.isEmpty() && retryQueue.isEmpty()) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        close();
        return settled;
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

    /** The Stripe API version of the events sent. */
    /**
     * The simulated account's customers as Stripe's API returns them ({@code GET /v1/customers/{id}}), with the
     * metadata a merchant keeps there ({@code legal_entity}, {@code global_customer_id}), for the billing API peer.
     */
    public List<com.fasterxml.jackson.databind.JsonNode> customerObjects() {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<com.fasterxml.jackson.databind.JsonNode> out = new java.util.ArrayList<>();
        for (Customer c : customers) {
            com.fasterxml.jackson.databind.node.ObjectNode o = json.createObjectNode();
            o.put("id", c.id()).put("object", "customer").put("currency", c.entity().currency().toLowerCase(Locale.ROOT))
                    .put("livemode", false);
            o.putObject("metadata").put("legal_entity", c.entity().id()).put("global_customer_id", c.globalId());
            out.add(o);
        }
        return out;
    }

    public String apiVersion() {
        return events.apiVersion();
    }

    public Stats stats() {
        List<String> reasons;
        synchronized (recentRejections) {
            reasons = List.copyOf(recentRejections);
        }
        return new Stats(sent.get(), accepted.get(), duplicatesAcknowledged.get(), rejected.get(), failed.get(),
                retried.get(), reasons, snapshot(sentPerEntity), snapshot(ledgerPerEntity), snapshot(sentPerType));
    }

    private static Map<String, Long> snapshot(Map<String, AtomicLong> counters) {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((key, count) -> out.put(key, count.get()));
        return Collections.unmodifiableMap(out);
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
                } else if (generating && next - now <= 0) {
                    // after a stall (slow endpoint, long GC) resume the rate instead of bursting to catch up
                    next = now - next > TimeUnit.SECONDS.toNanos(1) ? now + period : next + period;
                    Delivery delivery = nextDelivery();
                    sent.incrementAndGet();
                    count(sentPerEntity, delivery.legalEntity);
                    if (delivery.kind == Kind.NORMAL || delivery.kind == Kind.UNKNOWN_ENTITY) {
                        count(sentPerType, delivery.type);
                        if (delivery.ledgerEffect) {
                            count(ledgerPerEntity, delivery.legalEntity);
                        }
                    }
                    send(delivery);
                } else {
                    long wake = retry != null && (!generating || retry.dueNanos - next < 0) ? retry.dueNanos
                            : generating ? next : now + MAX_SLEEP.toNanos();
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

    private static void count(Map<String, AtomicLong> counters, String key) {
        counters.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
    }

    private Delivery nextDelivery() {
        generated++;
        if (generated % badEventEvery == 0) {
            Kind kind = List.of(Kind.UNKNOWN_ENTITY, Kind.BAD_SIGNATURE, Kind.REDELIVERY).get(nextBadKind++ % 3);
            if (kind == Kind.UNKNOWN_ENTITY) {
                Customer stranger = new Customer(events.newCustomerId(), "cust-" + (900_000 + random.nextInt(99_999)),
                        UNKNOWN_ENTITY);
                return newDelivery(Kind.UNKNOWN_ENTITY, stranger.entity().id(), finalized(stranger), null);
            }
            if (kind == Kind.BAD_SIGNATURE) {
                Customer customer = customers.get(random.nextInt(customers.size()));
                return newDelivery(Kind.BAD_SIGNATURE, customer.entity().id(), finalized(customer), null);
            }
            Delivery original = redeliveryCandidate();
            if (original != null) {
                return new Delivery(Kind.REDELIVERY, original.eventId, original.type, original.legalEntity, original.body,
                        null, false);
            }
        }
        if (outbox.isEmpty()) {
            nextStep();
        }
        return outbox.poll();
    }

    /** Queues the events of the next step: a new invoice, or what happens next to one whose last step was answered. */
    private void nextStep() {
        lifecycles.removeIf(l -> l.done || l.broken);
        Lifecycle lifecycle = null;
        if (!lifecycles.isEmpty() && (lifecycles.size() >= MAX_OPEN_INVOICES || random.nextDouble() < 0.6)) {
            // one of the oldest invoices not waiting for an answer, so that lives run their course in a short run
            List<Lifecycle> oldest = new ArrayList<>(NEXT_STEP_CANDIDATES);
            for (Iterator<Lifecycle> it = lifecycles.iterator(); it.hasNext() && oldest.size() < NEXT_STEP_CANDIDATES; ) {
                Lifecycle candidate = it.next();
                if (candidate.ready()) {
                    oldest.add(candidate);
                }
            }
            lifecycle = oldest.isEmpty() ? null : oldest.get(random.nextInt(oldest.size()));
        }
        List<ObjectNode> step = lifecycle == null ? List.of() : followUp(lifecycle, nowSeconds());
        if (step.isEmpty()) {
            Customer customer = customers.get(random.nextInt(customers.size()));
            lifecycle = new Lifecycle(customer, newInvoice(customer));
            lifecycles.add(lifecycle);
            step = List.of(events.invoiceFinalized(lifecycle.invoice, nowSeconds()));
        }
        lifecycle.pending.addAndGet(step.size());
        for (ObjectNode event : step) {
            outbox.add(newDelivery(Kind.NORMAL, lifecycle.customer.entity().id(), event, lifecycle));
        }
    }

    /**
     * What happens next to an invoice whose previous events were answered: its events, or none when its life is over
     * (marked done). Rates per step, roughly: an open invoice is mostly paid (from basil a fifth of them in two partial
     * payments), sometimes declined (about one attempt in six; written off after {@value #MAX_ATTEMPTS} attempts),
     * credited before payment, voided (5 %) or, if sent for payment, written off (8 %); of paid invoices about 16 % are
     * partly refunded, 10 % credited with a refund and 5 % disputed (won or lost, even odds), more than in a real
     * account so that a short run shows every kind.
     */
    private List<ObjectNode> followUp(Lifecycle lifecycle, long now) {
        StripeInvoice invoice = lifecycle.invoice;
        double r = random.nextDouble();
        if (invoice.disputeOpen()) {
            lifecycle.done = true;
            return r < 0.5
                    ? List.of(events.chargeDisputeFundsReinstated(invoice, now), events.chargeDisputeClosed(invoice, now + 1))
                    : List.of(events.chargeDisputeClosed(invoice, now));
        }
        if (invoice.open()) {
            boolean automatic = invoice.spec().kind() == InvoiceSpec.Kind.SUBSCRIPTION;
            boolean untouched = invoice.paymentCount() == 0 && invoice.creditNoteCount() == 0;
            if (automatic && invoice.attemptCount() >= MAX_ATTEMPTS) {
                // after the last smart retry the subscription's setting marks the invoice uncollectible
                lifecycle.done = true;
                return List.of(events.invoiceMarkedUncollectible(invoice, now));
            }
            if (r < 0.05 && untouched) {
                lifecycle.done = true;
                return List.of(events.invoiceVoided(invoice, now));
            }
            if (r < 0.10 && invoice.paymentCount() == 0) {
                List<ObjectNode> credit = creditNote(invoice, now);
                if (!credit.isEmpty()) {
                    return credit;
                }
            }
            if (r < 0.18 && !automatic) {
                lifecycle.done = true; // past due and given up
                return List.of(events.invoiceMarkedUncollectible(invoice, now));
            }
            if (r < 0.28 && automatic) {
                return List.of(events.invoicePaymentFailed(invoice, now));
            }
            long remaining = invoice.amountRemainingMinor();
            if (events.invoicePayments() && invoice.paymentCount() == 0 && remaining >= 2 && random.nextDouble() < 0.2) {
                long part = Math.max(1, Math.min(remaining - 1, Math.round(remaining * (0.3 + 0.4 * random.nextDouble()))));
                return List.of(events.invoicePaymentPaid(invoice, part, now));
            }
            List<ObjectNode> paid = events.payInFull(invoice, now);
            lifecycle.done = random.nextDouble() < 0.6 || invoice.refundableMinor() == 0;
            return paid;
        }
        if (!invoice.paid() || r < 0.23) {
            lifecycle.done = true;
            return List.of();
        }
        List<ObjectNode> step = List.of();
        if (r < 0.63 && invoice.refundableMinor() > 0) {
            long refundable = invoice.refundableMinor();
            long amount = Math.max(1, Math.round(refundable * (0.1 + 0.4 * random.nextDouble())));
            step = List.of(events.refundCreated(invoice, amount, now), events.chargeRefunded(invoice, now));
        } else if (r < 0.88) {
            step = creditNote(invoice, now);
        } else if (invoice.disputable()) {
            // card chargebacks take the amount and the fee at once: created and funds_withdrawn come together
            return List.of(events.chargeDisputeCreated(invoice, now), events.chargeDisputeFundsWithdrawn(invoice, now));
        }
        lifecycle.done = step.isEmpty() || random.nextDouble() < 0.5 || invoice.refundableMinor() == 0;
        return step;
    }

    /** A credit note of one unit of a line, when the invoice can take it (before payment, or refunded after). */
    private List<ObjectNode> creditNote(StripeInvoice invoice, long now) {
        int lines = invoice.spec().lines().size();
        int line = random.nextInt(lines);
        for (int i = 0; i < lines && invoice.creditableQuantity(line) == 0; i++) {
            line = (line + 1) % lines;
        }
        if (invoice.creditableQuantity(line) == 0) {
            return List.of();
        }
        long total = events.creditNoteTotal(invoice, line, 1);
        boolean fits = invoice.open() ? total < invoice.amountRemainingMinor() : total <= invoice.refundableMinor();
        return fits && total > 0 ? events.creditNoteCreated(invoice, line, 1, now) : List.of();
    }

    private ObjectNode finalized(Customer customer) {
        return events.invoiceFinalized(newInvoice(customer), nowSeconds());
    }

    private StripeInvoice newInvoice(Customer customer) {
        Entity entity = customer.entity();
        boolean subscription = entity == UNKNOWN_ENTITY || random.nextDouble() < 0.7;
        List<InvoiceSpec.Line> lines = new ArrayList<>();
        if (subscription) {
            lines.add(new InvoiceSpec.Line("1 x Pro plan (at " + money(entity, entity.planMinor()) + " / month)", 1,
                    entity.planMinor()));
            int seats = random.nextInt(6);
            if (seats > 0) {
                lines.add(new InvoiceSpec.Line(seats + " x Extra seat (at " + money(entity, entity.seatMinor()) + " / month)",
                        seats, seats * entity.seatMinor()));
            }
            if (random.nextDouble() < 0.3) {
                lines.add(new InvoiceSpec.Line("Usage overage", 1, 50 + random.nextInt(5_000), true));
            }
        } else {
            long dayRate = 10 * entity.seatMinor();
            int days = 1 + random.nextInt(4);
            lines.add(new InvoiceSpec.Line(days + " x Onboarding workshop (at " + money(entity, dayRate) + " / day)", days,
                    days * dayRate));
            if (random.nextDouble() < 0.5) {
                lines.add(new InvoiceSpec.Line("Data migration", 1, 5 * entity.planMinor()));
            }
        }
        // many integrations put the legal entity on the subscription only; Stripe snapshots it onto its invoices
        boolean entityOnInvoice = entity == UNKNOWN_ENTITY || !subscription || random.nextDouble() < 0.6;
        BigDecimal discount = random.nextDouble() < 0.15 ? BigDecimal.valueOf(random.nextBoolean() ? 10 : 20) : BigDecimal.ZERO;
        // Stripe finalizes subscription invoices about an hour after creating them
        return events.issue(new InvoiceSpec(customer.id(), customer.globalId(), entity.id(), entity.currency(), lines,
                entity.taxRatePercent(), nowSeconds() - 3_600,
                subscription ? InvoiceSpec.Kind.SUBSCRIPTION : InvoiceSpec.Kind.ONE_OFF, entityOnInvoice, discount));
    }

    private Delivery newDelivery(Kind kind, String legalEntity, ObjectNode event, Lifecycle lifecycle) {
        return new Delivery(kind, event.path("id").asText(), event.path("type").asText(), legalEntity,
                StripeEventFactory.toBytes(event), lifecycle, ledgerEffect(event));
    }

    /**
     * Whether an event carries money a ledger books: an invoice issued, voided or written off, a payment (from basil the
     * InvoicePayments; {@code invoice.paid} only repeats their money), a refund, a credit note, funds a dispute moved
     * (opened and won disputes move none of their own). Failed payment attempts and {@code charge.refunded} move none.
     */
    private boolean ledgerEffect(ObjectNode event) {
        String status = event.path("data").path("object").path("status").asText();
        return switch (event.path("type").asText()) {
            case "invoice.finalized", "invoice.voided", "invoice_payment.paid", "refund.created", "credit_note.created",
                 "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated" -> true;
            case "invoice.marked_uncollectible" -> event.path("data").path("object").path("amount_remaining").asLong() > 0;
            case "invoice.paid" -> !events.invoicePayments();
            case "charge.dispute.closed" -> status.equals("lost");
            default -> false;
        };
    }

    /**
     * Hands each object a genuine event carries, as it is then, to {@code sink}: the billing platform's API knows its
     * objects (their latest state) as its events showed them, so reading billing from it agrees with its events.
     */
    public void onObject(java.util.function.Consumer<com.fasterxml.jackson.databind.JsonNode> sink) {
        this.objects = sink;
    }

    private void send(Delivery delivery) throws InterruptedException {
        if (delivery.kind == Kind.NORMAL && delivery.attempts == 0) {
            try {
                objects.accept(OBJECTS.readTree(delivery.body).path("data").path("object"));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("the simulator's own event does not parse", e);
            }
        }
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
            try {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                // requests cancelled by close() are abandoned, not failed
                if (!(cause instanceof CancellationException) && (running || cause == null)) {
                    settle(delivery, answer, cause);
                }
            } finally {
                // after settling, so that a retry is queued before the request is gone (finish() watches both)
                requests.remove(response);
                inFlight.release();
            }
        });
    }

    private void settle(Delivery delivery, HttpResponse<String> response, Throwable error) {
        int status = response == null ? 0 : response.statusCode();
        String answer = response != null ? response.body() : String.valueOf(error);
        delivery.attempts++;
        boolean clientError = status >= 400 && status < 500;
        if (status >= 200 && status < 300) {
            settled(delivery, true);
            if (delivery.kind == Kind.REDELIVERY) {
                duplicatesAcknowledged.incrementAndGet();
            } else {
                accepted.incrementAndGet();
                if (delivery.kind == Kind.NORMAL) {
                    rememberAccepted(delivery);
                }
            }
        } else if (clientError && delivery.kind.rejectable()) {
            settled(delivery, false);
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
            settled(delivery, false);
            rejected.incrementAndGet();
            recordRejection(delivery, status, answer);
            LOG.warn("{} {} rejected with {} after {} attempts: {}", delivery.type, delivery.eventId, status,
                    delivery.attempts, abbreviate(answer));
        } else {
            settled(delivery, false);
            failed.incrementAndGet();
            LOG.warn("{} {} failed after {} attempts, last answer {}: {}", delivery.type, delivery.eventId,
                    delivery.attempts, statusText(status), abbreviate(answer));
        }
    }

    /** An invoice whose event was not taken has no next step: the receiver would not know what it is about. */
    private static void settled(Delivery delivery, boolean taken) {
        if (delivery.lifecycle != null) {
            if (!taken) {
                delivery.lifecycle.broken = true;
            }
            delivery.lifecycle.pending.decrementAndGet();
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
