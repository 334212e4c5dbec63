package io.interchange.routes;

import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.customer.CustomerSync;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerChange;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

import java.util.Arrays;

/**
 * CRM customer changes on the customer topic, synchronised to every target (flow {@code customer-sync}): each change
 * once (claimed under its CloudEvents id), its customer identified, the fields it may set applied, billing, ERP and
 * loyalty brought in line and the targets' ids written back to the CRM ({@link CustomerSync}). A record's changes are
 * keyed by the record, so they arrive in order on one partition; a failure is retried by the route's policy, and an
 * ambiguous customer or an exhausted retry is parked as a dead letter for an operator, replayable.
 */
public class CustomerSyncRoute extends RouteBuilder {

    public static final String ROUTE_ID = "customer.sync";
    public static final String CONSUMER_ID = "customer.sync-consumer";
    static final String DIRECT = "direct:" + ROUTE_ID;

    private final CustomerSync sync;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String customerTopic;
    private final String consumerGroup;

    public CustomerSyncRoute(CustomerSync sync, IdempotencyStore idempotency, RoutePolicies policies,
                             String customerTopic, String consumerGroup) {
        this.sync = sync;
        this.idempotency = idempotency;
        this.policies = policies;
        this.customerTopic = customerTopic;
        this.consumerGroup = consumerGroup;
    }

    /** The consumer group, beside the instance's group: every instance of the flow shares it. */
    public static String consumerGroup(String group) {
        return group + ".customer-sync";
    }

    @Override
    public void configure() {
        String[] changes = Arrays.stream(CanonicalType.values())
                .filter(t -> t.dataClass() == CustomerChange.class)
                .map(CanonicalType::ceType).toArray(String[]::new);
        // breakOnFirstError: if even the dead-letter store cannot take a failure, the record is read again, not skipped
        from("kafka:" + customerTopic + "?groupId=" + consumerGroup(consumerGroup) + "&autoOffsetReset=earliest"
                + "&breakOnFirstError=true")
                .routeId(CONSUMER_ID)
                .filter(header(CloudEventHeaders.TYPE).in((Object[]) changes))
                    .to(DIRECT).id("customer.sync-change")
                .end();

        from(DIRECT)
                .routeId(ROUTE_ID)
                .errorHandler(policies.forRoute(ROUTE_ID))
                .process(e -> {
                    e.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, "customer:sync:"
                            + e.getMessage().getHeader(CloudEventHeaders.ID, String.class));
                    String correlation = e.getMessage().getHeader(CloudEventHeaders.CORRELATION_ID, String.class);
                    if (correlation != null) e.setProperty(ExchangeKeys.CORRELATION_ID, correlation);
                }).id("customer.change-key")
                .process(IdempotentStep.waitingForHolder(idempotency)).id("customer.claim-change")
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    .process(sync::apply).id("customer.identify-apply-and-sync")
                .end();
    }
}
