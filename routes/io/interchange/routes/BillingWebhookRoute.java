package io.interchange.routes;

import io.interchange.connectors.billing.BillingWebhook;
import io.interchange.connectors.http.WebhookAnswers;
import io.interchange.reliability.IdempotentStep;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/**
 * Billing webhooks in: verify the Stripe signature, translate to canonical, publish once to the billing topic; events
 * without effect are acknowledged, genuine events that cannot be processed yet are acknowledged and parked.
 */
public class BillingWebhookRoute extends RouteBuilder {

    public static final String ROUTE_ID = "billing.webhook-ingest";
    public static final String PATH = "/webhooks/billing";
    /** The only method the path takes; the HTTP server answers others 405 with it in {@code Allow}. */
    public static final String METHOD = "POST";
    /** Counter of events acknowledged without being published, tagged by outcome (ignored, parked) and event type. */
    public static final String ACKNOWLEDGED_METRIC = "micrometer:counter:interchange.billing.events.acknowledged";

    private final BillingWebhook webhook;
    private final IdempotencyStore idempotency;
    private final String topic;

    public BillingWebhookRoute(BillingWebhook webhook, IdempotencyStore idempotency, String topic) {
        this.webhook = webhook;
        this.idempotency = idempotency;
        this.topic = topic;
    }

    @Override
    public void configure() {
        from("platform-http:" + PATH + "?httpMethodRestrict=" + METHOD)
                .routeId(ROUTE_ID)
                .routeConfigurationId(WebhookAnswers.ID)
                .process(webhook::receive).id("billing.verify-and-translate")
                .choice()
                    .when(BillingWebhook::isIgnored)
                        .process(webhook::ignored).id("billing.answer-ignored")
                        .to(ACKNOWLEDGED_METRIC).id("billing.count-ignored")
                    .when(BillingWebhook::isParked)
                        .process(webhook::park).id("billing.park-event")
                        .to(ACKNOWLEDGED_METRIC).id("billing.count-parked")
                    .otherwise()
                        .process(IdempotentStep.reportingHolder(idempotency)).id("billing.claim-event")
                        .choice()
                            .when(IdempotentStep::isDuplicate)
                                .process(webhook::duplicate).id("billing.answer-duplicate")
                            .otherwise()
                                .process(webhook::toRecord).id("billing.to-canonical-record")
                                // the request's worker thread waits for the acknowledgement anyway: waiting on it
                                // directly saves a hand-off to Camel's callback pool and back
                                .to("kafka:" + topic + "?synchronous=true").id("kafka.publish-billing-event")
                                .process(webhook::accepted).id("billing.answer-accepted")
                        .end()
                .end();
    }
}
