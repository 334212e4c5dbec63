package io.interchange.connectors.erp;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.webhook.InboundEvent;
import io.interchange.connectors.webhook.SignatureVerifier;
import io.interchange.connectors.webhook.WebhookJson;
import io.interchange.connectors.webhook.WebhookSource;
import io.interchange.mapping.LegalEntity;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.PartnerConfirmation;
import io.interchange.reliability.PermanentFailure;

import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * S/4HANA's business partner confirmations as a source of the webhook edge: S/4HANA posts each
 * {@code BusinessPartnerSUITEBulkReplicateConfirmation} (SOAP 1.1, {@code text/xml}) to
 * {@code POST /soap/s4hana/business-partner-confirmation}, authenticated as the configured user (HTTP Basic, as SAP's
 * communication arrangements send to a communication system). Each partner it confirms becomes a canonical
 * {@link PartnerConfirmation} on the customer topic, saved or rejected, claimed under our partner UUID and the
 * request message it confirms, so a confirmation S/4HANA sends again is a duplicate.
 */
public final class S4PartnerConfirmations implements WebhookSource {

    public static final String ROUTE_ID = "erp.s4hana.partner-confirmation";
    public static final String PATH = "/soap/s4hana/business-partner-confirmation";
    public static final String SOURCE = "/erp/s4hana";
    public static final String ACKNOWLEDGED_METRIC = "micrometer:counter:interchange.erp.partner.confirmations.acknowledged";

    private final SignatureVerifier verifier;
    private final Clock clock;

    public S4PartnerConfirmations(SignatureVerifier verifier, Clock clock) {
        this.verifier = verifier;
        this.clock = clock;
    }

    /** The idempotency key of one partner's confirmation. */
    public static String ingestKey(String partnerUuid, String requestMessageId) {
        return "erp:s4hana:partner:" + partnerUuid + ":" + requestMessageId;
    }

    @Override
    public String system() {
        return "s4hana";
    }

    @Override
    public String routeId() {
        return ROUTE_ID;
    }

    @Override
    public String path() {
        return PATH;
    }

    @Override
    public String steps() {
        return "erp.s4hana-partner";
    }

    @Override
    public String publishStep() {
        return "kafka.publish-partner-confirmation";
    }

    @Override
    public String acknowledgedMetric() {
        return ACKNOWLEDGED_METRIC;
    }

    @Override
    public String expected() {
        return "a BusinessPartnerSUITEBulkReplicateConfirmation in a SOAP 1.1 envelope";
    }

    @Override
    public String contentType() {
        return "text/xml";
    }

    @Override
    public String label() {
        return "S/4HANA partner confirmation";
    }

    @Override
    public boolean batch() {
        return true;
    }

    @Override
    public SignatureVerifier verifier() {
        return verifier;
    }

    @Override
    public List<InboundEvent> read(byte[] body, String correlationId) {
        List<S4BusinessPartners.Confirmation> confirmations;
        try {
            confirmations = S4BusinessPartners.readConfirmation(body);
        } catch (PermanentFailure | io.interchange.reliability.TransientFailure e) {
            throw new WebhookRejection(400, e.getMessage());
        }
        String now = clock.instant().truncatedTo(ChronoUnit.MILLIS).toString();
        List<InboundEvent> events = new ArrayList<>(confirmations.size());
        for (int i = 0; i < confirmations.size(); i++) {
            S4BusinessPartners.Confirmation c = confirmations.get(i);
            if (c.partnerUuid() == null || c.referenceMessageId() == null) {
                throw new WebhookRejection(400, "confirmation message [" + i + "] names no "
                        + (c.partnerUuid() == null ? "BusinessPartner/UUID" : "MessageHeader/ReferenceID")
                        + ": it cannot be matched to a partner we sent");
            }
            PartnerConfirmation canonical = new PartnerConfirmation(LegalEntity.S4HANA, c.partnerUuid(),
                    c.partnerNumber(), c.receiverUuid(), c.referenceMessageId(), c.saved(), c.notes());
            CanonicalType type = c.saved() ? CanonicalType.ERP_PARTNER_SAVED : CanonicalType.ERP_PARTNER_REJECTED;
            String key = ingestKey(c.partnerUuid(), c.referenceMessageId());
            Envelope envelope = new Envelope(key.substring("erp:".length()), SOURCE, type.ceType(),
                    "s4hana-partner:" + c.partnerUuid(), now, type.dataSchema(), correlationId, null, null, null);
            byte[] json;
            try {
                json = WebhookJson.JSON.writeValueAsBytes(canonical);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            events.add(InboundEvent.publish(c.referenceMessageId(), key, type.name(), envelope, json,
                    c.saved() ? "(partner " + c.partnerNumber() + ")" : "(rejected: " + String.join("; ", c.notes()) + ")"));
        }
        return events;
    }

    @Override
    public String metricType(String type) {
        return CanonicalType.ERP_PARTNER_SAVED.name().equals(type) || CanonicalType.ERP_PARTNER_REJECTED.name().equals(type)
                ? type : "other";
    }
}
