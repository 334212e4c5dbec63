package io.interchange.connectors.erp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.XmlWriter;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.PermanentFailure;
import org.w3c.dom.Element;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The legacy ERP's ledger SOAP service ({@code PostJournal}, namespace {@code urn:interchange:legacy-erp:ledger:v1})
 * for entities not yet cut over; the request is built by {@code mappings/legacy-erp/post-journal.jslt}.
 */
public final class LegacyErpConnector implements ErpConnector {

    public static final String SOAP_ACTION = "\"urn:PostJournal\"";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ErpEndpoint endpoint;
    private final Mapping mapping;

    public LegacyErpConnector(Config config, MappingEngine mappings) {
        this.endpoint = new ErpEndpoint("legacyErp", config.get(Settings.LEGACY_URL),
                config.getDuration(Settings.LEGACY_TIMEOUT), config.get(Settings.LEGACY_USER),
                config.get(Settings.LEGACY_PASSWORD),
                config.getInt(Settings.LEGACY_MAX_RATE));
        this.mapping = mappings.get("legacy-erp/post-journal");
    }

    @Override
    public ErpEndpoint endpoint() {
        return endpoint;
    }

    @Override
    public String target() {
        return LegalEntity.LEGACY;
    }

    @Override
    public String request(List<LedgerPosting> postings) {
        if (postings.size() != 1) {
            throw new IllegalArgumentException("the legacy ERP takes one journal per request, not " + postings.size());
        }
        LedgerPosting posting = postings.get(0);
        ObjectNode input = JSON.createObjectNode();
        input.set("posting", JSON.valueToTree(posting));
        return SoapSupport.envelope(XmlWriter.write(mapping.apply(input, posting.postingId())));
    }

    @Override
    public String[] requestHeaders() {
        return new String[]{"SOAPAction", SOAP_ACTION};
    }

    @Override
    public ErpAnswer read(int httpStatus, byte[] body) {
        ErpAnswer alreadyPosted = duplicateReference(httpStatus, body);
        if (alreadyPosted != null) {
            return alreadyPosted;
        }
        Element root = SoapSupport.successBody("legacy ERP", httpStatus, body);
        if (!"PostJournalResponse".equals(root.getLocalName())) {
            throw new PermanentFailure("legacy ERP answered " + root.getLocalName() + " instead of PostJournalResponse");
        }
        String document = SoapSupport.text(root, "DocumentNumber");
        if (document == null || document.isBlank()) {
            throw new PermanentFailure("legacy ERP answered without a DocumentNumber");
        }
        return new ErpAnswer(document, SoapSupport.text(root, "FiscalYear"), null);
    }

    /**
     * The ledger refuses a second journal with the same reference (our posting id) and names the document it already
     * has: after a lost answer or a crash between posting and recording, that document is the confirmation.
     */
    private static ErpAnswer duplicateReference(int httpStatus, byte[] body) {
        if (httpStatus != 500 || body == null) return null;
        try {
            Element env = SoapSupport.parse(body).getDocumentElement();
            String code = SoapSupport.text(env, "faultcode");
            if (code == null || !code.endsWith("Client.DuplicateReference")) return null;
            Matcher m = ALREADY_POSTED.matcher(String.valueOf(SoapSupport.text(env, "faultstring")));
            return m.find() ? new ErpAnswer(m.group(1), m.group(2), null) : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static final Pattern ALREADY_POSTED =
            Pattern.compile("already posted as document ([A-Za-z0-9/\\-]{1,40}) in fiscal year (\\d{4})(?!\\d)");
}
