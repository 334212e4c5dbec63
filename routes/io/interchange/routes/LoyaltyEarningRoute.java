package io.interchange.routes;

import io.interchange.connectors.kafka.ClaimedBatches;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.loyalty.LoyaltyEarning;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/**
 * Paid invoices earn loyalty points (flow {@code loyalty-earning}): the canonical billing topic read on the flow's own
 * consumer group, its {@code payment.succeeded} events claimed a poll at once ({@link ClaimedBatches}), each adding its
 * points to the customer's member ({@link LoyaltyEarning}); the offsets committed once every event of the poll is done.
 * What the batch could not take (a customer without a member yet, the platform unreachable, a claim taken over from
 * a process that died mid-add) goes through the single-event route, whose policy retries it, looking the add up before
 * sending it again, and parks it as a dead letter with its reason when retries run out; dead letters are replayed
 * through it.
 */
public class LoyaltyEarningRoute extends RouteBuilder {

    public static final String ROUTE_ID = "loyalty.earning";
    public static final String CONSUMER_ID = "loyalty.earning-consumer";
    public static final String DIRECT = "direct:" + ROUTE_ID;

    private final LoyaltyEarning earning;
    private final ClaimedBatches batches;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String billingTopic;
    private final String consumerGroup;
    private final int batch;
    private final String start;

    /** @param start where a consumer group new to the topic starts: {@code latest} or {@code earliest} */
    public LoyaltyEarningRoute(LoyaltyEarning earning, ClaimedBatches batches, IdempotencyStore idempotency,
                               RoutePolicies policies, String billingTopic, String consumerGroup, int batch, String start) {
        this.earning = earning;
        this.batches = batches;
        this.idempotency = idempotency;
        this.policies = policies;
        this.billingTopic = billingTopic;
        this.consumerGroup = consumerGroup;
        this.batch = batch;
        this.start = start;
    }

    /** The flow's consumer group, beside the instance's group: every instance of the flow shares it. */
    public static String consumerGroup(String group) {
        return group + ".loyalty-earning";
    }

    @Override
    public void configure() {
        from("kafka:" + billingTopic + "?groupId=" + consumerGroup(consumerGroup) + "&autoOffsetReset=" + start
                + "&batching=true&maxPollRecords=" + batch + "&pollTimeoutMs=100&batchingIntervalMs=10"
                + "&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true")
                .routeId(CONSUMER_ID)
                .process(batches::process).id("loyalty.earning-batch");

        from(DIRECT)
                .routeId(ROUTE_ID)
                .errorHandler(policies.forRoute(ROUTE_ID))
                .process(e -> {
                    e.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, LoyaltyEarning.key(
                            e.getMessage().getHeader(CloudEventHeaders.ID, String.class)));
                    String correlation = e.getMessage().getHeader(CloudEventHeaders.CORRELATION_ID, String.class);
                    if (correlation != null) e.setProperty(ExchangeKeys.CORRELATION_ID, correlation);
                }).id("loyalty.earning-key")
                .process(IdempotentStep.waitingForHolder(idempotency)).id("loyalty.claim-earning")
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    .process(earning::process).id("loyalty.add-points")
                .end();
    }
}
