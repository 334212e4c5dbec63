package io.interchange.routes;

import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.ledger.ErpBreakers;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.builder.RouteBuilder;

/**
 * The routes of {@link ErpAccess}, per ERP target: {@code erp.<target>.call}, the one throttle every request to the
 * ERP passes (ledger postings and reads, partner and customer requests), and {@code erp.<target>.customer-service},
 * the ERP's customer service behind the target's circuit breaker. Built once per runtime, whichever flows use them.
 */
public class ErpCallRoute extends RouteBuilder {

    private final ErpAccess access;

    public ErpCallRoute(ErpAccess access) {
        this.access = access;
    }

    @Override
    public void configure() {
        for (ErpConnector erp : access.connectors()) {
            String target = erp.target();
            String id = ErpAccess.idPrefix(target);
            String customerUri = erp.customerUri();

            // Every request to the ERP, a read, a posting or a customer request, passes this one throttle: the ERP's
            // rate limit counts them all, for retries and backlogs too. The caller's thread waits its turn. (A
            // throttle per kind of call would each grant the whole limit.) Which service is called is the caller's
            // ErpAccess.CALL; without it, the posting service.
            var choice = from(ErpAccess.callEndpoint(target))
                    .routeId(id + ".call")
                    .errorHandler(noErrorHandler())
                    .throttle(erp.maxRate()).timePeriodMillis(1000).asyncDelayed(false).id(id + ".rate-limit")
                        .choice()
                            .when(exchangeProperty(ErpAccess.CALL).isEqualTo(ErpAccess.READ_CALL))
                                .to(erp.readUri()).id(id + ".ledger-read");
            if (erp.partnerReadUri() != null) {
                choice.when(exchangeProperty(ErpAccess.CALL).isEqualTo(ErpAccess.PARTNERS_CALL))
                        .to(erp.partnerReadUri()).id(id + ".partner-read");
            }
            if (customerUri != null) {
                choice.when(exchangeProperty(ErpAccess.CALL).isEqualTo(ErpAccess.CUSTOMER_CALL))
                        .to(customerUri).id(id + ".customer-call");
            }
            choice.otherwise()
                        .to(erp.endpointUri()).id(id + ".soap-call")
                    .end()
                .end();

            if (customerUri == null) continue;
            // The customer service inside the target's breaker: a transient failure of the call or of its answer
            // counts against it, an answer (a rejection too) for it. While it is open the call is not made and the
            // exchange comes out without an answer and without an exception; it is failed after the breaker, so the
            // refusal itself does not count, as a TransientFailure (the caller may send it again later).
            from(ErpAccess.customerEndpoint(target))
                    .routeId(id + ".customer-service")
                    .errorHandler(noErrorHandler())
                    .process(e -> {
                        e.removeProperty(ErpAccess.CUSTOMER_ANSWER);
                        e.removeProperty(ExchangePropertyKey.CIRCUIT_BREAKER_RESPONSE_SHORT_CIRCUITED);
                    }).id(id + ".prepare-customer-call")
                    .circuitBreaker().id(id + ".customer-circuit-breaker")
                        .resilience4jConfiguration().circuitBreaker(ErpBreakers.beanName(target))
                            .throwExceptionWhenHalfOpenOrOpenState(false).end()
                        .setProperty(ErpAccess.CALL, constant(ErpAccess.CUSTOMER_CALL))
                        .to(ErpAccess.callEndpoint(target)).id(id + ".customer-request")
                        .process(e -> e.setProperty(ErpAccess.CUSTOMER_ANSWER, access.readCustomerAnswer(target,
                                e.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class),
                                e.getMessage().getBody(byte[].class)))).id(id + ".read-customer-answer")
                    .end()
                    .process(e -> {
                        if (e.getProperty(ErpAccess.CUSTOMER_ANSWER) != null) return;
                        if (Boolean.TRUE.equals(e.getProperty(
                                ExchangePropertyKey.CIRCUIT_BREAKER_RESPONSE_SHORT_CIRCUITED, Boolean.class))) {
                            throw ErpAccess.breakerOpen(target);
                        }
                        throw new IllegalStateException(target
                                + " customer route: neither an answer nor a refusal by the breaker");
                    }).id(id + ".refuse-customer-if-open");
        }
    }
}
