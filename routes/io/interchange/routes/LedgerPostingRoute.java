package io.interchange.routes;

import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.ledger.ErpBreakers;
import io.interchange.ledger.LedgerBatch;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.ledger.LedgerSettlement;
import io.interchange.ledger.LoyaltyDailyFiling;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.ErpConfirmations;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.slf4j.MDC;

import java.util.List;
import java.util.Locale;

/**
 * Canonical billing events to the ERP ledger: route by legal entity to S/4HANA or the legacy ERP, post each event
 * exactly once, record the ERP's confirmation and publish it to the ledger topic.
 *
 * <p>Each ERP target has its own consumer ({@link #consumerId}) in its own consumer group ({@link #consumerGroup}) on
 * the whole billing topic, posting only its target's events and skipping the others, so one ERP's outage, slowness or
 * rate limit never delays postings to the other, while a customer's events stay in order within a target. A loyalty
 * transaction of an entity filed daily is recorded for its day's filing by its target's consumer, not posted
 * ({@link LoyaltyFilingRoute} files the day). Each takes
 * a poll's batch at a time ({@link LedgerBatch}: bulk requests where the ERP takes them); what the batch cannot settle,
 * and every replay, goes through the single-posting route {@link #ROUTE_ID}, with its redelivery and dead-letter
 * policy. Both reach an ERP through its own route ({@code erp.<target>.post-journal}), and its ledger reads through
 * {@code erp.<target>.read-ledger}. Every request of either passes the ERP's one throttle ({@code erp.<target>.call},
 * built by {@link ErpCallRoute} for {@link ErpAccess}, which the customer sync's requests to the ERP pass too), which
 * holds the ERP's rate limit for all of them; one circuit breaker ({@link ErpBreakers}, also {@link ErpAccess}'s)
 * refuses calls while the ERP is failing: the postings are then held, and the target's consumer pauses (Pausable
 * EIP) until the breaker lets probes through.
 */
public class LedgerPostingRoute extends RouteBuilder {

    public static final String ROUTE_ID = "billing.ledger-posting";
    public static final String CONSUMER_ID = "billing.ledger-consumer";
    static final String POSTING = "InterchangeLedgerPosting";
    static final String CONFIRMATION = "InterchangeErpConfirmation";
    static final String ENVELOPE = "InterchangeEnvelope";
    static final String ERP_TARGET = "InterchangeErpTarget";

    private final LedgerPostingService service;
    private final List<ErpConnector> connectors;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String billingTopic;
    private final String ledgerTopic;
    private final String consumerGroup;
    private final List<LedgerBatch> batches;
    private final ErpBreakers breakers;
    private final LoyaltyDailyFiling filing;
    private final int batchSize;
    private final int consumers;

    /**
     * {@code erps}: the ERPs' access (their call routes are {@link ErpCallRoute}'s, added beside this one);
     * {@code batches}: one per ERP target, each read by its own consumer group; {@code filing}: the daily filing, whose
     * transactions the consumers record instead of posting them.
     */
    public LedgerPostingRoute(LedgerPostingService service, ErpAccess erps, IdempotencyStore idempotency,
                              RoutePolicies policies, String billingTopic, String ledgerTopic, String consumerGroup,
                              List<LedgerBatch> batches, LoyaltyDailyFiling filing, int batchSize, int consumers) {
        this.batches = batches;
        this.filing = filing;
        this.breakers = erps.breakers();
        this.batchSize = batchSize;
        this.consumers = consumers;
        this.service = service;
        this.connectors = erps.connectors();
        this.idempotency = idempotency;
        this.policies = policies;
        this.billingTopic = billingTopic;
        this.ledgerTopic = ledgerTopic;
        this.consumerGroup = consumerGroup;
    }

    /** Route id of a target's ledger consumer: {@code billing.ledger-consumer.s4hana}, {@code ...legacy}. */
    public static String consumerId(String target) {
        return CONSUMER_ID + "." + target.toLowerCase(Locale.ROOT);
    }

    /** Consumer group of a target's ledger consumers: the instance's group with the target's name appended. */
    public static String consumerGroup(String group, String target) {
        return group + "." + target.toLowerCase(Locale.ROOT);
    }

