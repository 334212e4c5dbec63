package io.interchange.connectors.erp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.XmlWriter;
import io.interchange.mapping.LegalEntity;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.PermanentFailure;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * SAP S/4HANA Journal Entry – Post over SOAP: the {@code JournalEntryBulkCreateRequest} in namespace
 * {@code http://sap.com/xi/SAPSCORE/SFIN}, each entry built by {@code mappings/sap/journal-entry.jslt}, and its
 * confirmation read from the Log (severity 3 is a business rejection, permanent).
 */
public final class S4HanaConnector implements ErpConnector {

    public static final String SFIN_NS = "http://sap.com/xi/SAPSCORE/SFIN";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ErpEndpoint endpoint;
    private final Mapping mapping;
    private final String logicalSystem;
    private final String user;
    private final Clock clock;

    public S4HanaConnector(Config config, MappingEngine mappings, Clock clock) {
        this.endpoint = new ErpEndpoint("s4hana", config.get(Settings.S4_URL), config.getDuration(Settings.S4_TIMEOUT),
                config.get(Settings.S4_USER), config.get(Settings.S4_PASSWORD),
                config.getInt(Settings.S4_MAX_RATE));
        this.mapping = mappings.get("sap/journal-entry");
        this.logicalSystem = config.get(Settings.S4_LOGICAL_SYSTEM);
        this.user = config.get(Settings.S4_USER);
        this.clock = clock;
    }

    @Override
    public ErpEndpoint endpoint() {
        return endpoint;
    }

    @Override
    public String target() {
        return LegalEntity.S4HANA;
    }

    @Override
    public String request(LedgerPosting posting) {
        String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
        ObjectNode input = JSON.createObjectNode();
        input.set("posting", JSON.valueToTree(posting));
        input.putObject("context").put("now", now).put("logicalSystem", logicalSystem).put("user", user);
        String entry = XmlWriter.write(mapping.apply(input, posting.postingId()));
        // The bulk wrapper is protocol, not business mapping: one entry per message until batching lands.
        String bulkId = UUID.randomUUID().toString().replace("-", "");
        return SoapSupport.envelope("<sfin:JournalEntryBulkCreateRequest xmlns:sfin=\"" + SFIN_NS + "\">"
                + "<MessageHeader><ID>" + bulkId + "</ID><CreationDateTime>" + now + "</CreationDateTime></MessageHeader>"
                + entry + "</sfin:JournalEntryBulkCreateRequest>");
    }

    @Override
    public String[] requestHeaders() {
        return new String[0];
    }

    @Override
    public ErpAnswer read(int httpStatus, byte[] body) {
        Element root = SoapSupport.successBody("S/4HANA", httpStatus, body);
        if (!"JournalEntryBulkCreateConfirmation".equals(root.getLocalName())) {
            throw new PermanentFailure("S/4HANA answered " + root.getLocalName() + " instead of JournalEntryBulkCreateConfirmation");
        }
        String severity = SoapSupport.text(root, "MaximumLogItemSeverityCode");
        String document = SoapSupport.text(root, "AccountingDocument");
        if ("3".equals(severity) || "4".equals(severity) || document == null || document.matches("0+")) {
            List<String> notes = new ArrayList<>();
            NodeList items = root.getElementsByTagNameNS("*", "Note");
            for (int i = 0; i < items.getLength(); i++) notes.add(items.item(i).getTextContent().strip());
            throw new PermanentFailure("S/4HANA rejected the journal entry: " + (notes.isEmpty() ? "no reason given" : String.join("; ", notes)));
        }
        return new ErpAnswer(document, SoapSupport.text(root, "FiscalYear"), SoapSupport.text(root, "CompanyCode"));
    }
}
