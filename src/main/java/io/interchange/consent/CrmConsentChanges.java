package io.interchange.consent;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.mailchimp.MailchimpWebhook;
import io.interchange.model.CanonicalType;
import io.interchange.model.ConsentChange;
import io.interchange.model.CustomerChange;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CrossReferences;
import io.interchange.store.EchoLedger;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The CRMs' consent changes, picked out of the customer topic (on the consent flow's own consumer group, so the
 * customer sync neither waits for nor knows about it): a HubSpot contact's change of the consent subscription type's
 * property {@code hs_email_optout_<subscription id>} (HubSpot changes it with the subscription status, which the
 * runtime writes through the Communication Preferences API; true revokes, false grants) or of {@code hs_email_optout}
 * to true (unsubscribed from all e-mail, which only HubSpot and the contact set; a revocation), source time the
 * event's {@code occurredAt}, and a Salesforce Contact change event naming {@code HasOptedOutOfEmail}
 * (source time: the commit time), each published once as a {@link ConsentChange} on the consent topic. Why here and
 * not at the CRM edges: the edges stay what they are (one system, one topic), and one consumer decides for both CRMs
 * what counts as consent. The record must be linked to a customer already (by the customer sync); a change of a
 * record not linked yet is logged and passed over. The runtime's own writes coming back are passed over: HubSpot's by
 * the echo ledger, Salesforce's at the connector already (its {@code changeOrigin}).
 */
public final class CrmConsentChanges {

    private static final Logger LOG = LoggerFactory.getLogger(CrmConsentChanges.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CrossReferences crossReferences;
    private final EchoLedger echoes;
    private final ProducerTemplate template;
    private final String consentTopic;
    /** The configured subscription type's contact property ({@code hs_email_optout_<id>}), or null. */
    private final String hubSpotOptOutProperty;

    public CrmConsentChanges(CrossReferences crossReferences, EchoLedger echoes, ProducerTemplate template,
                             String consentTopic, String hubSpotOptOutProperty) {
        this.hubSpotOptOutProperty = hubSpotOptOutProperty;
        this.crossReferences = crossReferences;
        this.echoes = echoes;
        this.template = template;
        this.consentTopic = consentTopic;
    }

    /** The customer-topic types that may carry a consent change. */
    public static Set<String> types() {
        return Set.of(CanonicalType.CUSTOMER_PROPERTY_CHANGED.ceType(), CanonicalType.CUSTOMER_UPDATED.ceType(),
                CanonicalType.CUSTOMER_CREATED.ceType());
    }

    /** The idempotency key of a customer record taken by this flow, from its CloudEvents id. */
    public static String key(String ceId) {
        return "consent:crm:" + ceId;
    }

    public List<RuntimeException> handle(List<Exchange> records) {
        List<RuntimeException> out = new ArrayList<>(records.size());
        for (Exchange r : records) {
            try {
                process(r);
                out.add(null);
            } catch (RuntimeException e) {
                out.add(e);
            }
        }
        return out;
    }

    public void process(Exchange record) {
        String ceId = record.getMessage().getHeader(CloudEventHeaders.ID, String.class);
        CustomerChange change;
        try {
            change = JSON.readValue(record.getMessage().getBody(byte[].class), CustomerChange.class);
        } catch (IOException e) {
            throw new PermanentFailure("not a customer change: " + e.getMessage());
        }
        ConsentChange consent = consentOf(ceId, change);
        if (consent == null) return;
        Map<String, Object> headers = new HashMap<>();
        org.apache.camel.Message m = new org.apache.camel.support.DefaultMessage(record.getContext());
        CloudEventHeaders.write(MailchimpWebhook.envelope(consent,
                record.getMessage().getHeader(CloudEventHeaders.CORRELATION_ID, String.class)), m);
        headers.putAll(m.getHeaders());
        headers.put(KafkaConstants.KEY, consent.customer());
        template.sendBodyAndHeaders("kafka:" + consentTopic + "?synchronous=true", MailchimpWebhook.json(consent), headers);
        LOG.info("Consent change {} of customer {} from {} record {} published", consent.changeId(), consent.customer(),
                consent.source(), consent.sourceRecord());
    }

    /** The consent change a CRM change carries, or null when it carries none (or only an echo). */
    ConsentChange consentOf(String ceId, CustomerChange c) {
        if (c.customer() == null || !"contact".equals(c.objectType()) || c.occurredAt() == null) return null;
        String system = c.customer().system();
        String optOut;
        String field;
        if ("hubspot".equals(system)) {
            if (c.property() == null || c.value() == null) return null;
            if (c.property().equals(hubSpotOptOutProperty)) {
                field = hubSpotOptOutProperty;
                optOut = c.value().strip().toLowerCase();
            } else if (ConsentWriters.HUBSPOT_OPT_OUT.equals(c.property())
                    && "true".equalsIgnoreCase(c.value().strip())) {
                // unsubscribed from all e-mail: a revocation. Its end (false) grants nothing: the contact is then
                // subscribed to no type until one is chosen, which the subscription type's own property announces
                field = ConsentWriters.HUBSPOT_OPT_OUT;
                optOut = "true";
            } else {
                return null;
            }
        } else if ("salesforce".equals(system) && c.values() != null
                && c.values().get(ConsentWriters.SALESFORCE_OPT_OUT) != null
                && ("created".equals(c.change())
                ? Boolean.TRUE.equals(c.values().get(ConsentWriters.SALESFORCE_OPT_OUT))
                : c.changedFields() == null || c.changedFields().contains(ConsentWriters.SALESFORCE_OPT_OUT))) {
            // a Contact created without opting out states nothing (the field defaults to false); one created opted out
            // is a revocation
            field = ConsentWriters.SALESFORCE_OPT_OUT;
            optOut = String.valueOf(c.values().get(ConsentWriters.SALESFORCE_OPT_OUT)).strip().toLowerCase();
        } else {
            return null;
        }
        if (!optOut.equals("true") && !optOut.equals("false")) {
            throw new PermanentFailure(system + " " + field + " of " + c.objectId() + " is '" + optOut
                    + "', neither true nor false");
        }
        Instant at = Instant.parse(c.occurredAt());
        if (echoes.isEcho(system, c.objectId(), field, optOut, at)) {
            LOG.debug("{} {} of {} is the runtime's own write coming back", system, field, c.objectId());
            return null;
        }
        String scope = (c.account() == null ? "" : c.account()) + "/" + c.objectType();
        String globalId = crossReferences.resolve(system, scope, c.objectId()).orElse(null);
        if (globalId == null) {
            LOG.warn("{} contact {} changed {} to {}, but it is linked to no customer yet: not synchronised", system,
                    c.objectId(), field, optOut);
            return null;
        }
        return new ConsentChange(system + ":" + ceId, globalId, ConsentChange.EMAIL_MARKETING, optOut.equals("false"),
                system, ConsentChange.time(at), c.objectId(),
                field + "=" + optOut + (c.changeSource() == null ? "" : " (" + c.changeSource() + ")"));
    }
}