    @Override
    public void configure() {
        for (LedgerBatch batch : batches) {
            String target = batch.target();
            String t = target.toLowerCase(Locale.ROOT);
            // breakOnFirstError: if even the dead-letter store cannot take a failure, the batch is read again, not
            // skipped; offsets are committed by LedgerBatch once the batch is settled (see KafkaBatches#commitOffsets)
            from("kafka:" + billingTopic + "?groupId=" + consumerGroup(consumerGroup, target) + "&autoOffsetReset=earliest"
                    // a batch completes when it is full or 10 ms after its first record: large in a backlog, prompt when idle
                    + "&batching=true&maxPollRecords=" + batchSize + "&pollTimeoutMs=100&batchingIntervalMs=10"
                    + "&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true"
                    + "&consumersCount=" + consumers)
                    .routeId(consumerId(target))
                    // while the target's breaker is open the batch holds its events and pauses the consumer, which keeps
                    // polling; after each poll the listener resumes it once the breaker lets calls through again
                    .pausable(batch.hold().listener(), x -> breakers.permits(target)).id("ledger." + t + ".pausable")
                    .process(batch::process).id("ledger." + t + ".post-batch");
        }

        // batchWithIndividualHeaders: each record of the list keeps its own CloudEvents headers and key
        from(LedgerBatch.PUBLISH)
                .routeId("billing.ledger-publish")
                .to("kafka:" + ledgerTopic + "?batchWithIndividualHeaders=true").id("kafka.publish-ledger-confirmations");

        from(LedgerBatch.SINGLE)
                .routeId(ROUTE_ID)
                .errorHandler(policies.forRoute(ROUTE_ID))
                .process(this::begin).id("ledger.prepare-posting")
                .process(LedgerBatch::failedInBulk).id("ledger.bulk-attempt")
                .filter(exchangeProperty(POSTING).isNotNull())
                    .process(IdempotentStep.waitingForHolder(idempotency)).id("ledger.claim-posting")
                    .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                        .process(this::reuseConfirmation).id("ledger.check-earlier-confirmation")
                        .choice()
                            .when(exchangeProperty(CONFIRMATION).isNull())
                                .process(e -> e.setProperty(ErpConnector.POSTINGS,
                                        List.of(e.getProperty(POSTING, LedgerPosting.class)))).id("ledger.one-entry")
                                // reads the ERP's ledger first when an earlier attempt's outcome is unknown
                                .toD("direct:erp.${exchangeProperty." + ERP_TARGET + "}.settle").id("erp.post-journal")
                                // the ERP's circuit breaker is open: nothing was sent, the posting waits (its key released)
                                .filter(exchangeProperty(ErpBreakers.HELD).isNotNull()).stop().end()
                                .process(this::recordConfirmation).id("ledger.record-confirmation")
                        .end()
                        .process(this::confirmationRecord).id("ledger.confirmation-record")
                        .to("kafka:" + ledgerTopic).id("kafka.publish-ledger-confirmation")
                    .end()
                .end();

        for (ErpConnector erp : connectors) {
            String t = erp.target().toLowerCase(Locale.ROOT);
            // One posting, settled: the ledger is read first when an earlier attempt may have reached the ERP, and
            // again after a rejection. No error handler of its own: a failure goes back to the posting route's
            // policy, whose redelivery of erp.post-journal runs this again from the start.
            from("direct:erp." + erp.target() + ".settle")
                    .routeId("erp." + t + ".settle-posting")
                    .errorHandler(noErrorHandler())
                    .filter(LedgerSettlement::outcomeUnknown)
                        .to("direct:erp." + erp.target() + ".read").id("erp." + t + ".read-before-posting")
                        .filter(exchangeProperty(ErpBreakers.HELD).isNotNull()).stop().end()
                        .process(LedgerSettlement::settleBeforePosting).id("erp." + t + ".settle-from-ledger")
                    .end()
                    .filter(LedgerSettlement::notSettled)
                        .to("direct:erp." + erp.target()).id("erp." + t + ".post")
                        .filter(LedgerSettlement::rejected)
                            .to("direct:erp." + erp.target() + ".read").id("erp." + t + ".read-after-rejection")
                            .filter(exchangeProperty(ErpBreakers.HELD).isNotNull()).stop().end()
                            .process(LedgerSettlement::settleRejection).id("erp." + t + ".settle-rejection")
                        .end()
                    .end();

            // What the ledger holds under the posting's reference, behind the same breaker and within the same rate
            // limit as postings: while the ERP is down a read waits like a posting, it does not spend attempts.
            from("direct:erp." + erp.target() + ".read")
                    .routeId("erp." + t + ".read-ledger")
                    .errorHandler(noErrorHandler())
                    .process(e -> readRequest(e, erp)).id("erp." + t + ".build-read")
                    .circuitBreaker().id("erp." + t + ".read-circuit-breaker")
                        .resilience4jConfiguration().circuitBreaker(ErpBreakers.beanName(erp.target()))
                            .throwExceptionWhenHalfOpenOrOpenState(false).end()
                        .setProperty(ErpAccess.CALL, constant(ErpAccess.READ_CALL))
                        .to(ErpAccess.callEndpoint(erp.target())).id("erp." + t + ".read-call")
                        .process(e -> readHolding(e, erp)).id("erp." + t + ".read-holding")
                    .end()
                    .process(e -> heldIfRefused(e, erp, ErpConnector.HOLDING)).id("erp." + t + ".hold-read-if-open");

            // No error handler of its own: a failure goes back to the caller (the batch, or the settle route).
            from("direct:erp." + erp.target())
                    .routeId("erp." + t + ".post-journal")
                    .errorHandler(noErrorHandler())
                    .process(e -> soapRequest(e, erp)).id("erp." + t + ".build-request")
                    // the target's breaker: what the call fails with (transient failures) counts; while it is open the
                    // call is not made, and the exchange comes out without an exception, rejected, to be held below
                    .circuitBreaker().id("erp." + t + ".circuit-breaker")
                        .resilience4jConfiguration().circuitBreaker(ErpBreakers.beanName(erp.target()))
                            .throwExceptionWhenHalfOpenOrOpenState(false).end()
                        .setProperty(ErpAccess.CALL, constant(ErpAccess.POST_CALL))
                        .to(ErpAccess.callEndpoint(erp.target())).id("erp." + t + ".post-call")
                        .process(e -> readAnswer(e, erp)).id("erp." + t + ".read-confirmation")
                    .end() // circuit breaker
                    .process(e -> heldIfRefused(e, erp, ErpConnector.ANSWERS)).id("erp." + t + ".hold-if-open");
        }
    }

