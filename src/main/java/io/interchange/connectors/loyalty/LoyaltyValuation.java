package io.interchange.connectors.loyalty;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.webhook.WebhookJson;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingException;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CustomerRef;
import io.interchange.model.LoyaltyTransaction;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CustomerFields;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * A loyalty platform transaction as the ledger sees it: mapped by {@code mappings/loyalty/transaction.jslt} (what its
 * type does to the liability), its holder's legal entity (the customer master's {@link #LEGAL_ENTITY_FIELD}, else the
 * configured default), its points valued in that entity's money ({@code mappings/loyalty/point-values.csv}) and dated
 * in the entity's time zone. One place for it, so that the webhook edge and the reconciliation, which reads the
 * platform's own list of transactions, value a transaction alike to the minor unit.
 */
public final class LoyaltyValuation {

    public static final String TRANSACTION_MAPPING = "loyalty/transaction";
    /** The customer-master field that names a customer's legal entity. */
    public static final String LEGAL_ENTITY_FIELD = "legalEntity";

    private final MappingEngine mappings;
    private final LegalEntityTable entities;
    private final PointValues pointValues;
    private final CustomerFields customers;
    private final String defaultEntity;

    public LoyaltyValuation(MappingEngine mappings, MappingSource source, LegalEntityTable entities,
                            CustomerFields customers, String defaultEntity) {
        this.mappings = mappings;
        this.entities = entities;
        this.pointValues = PointValues.load(source);
        this.customers = customers;
        this.defaultEntity = defaultEntity == null || defaultEntity.isBlank() ? null : defaultEntity.strip();
        if (this.defaultEntity != null && entities.find(this.defaultEntity).isEmpty()) {
            throw new IllegalArgumentException("interchange.loyalty.default-legal-entity: unknown legal entity '"
                    + this.defaultEntity + "': not in mappings/legal-entities.csv");
        }
        mappings.get(TRANSACTION_MAPPING); // fail at start-up on a missing mapping
    }

    public PointValues pointValues() {
        return pointValues;
    }

    /**
     * The canonical transaction of a {@code voucher.loyalty_card.transaction.created} webhook (or an object of its
     * shape: {@code data.transaction}, {@code data.voucher}, {@code data.holder}), valued; the legal entity it belongs
     * to is its {@code legalEntity}. What cannot be read or valued yet (a field missing, an unknown type, a holder that
     * is no customer of the master, no legal entity, no point value) is a {@link PermanentFailure} with the reason.
     */
    public Valued value(JsonNode webhook) {
        JsonNode m;
        try {
            m = mappings.get(TRANSACTION_MAPPING).apply(webhook, TRANSACTION_MAPPING);
        } catch (MappingException e) {
            throw new PermanentFailure(e.reason());
        }
        if (m == null || !m.isObject()) throw new PermanentFailure(TRANSACTION_MAPPING + " mapped the event to nothing");
        String transactionId = m.path("transactionId").asText();
        String globalId = m.path("customer").path("globalId").asText(null);
        if (globalId == null || globalId.isBlank()) {
            throw new PermanentFailure("transaction " + transactionId + ": its holder (" + m.path("customer")
                    .path("systemId").asText("unknown") + ") has no source_id, so it is no customer of the master "
                    + "data: link the loyalty customer to a global customer id, then replay");
        }
        String entityId = customers.find(globalId, LEGAL_ENTITY_FIELD).map(CustomerFields.Recorded::value)
                .filter(v -> !v.isBlank()).or(() -> Optional.ofNullable(defaultEntity))
                .orElseThrow(() -> new PermanentFailure("transaction " + transactionId + ": customer " + globalId
                        + " has no legal entity in the customer master yet (and interchange.loyalty.default-legal-entity "
                        + "names none); replay once the CRM has set it"));
        LegalEntity entity = entities.find(entityId).orElseThrow(() -> new PermanentFailure("transaction "
                + transactionId + ": unknown legal entity '" + entityId + "' of customer " + globalId
                + ": not in mappings/legal-entities.csv"));
        PointValues.PointValue value = pointValues.of(entityId).orElseThrow(() -> new PermanentFailure("transaction "
                + transactionId + ": legal entity " + entityId + " has no point value in mappings/loyalty/point-values.csv"));
        if (!value.currency().equals(entity.currency())) {
            throw new PermanentFailure("transaction " + transactionId + ": mappings/loyalty/point-values.csv values "
                    + entityId + "'s points in " + value.currency() + ", its books are in " + entity.currency());
        }
        Instant occurredAt;
        try {
            occurredAt = Instant.parse(m.path("occurredAt").asText());
        } catch (DateTimeParseException e) {
            throw new PermanentFailure("transaction " + transactionId + ": created_at '"
                    + WebhookJson.printable(m.path("occurredAt").asText()) + "' is not an ISO-8601 time");
        }
        long points = m.path("points").asLong();
        LoyaltyTransaction t = new LoyaltyTransaction(transactionId, m.path("type").asText(),
                m.path("movement").asText(), new CustomerRef(globalId, "loyalty", textOrNull(m.path("customer"), "systemId")),
                textOrNull(m, "memberId"), textOrNull(m, "campaignId"), points,
                m.hasNonNull("balance") ? m.get("balance").asLong() : null, textOrNull(m, "sourceId"),
                textOrNull(m, "reason"), textOrNull(m, "relatedTransactionId"), textOrNull(m, "orderId"),
                value.currency(), value.minorUnitsPerPoint().toPlainString(), value.valueMinor(points),
                m.path("occurredAt").asText(), occurredAt.atZone(entity.timeZone()).toLocalDate().toString());
        return new Valued(t, entityId, occurredAt);
    }

    /** A transaction valued, the legal entity it belongs to, and when the platform recorded it. */
    public record Valued(LoyaltyTransaction transaction, String legalEntity, Instant occurredAt) {
    }

    private static String textOrNull(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isNull() || v.isMissingNode() ? null : v.asText();
    }
}
