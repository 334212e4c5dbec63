package io.interchange.connectors.http;

import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.IdempotentStep;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The error policy of webhook routes: the sender is the retry mechanism, so nothing is dead-lettered here.
 * A {@link WebhookRejection} becomes its 4xx with the reason; a transient failure (store or Kafka down) a 503 with
 * Retry-After, and the idempotency key is released, so the sender's retry is processed, never taken for a duplicate.
 */
public class WebhookAnswers extends RouteConfigurationBuilder {

    public static final String ID = "webhook-answers";
    private static final Logger LOG = LoggerFactory.getLogger(WebhookAnswers.class);

    @Override
    public void configuration() {
        routeConfiguration(ID)
                .onException(WebhookRejection.class).handled(true).process(this::reject).end()
                .onException(Exception.class).handled(true).process(this::fail).end();
    }

    private void reject(Exchange exchange) {
        WebhookRejection r = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, WebhookRejection.class);
        HttpAnswers.json(exchange, r.status(), "rejected", r.getMessage(), null);
        LOG.warn("Webhook refused with {}: {}", r.status(), r.getMessage());
        if (r.status() == 503) exchange.getMessage().setHeader("Retry-After", "30");
    }

    private void fail(Exchange exchange) {
        // the idempotency key, if one was claimed, is released before the answer goes out, so the retry it asks for
        // is processed, not answered 409 because the key is still held
        IdempotentStep.releaseNow(exchange);
        Throwable t = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        if (FailureClassifier.isTransient(t)) {
            HttpAnswers.json(exchange, 503, "unavailable", "temporarily unable to accept the event; retry later", null);
            exchange.getMessage().setHeader("Retry-After", "10");
            LOG.warn("Webhook not accepted, sender will retry: {}", FailureClassifier.reason(t));
        } else {
            HttpAnswers.json(exchange, 500, "error", "internal error; quote the correlation id when reporting it", null);
            LOG.error("Webhook failed unexpectedly", t);
        }
    }
}
