package io.interchange.routes;

import io.interchange.connectors.billing.BillingEventStream;
import org.apache.camel.builder.RouteBuilder;

/**
 * Stripe events from a Kafka topic into canonical billing events on the billing topic, exactly once per event id
 * (shared with the webhook edge): a poll's batch at a time on the fast path; what the batch cannot take (refused or
 * parked input, keys held elsewhere) goes one event at a time through {@link StripeEventRoute}.
 */
public class BillingEventStreamRoute extends RouteBuilder {

    public static final String CONSUMER_ID = "billing.stream-consumer";

    private final BillingEventStream stream;
    private final String sourceTopic;
    private final String billingTopic;
    private final String consumerGroup;
    private final int batch;
    private final int consumers;

    public BillingEventStreamRoute(BillingEventStream stream, String sourceTopic, String billingTopic,
                                   String consumerGroup, int batch, int consumers) {
        this.stream = stream;
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
    }
}
