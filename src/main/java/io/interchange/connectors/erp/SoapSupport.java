package io.interchange.connectors.erp;

import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

/**
 * SOAP 1.1 parts shared by the ERP connectors: the envelope, a parser that refuses DTDs and external entities, fault
 * reading, and the classification of HTTP and SOAP answers into transient and permanent failures.
 */
public final class SoapSupport {

    public static final String SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/";
    public static final String CONTENT_TYPE = "text/xml; charset=utf-8";

    private static final DocumentBuilderFactory FACTORY = secureFactory();

    private SoapSupport() {
    }

    public static String envelope(String bodyXml) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                + "<soap-env:Envelope xmlns:soap-env=\"" + SOAP11_NS + "\"><soap-env:Header/><soap-env:Body>"
                + bodyXml + "</soap-env:Body></soap-env:Envelope>";
    }

    /**
     * Classifies an answer and returns the first element of the SOAP Body when it is a success. {@code system} names
     * the peer in error messages.
     */
    public static Element successBody(String system, int status, byte[] body) {
        if (status == 401 || status == 403) {
            throw new PermanentFailure(system + " refused the credentials (HTTP " + status + "); fix the configured "
                    + "user and password, then replay");
        }
        if (status == 408 || status == 429 || status == 502 || status == 503 || status == 504) {
            throw new TransientFailure(system + " unavailable (HTTP " + status + ")" + snippet(body));
        }
        Document doc = null;
        try {
            doc = parse(body);
        } catch (Exception e) {
            if (status >= 500) {
                throw new TransientFailure(system + " answered HTTP " + status + " without a SOAP envelope" + snippet(body));
            }
            throw new PermanentFailure(system + " answered HTTP " + status + " with a body that is not SOAP XML ("
                    + e.getMessage() + ")" + snippet(body));
        }
        Element first = firstBodyElement(doc);
        if (first != null && "Fault".equals(first.getLocalName()) && SOAP11_NS.equals(first.getNamespaceURI())) {
            String code = text(first, "faultcode");
            String reason = text(first, "faultstring");
            String local = code == null ? "" : code.substring(code.indexOf(':') + 1);
            String message = system + " SOAP fault " + code + ": " + reason;
            // SOAP 1.1: Server faults may succeed later; Client (and VersionMismatch, MustUnderstand) will not.
            if (local.startsWith("Server")) throw new TransientFailure(message);
            throw new PermanentFailure(message);
        }
        if (status >= 500) {
            throw new TransientFailure(system + " answered HTTP " + status + snippet(body));
        }
        if (status < 200 || status >= 300) {
            throw new PermanentFailure(system + " answered HTTP " + status + snippet(body));
        }
        if (first == null) {
            throw new PermanentFailure(system + " answered an empty SOAP Body");
        }
        return first;
    }

    /** Text of the first descendant element with this local name, or null. */
    public static String text(Element parent, String localName) {
        NodeList list = parent.getElementsByTagNameNS("*", localName);
        return list.getLength() == 0 ? null : list.item(0).getTextContent().strip();
    }

    static Document parse(byte[] body) throws Exception {
        DocumentBuilder b = FACTORY.newDocumentBuilder();
        b.setErrorHandler(null);
        return b.parse(new ByteArrayInputStream(body));
    }

    private static Element firstBodyElement(Document doc) {
        Element env = doc.getDocumentElement();
        if (env == null || !"Envelope".equals(env.getLocalName()) || !SOAP11_NS.equals(env.getNamespaceURI())) {
            return null;
        }
        NodeList bodies = env.getElementsByTagNameNS(SOAP11_NS, "Body");
        if (bodies.getLength() == 0) return null;
        for (Node n = bodies.item(0).getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) return e;
        }
        return null;
    }

    private static String snippet(byte[] body) {
        if (body == null || body.length == 0) return "";
        String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        return ": " + s;
    }

    private static DocumentBuilderFactory secureFactory() {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            return f;
        } catch (Exception e) {
            throw new IllegalStateException("Cannot configure a secure XML parser", e);
        }
    }
}
