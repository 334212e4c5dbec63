package io.interchange.routes;

import io.interchange.connectors.kafka.ClaimedBatches;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.loyalty.ChurnCheck;
import io.interchange.loyalty.LoyaltyCrm;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/**
 * Loyalty back to the CRM (flow {@code loyalty-crm}): the loyalty topic read on the flow's own consumer group, a poll's
 * points transactions and tier changes claimed at once ({@link ClaimedBatches}), their customers' balance and tier
 * written to their CRM records together and the tier tasks made ({@link LoyaltyCrm}); the offsets committed once every
 * event of the poll is done. What the batch could not take goes through the single-event route, whose policy retries
 * it (looking a task up before making it again) and parks it as a dead letter with its reason when retries run out.
 * The churn-risk check runs on a timer on one instance of the cluster ({@code master:}).
 */
public class LoyaltyCrmRoute extends RouteBuilder {

    public static final String ROUTE_ID = "loyalty.crm";
    public static final String CONSUMER_ID = "loyalty.crm-consumer";
    public static final String DIRECT = "direct:" + ROUTE_ID;
    public static final String CHURN_ROUTE_ID = "loyalty.crm-churn-check";
    /** The cluster namespace whose leader runs the churn-risk check. */
    public static final String CHURN_NAMESPACE = "loyalty-crm-churn";

    private final LoyaltyCrm crm;
    private final ClaimedBatches batches;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String loyaltyTopic;
    private final String consumerGroup;
    private final int batch;
    private final String start;
    private ChurnCheck churn;
    private java.time.Duration churnPeriod;

    /** @param start where a consumer group new to the topic starts: {@code latest} or {@code earliest} */
    public LoyaltyCrmRoute(LoyaltyCrm crm, ClaimedBatches batches, IdempotencyStore idempotency, RoutePolicies policies,
                           String loyaltyTopic, String consumerGroup, int batch, String start) {
        this.crm = crm;
        this.batches = batches;
        this.idempotency = idempotency;
        this.policies = policies;
        this.loyaltyTopic = loyaltyTopic;
        this.consumerGroup = consumerGroup;
        this.batch = batch;
        this.start = start;
    }

    /**
     * Adds the churn-risk check, every {@code period} on the one instance that leads {@link #CHURN_NAMESPACE} (Camel's
     * {@code master:} component over the context's cluster service).
     */
    public LoyaltyCrmRoute withChurnCheck(ChurnCheck churn, java.time.Duration period) {
        this.churn = churn;
        this.churnPeriod = period;
        return this;
    }

    /** The flow's consumer group, beside the instance's group: every instance of the flow shares it. */
    public static String consumerGroup(String group) {
        return group + ".loyalty-crm";
    }

    @Override
    public void configure() {
        from("kafka:" + loyaltyTopic + "?groupId=" + consumerGroup(consumerGroup) + "&autoOffsetReset=" + start
                + "&batching=true&maxPollRecords=" + batch + "&pollTimeoutMs=100&batchingIntervalMs=10"
                + "&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true")
                .routeId(CONSUMER_ID)
                .process(batches::process).id("loyalty.crm-batch");

        from(DIRECT)
                .routeId(ROUTE_ID)
                .errorHandler(policies.forRoute(ROUTE_ID))
                .process(e -> {
                    e.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, LoyaltyCrm.key(
                            e.getMessage().getHeader(CloudEventHeaders.ID, String.class)));
                    String correlation = e.getMessage().getHeader(CloudEventHeaders.CORRELATION_ID, String.class);
                    if (correlation != null) e.setProperty(ExchangeKeys.CORRELATION_ID, correlation);
                }).id("loyalty.crm-key")
                .process(IdempotentStep.waitingForHolder(idempotency)).id("loyalty.claim-crm-event")
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    // here only after the batch could not take the event, a redelivery or a replay: a task may exist
                    .process(e -> crm.process(e, true)).id("loyalty.write-to-crm")
                .end();

        if (churn != null) {
            long ms = Math.max(100, churnPeriod.toMillis());
            from("master:" + CHURN_NAMESPACE + ":timer:" + CHURN_ROUTE_ID + "?period=" + ms + "&delay=" + Math.min(ms, 5000))
                    .routeId(CHURN_ROUTE_ID)
                    .process(e -> churn.check()).id("loyalty.crm-churn-tasks");
        }
    }
}
