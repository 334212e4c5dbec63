package io.interchange.routes;

import io.interchange.connectors.kafka.ClaimedBatches;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.consent.ConsentSync;
import io.interchange.consent.CrmConsentChanges;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.RoutePolicies;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.builder.RouteBuilder;

import java.util.function.Function;

/**
 * Flow {@code consent}: the consent topic read on the flow's group, each change applied under the rule and written to
 * every system of the customer ({@link ConsentSync}); and the customer topic read on another group of the flow, the
 * CRMs' consent changes picked out and published on the consent topic ({@link CrmConsentChanges}). Each a poll at once
 * ({@link ClaimedBatches}: short polls, so a change is applied within a poll of its arrival); what a poll could not take
 * goes through its single-record route, whose policy retries it and dead-letters what stays failed.
 */
public class ConsentRoute extends RouteBuilder {

    public static final String CONSUMER_ID = "consent.apply-consumer";
    public static final String ROUTE_ID = "consent.apply";
    public static final String DIRECT = "direct:" + ROUTE_ID;
    public static final String CRM_CONSUMER_ID = "consent.crm-consumer";
    public static final String CRM_ROUTE_ID = "consent.crm-change";
    public static final String CRM_DIRECT = "direct:" + CRM_ROUTE_ID;

    private final ConsentSync sync;
    private final CrmConsentChanges crm;
    private final ClaimedBatches changes;
    private final ClaimedBatches crmChanges;
    private final IdempotencyStore idempotency;
    private final RoutePolicies policies;
    private final String consentTopic;
    private final String customerTopic;
    private final String group;
    private final int batch;

    public ConsentRoute(ConsentSync sync, CrmConsentChanges crm, ClaimedBatches changes, ClaimedBatches crmChanges,
                        IdempotencyStore idempotency, RoutePolicies policies, String consentTopic, String customerTopic,
                        String group, int batch) {
        this.sync = sync;
        this.crm = crm;
        this.changes = changes;
        this.crmChanges = crmChanges;
        this.idempotency = idempotency;
        this.policies = policies;
        this.consentTopic = consentTopic;
        this.customerTopic = customerTopic;
        this.group = group;
        this.batch = batch;
    }

    @Override
    public void configure() {
        consumer(consentTopic, group + ".consent", CONSUMER_ID, changes, "consent.apply-batch");
        single(DIRECT, ROUTE_ID, ConsentSync::key, sync::process, "consent.apply-change");
        if (crm != null) {
            consumer(customerTopic, group + ".consent-crm", CRM_CONSUMER_ID, crmChanges, "consent.crm-batch");
            single(CRM_DIRECT, CRM_ROUTE_ID, CrmConsentChanges::key, crm::process, "consent.publish-crm-change");
        }
    }

    private void consumer(String topic, String groupId, String id, ClaimedBatches batches, String step) {
        from("kafka:" + topic + "?groupId=" + groupId + "&autoOffsetReset=earliest&batching=true&maxPollRecords=" + batch
                + "&pollTimeoutMs=100&batchingIntervalMs=10&autoCommitEnable=false&allowManualCommit=true"
                + "&breakOnFirstError=true")
                .routeId(id)
                .process(batches::process).id(step);
    }

    private void single(String uri, String id, Function<String, String> key, Processor effect, String step) {
        from(uri)
                .routeId(id)
                .errorHandler(policies.forRoute(id))
                .process((Exchange e) -> {
                    e.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, key.apply(
                            e.getMessage().getHeader(CloudEventHeaders.ID, String.class)));
                    String correlation = e.getMessage().getHeader(CloudEventHeaders.CORRELATION_ID, String.class);
                    if (correlation != null) e.setProperty(ExchangeKeys.CORRELATION_ID, correlation);
                }).id(id + "-key")
                .process(IdempotentStep.waitingForHolder(idempotency)).id(id + "-claim")
                .filter(exchangeProperty(IdempotentStep.ALREADY_DONE).isNull())
                    .process(effect).id(step)
                .end();
    }
}
