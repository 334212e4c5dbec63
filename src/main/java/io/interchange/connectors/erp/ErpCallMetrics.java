package io.interchange.connectors.erp;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.CamelEvent.ExchangeSentEvent;
import org.apache.camel.support.EventNotifierSupport;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The ERPs' latency and throttling in metrics, from Camel's exchange-sent events (bound in the registry, camel-main
 * adds it to the context's notifiers): {@code interchange_erp_call_seconds{target,call,outcome}}, each request to an
 * ERP service ({@code call}: {@code post}, {@code read}, {@code customer}; {@code outcome}: {@code 2xx}, {@code 4xx},
 * {@code 5xx}, {@code failed} for no answer), and {@code interchange_erp_throttle_wait_seconds{target}}, how long a request
 * waited at the target's throttle ({@code erp.<target>.call}, {@code interchange.erp.<erp>.max-rate}) before it was
 * sent. Both are histograms on fixed buckets, so quantiles can be computed across instances.
 */
public final class ErpCallMetrics extends EventNotifierSupport {

    public static final String CALL_METRIC = "interchange.erp.call";
    public static final String THROTTLE_METRIC = "interchange.erp.throttle.wait";
    /** Exchange property: milliseconds the last ERP service request of the exchange took, for the throttle's share. */
    private static final String CALL_MILLIS = "InterchangeErpCallMillis";
    private static final Duration[] BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final List<ErpConnector> erps;
    private final MeterRegistry meters;
    /**
     * Endpoint URI of an ERP service as Camel normalised it → its target; resolved on the first event, once the routes
     * exist. Which service it was is the caller's {@link ErpAccess#CALL}: the legacy ERP posts and reads on one URL.
     */
    private volatile Map<String, String> services;
    /** {@code direct:erp.<target>.call} as Camel normalised it → the target. */
    private volatile Map<String, String> throttles;

    public ErpCallMetrics(List<ErpConnector> erps, MeterRegistry meters) {
        this.erps = List.copyOf(erps);
        this.meters = meters;
        setIgnoreCamelContextEvents(true);
        setIgnoreCamelContextInitEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeCompletedEvent(true);
        setIgnoreExchangeFailedEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
        setIgnoreExchangeSendingEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof ExchangeSentEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        ExchangeSentEvent sent = (ExchangeSentEvent) event;
        Exchange exchange = sent.getExchange();
        resolve(exchange.getContext());
        String uri = sent.getEndpoint().getEndpointUri();
        String throttled = throttles.get(uri);
        if (throttled != null) {
            // the whole of erp.<target>.call: the throttle's wait and the request; the request's share was noted
            Long call = exchange.getProperty(CALL_MILLIS, Long.class);
            if (call == null) return;
            exchange.removeProperty(CALL_MILLIS);
            throttleTimer(throttled).record(Math.max(0, sent.getTimeTaken() - call), TimeUnit.MILLISECONDS);
            return;
        }
        String target = services.get(uri);
        if (target == null) return;
        exchange.setProperty(CALL_MILLIS, sent.getTimeTaken());
        Timer.builder(CALL_METRIC).description("requests to an ERP service, by target, service and outcome")
                .serviceLevelObjectives(BUCKETS).tag("target", target)
                .tag("call", exchange.getProperty(ErpAccess.CALL, ErpAccess.POST_CALL, String.class))
                .tag("outcome", outcome(exchange)).register(meters)
                .record(sent.getTimeTaken(), TimeUnit.MILLISECONDS);
    }

    private Timer throttleTimer(String target) {
        return Timer.builder(THROTTLE_METRIC).description("time an ERP request waited at its target's throttle")
                .serviceLevelObjectives(BUCKETS).tag("target", target).register(meters);
    }

    private static String outcome(Exchange exchange) {
        if (exchange.getException() != null) return "failed";
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        return status == null ? "failed" : (status / 100) + "xx";
    }

    private void resolve(CamelContext context) {
        if (throttles != null) return;
        Map<String, String> calls = new HashMap<>();
        Map<String, String> waits = new HashMap<>();
        for (ErpConnector erp : erps) {
            for (String uri : new String[]{erp.endpointUri(), erp.readUri(), erp.customerUri(),
                    erp.partnerReadUri()}) {
                if (uri != null) calls.put(normalised(context, uri), erp.target());
            }
            waits.put(normalised(context, ErpAccess.callEndpoint(erp.target())), erp.target());
            // zero until the first wait, rather than absent
            throttleTimer(erp.target());
        }
        services = calls;
        throttles = waits;
    }

    private static String normalised(CamelContext context, String uri) {
        return context.getEndpoint(uri).getEndpointUri();
    }
}
