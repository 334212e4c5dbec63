package io.interchange.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.time.Instant;
import java.util.UUID;

/**
 * Stripe events for tests (API 2024-06-20, as Stripe sends them), made from the normaliser's fixtures with a fresh
 * event id, today's date and a chosen entity in the object's metadata.
 */
public final class Events {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Events() {
    }

    public static ObjectNode invoicePaid(String legalEntity) {
        return from("stripe/normalise-2024.fixtures/invoice-paid.input.json", legalEntity);
    }

    public static ObjectNode invoiceFinalized(String legalEntity) {
        return from("stripe/normalise-2024.fixtures/invoice-finalized.input.json", legalEntity);
    }

    /** A refund.created of a charge; its entity in the refund's metadata (the chain's first rule). */
    public static ObjectNode refundCreated(String legalEntity) {
        ObjectNode e = from("stripe/normalise-2024.fixtures/refund-created.input.json", legalEntity);
        ((ObjectNode) e.path("data").path("object")).put("id", "re_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
        return e;
    }

    public static ObjectNode from(String fixture, String legalEntity) {
        try {
            ObjectNode e = (ObjectNode) JSON.readTree(Path.of("mappings").resolve(fixture).toFile());
            e.put("id", "evt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
            long now = Instant.now().getEpochSecond();
            e.put("created", now);
            ObjectNode obj = (ObjectNode) e.path("data").path("object");
            if (!obj.path("metadata").isObject()) obj.putObject("metadata");
            ((ObjectNode) obj.path("metadata")).put("legal_entity", legalEntity);
            if (obj.has("status_transitions")) {
                ObjectNode st = (ObjectNode) obj.path("status_transitions");
                if (st.hasNonNull("paid_at")) st.put("paid_at", now);
                if (st.hasNonNull("finalized_at")) st.put("finalized_at", now);
            }
            return e;
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    public static byte[] bytes(ObjectNode e) {
        try {
            return JSON.writeValueAsBytes(e);
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }
}
