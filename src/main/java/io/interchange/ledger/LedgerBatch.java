package io.interchange.ledger;

import io.interchange.config.Settings;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.kafka.KafkaBatches;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.ErpConfirmations;
import io.interchange.store.IdempotencyStore;
import io.interchange.store.LoyaltyFilings;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.support.DefaultMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * The billing-ledger flow's fast path, a poll's batch of canonical events at a time: every event is mapped to its
 * posting, the batch's posting keys are claimed in one group commit, journal entries go to each ERP in requests of up
 * to its bulk size (S/4HANA: several entries per JournalEntryBulkCreateRequest; the legacy ERP: one journal per
 * request), through the ERP's route so that its rate limit holds, several requests in flight at once for different
 * customers ({@link #lanes}), the confirmations are recorded in one transaction once every request is answered and
 * published as one batch of Kafka sends, the keys confirmed in one group commit, and only then the batch's offsets
 * committed.
 *
 * <p>Everything the fast path cannot settle goes one by one through the single-posting route ({@link #SINGLE}), which
 * carries the redelivery and dead-letter policy and through which an operator replays: events that cannot be mapped,
 * keys another delivery holds, entries the ERP rejected, and every entry of a request that failed as a whole
 * (unreachable, timed out, garbage). Where the outcome of an earlier attempt is unknown (a request that failed as a
 * whole, a rejection, a key taken over from a delivery that died), the single route first asks the ERP what its ledger
 * holds under the posting's reference ({@link LedgerSettlement}), so an entry already posted is confirmed, not sent
 * again, and never dead-lettered as a failure.
 *
 * <p>A customer's events are posted in their order: they are all sent by one lane, one request after another, and
 * once one of them leaves the fast path, the customer's later events in the batch follow it one by one.
 */
public final class LedgerBatch {

    /** The single-posting route: a dead letter's replay goes through it too. */
    public static final String SINGLE = "direct:billing.ledger-posting";
    /**
     * Exchange property of a posting handed to the single route after its bulk request failed: the failure, which
     * the single route takes as its first attempt's (see {@link #failedInBulk}), so the route's policy counts the bulk
     * request as one attempt: a permanent failure is dead-lettered without another request, a transient one retried.
     */
    public static final String BULK_FAILURE = "InterchangeBulkFailure";
    /**
     * The route that sends a batch's confirmation records to the ledger topic (a Kafka producer owned by a route,
     * not by the template: a template's Kafka producer did not survive the consumer route being stopped and started).
     */
    public static final String PUBLISH = "direct:billing.ledger-publish";

    private static final Logger LOG = LoggerFactory.getLogger(LedgerBatch.class);
    private static final int PROGRESS_BATCH = 50;

    private final LedgerPostingService service;
    private final IdempotencyStore idempotency;
    private final KafkaBatches.Template template = new KafkaBatches.Template();
    /** The ERP target whose events this batch consumer posts; the others' it skips (their own consumer posts them). */
    private final String target;
    /** Whether this consumer also takes the events no target can be found for (unknown entity, unreadable). */
    private final boolean ownsUnroutable;
    private final ErpBreakers breakers;
    private final LedgerHold hold;
    /** The daily filing: this consumer records the transactions it owns of the entities filed daily. */
    private final LoyaltyDailyFiling filing;
    /** Most requests a batch keeps in flight to the target at once, one per lane of customers. */
    private final int requestsInFlight;
    /** Consumer threads sharing this batch consumer, each with lanes of its own. */
    private final int consumers;
    /** Threads of the lanes beyond the one the consumer thread sends itself: made by the first batch that needs them. */
    private ExecutorService lanePool;
    private CamelContext lanePoolContext;

    /**
     * A batch consumer for one ERP target's events; {@code ownsUnroutable} for exactly one target, which dead-letters
     * the events no target can be found for. Each of its {@code consumers} threads keeps up to
     * {@code requestsInFlight} requests in flight to the target (1: one after another).
     */
    public LedgerBatch(LedgerPostingService service, IdempotencyStore idempotency, String target, boolean ownsUnroutable,
                       ErpBreakers breakers, LoyaltyDailyFiling filing, int requestsInFlight, int consumers) {
        if (requestsInFlight < 1) {
            throw new IllegalArgumentException(Settings.LEDGER_REQUESTS_IN_FLIGHT.key() + " must be at least 1, not "
                    + requestsInFlight);
        }
        this.service = service;
        this.idempotency = idempotency;
        this.target = target;
        this.ownsUnroutable = ownsUnroutable;
        this.breakers = breakers;
        this.filing = filing;
        this.hold = new LedgerHold(target);
        this.requestsInFlight = requestsInFlight;
        this.consumers = Math.max(1, consumers);
    }

    public String target() {
        return target;
    }

    /** How this batch consumer waits while its target's breaker is open. */
    public LedgerHold hold() {
        return hold;
    }

    /** Stops the flow's producer template (its Kafka producer) and the lanes' threads. */
    public void close() {
        template.close();
        synchronized (this) {
            if (lanePool != null) lanePoolContext.getExecutorServiceManager().shutdown(lanePool);
            lanePool = null;
        }
    }

    /**
     * One event of the batch on its way. {@code envelope} is null when the record has no readable CloudEvents headers;
     * {@code posting} is null when the event has no ledger effect or cannot be mapped ({@code refused}).
     */
    private static final class Item {
        final Exchange record;
        final int index;
        final Envelope envelope;
        final LedgerPosting posting;
        final boolean refused;
        /** Another target's event: its own consumer posts it. */
        boolean skipped;
        /** A loyalty transaction of an entity filed daily, to be recorded for its day's filing. */
        LoyaltyFilings.Item filed;
        final String correlationId;
        String key;
        ErpConnector.ErpAnswer answer;
        ErpConfirmations.Confirmation confirmation;

        Item(Exchange record, int index, Envelope envelope, LedgerPosting posting, boolean refused) {
            this.record = record;
            this.index = index;
            this.envelope = envelope;
            this.posting = posting;
            this.refused = refused;
            this.correlationId = envelope == null ? null
                    : envelope.correlationId() != null ? envelope.correlationId() : envelope.id();
        }
    }

    /** A record leaving the fast path, with the failure of its bulk request if it had one. */
    private record Diverted(Exchange record, int index, Exception failure, boolean toErp) { }

    /**
     * The records leaving the fast path, and from which position in the batch each customer's events follow them.
     * Lanes add to it at once; {@link #records} is read once they are all done.
     */
    private static final class OneByOne {
        final List<Diverted> records = new ArrayList<>();
        private final Map<String, Integer> customerFrom = new HashMap<>();

        synchronized void add(Item item, Exception failure) {
            records.add(new Diverted(item.record, item.index, failure, item.posting != null));
            String customer = item.envelope == null ? null : item.envelope.subject();
            if (customer != null) customerFrom.merge(customer, item.index, Math::min);
        }

        /** True when an earlier event of this item's customer left the fast path: this one must follow it. */
        synchronized boolean follows(Item item) {
            Integer from = item.envelope == null || item.envelope.subject() == null ? null
                    : customerFrom.get(item.envelope.subject());
            return from != null && from < item.index;
        }
    }

    /**
     * The single route's first step after reading the event: the failure of the bulk request the posting was in
     * counts as its first attempt. A transient one is rethrown, once (the policy retries, and the retry reads the
     * ledger first); a permanent one (a rejection, an answer that is not a confirmation) is kept for
     * {@link LedgerSettlement}, which dead-letters it only if the ERP does not hold the entry.
     */
    public static void failedInBulk(Exchange exchange) throws Exception {
        Exception failure = exchange.getProperty(BULK_FAILURE, Exception.class);
        if (failure != null) {
            exchange.removeProperty(BULK_FAILURE);
            if (FailureClassifier.isTransient(failure)) throw failure;
            exchange.setProperty(LedgerSettlement.UNSETTLED_FAILURE, failure);
        }
    }

    /** What happened to a batch's events, for its log line; read once the lanes are done. */
    private static final class Tally {
        int posted;
        int requests;
        int reused;
        int alreadyDone;
        int noEffect;
        int otherTarget;
        int held;
        int recorded;

        /** A request a lane sent, and how many of its entries the ERP posted. */
        synchronized void sent(int postedEntries) {
            requests++;
            posted += postedEntries;
        }
    }

    /** The batch consumer's step: the body is the poll's list of record exchanges. */
    public void process(Exchange batchExchange) {
        List<?> polled = batchExchange.getMessage().getBody(List.class);
        if (polled == null || polled.isEmpty()) return;
        // records of a partition a rebalance took away (or restarted) since they were read are another reader's now
        List<Exchange> records = KafkaBatches.stillOwned(polled);
        // records read before their partition was sought back for a hold come again, in order
        records = LedgerHold.notReadAgainYet(records);
        if (records.isEmpty()) return;
        if (!breakers.permits(target)) {
            // the target's breaker is open: the whole batch waits, read again once probes may go through (its
            // transactions for the daily filing too: the filing job closes no day before they are recorded)
            hold.hold(LedgerHold.firstOffsets(records));
            return;
        }
        CamelContext context = batchExchange.getContext();
        ProducerTemplate producer = template.get(context);
        Tally tally = new Tally();
        OneByOne oneByOne = new OneByOne();
        List<Item> bulk = new ArrayList<>();
        List<LoyaltyFilings.Item> toFile = new ArrayList<>();
        var held = new java.util.IdentityHashMap<org.apache.kafka.clients.consumer.Consumer<?, ?>,
                Map<org.apache.kafka.common.TopicPartition, Long>>();
        for (int i = 0; i < records.size(); i++) {
            Item item = map(records.get(i), i);
            if (item.skipped) {
                tally.otherTarget++;
            } else if (item.filed != null) {
                toFile.add(item.filed);
            } else if (item.refused || (item.posting != null && oneByOne.follows(item))) {
                // the single route maps it again and dead-letters it with the reason, or posts it in order
                oneByOne.add(item, null);
            } else if (item.posting == null) {
                tally.noEffect++;
                LOG.debug("Event {} ({}) has no ledger effect", item.envelope.id(), item.envelope.type());
            } else {
                bulk.add(item);
            }
        }
        // recorded before anything is posted: should the store fail, the batch is read again as a whole
        filing.record(toFile);
        tally.recorded = toFile.size();
        List<Item> claimed = claim(bulk, oneByOne, tally);
        try {
            post(claimed, context, producer, oneByOne, tally);
        } finally {
            // one by one in the batch's order: a customer's events stay in order
            oneByOne.records.sort(Comparator.comparingInt(Diverted::index));
            for (Diverted d : oneByOne.records) {
                // a held record holds every later one of its partition: they are read again, in order, after it
                if (LedgerHold.isHeld(held, d.record())) continue;
                if (d.toErp() && (d.failure() instanceof ErpHeld || !breakers.permits(target))) {
                    LedgerHold.add(held, d.record());
                    continue;
                }
                Exchange result = KafkaBatches.forwardForResult(producer, SINGLE, d.record(),
                        d.failure() == null ? Map.of() : Map.of(BULK_FAILURE, d.failure()));
                if (ErpBreakers.isHeld(result)) LedgerHold.add(held, d.record());
            }
        }
        MDC.remove(ExchangeKeys.CORRELATION_ID);
        List<Exchange> settled = records;
        if (!held.isEmpty()) {
            settled = new ArrayList<>(records.size());
            for (Exchange r : records) {
                if (LedgerHold.isHeld(held, r)) tally.held++;
                else settled.add(r);
            }
        }
        // a progress line for backlogs; single events at a low rate have their own lines, and a batch this target
        // only read past (the other ERP's events, events without ledger effect) says nothing worth a line
        boolean passedOnly = tally.noEffect + tally.otherTarget == records.size();
        if ((records.size() >= PROGRESS_BATCH && !passedOnly) || !oneByOne.records.isEmpty() || tally.held > 0) {
            LOG.info("Ledger batch of {} event(s) for {}: {} posted in {} request(s), {} confirmed earlier, {} already "
                            + "posted, {} recorded for the daily filing, {} without ledger effect, {} one by one, {} for "
                            + "the other ERP, {} held",
                    records.size(), target, tally.posted, tally.requests, tally.reused, tally.alreadyDone,
                    tally.recorded, tally.noEffect, oneByOne.records.size(), tally.otherTarget, tally.held);
        }
        if (!settled.isEmpty()) KafkaBatches.commitOffsets(settled);
        if (!held.isEmpty()) hold.hold(held);
    }

    /**
     * The event and its posting, if it has one; {@link Item#skipped} when it is another target's (known from its legal
     * entity and posting date before mapping it, {@link LedgerPostingService#route}, else from its mapped posting). An
     * event that cannot be mapped is the unroutable owner's: the target its entity and date name, else the one that
     * {@code ownsUnroutable}. The owner hands it to the single route to be dead-lettered with the reason.
     */
    private Item map(Exchange record, int index) {
        Envelope envelope = null;
        LedgerPostingService.Routing routing = null;
        try {
            Message in = record.getMessage();
            envelope = CloudEventHeaders.read(in);
            byte[] data = in.getBody(byte[].class);
            routing = service.route(envelope, data);
            if (routing.target() != null && !routing.target().equals(target)) return skipped(record, index, envelope);
            if (filing.files(envelope)) {
                // recorded by the target its entity and date name; where none can be told (an entity not in the
                // routing table), by the unroutable owner, for the filing job to report
                if (routing.target() == null && !ownsUnroutable) return skipped(record, index, envelope);
                Item item = new Item(record, index, envelope, null, false);
                item.filed = filing.item(envelope, data, routing.canonical());
                return item;
            }
            LedgerPosting posting = service.prepare(envelope, data, routing.canonical()).orElse(null);
            if (posting != null) {
                service.connectorFor(posting);
                if (!posting.erpTarget().equals(target)) {
                    if (routing.target() == null) return skipped(record, index, envelope);
                    // the other target's consumers passed it by on its date, so it is this one's: the single route
                    // gets it with the reason, and posts it where the posting names or dead-letters it
                    throw new PermanentFailure("posting " + posting.postingId() + " names ERP " + posting.erpTarget()
                            + ", but its entity and posting date route it to " + routing.target());
                }
            }
            return new Item(record, index, envelope, posting, false);
        } catch (RuntimeException e) {
            boolean owner = routing != null && routing.target() != null ? routing.target().equals(target) : ownsUnroutable;
            if (!owner) return skipped(record, index, envelope);
            LOG.debug("Event at position {} of the batch not mapped ({}); the single route takes it", index, e.getMessage());
            return new Item(record, index, envelope, null, true);
        }
    }

    private static Item skipped(Exchange record, int index, Envelope envelope) {
        Item item = new Item(record, index, envelope, null, false);
        item.skipped = true;
        return item;
    }

    /** Claims the keys; returns the items this batch now holds, in their order. */
    private List<Item> claim(List<Item> bulk, OneByOne oneByOne, Tally tally) {
        if (bulk.isEmpty()) return List.of();
        List<String> keys = new ArrayList<>(bulk.size());
        for (Item item : bulk) keys.add(LedgerPostingService.postingKey(item.envelope.id()));
        List<IdempotencyStore.DuplicateState> states;
        try {
            states = idempotency.claimAllNoting(keys);
        } catch (RuntimeException e) {
            LOG.warn("Ledger batch: posting keys could not be claimed ({}); posting {} event(s) one by one",
                    FailureClassifier.reason(e), bulk.size());
            for (Item item : bulk) oneByOne.add(item, null);
            return List.of();
        }
        List<Item> claimed = new ArrayList<>(bulk.size());
        for (int i = 0; i < bulk.size(); i++) {
            Item item = bulk.get(i);
            IdempotencyStore.DuplicateState state = states.get(i);
            if (state == IdempotencyStore.DuplicateState.DONE) {
                tally.alreadyDone++;
                continue;
            }
            if (state == null || state == IdempotencyStore.DuplicateState.TAKEN_OVER) item.key = keys.get(i);
            if (state == IdempotencyStore.DuplicateState.TAKEN_OVER) {
                // its earlier holder died or stalled, perhaps after the ERP posted it: given up as unsettled, so the
                // single route (or a later batch, should this one not finish) takes it over and reads the ledger first
                releaseUnsettled(item);
                oneByOne.add(item, null);
            } else if (state == IdempotencyStore.DuplicateState.IN_PROGRESS || oneByOne.follows(item)) {
                // another delivery holds it (the single route waits for it), or an earlier event of the customer left
                release(item);
                oneByOne.add(item, null);
            } else {
                claimed.add(item);
            }
        }
        return claimed;
    }

    /**
     * Posts the claimed items in bulk, records and publishes the confirmations, confirms the keys. On a failure of
     * the store or the broker, the items not yet confirmed are released and go one by one.
     */
    private void post(List<Item> claimed, CamelContext context, ProducerTemplate producer, OneByOne oneByOne, Tally tally) {
        if (claimed.isEmpty()) return;
        List<Item> confirmed = new ArrayList<>(claimed.size());
        try {
            Map<String, ErpConfirmations.Confirmation> earlier = service.existingAll(postings(claimed));
            List<Item> toPost = new ArrayList<>();
            for (Item item : claimed) {
                item.confirmation = earlier.get(item.key);
                if (item.confirmation != null) {
                    tally.reused++;
                    confirmed.add(item);
                } else {
                    toPost.add(item);
                }
            }
            Map<String, List<Item>> byTarget = new LinkedHashMap<>();
            for (Item item : toPost) byTarget.computeIfAbsent(item.posting.erpTarget(), t -> new ArrayList<>()).add(item);
            List<Item> posted = new ArrayList<>(toPost.size());
            for (var target : byTarget.entrySet()) {
                posted.addAll(postInBulk(service.connectorFor(target.getValue().get(0).posting), target.getValue(), context,
                        producer, oneByOne, tally));
            }
            // one transaction for the whole batch: were the process to die before it, the ERPs' idempotency (S/4HANA
            // by entry UUID, the legacy ERP by reference) answers the postings sent again with the same documents
            record(posted);
            confirmed.addAll(posted);
            // keep the batch's order on the ledger topic
            confirmed.sort(Comparator.comparingInt(claimed::indexOf));
            publish(confirmed, context, producer);
            List<String> keys = new ArrayList<>(confirmed.size());
            for (Item item : confirmed) keys.add(item.key);
            idempotency.confirmAll(keys);
        } catch (RuntimeException e) {
            LOG.warn("Ledger batch: {} posting(s) not settled ({}); each goes on one by one, reusing a confirmation "
                    + "already recorded", claimed.size(), FailureClassifier.reason(e));
            for (Item item : claimed) {
                if (item.key != null) {
                    // some may have reached the ERP before the failure
                    releaseUnsettled(item);
                    oneByOne.add(item, null);
                }
            }
        }
    }

    /**
     * One target's items in requests of up to its bulk size, up to {@link #requestsInFlight} at once, one per lane of
     * customers ({@link #lanes}); returns the items the ERP posted, with its answers, in the batch's order, once every
     * lane is done.
     *
     * <p>Lanes of our own rather than a split with parallel processing: the exactly-once bookkeeping needs every
     * request's outcome in one place before anything is recorded (the posted items for the batch's one store
     * transaction, the diverted ones for the single route in the batch's order, the held ones for the partition's
     * hold), and between two requests of a lane a customer's later events must see whether an earlier one left the
     * fast path ({@link OneByOne#follows}): state that lives across requests and lanes, not in one exchange of a split.
     */
    private List<Item> postInBulk(ErpConnector erp, List<Item> items, CamelContext context, ProducerTemplate producer,
                                  OneByOne oneByOne, Tally tally) {
        List<List<Item>> lanes = lanes(items, erp.maxBulk());
        if (lanes.size() == 1) return postLane(erp, items, producer, oneByOne, tally);
        ExecutorService pool = lanePool(context);
        List<Future<List<Item>>> running = new ArrayList<>(lanes.size() - 1);
        List<List<Item>> ownLanes = new ArrayList<>(List.of(lanes.get(0)));
        for (List<Item> lane : lanes.subList(1, lanes.size())) {
            try {
                running.add(pool.submit(() -> postLane(erp, lane, producer, oneByOne, tally)));
            } catch (RejectedExecutionException e) {
                // the pool is shutting down with Camel: this thread sends the lane after its own
                ownLanes.add(lane);
            }
        }
        List<Item> accepted = new ArrayList<>(items.size());
        RuntimeException failed = null;
        try {
            for (List<Item> lane : ownLanes) accepted.addAll(postLane(erp, lane, producer, oneByOne, tally));
        } catch (RuntimeException e) {
            failed = e;
        }
        // every lane is waited for, even after one failed: what they posted and diverted is settled below, not raced
        for (Future<List<Item>> lane : running) {
            try {
                accepted.addAll(awaitLane(lane));
            } catch (RuntimeException e) {
                if (failed == null) failed = e;
                else failed.addSuppressed(e);
            }
        }
        if (failed != null) throw failed;
        accepted.sort(Comparator.comparingInt(item -> item.index));
        return accepted;
    }

    /**
     * The items split by customer into at most {@link #requestsInFlight} lanes, no more than full requests to fill, so
     * that a poll that fits in one request still goes in one. A customer's items all go to one lane, in the batch's
     * order, so they are never in two requests at once. Customers are dealt to the lanes in the order they first appear,
     * each lane filled to the same number of full requests before the next is begun (a lane by hash would end in a part-
     * full request each, and part-full requests spend the ERP's rate limit); items without a customer count as a
     * customer each.
     */
    private List<List<Item>> lanes(List<Item> items, int maxBulk) {
        int requests = (items.size() + maxBulk - 1) / maxBulk;
        int count = Math.min(requestsInFlight, requests);
        if (count <= 1) return List.of(items);
        int perLane = (requests + count - 1) / count * maxBulk;
        Map<Object, List<Item>> byCustomer = new LinkedHashMap<>();
        for (Item item : items) {
            String customer = item.envelope.subject();
            byCustomer.computeIfAbsent(customer != null ? customer : item, c -> new ArrayList<>()).add(item);
        }
        List<List<Item>> lanes = new ArrayList<>(count);
        List<Item> lane = new ArrayList<>(perLane);
        for (List<Item> customer : byCustomer.values()) {
            if (lane.size() >= perLane && lanes.size() < count - 1) {
                lanes.add(lane);
                lane = new ArrayList<>(perLane);
            }
            lane.addAll(customer);
        }
        lanes.add(lane);
        for (List<Item> l : lanes) l.sort(Comparator.comparingInt(i -> i.index));
        return lanes;
    }

    /** The lanes' threads, from Camel's thread pool manager: up to {@code requestsInFlight - 1} per consumer thread. */
    private synchronized ExecutorService lanePool(CamelContext context) {
        if (lanePool == null) {
            lanePoolContext = context;
            lanePool = context.getExecutorServiceManager().newFixedThreadPool(this,
                    "LedgerBatch-" + target + "-lanes", (requestsInFlight - 1) * consumers);
        }
        return lanePool;
    }

    /** A lane's accepted items once it is done; waits through an interrupt, which it passes on after. */
    private static List<Item> awaitLane(Future<List<Item>> lane) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return lane.get();
                } catch (InterruptedException e) {
                    // a lane still sending must finish before the batch's bookkeeping, which then settles what it did
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    if (e.getCause() instanceof Error error) throw error;
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /**
     * One lane's items in requests of up to the ERP's bulk size, one after another; returns the items the ERP posted,
     * with its answers. Runs on the consumer thread or a lane thread, whose logging MDC it sets and clears.
     */
    private List<Item> postLane(ErpConnector erp, List<Item> items, ProducerTemplate producer, OneByOne oneByOne,
                                Tally tally) {
        try {
            return postChunks(erp, items, producer, oneByOne, tally);
        } finally {
            MDC.remove(ExchangeKeys.CORRELATION_ID);
        }
    }

    private List<Item> postChunks(ErpConnector erp, List<Item> items, ProducerTemplate producer, OneByOne oneByOne,
                                  Tally tally) {
        List<Item> accepted = new ArrayList<>(items.size());
        List<Item> chunk = new ArrayList<>(erp.maxBulk());
        for (int next = 0; next < items.size() || !chunk.isEmpty(); ) {
            while (next < items.size() && chunk.size() < erp.maxBulk()) {
                Item item = items.get(next++);
                if (oneByOne.follows(item)) {
                    release(item);
                    oneByOne.add(item, null);
                } else {
                    chunk.add(item);
                }
            }
            if (chunk.isEmpty()) break;
            MDC.put(ExchangeKeys.CORRELATION_ID, chunk.get(0).correlationId);
            Exchange sent = producer.send("direct:erp." + erp.target(), e -> {
                e.setProperty(ErpConnector.POSTINGS, postings(chunk));
                e.setProperty(ExchangeKeys.CORRELATION_ID, chunk.get(0).correlationId);
            });
            Exception failure = sent.getException() != null ? sent.getException() : ErpHeld.of(sent);
            if (failure != null) {
                if (!(failure instanceof ErpHeld)) {
                    LOG.warn("Request of {} journal entry(ies) to {} failed ({}); each goes on alone with this as its "
                            + "first attempt's failure", chunk.size(), erp.target(), FailureClassifier.reason(failure));
                }
                for (Item item : chunk) {
                    // a request the breaker held was not sent; any other may have reached the ERP
                    if (failure instanceof ErpHeld) release(item);
                    else releaseUnsettled(item);
                    oneByOne.add(item, failure);
                }
                chunk.clear();
                tally.sent(0);
                continue;
            }
            @SuppressWarnings("unchecked")
            List<ErpConnector.EntryAnswer> answers = sent.getProperty(ErpConnector.ANSWERS, List.class);
            List<Item> posted = new ArrayList<>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                Item item = chunk.get(i);
                ErpConnector.EntryAnswer answer = answers.get(i);
                if (answer.answer() != null) {
                    item.answer = answer.answer();
                    posted.add(item);
                } else {
                    // the single route reads the ledger (a refusal may mean it holds the entry already), then
                    // dead-letters it with this reason if not, without sending it again
                    releaseUnsettled(item);
                    oneByOne.add(item, new PermanentFailure(answer.rejection()));
                }
            }
            chunk.clear();
            tally.sent(posted.size());
            accepted.addAll(posted);
        }
        return accepted;
    }

    /** Records the ERPs' answers of the batch's postings in one transaction. */
    private void record(List<Item> posted) {
        if (posted.isEmpty()) return;
        List<ErpConnector.ErpAnswer> answers = new ArrayList<>(posted.size());
        List<String> correlationIds = new ArrayList<>(posted.size());
        for (Item item : posted) {
            answers.add(item.answer);
            correlationIds.add(item.correlationId);
        }
        List<ErpConfirmations.Confirmation> recorded = service.recordAll(postings(posted), answers, correlationIds);
        for (int i = 0; i < posted.size(); i++) {
            Item item = posted.get(i);
            item.confirmation = recorded.get(i);
            MDC.put(ExchangeKeys.CORRELATION_ID, item.correlationId);
            LOG.info("Posting {} confirmed by {}: document {} fiscal year {}", item.posting.postingId(),
                    item.posting.erpTarget(), item.confirmation.accountingDocument(), item.confirmation.fiscalYear());
        }
        MDC.remove(ExchangeKeys.CORRELATION_ID);
    }

    /** The confirmations to the ledger topic, one batch of sends completing when every one is acknowledged. */
    private void publish(List<Item> confirmed, CamelContext context, ProducerTemplate producer) {
        if (confirmed.isEmpty()) return;
        List<Message> out = new ArrayList<>(confirmed.size());
        for (Item item : confirmed) {
            Message m = new DefaultMessage(context);
            LedgerPostingService.confirmationRecord(item.posting, item.envelope, item.confirmation, m);
            out.add(m);
        }
        Exchange sent = producer.send(PUBLISH, e -> e.getMessage().setBody(out));
        if (sent.getException() != null) {
            throw sent.getException() instanceof RuntimeException re ? re
                    : new IllegalStateException(sent.getException().getMessage(), sent.getException());
        }
    }

    /** Gives up a key whose posting was not sent. */
    private void release(Item item) {
        release(item, false);
    }

    /**
     * Gives up a key whose posting may have reached the ERP: it stays PENDING with its lease run out, so whoever claims
     * it next takes it over at once and is told so ({@link IdempotencyStore.DuplicateState#TAKEN_OVER}), and reads the
     * ledger before sending. Deleting it would forget that, were this process to die before the single route ran.
     */
    private void releaseUnsettled(Item item) {
        release(item, true);
    }

    private void release(Item item, boolean maybeSent) {
        if (item.key == null) return;
        try {
            if (maybeSent) idempotency.releaseUnsettled(item.key);
            else idempotency.remove(item.key);
        } catch (RuntimeException e) {
            // its lease runs out instead; the single route then takes it over
            LOG.warn("Posting key {} not released ({}); it is taken over when its lease runs out", item.key,
                    FailureClassifier.reason(e));
        }
        item.key = null;
    }

    private static List<LedgerPosting> postings(List<Item> items) {
        List<LedgerPosting> out = new ArrayList<>(items.size());
        for (Item item : items) out.add(item.posting);
        return out;
    }
}
