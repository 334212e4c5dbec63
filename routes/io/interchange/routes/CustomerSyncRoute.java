package io.interchange.routes;

import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.kafka.ClaimedBatches;
import io.interchange.customer.CustomerSync;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerChange;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * CRM customer changes on the customer topic, synchronised to every target (flow {@code customer-sync}): each change
 * once (claimed under its CloudEvents id), its customer identified, the fields it may set applied, billing, ERP and
 * loyalty brought in line and the targets' ids written back to the CRM ({@link CustomerSync}), a poll's changes at
 * once with the targets' requests batched ({@link ClaimedBatches}, {@link CustomerSync#syncAll}). A record's changes are keyed by the record, so
 * they arrive in order on one partition; a change the batch could not take goes through the single-change route,
 * whose policy retries it, and an ambiguous customer or an exhausted retry is parked as a dead letter for an
 * operator, replayable.
 */
public class CustomerSyncRoute extends RouteBuilder {

    public static final String ROUTE_ID = "customer.sync";
    public static final String CONSUMER_ID = "customer.sync-consumer";
    public static final String DIRECT = "direct:" + ROUTE_ID;

    private final CustomerSync sync;
    private final ClaimedBatches batches;
    private final int batch;
    private final int consumers;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String customerTopic;
    private final String consumerGroup;

    public CustomerSyncRoute(CustomerSync sync, ClaimedBatches batches, IdempotencyStore idempotency,
                             RoutePolicies policies, String customerTopic, String consumerGroup, int batch, int consumers) {
        this.sync = sync;
        this.batches = batches;
        this.batch = batch;
        this.consumers = consumers;
        this.idempotency = idempotency;
        this.policies = policies;
        this.customerTopic = customerTopic;
        this.consumerGroup = consumerGroup;
    }

    /** The consumer group, beside the instance's group: every instance of the flow shares it. */
    public static String consumerGroup(String group) {
        return group + ".customer-sync";
    }

    /** The CloudEvents types of customer changes on the customer topic (partner confirmations share it). */
    public static Set<String> changeTypes() {
        return Arrays.stream(CanonicalType.values()).filter(t -> t.dataClass() == CustomerChange.class)
                .map(CanonicalType::ceType).collect(Collectors.toUnmodifiableSet());
    }

    @Override
    public void configure() {
        // a poll at once (ClaimedBatches), offsets committed by hand once every change of it is done; a batch
        // completes when full or 10 ms after its first record: large under load, prompt when idle
        from("kafka:" + customerTopic + "?groupId=" + consumerGroup(consumerGroup) + "&autoOffsetReset=earliest"
                + "&batching=true&maxPollRecords=" + batch + "&pollTimeoutMs=100&batchingIntervalMs=10"
                + "&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true&consumersCount=" + consumers)
                .routeId(CONSUMER_ID)
                .process(batches::process).id("customer.sync-batch");

        // one change: what a batch could not take, and an operator's replay of a dead letter
        from(DIRECT)
                .routeId(ROUTE_ID)
                .errorHandler(policies.forRoute(ROUTE_ID))
                .process(e -> {
                    e.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, CustomerSync.key(
                            e.getMessage().getHeader(CloudEventHeaders.ID, String.class)));
                    String correlation = e.getMessage().getHeader(CloudEventHeaders.CORRELATION_ID, String.class);
                    if (correlation != null) e.setProperty(ExchangeKeys.CORRELATION_ID, correlation);
                }).id("customer.change-key")
                .process(IdempotentStep.waitingForHolder(idempotency)).id("customer.claim-change")
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    .process(sync::apply).id("customer.identify-apply-and-sync")
                .end();
    }
}
