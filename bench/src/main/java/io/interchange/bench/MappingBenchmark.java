package io.interchange.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.mapping.XmlWriter;
import io.interchange.model.Invoice;
import io.interchange.model.LedgerPosting;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The mapping engine (JSLT, then strict binding or XmlWriter) against hand-written Jackson/StAX code on the same
 * payloads: an invoice.finalized of API 2024-06-20 (as {@code stripe/normalise-2024} then {@code stripe/invoice} map it at
 * the edge) and the fixture of {@code sap/journal-entry}.
 *
 * <ul>
 *   <li>{@code invoice_parseMap_*}: webhook body bytes to {@link Invoice}, parse included (as the webhook route does).</li>
 *   <li>{@code invoice_map_*}: the same from an already parsed tree.</li>
 *   <li>{@code invoice_jsltOnly_ours}: diagnostic, JSLT evaluation alone (no binding to the record).</li>
 *   <li>{@code journal_xml_*}: {@link LedgerPosting} to the JournalEntryCreateRequest XML, as
 *       {@code S4HanaConnector.request} builds it (valueToTree + context, JSLT, XmlWriter), without the SOAP envelope.</li>
 *   <li>{@code journal_xmlWriterOnly_ours}: diagnostic, XmlWriter alone on the mapping's precomputed output.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class MappingBenchmark {

    /** As in S4HanaConnector: a default ObjectMapper turns the posting record into the mapping's input tree. */
    private static final ObjectMapper CONNECTOR_JSON = new ObjectMapper();

    private static final String EVENT_ID = "evt_1QJ7pbLkdIwHu7ixF1n4l1zd";

    private static final java.time.ZoneId ZONE = java.time.ZoneId.of("Europe/Berlin");

    private Mapping normaliser;
    private Mapping invoiceMapping;
    private Mapping journalMapping;

    private byte[] invoiceBytes;
    private JsonNode invoiceTree;

    private LedgerPosting posting;
    private String now;
    private String logicalSystem;
    private String user;
    private JsonNode journalMapped;

    @Setup
    public void setUp() throws IOException {
        MappingEngine engine = MappingEngine.load(MappingSource.bundled());
        normaliser = engine.get("stripe/normalise-2024");
        invoiceMapping = engine.get("stripe/invoice");
        journalMapping = engine.get("sap/journal-entry");

        invoiceBytes = Fixtures.mappingFile("stripe/normalise-2024.fixtures/invoice-finalized.input.json");
        invoiceTree = Fixtures.WEBHOOK_JSON.readTree(invoiceBytes);

        JsonNode journalFixture = CONNECTOR_JSON.readTree(Fixtures.mappingFile("sap/journal-entry.fixtures/invoice.input.json"));
        posting = CONNECTOR_JSON.treeToValue(journalFixture.get("posting"), LedgerPosting.class);
        now = journalFixture.path("context").path("now").asText();
        logicalSystem = journalFixture.path("context").path("logicalSystem").asText();
        user = journalFixture.path("context").path("user").asText();
        journalMapped = journalMapping.apply(journalInput(), posting.postingId());

        // Same output from ours and the baseline, or the comparison means nothing.
        Invoice ours = invoice_map_ours();
        Invoice hand = HandInvoiceMapper.map(invoiceTree, ZONE);
        check(ours.equals(hand), "hand-written invoice differs:\n ours " + ours + "\n hand " + hand);
        check(ours.equals(invoice_parseMap_hand()), "invoice parsed from bytes differs");

        String expectedXml = new String(Fixtures.mappingFile("sap/journal-entry.fixtures/invoice.expected.xml"),
                StandardCharsets.UTF_8).strip();
        String oursXml = journal_xml_ours();
        String handXml = journal_xml_hand();
        check(oursXml.equals(expectedXml), "mapping output differs from its fixture:\n" + oursXml);
        check(handXml.equals(oursXml), "hand-written XML differs:\n ours " + oursXml + "\n hand " + handXml);
    }

    // ------------------------------------------------------------------------------------ invoice, parse included

    @Benchmark
    public Invoice invoice_parseMap_ours() throws IOException {
        return map(Fixtures.WEBHOOK_JSON.readTree(invoiceBytes));
    }

    @Benchmark
    public Invoice invoice_parseMap_hand() throws IOException {
        return HandInvoiceMapper.map(Fixtures.WEBHOOK_JSON.readTree(invoiceBytes), ZONE);
    }

    // ------------------------------------------------------------------------------------ invoice, tree given

    @Benchmark
    public Invoice invoice_map_ours() {
        return map(invoiceTree);
    }

    @Benchmark
    public Invoice invoice_map_hand() {
        return HandInvoiceMapper.map(invoiceTree, ZONE);
    }

    @Benchmark
    public JsonNode invoice_jsltOnly_ours() {
        return invoiceMapping.apply(input(invoiceTree), EVENT_ID);
    }

    /** As the edge translates: the version's normaliser, then the canonical mapping with entity, zone and customer. */
    private Invoice map(JsonNode event) {
        return invoiceMapping.apply(input(event), Invoice.class, EVENT_ID);
    }

    private JsonNode input(JsonNode event) {
        com.fasterxml.jackson.databind.node.ObjectNode in = CONNECTOR_JSON.createObjectNode();
        in.set("event", normaliser.apply(event, EVENT_ID));
        in.put("legalEntity", "DE01");
        in.put("timeZone", ZONE.getId());
        in.put("globalCustomerId", event.path("data").path("object").path("metadata").path("global_customer_id").asText());
        return in;
    }

    // ------------------------------------------------------------------------------------ SAP journal entry XML

    @Benchmark
    public String journal_xml_ours() {
        return XmlWriter.write(journalMapping.apply(journalInput(), posting.postingId()));
    }

    @Benchmark
    public String journal_xml_hand() {
        return HandJournalEntryWriter.write(posting, now, logicalSystem, user);
    }

    @Benchmark
    public String journal_xmlWriterOnly_ours() {
        return XmlWriter.write(journalMapped);
    }

    /** The mapping's input exactly as S4HanaConnector.request builds it (clock read excluded: fixed "now"). */
    private JsonNode journalInput() {
        ObjectNode input = CONNECTOR_JSON.createObjectNode();
        input.set("posting", CONNECTOR_JSON.valueToTree(posting));
        input.putObject("context").put("now", now).put("logicalSystem", logicalSystem).put("user", user);
        return input;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException(message);
        }
    }
}
