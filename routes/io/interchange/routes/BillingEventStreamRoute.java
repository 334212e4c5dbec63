package io.interchange.routes;

import io.interchange.connectors.billing.BillingEventStream;
import io.interchange.connectors.billing.BillingWebhook;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/**
 * Stripe events from a Kafka topic into canonical billing events on the billing topic, exactly once per event id
 * (shared with the webhook edge): a poll's batch at a time on the fast path, one event at a time for what the batch
 * cannot take (refused input, keys held elsewhere, replays of dead letters).
 */
public class BillingEventStreamRoute extends RouteBuilder {

    public static final String CONSUMER_ID = "billing.stream-consumer";
    public static final String SINGLE_ID = "billing.stream-event";

    private final BillingEventStream stream;
    private final BillingWebhook webhook;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String sourceTopic;
    private final String billingTopic;
    private final String consumerGroup;
    private final int batch;
    private final int consumers;

    public BillingEventStreamRoute(BillingEventStream stream, BillingWebhook webhook, IdempotencyStore idempotency,
                                   RoutePolicies policies, String sourceTopic, String billingTopic,
                                   String consumerGroup, int batch, int consumers) {
        this.stream = stream;
        this.webhook = webhook;
        this.idempotency = idempotency;
        this.policies = policies;
        this.sourceTopic = sourceTopic;
        this.billingTopic = billingTopic;
        this.consumerGroup = consumerGroup;
        this.batch = batch;
        this.consumers = consumers;
    }

    @Override
    public void configure() {
        // manual commits per partition once a batch is published (see BillingEventStream#commitOffsets); the stream
        // has its own consumer group, apart from the ledger consumer's
        from("kafka:" + sourceTopic + "?groupId=" + consumerGroup + "-billing-stream&autoOffsetReset=earliest"
                // a batch completes when it is full or 10 ms after its first record: large under load, prompt when idle
                + "&batching=true&maxPollRecords=" + batch + "&pollTimeoutMs=100&batchingIntervalMs=10"
                + "&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true"
                + "&consumersCount=" + consumers)
                .routeId(CONSUMER_ID)
                .process(stream::processBatch).id("billing.stream-publish-batch");

        // batchWithIndividualHeaders: each record of the list keeps its own CloudEvents headers and key (without it,
        // Camel gives every record of the batch the outer message's headers)
        from(BillingEventStream.PUBLISH)
                .routeId("billing.stream-publish")
                .to("kafka:" + billingTopic + "?batchWithIndividualHeaders=true").id("kafka.publish-stream-batch");

        from(BillingEventStream.SINGLE)
                .routeId(SINGLE_ID)
                .errorHandler(policies.forRoute(SINGLE_ID))
                .process(stream::translateOne).id("billing.stream-translate")
                .process(IdempotentStep.waitingForHolder(idempotency)).id("billing.stream-claim-event")
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    .process(webhook::toRecord).id("billing.stream-to-canonical-record")
                    .to("kafka:" + billingTopic).id("kafka.publish-stream-event")
                .end();
    }
}
