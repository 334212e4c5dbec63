package io.interchange.connectors.erp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.XmlWriter;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CrossReferences;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * SAP S/4HANA's business partner replication, the ERP side of a customer: {@code BusinessPartnerSUITEBulkReplicateRequest}
 * (namespace {@value #NS}), each partner's message built by {@code mappings/sap/business-partner.jslt}. The service is
 * asynchronous: S/4HANA takes a request with HTTP 202 ({@link #readAcceptance}) and later posts a
 * {@code BusinessPartnerSUITEBulkReplicateConfirmation} to the runtime ({@link #readConfirmation}), one message per
 * partner with the number S/4HANA gave it.
 *
 * <p>Creating a partner and linking its number can never make two: the partner's UUID is the cross-reference's creation
 * key of the customer's S/4HANA record, derived from the global id ({@link #partnerUuid}), and S/4HANA keeps a key mapping from (sender system, UUID) to its partner, so a request sent
 * again after a crash, a lost acceptance or a lost confirmation changes the partner it created the first time.
 */
public final class S4BusinessPartners {

    public static final String NS = "http://sap.com/xi/SAPGlobal20/Global";
    /** Path of the inbound service on the S/4HANA host (communication scenario SAP_COM_0008). */
    public static final String SERVICE_PATH = "/sap/bc/srt/scs_ext/sap/businesspartnersuitebulkreplic";
    /** Partners one request carries at most. */
    public static final int MAX_BULK = 100;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One customer to replicate for one legal entity (its company code is added to the partner). */
    public record PartnerRequest(Customer customer, String legalEntity, String companyCode) {
    }

    /**
     * What S/4HANA confirmed for one partner.
     *
     * @param referenceMessageId the partner message's ID in our request (MessageHeader/ReferenceID)
     * @param partnerUuid        our UUID of the partner (derived from the global id)
     * @param partnerNumber      the number S/4HANA gave it (ReceiverInternalID); null if it was not saved
     * @param receiverUuid       S/4HANA's own UUID of the partner
     * @param saved              false when the log reports an error (severity 3 or 4) or no number came back
     * @param notes              the log's notes, for an operator
     */
    public record Confirmation(String referenceMessageId, String partnerUuid, String partnerNumber, String receiverUuid,
                               boolean saved, List<String> notes) {
    }

    private final Mapping mapping;
    private final String senderSystem;
    private final String recipientSystem;
    private final Clock clock;

    public S4BusinessPartners(MappingEngine mappings, String senderSystem, String recipientSystem, Clock clock) {
        this.mapping = mappings.get("sap/business-partner");
        if (senderSystem == null || senderSystem.isBlank()) {
            throw new IllegalArgumentException("the sender business system of business partner replication is not set");
        }
        this.senderSystem = senderSystem;
        this.recipientSystem = recipientSystem == null || recipientSystem.isBlank() ? null : recipientSystem;
        this.clock = clock;
    }

    /** The cross-reference's system name of S/4HANA's business partners (one per customer in the client: scope ''). */
    public static final String XREF_SYSTEM = "erp-s4hana";

    /**
     * The partner's UUID in every message about it: the cross-reference's creation key of the customer's S/4HANA
     * record, so it is the same on every attempt and instance, and a confirmation finds the pending link by it.
     */
    public static String partnerUuid(String globalId) {
        return CrossReferences.creationKey(globalId, XREF_SYSTEM, "");
    }

    /** The SOAP request replicating these partners (1 to {@value #MAX_BULK}). */
    public String request(List<PartnerRequest> partners) {
        if (partners.isEmpty() || partners.size() > MAX_BULK) {
            throw new IllegalArgumentException("a bulk request carries 1 to " + MAX_BULK + " partners, not " + partners.size());
        }
        String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
        String bulkId = UUID.randomUUID().toString().replace("-", "");
        // the bulk wrapper is protocol, not business mapping: each partner's message is the mapping's
        ObjectNode header = JSON.createObjectNode();
        header.putObject("MessageHeader").put("ID", bulkId).put("CreationDateTime", now)
                .put("SenderBusinessSystemID", senderSystem).put("RecipientBusinessSystemID", recipientSystem);
        StringBuilder xml = new StringBuilder(2048 * partners.size())
                .append("<n0:BusinessPartnerSUITEBulkReplicateRequest xmlns:n0=\"").append(NS).append("\">")
                .append(XmlWriter.write(header));
        for (PartnerRequest p : partners) {
            ObjectNode input = JSON.createObjectNode();
            input.set("customer", JSON.valueToTree(p.customer()));
            input.putObject("entity").put("legalEntity", p.legalEntity()).put("companyCode", p.companyCode());
            input.putObject("context").put("now", now).put("senderSystem", senderSystem).put("recipientSystem", recipientSystem)
                    .put("partnerUuid", partnerUuid(p.customer().globalId()));
            xml.append(XmlWriter.write(mapping.apply(input, p.customer().globalId() + " for " + p.legalEntity())));
        }
        return SoapSupport.envelope(xml.append("</n0:BusinessPartnerSUITEBulkReplicateRequest>").toString());
    }

    /**
     * The synchronous answer to a request: taken (HTTP 202, or 200 with an empty body) or
     * classified like every SOAP answer ({@link SoapSupport#successBody}: 408/429/5xx and Server faults transient,
     * rejected credentials and Client faults permanent).
     */
    public static void readAcceptance(int httpStatus, byte[] body) {
        // 202 took the request (whatever its body); a 200 took it only without anything to read
        if (httpStatus == 202 || httpStatus == 200 && (body == null || new String(body, StandardCharsets.UTF_8).isBlank())) {
            return;
        }
        SoapSupport.successBody("S/4HANA business partner replication", httpStatus, body);
    }

    /** The partners of a {@code BusinessPartnerSUITEBulkReplicateConfirmation} S/4HANA posted. */
    public static List<Confirmation> readConfirmation(byte[] body) {
        Element root = SoapSupport.successBody("S/4HANA business partner confirmation", 200, body);
        if (!"BusinessPartnerSUITEBulkReplicateConfirmation".equals(root.getLocalName())) {
            throw new PermanentFailure("expected a BusinessPartnerSUITEBulkReplicateConfirmation, got " + root.getLocalName());
        }
        List<Confirmation> out = new ArrayList<>();
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (!(n instanceof Element m) || !"BusinessPartnerSUITEReplicateConfirmationMessage".equals(m.getLocalName())) {
                continue;
            }
            Element header = child(m, "MessageHeader");
            Element partner = child(m, "BusinessPartner");
            Element log = child(m, "Log");
            String number = partner == null ? null : direct(partner, "ReceiverInternalID");
            String severity = log == null ? null : direct(log, "MaximumLogItemSeverityCode");
            String result = log == null ? null : direct(log, "BusinessDocumentProcessingResultCode");
            List<String> notes = new ArrayList<>();
            if (log != null) {
                for (Node i = log.getFirstChild(); i != null; i = i.getNextSibling()) {
                    if (i instanceof Element item && "Item".equals(item.getLocalName())) {
                        String note = direct(item, "Note");
                        if (note != null) notes.add(note);
                    }
                }
            }
            boolean failed = "3".equals(severity) || "4".equals(severity) || "5".equals(result) || number == null;
            out.add(new Confirmation(header == null ? null : direct(header, "ReferenceID"),
                    partner == null ? null : direct(partner, "UUID"), failed ? null : number,
                    partner == null ? null : direct(partner, "ReceiverUUID"), !failed, List.copyOf(notes)));
        }
        if (out.isEmpty()) {
            throw new PermanentFailure("the business partner confirmation confirms no partner");
        }
        return out;
    }

    private static Element child(Element parent, String local) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && local.equals(e.getLocalName())) return e;
        }
        return null;
    }

    /** The text of a direct child element, trimmed; null if absent or empty. */
    private static String direct(Element parent, String local) {
        Element e = child(parent, local);
        if (e == null) return null;
        String text = e.getTextContent().strip();
        return text.isEmpty() ? null : text;
    }
}
