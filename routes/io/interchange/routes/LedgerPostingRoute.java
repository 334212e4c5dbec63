package io.interchange.routes;

import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.ErpConfirmations;
import io.interchange.store.IdempotencyStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.MDC;

import java.time.Instant;
import java.util.List;

/**
 * Canonical billing events to the ERP ledger: route by legal entity to S/4HANA or the legacy ERP, post each event
 * exactly once, record the ERP's confirmation and publish it to the ledger topic.
 */
public class LedgerPostingRoute extends RouteBuilder {

    public static final String ROUTE_ID = "billing.ledger-posting";
    public static final String CONSUMER_ID = "billing.ledger-consumer";
    static final String POSTING = "InterchangeLedgerPosting";
    static final String CONFIRMATION = "InterchangeErpConfirmation";
    static final String ENVELOPE = "InterchangeEnvelope";
    static final String ERP_TARGET = "InterchangeErpTarget";
    static final String ERP_ANSWER = "InterchangeErpAnswer";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LedgerPostingService service;
    private final List<ErpConnector> connectors;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String billingTopic;
    private final String ledgerTopic;
    private final String consumerGroup;

    public LedgerPostingRoute(LedgerPostingService service, List<ErpConnector> connectors, IdempotencyStore idempotency,
                              RoutePolicies policies, String billingTopic, String ledgerTopic, String consumerGroup) {
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
        // breakOnFirstError: if even the dead-letter store cannot take a failure, the record is read again, not skipped
        from("kafka:" + billingTopic + "?groupId=" + consumerGroup + "&autoOffsetReset=earliest&breakOnFirstError=true")
                .routeId(CONSUMER_ID)
                .to("direct:" + ROUTE_ID).id("billing.to-ledger-posting");

        from("direct:" + ROUTE_ID)
                .routeId(ROUTE_ID)
                .errorHandler(policies.forRoute(ROUTE_ID))
                .process(this::begin).id("ledger.prepare-posting")
                .filter(exchangeProperty(POSTING).isNotNull())
                    .process(IdempotentStep.waitingForHolder(idempotency)).id("ledger.claim-posting")
                    .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                        .process(this::reuseConfirmation).id("ledger.check-earlier-confirmation")
                        .choice()
                            .when(exchangeProperty(CONFIRMATION).isNull())
                                .toD("direct:erp.${exchangeProperty." + ERP_TARGET + "}").id("erp.post-journal")
                                .process(this::recordConfirmation).id("ledger.record-confirmation")
                        .end()
                        .process(this::confirmationRecord).id("ledger.confirmation-record")
                        .to("kafka:" + ledgerTopic).id("kafka.publish-ledger-confirmation")
                    .end()
                .end();

        for (ErpConnector erp : connectors) {
            // No error handler of its own: a failure goes back to the posting route's policy, whose redelivery of
            // erp.post-journal builds the request again from the posting and sends it again.
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
        exchange.setProperty(ExchangeKeys.ATTEMPTS, 1);
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

    private void soapRequest(Exchange exchange, ErpConnector erp) {
        LedgerPosting p = exchange.getProperty(POSTING, LedgerPosting.class);
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        m.setHeader(Exchange.CONTENT_TYPE, "text/xml; charset=utf-8");
        String[] headers = erp.requestHeaders();
        for (int i = 0; i + 1 < headers.length; i += 2) m.setHeader(headers[i], headers[i + 1]);
        m.setBody(erp.request(p));
    }

    private void readAnswer(Exchange exchange, ErpConnector erp) {
        int status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        exchange.setProperty(ERP_ANSWER, erp.read(status, exchange.getMessage().getBody(byte[].class)));
    }

    /** A node of its own so that a store failure here is retried without posting to the ERP again. */
    private void recordConfirmation(Exchange exchange) {
        LedgerPosting p = exchange.getProperty(POSTING, LedgerPosting.class);
        var answer = exchange.getProperty(ERP_ANSWER, ErpConnector.ErpAnswer.class);
        ErpConfirmations.Confirmation c = service.record(p, answer,
                exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class));
        log.info("Posting {} confirmed by {}: document {} fiscal year {}", p.postingId(), p.erpTarget(),
                c.accountingDocument(), c.fiscalYear());
        exchange.setProperty(CONFIRMATION, c);
    }

    private void confirmationRecord(Exchange exchange) throws Exception {
        LedgerPosting p = exchange.getProperty(POSTING, LedgerPosting.class);
        Envelope source = exchange.getProperty(ENVELOPE, Envelope.class);
        var c = exchange.getProperty(CONFIRMATION, ErpConfirmations.Confirmation.class);
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        CanonicalType type = CanonicalType.LEDGER_POSTED;
        CloudEventHeaders.write(new Envelope(p.postingId(), "/interchange/ledger", type.ceType(), source.subject(),
                Instant.now().toString(), type.dataSchema(), source.correlationId(), p.legalEntity()), m);
        m.setHeader(KafkaConstants.KEY, source.subject());
        m.setBody(JSON.writeValueAsBytes(LedgerPostingService.event(p, c)));
    }
}
