package io.interchange.routes;

import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.ledger.LedgerBatch;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.ledger.LedgerSettlement;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.ErpConfirmations;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.slf4j.MDC;

import java.util.List;

/**
 * Canonical billing events to the ERP ledger: route by legal entity to S/4HANA or the legacy ERP, post each event
 * exactly once, record the ERP's confirmation and publish it to the ledger topic.
 *
 * <p>The consumer takes a poll's batch at a time ({@link LedgerBatch}: bulk requests where the ERP takes them); what
 * the batch cannot settle, and every replay, goes through the single-posting route {@link #ROUTE_ID}, with its
 * redelivery and dead-letter policy. Both reach an ERP through its own route ({@code erp.<target>.post-journal}),
 * whose throttle holds the ERP's rate limit for all of them.
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
    private final LedgerBatch batch;
    private final int batchSize;
    private final int consumers;

    public LedgerPostingRoute(LedgerPostingService service, List<ErpConnector> connectors, IdempotencyStore idempotency,
                              RoutePolicies policies, String billingTopic, String ledgerTopic, String consumerGroup,
                              LedgerBatch batch, int batchSize, int consumers) {
        this.batch = batch;
        this.batchSize = batchSize;
        this.consumers = consumers;
        this.service = service;
        this.connectors = connectors;
        this.idempotency = idempotency;
        this.policies = policies;
        this.billingTopic = billingTopic;
        this.ledgerTopic = ledgerTopic;
        this.consumerGroup = consumerGroup;
    }

    @Override
    public void configure() {
        // breakOnFirstError: if even the dead-letter store cannot take a failure, the batch is read again, not
        // skipped; offsets are committed by LedgerBatch once the batch is settled (see KafkaBatches#commitOffsets)
        from("kafka:" + billingTopic + "?groupId=" + consumerGroup + "&autoOffsetReset=earliest"
                // a batch completes when it is full or 10 ms after its first record: large in a backlog, prompt when idle
                + "&batching=true&maxPollRecords=" + batchSize + "&pollTimeoutMs=100&batchingIntervalMs=10"
                + "&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true"
                + "&consumersCount=" + consumers)
                .routeId(CONSUMER_ID)
                .process(batch::process).id("ledger.post-batch");

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
                                .process(this::recordConfirmation).id("ledger.record-confirmation")
                        .end()
                        .process(this::confirmationRecord).id("ledger.confirmation-record")
                        .to("kafka:" + ledgerTopic).id("kafka.publish-ledger-confirmation")
                    .end()
                .end();

        for (ErpConnector erp : connectors) {
            String t = erp.target().toLowerCase();
            // One posting, settled: the ledger is read first when an earlier attempt may have reached the ERP, and
            // again after a rejection. No error handler of its own: a failure goes back to the posting route's
            // policy, whose redelivery of erp.post-journal runs this again from the start.
            from("direct:erp." + erp.target() + ".settle")
                    .routeId("erp." + t + ".settle-posting")
                    .errorHandler(noErrorHandler())
                    .filter(LedgerSettlement::outcomeUnknown)
                        .to("direct:erp." + erp.target() + ".read").id("erp." + t + ".read-before-posting")
                        .process(LedgerSettlement::settleBeforePosting).id("erp." + t + ".settle-from-ledger")
                    .end()
                    .filter(LedgerSettlement::notSettled)
                        .to("direct:erp." + erp.target()).id("erp." + t + ".post")
                        .filter(LedgerSettlement::rejected)
                            .to("direct:erp." + erp.target() + ".read").id("erp." + t + ".read-after-rejection")
                            .process(LedgerSettlement::settleRejection).id("erp." + t + ".settle-rejection")
                        .end()
                    .end();

            // What the ledger holds under the posting's reference, within the same rate limit as postings.
            from("direct:erp." + erp.target() + ".read")
                    .routeId("erp." + t + ".read-ledger")
                    .errorHandler(noErrorHandler())
                    .process(e -> readRequest(e, erp)).id("erp." + t + ".build-read")
                    .throttle(erp.maxRate()).timePeriodMillis(1000).asyncDelayed(false).id("erp." + t + ".read-rate-limit")
                    .to(erp.readUri()).id("erp." + t + ".read-call")
                    .process(e -> readHolding(e, erp)).id("erp." + t + ".read-holding");

            // No error handler of its own: a failure goes back to the caller (the batch, or the settle route).
            from("direct:erp." + erp.target())
                    .routeId("erp." + erp.target().toLowerCase() + ".post-journal")
                    .errorHandler(noErrorHandler())
                    .process(e -> soapRequest(e, erp)).id("erp." + erp.target().toLowerCase() + ".build-request")
                    // the ERP's rate limit holds for retries and backlogs too; the caller's thread waits its turn
                    .throttle(erp.maxRate()).timePeriodMillis(1000).asyncDelayed(false)
                        .id("erp." + erp.target().toLowerCase() + ".rate-limit")
                    .to(erp.endpointUri()).id("erp." + erp.target().toLowerCase() + ".soap-call")
                    .process(e -> readAnswer(e, erp)).id("erp." + erp.target().toLowerCase() + ".read-confirmation");
        }
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
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        m.setHeader(Exchange.CONTENT_TYPE, "text/xml; charset=utf-8");
        String[] headers = erp.requestHeaders();
        for (int i = 0; i + 1 < headers.length; i += 2) m.setHeader(headers[i], headers[i + 1]);
        m.setBody(erp.request(postings(exchange)));
    }

    private static void readRequest(Exchange exchange, ErpConnector erp) {
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
