package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.model.CanonicalType;
import io.interchange.model.CreditMemo;
import io.interchange.model.Invoice;
import io.interchange.model.Payment;
import io.interchange.model.Refund;
import io.interchange.store.DeadLetterStore;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * What a dead letter of the billing flows is about, as reconciliation names it, so that a difference finds the dead
 * letters of its records: a canonical billing event (header {@code ce_type}) is about its object and the billing
 * document it is posted as ({@code INVOICE|<number>}, {@code PAYMENT|<payment id>}, {@code REFUND|<refund id>},
 * {@code CREDIT_NOTE|<number>}, the keys {@link BillingDocuments} gives billing's side); a Stripe event parked at the
 * webhook edge, before it had a canonical form, is about the object it carries ({@code data.object.id}, the id
 * billing's list APIs give it). Anything else is about nothing named here.
 */
public final class DeadLetterDocuments implements DeadLetterStore.AboutReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public DeadLetterStore.About read(Map<String, String> headers, byte[] payload) {
        if (payload == null || payload.length == 0 || payload[0] != '{') return DeadLetterStore.About.NOTHING;
        JsonNode json;
        try {
            json = JSON.readTree(payload);
        } catch (IOException e) {
            return DeadLetterStore.About.NOTHING;
        }
        Optional<CanonicalType> type = Optional.ofNullable(headers.get("ce_type")).flatMap(CanonicalType::byCeType);
        if (type.isPresent()) return canonical(type.get().dataClass(), json);
        if ("event".equals(json.path("object").asText()) && json.path("data").path("object").path("id").isTextual()) {
            return new DeadLetterStore.About(json.path("data").path("object").path("id").asText(), null);
        }
        return DeadLetterStore.About.NOTHING;
    }

    private static DeadLetterStore.About canonical(Class<?> data, JsonNode c) {
        if (data == Invoice.class) return about(c, "invoiceId", LedgerDocuments.INVOICE, "number");
        if (data == Payment.class) return about(c, null, LedgerDocuments.PAYMENT, "paymentId");
        if (data == Refund.class) return about(c, "refundId", LedgerDocuments.REFUND, "refundId");
        if (data == CreditMemo.class) return about(c, "creditNoteId", LedgerDocuments.CREDIT_NOTE, "number");
        return DeadLetterStore.About.NOTHING;
    }

    private static DeadLetterStore.About about(JsonNode c, String idField, String kind, String referenceField) {
        String id = idField == null ? null : c.path(idField).asText(null);
        String reference = c.path(referenceField).asText(null);
        return new DeadLetterStore.About(id, reference == null || reference.isBlank() ? null
                : LedgerDocuments.key(kind, reference));
    }
}
