package io.interchange.connectors.erp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.XmlWriter;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import org.w3c.dom.Element;

/**
 * The legacy ERP's customer service, the ERP side of a customer of an entity not cut over to S/4HANA:
 * {@code UpsertCustomer} (SOAPAction {@value #SOAP_ACTION}), built by {@code mappings/legacy-erp/upsert-customer.jslt}.
 * Synchronous: the answer names the customer's number. The legacy ERP keeps customers per company under the caller's
 * external key, the global id, so a request sent again after an unknown outcome changes the customer it created, never
 * a second one: create and link is safe to repeat.
 */
public final class LegacyCustomers {

    public static final String NS = "urn:interchange:legacy-erp:customers:v1";
    public static final String SOAP_ACTION = "\"urn:UpsertCustomer\"";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The legacy ERP's answer: the customer's number, and whether this request created it. */
    public record Answer(String customerNumber, boolean created) {
    }

    private final Mapping mapping;

    public LegacyCustomers(MappingEngine mappings) {
        this.mapping = mappings.get("legacy-erp/upsert-customer");
    }

    /** The SOAP request saving {@code customer} in the legacy company of {@code legalEntity}. */
    public String request(Customer customer, String legalEntity, String legacyCompany) {
        ObjectNode input = JSON.createObjectNode();
        input.set("customer", JSON.valueToTree(customer));
        input.putObject("entity").put("legalEntity", legalEntity).put("legacyCompany", legacyCompany);
        return SoapSupport.envelope(XmlWriter.write(mapping.apply(input, customer.globalId() + " for " + legalEntity)));
    }

    /** Classified like every SOAP answer (transient: 408/429/5xx, Server faults; permanent: credentials, Client faults). */
    public static Answer read(int httpStatus, byte[] body) {
        Element root = SoapSupport.successBody("legacy ERP customer service", httpStatus, body);
        if (!"UpsertCustomerResponse".equals(root.getLocalName())) {
            throw new PermanentFailure("the legacy ERP answered " + root.getLocalName() + " instead of UpsertCustomerResponse");
        }
        String number = SoapSupport.text(root, "CustomerNumber");
        if (number == null || number.isBlank()) {
            throw new PermanentFailure("the legacy ERP's UpsertCustomerResponse names no CustomerNumber");
        }
        return new Answer(number.strip(), "true".equals(SoapSupport.text(root, "Created")));
    }
}
