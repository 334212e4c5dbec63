package io.interchange.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.erp.S4HanaConnector;
import io.interchange.connectors.erp.SoapSupport;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.XmlWriter;
import io.interchange.model.LedgerPosting;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The hand-written baseline's S/4HANA batching: several journal entries in one {@code JournalEntryBulkCreateRequest}
 * and one answer per entry read back. Each entry is built exactly as {@link S4HanaConnector#request} builds its one
 * entry (same mapping, same context, same XML writer); only the bulk wrapper around them is ours, since the connector
 * wraps one entry per message. The peer answers one {@code JournalEntryCreateConfirmation} per entry, its
 * {@code ReferenceID} being the entry's MessageHeader ID.
 */
final class BulkJournal {

    /** One entry of a bulk request: its MessageHeader ID and its XML. */
    record Entry(String id, String xml) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Mapping mapping;
    private final String logicalSystem;
    private final String user;

    BulkJournal(MappingEngine mappings, Config config) {
        this.mapping = mappings.get("sap/journal-entry");
        this.logicalSystem = config.get(Settings.S4_LOGICAL_SYSTEM);
        this.user = config.get(Settings.S4_USER);
    }

    static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    Entry entry(LedgerPosting posting, String now) {
        ObjectNode input = JSON.createObjectNode();
        input.set("posting", JSON.valueToTree(posting));
        input.putObject("context").put("now", now).put("logicalSystem", logicalSystem).put("user", user);
        JsonNode out = mapping.apply(input, posting.postingId());
        String id = out.path("JournalEntryCreateRequest").path("MessageHeader").path("ID").asText();
        return new Entry(id, XmlWriter.write(out));
    }

    static String request(List<Entry> entries, String now) {
        StringBuilder sb = new StringBuilder(entries.size() * 2048);
        sb.append("<sfin:JournalEntryBulkCreateRequest xmlns:sfin=\"").append(S4HanaConnector.SFIN_NS).append("\">")
                .append("<MessageHeader><ID>").append(UUID.randomUUID().toString().replace("-", ""))
                .append("</ID><CreationDateTime>").append(now).append("</CreationDateTime></MessageHeader>");
        for (Entry e : entries) sb.append(e.xml());
        return SoapSupport.envelope(sb.append("</sfin:JournalEntryBulkCreateRequest>").toString());
    }

    /**
     * The answer per entry, by entry ID; classified as the connector classifies its one entry (a rejected entry is
     * a failure: the bench's postings are all valid, so one means the baseline built something wrong).
     */
    static Map<String, ErpConnector.ErpAnswer> read(int status, byte[] body) {
        Element root = SoapSupport.successBody("S/4HANA", status, body);
        if (!"JournalEntryBulkCreateConfirmation".equals(root.getLocalName())) {
            throw new IllegalStateException("S/4HANA answered " + root.getLocalName());
        }
        Map<String, ErpConnector.ErpAnswer> out = new HashMap<>();
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (!(n instanceof Element e) || !"JournalEntryCreateConfirmation".equals(e.getLocalName())) continue;
            String ref = SoapSupport.text(e, "ReferenceID"); // the first one: the entry's MessageHeader
            String severity = SoapSupport.text(e, "MaximumLogItemSeverityCode");
            String document = SoapSupport.text(e, "AccountingDocument");
            if ("3".equals(severity) || "4".equals(severity) || document == null || document.matches("0+")) {
                throw new IllegalStateException("S/4HANA rejected entry " + ref + ": " + SoapSupport.text(e, "Note"));
            }
            out.put(ref, new ErpConnector.ErpAnswer(document, SoapSupport.text(e, "FiscalYear"), SoapSupport.text(e, "CompanyCode")));
        }
        return out;
    }
}
