package io.interchange.routes;

import io.interchange.connectors.billing.BillingWebhook;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/**
 * One Stripe event into a canonical billing event, published once: the way of a parked webhook event replayed by an
 * operator, and of a stream record its batch could not take. What still cannot be processed is dead-lettered again
 * with its reason.
 */
public class StripeEventRoute extends RouteBuilder {

    private final BillingWebhook webhook;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String billingTopic;

    public StripeEventRoute(BillingWebhook webhook, IdempotencyStore idempotency, RoutePolicies policies,
                            String billingTopic) {
        this.webhook = webhook;
        this.idempotency = idempotency;
        this.policies = policies;
        this.billingTopic = billingTopic;
    }

    @Override
    public void configure() {
        from(BillingWebhook.EVENT_ROUTE)
                .routeId(BillingWebhook.EVENT_ROUTE_ID)
                .errorHandler(policies.forRoute(BillingWebhook.EVENT_ROUTE_ID))
                .process(webhook::translateOne).id("billing.translate-event")
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    .process(IdempotentStep.waitingForHolder(idempotency)).id("billing.claim-stripe-event")
                .end()
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    .process(webhook::toRecord).id("billing.stripe-event-to-canonical-record")
                    .to("kafka:" + billingTopic).id("kafka.publish-stripe-event")
                .end();
    }
}
