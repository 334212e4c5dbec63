package io.interchange.mapping;

import com.fasterxml.jackson.databind.JsonNode;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes the JSON a mapping produced as XML, so XML targets (SOAP bodies) are mappings as data too.
 * Rules: each field is an element of that name (in document order); an array repeats the element;
 * {@code @name} is an attribute, {@code @xmlns:p} a namespace declaration; {@code #text} is the element's text;
 * null fields are left out.
 */
public final class XmlWriter {

    private static final XMLOutputFactory FACTORY = XMLOutputFactory.newFactory();

    private XmlWriter() {
    }

    /** Writes an object with one field (the root element) as an XML fragment without declaration. */
    public static String write(JsonNode root) {
        if (!root.isObject() || root.size() != 1) {
            throw new IllegalArgumentException("XML mapping output must be an object with exactly one root field");
        }
        StringWriter out = new StringWriter();
        try {
            XMLStreamWriter w = FACTORY.createXMLStreamWriter(out);
            Map.Entry<String, JsonNode> e = root.fields().next();
            element(w, e.getKey(), e.getValue());
            w.flush();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("Cannot write XML: " + e.getMessage(), e);
        }
        return out.toString();
    }

    private static void element(XMLStreamWriter w, String name, JsonNode value) throws XMLStreamException {
        if (value == null || value.isNull() || value.isMissingNode()) return;
        if (value.isArray()) {
            for (JsonNode item : value) element(w, name, item);
            return;
        }
        w.writeStartElement(name);
        if (value.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getValue().isNull()) continue;
                if (f.getKey().startsWith("@xmlns")) {
                    String prefix = f.getKey().length() > 6 ? f.getKey().substring(7) : "";
                    w.writeNamespace(prefix, f.getValue().asText());
                } else if (f.getKey().startsWith("@")) {
                    w.writeAttribute(f.getKey().substring(1), f.getValue().asText());
                }
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("#text")) {
                    w.writeCharacters(f.getValue().asText());
                } else if (!f.getKey().startsWith("@")) {
                    element(w, f.getKey(), f.getValue());
                }
            }
        } else {
            w.writeCharacters(value.asText());
        }
        w.writeEndElement();
    }
}
