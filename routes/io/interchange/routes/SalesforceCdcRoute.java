package io.interchange.routes;

import io.interchange.connectors.crm.SalesforceChangeEvents;
import io.interchange.connectors.crm.SalesforceSubscription;
import io.interchange.reliability.RoutePolicies;
import org.apache.camel.builder.RouteBuilder;

/**
 * Salesforce Change Data Capture to canonical customer changes (flow {@code crm-salesforce}): one route per channel
 * reads each change event camel-salesforce receives, re-reads by query what a gap event leaves out, claims one
 * customer change per record, publishes the new ones to the customer topic, and then moves the channel's stored
 * position past the event; a backfill route publishes records read back after the stored position expired, and an
 * operator replays a parked event (one the mapping could not take) through a route of its own.
 *
 * <p>Failure policy, in {@link SalesforceSubscription} (not a redelivery policy: the Streaming API cannot redeliver
 * one event): a failed event stalls its channel, which subscribes again from its stored position after a delay;
 * the idempotency keys absorb what comes twice.
 */
public class SalesforceCdcRoute extends RouteBuilder {

    private final SalesforceChangeEvents events;
    private final SalesforceSubscription subscription;
    private final RoutePolicies policies;
    private final String topic;

    public SalesforceCdcRoute(SalesforceChangeEvents events, SalesforceSubscription subscription, RoutePolicies policies,
                              String topic) {
        this.events = events;
        this.subscription = subscription;
        this.policies = policies;
        this.topic = topic;
    }

    @Override
    public void configure() {
        // a customer's changes are keyed by the customer, so they stay on one partition, in order
        String publish = "kafka:" + topic + "?synchronous=true&batchWithIndividualHeaders=true";
        for (String channel : subscription.channels()) {
            // started by SalesforceSubscription once it has set the replay id to subscribe from
            String id = SalesforceSubscription.routeId(channel);
            from(subscription.uri(channel))
                    .routeId(id)
                    .autoStartup(false)
                    .process(events::read).id(id + ".read-change-event")
                    .filter(SalesforceChangeEvents::hasToPublish)
                        .process(events::claim).id(id + ".claim-change")
                        .filter(SalesforceChangeEvents::hasClaimed)
                            .process(events::toRecords).id(id + ".to-canonical-record")
                            .to(publish).id(id + ".publish-customer-change")
                        .end()
                    .end()
                    .process(events::settle).id(id + ".commit-position");
        }
        // a parked change event replayed by an operator: the same steps, without moving a channel's position
        from(SalesforceChangeEvents.PARKED_ENDPOINT)
                .routeId(SalesforceChangeEvents.PARKED_ROUTE_ID)
                .errorHandler(policies.forRoute(SalesforceChangeEvents.PARKED_ROUTE_ID))
                .process(events::read).id("crm.salesforce.read-parked-change-event")
                .filter(SalesforceChangeEvents::hasToPublish)
                    .process(events::claim).id("crm.salesforce.claim-parked-change")
                    .filter(SalesforceChangeEvents::hasClaimed)
                        .process(events::toRecords).id("crm.salesforce.parked-to-canonical-record")
                        .to(publish).id("kafka.publish-parked-customer-change")
                    .end()
                .end()
                .process(events::settle).id("crm.salesforce.settle-parked-change");
        from(SalesforceChangeEvents.BACKFILL_ENDPOINT)
                .routeId(SalesforceChangeEvents.BACKFILL_ROUTE_ID)
                .process(events::claim).id("crm.salesforce.claim-backfill")
                .filter(SalesforceChangeEvents::hasClaimed)
                    .process(events::toRecords).id("crm.salesforce.backfill-to-canonical-record")
                    .to(publish).id("kafka.publish-customer-backfill")
                .end()
                .process(events::settle).id("crm.salesforce.settle-backfill");
    }
}
