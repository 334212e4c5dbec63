package io.interchange.routes;

import io.interchange.connectors.webhook.WebhookEdge;
import io.interchange.connectors.webhook.WebhookSource;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/**
 * One parked event of an inbound system, replayed by an operator once the cause is fixed: read it again with its
 * source, claim it under the key it had at the edge, publish it once to the system's topic. What still cannot be read
 * is dead-lettered again with its reason, by the route's policy ({@code interchange.route.<id>.*}).
 */
public class WebhookEventRoute extends RouteBuilder {

    private final WebhookEdge edge;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String topic;

    public WebhookEventRoute(WebhookSource source, IdempotencyStore idempotency, RoutePolicies policies, String topic) {
        if (source.eventRouteId() == null) {
            throw new IllegalArgumentException(source.system() + " has no single-event route");
        }
        this.edge = new WebhookEdge(source, idempotency);
        this.idempotency = idempotency;
        this.policies = policies;
        this.topic = topic;
    }

    @Override
    public void configure() {
        WebhookSource source = edge.source();
        String id = source.eventRouteId();
        String step = source.steps();
        from("direct:" + id)
                .routeId(id)
                .errorHandler(policies.forRoute(id))
                .process(edge::readOne).id(step + ".read-parked-event")
                .filter(WebhookEdge::isToPublish)
                    .process(IdempotentStep.waitingForHolder(idempotency)).id(step + ".claim-parked-event")
                    .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                        .process(edge::toRecord).id(step + ".parked-event-to-canonical-record")
                        .to("kafka:" + topic).id(step + ".publish-parked-event")
                    .end()
                .end();
    }
}
