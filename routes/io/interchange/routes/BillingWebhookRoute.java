package io.interchange.routes;

import io.interchange.connectors.billing.BillingWebhook;
import io.interchange.store.IdempotencyStore;

/**
 * Billing webhooks in: the webhook edge ({@link WebhookRoute}) for Stripe-format events ({@link BillingWebhook}):
 * verify the Stripe signature, translate to canonical, publish once to the billing topic; events without effect are
 * acknowledged, genuine events that cannot be processed yet are acknowledged and parked.
 */
public class BillingWebhookRoute extends WebhookRoute {

    public static final String ROUTE_ID = BillingWebhook.ROUTE_ID;
    public static final String PATH = BillingWebhook.PATH;
    public static final String METHOD = WebhookRoute.METHOD;

    public BillingWebhookRoute(BillingWebhook webhook, IdempotencyStore idempotency, String topic) {
        super(webhook, idempotency, topic);
    }
}