    /**
     * After the circuit breaker: a call it refused (open, or half-open with its probes taken) leaves the exchange
     * without answers and without an exception. It is marked {@link ErpBreakers#HELD}, its idempotency key is released
     * rather than confirmed, and the exchange stops here, so the single-posting route records nothing, publishes
     * nothing and spends no attempt; the batch that sent it holds the record (and the later ones of its partition).
     */
    private void heldIfRefused(Exchange exchange, ErpConnector erp, String answerProperty) {
        if (exchange.getProperty(answerProperty) != null) return;
        if (!Boolean.TRUE.equals(exchange.getProperty(ExchangePropertyKey.CIRCUIT_BREAKER_RESPONSE_SHORT_CIRCUITED,
                Boolean.class))) {
            throw new IllegalStateException(erp.target() + " route: neither an answer nor a refusal by the breaker");
        }
        exchange.setProperty(ErpBreakers.HELD, erp.target());
        exchange.setProperty(IdempotentStep.RELEASE, true);
        exchange.setRouteStop(true);
        log.info("Request of {} journal entry(ies) to {} not sent: its circuit breaker is open; they wait",
                postings(exchange).size(), erp.target());
    }

    private void begin(Exchange exchange) {
        Message in = exchange.getMessage();
        Envelope envelope = CloudEventHeaders.read(in);
        String correlationId = envelope.correlationId() != null ? envelope.correlationId() : envelope.id();
        exchange.setProperty(ExchangeKeys.CORRELATION_ID, correlationId);
        MDC.put(ExchangeKeys.CORRELATION_ID, correlationId);
        // 1, or more when a redelivery runs this again
        exchange.setProperty(ExchangeKeys.ATTEMPTS, exchange.getProperty(ExchangeKeys.ATTEMPTS, 1, Integer.class));
        exchange.setProperty(ENVELOPE, envelope);
        if (envelope.id() != null) {
            exchange.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, LedgerPostingService.postingKey(envelope.id()));
        }
        if (filing.files(envelope)) {
            // a transaction for the daily filing the batch could not record (not readable: this fails with the reason
            // and dead-letters it), or its replay: recorded, nothing posted
            filing.record(List.of(filing.item(envelope, in.getBody(byte[].class))));
            log.info("Event {} recorded for the daily filing of {}", envelope.id(), envelope.legalEntity());
            return;
        }
        service.prepare(envelope, in.getBody(byte[].class)).ifPresentOrElse(
                p -> {
                    exchange.setProperty(POSTING, p);
                    exchange.setProperty(ERP_TARGET, p.erpTarget());
                    log.info("Event {} for entity {} posts {} to {} company code {}", envelope.id(), p.legalEntity(),
                            p.kind(), p.erpTarget(), p.companyCode());
                },
                () -> log.info("Event {} ({}) has no ledger effect", envelope.id(), envelope.type()));
    }

    private void reuseConfirmation(Exchange exchange) {
        LedgerPosting p = exchange.getProperty(POSTING, LedgerPosting.class);
        service.existing(p).ifPresent(c -> {
            log.info("Posting {} was already confirmed as document {}/{}; not sent again", p.postingId(),
                    c.accountingDocument(), c.fiscalYear());
            exchange.setProperty(CONFIRMATION, c);
        });
    }

    private static void soapRequest(Exchange exchange, ErpConnector erp) {
        // an earlier attempt's answers must not pass for this call's (the breaker may refuse this one); a
        // redelivery starts afresh: what an earlier attempt's call left is not this attempt's outcome
        exchange.removeProperty(ErpConnector.ANSWERS);
        exchange.removeProperty(ExchangePropertyKey.CIRCUIT_BREAKER_RESPONSE_SHORT_CIRCUITED);
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        m.setHeader(Exchange.CONTENT_TYPE, "text/xml; charset=utf-8");
        String[] headers = erp.requestHeaders();
        for (int i = 0; i + 1 < headers.length; i += 2) m.setHeader(headers[i], headers[i + 1]);
        m.setBody(erp.request(postings(exchange)));
    }

    private static void readRequest(Exchange exchange, ErpConnector erp) {
        // an earlier attempt's holding must not pass for this read's (the breaker may refuse this one)
        exchange.removeProperty(ErpConnector.HOLDING);
        ErpConnector.ReadRequest request = erp.readRequest(postings(exchange).get(0));
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        String[] headers = request.headers();
        for (int i = 0; i + 1 < headers.length; i += 2) m.setHeader(headers[i], headers[i + 1]);
        if (request.query() != null) m.setHeader(Exchange.HTTP_QUERY, request.query());
        if (request.body() != null) m.setHeader(Exchange.CONTENT_TYPE, "text/xml; charset=utf-8");
        m.setBody(request.body());
    }

    private static void readHolding(Exchange exchange, ErpConnector erp) {
        int status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        exchange.setProperty(ErpConnector.HOLDING,
                erp.readHolding(status, exchange.getMessage().getBody(byte[].class), postings(exchange).get(0)));
    }

    private static void readAnswer(Exchange exchange, ErpConnector erp) {
        int status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        exchange.setProperty(ErpConnector.ANSWERS,
                erp.readAll(status, exchange.getMessage().getBody(byte[].class), postings(exchange)));
    }

    @SuppressWarnings("unchecked")
    private static List<LedgerPosting> postings(Exchange exchange) {
        return exchange.getProperty(ErpConnector.POSTINGS, List.class);
    }

    /** A node of its own so that a store failure here is retried without posting to the ERP again. */
    private void recordConfirmation(Exchange exchange) {
        LedgerPosting p = exchange.getProperty(POSTING, LedgerPosting.class);
        // one posting, one answer: a rejection is a permanent failure, dead-lettered with its reason
        ErpConnector.ErpAnswer answer = ((ErpConnector.EntryAnswer) exchange.getProperty(ErpConnector.ANSWERS, List.class)
                .get(0)).orThrow();
        ErpConfirmations.Confirmation c = service.record(p, answer,
                exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class));
        log.info("Posting {} confirmed by {}: document {} fiscal year {}", p.postingId(), p.erpTarget(),
                c.accountingDocument(), c.fiscalYear());
        exchange.setProperty(CONFIRMATION, c);
    }

    private void confirmationRecord(Exchange exchange) {
        LedgerPostingService.confirmationRecord(exchange.getProperty(POSTING, LedgerPosting.class),
                exchange.getProperty(ENVELOPE, Envelope.class),
                exchange.getProperty(CONFIRMATION, ErpConfirmations.Confirmation.class), exchange.getMessage());
    }
}
