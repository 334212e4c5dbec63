package io.interchange.connectors.erp;

import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXParseException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * SOAP 1.1 parts shared by the ERP connectors: the envelope, a parser that refuses DTDs and external entities, fault
 * reading (SOAP 1.2 faults too, from a misconfigured service or gateway), and the classification of HTTP and SOAP
 * answers into transient and permanent failures.
 */
public final class SoapSupport {

    public static final String SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/";
    public static final String SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope";
    public static final String CONTENT_TYPE = "text/xml; charset=utf-8";

    /** Largest answer parsed; a journal entry confirmation is a few kilobytes. */
    static final int MAX_ANSWER_BYTES = 8 * 1024 * 1024;
    /** Longest fault text kept in a failure reason (dead letters keep 4000 characters). */
    static final int MAX_REASON_CHARS = 1000;
    /** Longest value in a success answer: SAP log notes have at most 220 characters, document numbers 10. */
    static final int MAX_VALUE_CHARS = 1000;
    private static final Pattern DOCUMENT_NUMBER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_./-]{0,39}");
    private static final Pattern FISCAL_YEAR = Pattern.compile("[0-9]{4}");
    private static final Pattern COMPANY_CODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,19}");

    private static final DocumentBuilderFactory FACTORY = secureFactory();
    private static final ErrorHandler SILENT = new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) {
        }

        @Override
        public void error(SAXParseException e) throws SAXParseException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXParseException {
            throw e;
        }
    };

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
     *
     * <p>Transient: HTTP 408, 429 and 5xx without a fault saying otherwise, SOAP 1.1 {@code Server} and SOAP 1.2
     * {@code Receiver} faults. Permanent: rejected credentials, {@code Client}/{@code Sender} (and version) faults, and
     * any 2xx answer that is not a readable SOAP 1.1 confirmation: the ERP did answer, so whether it posted is unknown,
     * and an operator must look before anything is sent again.
     */
    public static Element successBody(String system, int status, byte[] body) {
        if (status == 401 || status == 403) {
            throw new PermanentFailure(system + " refused the credentials (HTTP " + status + "); fix the configured "
                    + "user and password, then replay");
        }
        if (status == 408 || status == 429 || status == 502 || status == 503 || status == 504) {
            throw new TransientFailure(system + " unavailable (HTTP " + status + ")" + snippet(body));
        }
        if (body != null && body.length > MAX_ANSWER_BYTES) {
            // a confirmation is a few kilobytes; building a DOM of anything this large only costs memory
            String message = system + " answered HTTP " + status + " with " + body.length + " bytes, more than the "
                    + MAX_ANSWER_BYTES + " an answer may have" + snippet(body);
            if (status >= 500) throw new TransientFailure(message);
            throw new PermanentFailure(message);
        }
        Document doc;
        try {
            doc = parse(body);
        } catch (Exception e) {
            if (status >= 500) {
                throw new TransientFailure(system + " answered HTTP " + status + " without a SOAP envelope" + snippet(body));
            }
            throw new PermanentFailure(system + " answered HTTP " + status + " with a body that is not SOAP XML ("
                    + e.getMessage() + ")" + snippet(body));
        }
        Element env = doc.getDocumentElement();
        Element first = firstBodyElement(env, SOAP11_NS);
        // SOAP 1.1: Server faults may succeed later; Client (and VersionMismatch, MustUnderstand) will not.
        throwIfFault(system, "SOAP fault ", first, SOAP11_NS, "faultcode", "faultstring", c -> c.startsWith("Server"));
        // SOAP 1.2 (a misconfigured service or gateway): Receiver may succeed later; Sender, VersionMismatch,
        // MustUnderstand and DataEncodingUnknown will not
        throwIfFault(system, "SOAP 1.2 fault ", firstBodyElement(env, SOAP12_NS), SOAP12_NS, "Value", "Text", "Receiver"::equals);
        if (status >= 500) {
            throw new TransientFailure(system + " answered HTTP " + status + snippet(body));
        }
        if (status < 200 || status >= 300) {
            throw new PermanentFailure(system + " answered HTTP " + status + snippet(body));
        }
        if (env == null || !"Envelope".equals(env.getLocalName()) || !SOAP11_NS.equals(env.getNamespaceURI())) {
            throw new PermanentFailure(system + " answered " + (env != null && SOAP12_NS.equals(env.getNamespaceURI())
                    ? "a SOAP 1.2 envelope; the service speaks SOAP 1.1" : qname(env) + " instead of a SOAP 1.1 Envelope")
                    + snippet(body));
        }
        if (first == null) {
            throw new PermanentFailure(system + " answered an empty SOAP Body");
        }
        checkValueLengths(system, first);
        checkConfirmationValues(system, first);
        return first;
    }

    /** Throws the classified failure when {@code element} is a Fault of that SOAP version. */
    private static void throwIfFault(String system, String label, Element element, String ns, String codeTag,
                                     String textTag, Predicate<String> transientCode) {
        if (element == null || !"Fault".equals(element.getLocalName()) || !ns.equals(element.getNamespaceURI())) {
            return;
        }
        String code = text(element, codeTag);
        String local = code == null ? "" : code.substring(code.indexOf(':') + 1);
        String message = system + " " + label + code + ": " + abbreviate(text(element, textTag));
        if (transientCode.test(local)) throw new TransientFailure(message);
        throw new PermanentFailure(message);
    }

    /**
     * Text of the first descendant element with this local name, or null when there is none or it is blank (an empty
     * {@code <AccountingDocument/>} confirms nothing).
     */
    public static String text(Element parent, String localName) {
        NodeList list = parent.getElementsByTagNameNS("*", localName);
        if (list.getLength() == 0) return null;
        String text = list.item(0).getTextContent().strip();
        return text.isEmpty() ? null : text;
    }

    /**
     * Parsers ready for the next answer. Making a secure parser costs about as much as parsing a confirmation of a few
     * kilobytes (the factory configures a new Xerces parser each time), and every posting parses one answer; a parser
     * is used by one thread at a time, so each parse takes one from here and gives it back. A queue rather than a
     * thread-local: callers may be virtual threads, which a thread-local would give a parser each.
     */
    private static final java.util.concurrent.ConcurrentLinkedQueue<DocumentBuilder> PARSERS =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Parsers kept at most: as many as answers are parsed at once, at most this. */
    private static final int MAX_IDLE_PARSERS = 64;
    private static final java.util.concurrent.atomic.AtomicInteger IDLE_PARSERS = new java.util.concurrent.atomic.AtomicInteger();

    static Document parse(byte[] body) throws Exception {
        DocumentBuilder b = PARSERS.poll();
        if (b == null) {
            b = FACTORY.newDocumentBuilder();
        } else {
            IDLE_PARSERS.decrementAndGet();
        }
        b.setErrorHandler(SILENT); // the default handler prints every malformed answer to stderr before throwing
        try {
            return b.parse(new ByteArrayInputStream(body));
        } finally {
            // reset() returns the parser to the state the secure factory made it in (its features stay)
            b.reset();
            if (IDLE_PARSERS.incrementAndGet() <= MAX_IDLE_PARSERS) {
                PARSERS.offer(b);
            } else {
                IDLE_PARSERS.decrementAndGet();
            }
        }
    }

    /**
     * The identifiers a confirmation carries are stored ({@code erp_confirmation}) and published: an answer whose
     * document number, fiscal year or company code cannot be one is refused here as permanent, instead of failing
     * later in the store, where it would be retried and the journal entry posted again.
     */
    static void checkConfirmationValues(String system, Element body) {
        checkValue(system, body, "AccountingDocument", DOCUMENT_NUMBER, "a document number of up to 40 letters and digits");
        checkValue(system, body, "DocumentNumber", DOCUMENT_NUMBER, "a document number of up to 40 letters and digits");
        checkValue(system, body, "FiscalYear", FISCAL_YEAR, "a four-digit year");
        checkValue(system, body, "CompanyCode", COMPANY_CODE, "a company code of up to 20 letters and digits");
    }

    /** No value of a success answer may be longer than a confirmation's values are: it would only travel into reasons and logs. */
    private static void checkValueLengths(String system, Element body) {
        NodeList all = body.getElementsByTagNameNS("*", "*");
        // getLength() once: on a live DOM list it walks back up from the last element, costly in a deep tree
        for (int i = 0, n = all.getLength(); i < n; i++) {
            Element e = (Element) all.item(i);
            if (e.getFirstChild() == null || hasElementChild(e)) continue;
            int length = e.getTextContent().length();
            if (length > MAX_VALUE_CHARS) {
                throw new PermanentFailure(system + " answered a " + e.getLocalName() + " of " + length
                        + " characters, more than the " + MAX_VALUE_CHARS + " a confirmation value may have");
            }
        }
    }

    private static boolean hasElementChild(Element e) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeType() == Node.ELEMENT_NODE) return true;
        }
        return false;
    }

    private static void checkValue(String system, Element body, String element, Pattern shape, String expected) {
        String value = text(body, element);
        if (value != null && !shape.matcher(value).matches()) {
            throw new PermanentFailure(system + " answered " + element + " '" + abbreviate(value.replaceAll("\\p{Cntrl}", "?"))
                    + "', which is not " + expected);
        }
    }

    private static Element firstBodyElement(Element env, String ns) {
        if (env == null || !"Envelope".equals(env.getLocalName()) || !ns.equals(env.getNamespaceURI())) {
            return null;
        }
        NodeList bodies = env.getElementsByTagNameNS(ns, "Body");
        if (bodies.getLength() == 0) return null;
        for (Node n = bodies.item(0).getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) return e;
        }
        return null;
    }

    private static String qname(Element e) {
        if (e == null) return "no element";
        return (e.getNamespaceURI() == null ? "" : "{" + e.getNamespaceURI() + "}") + e.getLocalName();
    }

    private static String abbreviate(String s) {
        if (s == null) return null;
        return s.length() > MAX_REASON_CHARS ? s.substring(0, MAX_REASON_CHARS) + "… (" + s.length() + " characters)" : s;
    }

    static String snippet(byte[] body) {
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
