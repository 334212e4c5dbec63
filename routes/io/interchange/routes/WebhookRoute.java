package io.interchange.routes;

import io.interchange.connectors.http.NonBlockingHttpComponent;
import io.interchange.connectors.http.WebhookAnswers;
import io.interchange.connectors.webhook.WebhookEdge;
import io.interchange.connectors.webhook.WebhookSource;
import io.interchange.reliability.IdempotentStep;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.support.ExpressionAdapter;

import java.util.concurrent.ExecutorService;

/**
 * The signed-webhook edge of every inbound system, one instance per system ({@link WebhookSource}): verify the
 * signature, read the events, park what cannot be processed yet, claim each event to publish under its idempotency key,
 * publish the new ones once to the system's Kafka topic, mark them done, answer. Refusals and outages are answered by
 * {@link WebhookAnswers} (4xx with a reason; 503 with {@code Retry-After} after the keys are released).
 */
public class WebhookRoute extends RouteBuilder {

    /** The only method a webhook path takes; the HTTP server answers others 405 with it in {@code Allow}. */
    public static final String METHOD = "POST";

    /** The methods a source's path takes: POST, and GET where the system validates its URL with one. */
    public static String methods(WebhookSource source) {
        return source.answersValidation() ? "GET, POST" : METHOD;
    }

    private final WebhookEdge edge;
    private final IdempotencyStore idempotency;
    private final String topic;

    public WebhookRoute(WebhookSource source, IdempotencyStore idempotency, String topic) {
        this.edge = new WebhookEdge(source, idempotency);
        this.idempotency = idempotency;
        this.topic = topic;
    }

    public WebhookSource source() {
        return edge.source();
    }

    /** The Kafka topic the source's events are published to. */
    public String topic() {
        return topic;
    }

    @Override
    public void configure() {
        WebhookSource source = edge.source();
        String step = source.steps();
        if (source.answersValidation()) {
            // the system checks the URL with a GET before it posts there: 200, no effect, nothing read
            from("platform-http:" + source.path() + "?httpMethodRestrict=GET")
                    .routeId(source.routeId() + "-validation")
                    .process(e -> io.interchange.connectors.http.HttpAnswers.json(e, 200, "ok", null, java.util.Map.of()))
                    .id(step + ".answer-validation");
        }
        // no thread waits for the store or Kafka: the claim and the confirmation go on from the group commit's future,
        // the publication from Kafka's acknowledgement, and the answer is written once the route calls back
        ExecutorService continuations = getContext().getExecutorServiceManager()
                .newThreadPool(this, "WebhookEdge-" + source.system(), 2, 16);
        from(NonBlockingHttpComponent.SCHEME + ":" + source.path())
                .routeId(source.routeId())
                .routeConfigurationId(WebhookAnswers.ID)
                .process(edge::receive).id(step + ".verify-and-translate")
                .filter(WebhookEdge::hasParked)
                    .process(edge::park).id(step + ".park-event")
                .end()
                .process(IdempotentStep.reportingHolders(idempotency, continuations)).id(step + ".claim-event")
                .filter(WebhookEdge::hasToPublish)
                    .process(edge::toRecords).id(step + ".to-canonical-record")
                    // answered from the acknowledgement; a batch's records go as one batch of sends
                    .to("kafka:" + topic + "?batchWithIndividualHeaders=true").id(source.publishStep())
                .end()
                .process(IdempotentStep.confirmingHolders(continuations)).id(step + ".confirm-published")
                .process(edge::answer).id(step + ".answer")
                // events acknowledged without effect (ignored, parked), counted one by one with their type
                .loop(new ExpressionAdapter() {
                    @Override
                    public Object evaluate(Exchange exchange) {
                        return WebhookEdge.acknowledgedCount(exchange);
                    }
                })
                    .process(edge::acknowledgedTags).id(step + ".tag-acknowledged")
                    .to(source.acknowledgedMetric()).id(step + ".count-acknowledged")
                .end();
    }
}
