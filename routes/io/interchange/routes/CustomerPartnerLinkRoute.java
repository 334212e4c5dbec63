package io.interchange.routes;

import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.kafka.ClaimedBatches;
import io.interchange.customer.PartnerLinks;
import io.interchange.model.CanonicalType;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/**
 * ERP partner confirmations on the customer topic, linked to their customers: each confirmation once (claimed under
 * its CloudEvents id), a saved partner's number completing the creation it answers, a rejection dead-lettered with
 * the ERP's notes ({@link PartnerLinks}), a poll's confirmations at once with their write-backs batched. Its own
 * consumer group reads the whole customer topic and passes over the other changes.
 */
public class CustomerPartnerLinkRoute extends RouteBuilder {

    public static final String ROUTE_ID = "customer.erp-partner-link";
    public static final String CONSUMER_ID = "customer.erp-partner-consumer";
    public static final String DIRECT = "direct:" + ROUTE_ID;

    /** The CloudEvents types of partner confirmations on the customer topic. */
    public static java.util.Set<String> confirmationTypes() {
        return java.util.Set.of(CanonicalType.ERP_PARTNER_SAVED.ceType(), CanonicalType.ERP_PARTNER_REJECTED.ceType());
    }

    private final PartnerLinks links;
    private final ClaimedBatches batches;
    private final int batch;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String customerTopic;
    private final String consumerGroup;

    public CustomerPartnerLinkRoute(PartnerLinks links, ClaimedBatches batches, IdempotencyStore idempotency,
                                    RoutePolicies policies, String customerTopic, String consumerGroup, int batch) {
        this.links = links;
        this.batches = batches;
        this.batch = batch;
        this.idempotency = idempotency;
        this.policies = policies;
        this.customerTopic = customerTopic;
        this.consumerGroup = consumerGroup;
    }

    /** The consumer group, beside the instance's group: every instance of the flow shares it. */
    public static String consumerGroup(String group) {
        return group + ".customer-partner-links";
    }

    @Override
    public void configure() {
        // a poll at once: confirmations applied, then their customers' ids written back together (200 records a
        // Salesforce request); offsets committed by hand once every confirmation of the poll is done
        from("kafka:" + customerTopic + "?groupId=" + consumerGroup(consumerGroup) + "&autoOffsetReset=earliest"
                + "&batching=true&maxPollRecords=" + batch + "&pollTimeoutMs=100&batchingIntervalMs=10"
                + "&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true")
                .routeId(CONSUMER_ID)
                .process(batches::process).id("customer.link-partners");

        // one confirmation: what a batch could not take, and an operator's replay of a dead letter
        from(DIRECT)
                .routeId(ROUTE_ID)
                .errorHandler(policies.forRoute(ROUTE_ID))
                .process(e -> {
                    e.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, PartnerLinks.key(
                            e.getMessage().getHeader(CloudEventHeaders.ID, String.class)));
                    String correlation = e.getMessage().getHeader(CloudEventHeaders.CORRELATION_ID, String.class);
                    if (correlation != null) e.setProperty(ExchangeKeys.CORRELATION_ID, correlation);
                }).id("customer.partner-confirmation-key")
                .process(IdempotentStep.waitingForHolder(idempotency)).id("customer.claim-partner-confirmation")
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    .process(links::apply).id("customer.complete-partner-link")
                .end();
    }
}
