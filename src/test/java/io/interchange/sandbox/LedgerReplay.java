package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.ParkedEvent;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CreditMemo;
import io.interchange.model.Dispute;
import io.interchange.model.Envelope;
import io.interchange.model.Invoice;
import io.interchange.model.LedgerLine;
import io.interchange.model.LedgerPosting;
import io.interchange.model.Payment;
import io.interchange.model.Refund;
import io.interchange.store.Store;
import io.interchange.testkit.Databases;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Generated Stripe events through the runtime's own billing edge translation ({@link BillingEventTranslator}, with the
 * legal-entity chain's references in a fresh H2 store) and the ledger's posting rules
 * ({@link LedgerPostingService#prepare}), in the order given, as the webhook would take them. Keeps, per invoice, what
 * the postings did to each account, so tests can hold the postings to Stripe's own amounts.
 */
final class LedgerReplay implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();
    static final MappingSource SOURCE = MappingSource.directory(Path.of("mappings"));
    static final MappingEngine ENGINE = MappingEngine.load(SOURCE);
    static final Path FIXTURES = Path.of("src", "test", "resources", "stripe");

    static final String RECEIVABLE = "12600000";
    static final String BANK = "11001020";
    static final String OUTPUT_TAX = "22000000";

    /** What the edge and the ledger made of one event: published (with its posting, if any) or ignored. */
    record Outcome(String type, boolean ignored, Envelope envelope, Object canonical, LedgerPosting posting) {
    }

    private final Store store;
    private final BillingEventTranslator translator;
    private final LedgerPostingService ledger;
    private final LegalEntityTable entities = LegalEntityTable.load(SOURCE);
    private final Map<String, Map<String, Long>> netByInvoice = new HashMap<>();

    LedgerReplay() {
        store = Store.open(Databases.config(Databases.Backend.H2));
        translator = new BillingEventTranslator(ENGINE, SOURCE, store.billingReferences(),
                BillingEventTranslator.Livemode.ANY, "", null);
        ledger = new LedgerPostingService(ENGINE, entities, Map.of(), store.confirmations());
    }

    /**
     * The event as the webhook would take it, from its bytes on the wire; fails (AssertionError with the reason) when
     * it is parked or refused. Events of entities not in the entity table (the simulator's deliberate ZZ99) are
     * translated but not posted: the ledger dead-letters them.
     */
    Outcome apply(JsonNode event) {
        String type = event.path("type").asText();
        String id = event.path("id").asText();
        JsonNode parsed;
        try {
            parsed = translator.parse(StripeEventFactory.toBytes(event));
            if (translator.ignored(parsed)) {
                return new Outcome(type, true, null, null, null);
            }
            BillingEventTranslator.Translated t = translator.translate(parsed, "replay");
            LedgerPosting posting = null;
            if (entities.find(t.envelope().legalEntity()).isPresent()) {
                Optional<LedgerPosting> prepared = ledger.prepare(t.envelope(), t.json());
                posting = prepared.orElse(null);
                if (posting != null) {
                    String invoice = invoiceId(t.canonical());
                    Map<String, Long> net = netByInvoice.computeIfAbsent(invoice, k -> new HashMap<>());
                    for (LedgerLine l : posting.lines()) {
                        net.merge(l.account(), LedgerLine.DEBIT.equals(l.side()) ? l.amountMinor() : -l.amountMinor(),
                                Long::sum);
                    }
                }
            }
            return new Outcome(type, false, t.envelope(), t.canonical(), posting);
        } catch (ParkedEvent e) {
            throw new AssertionError(type + " " + id + " parked: " + e.getMessage() + "\n" + event.toPrettyString(), e);
        } catch (WebhookRejection e) {
            throw new AssertionError(type + " " + id + " refused " + e.status() + ": " + e.getMessage() + "\n"
                    + event.toPrettyString(), e);
        }
    }

    /** Debits less credits the invoice's postings (its own, its payments', refunds', credit notes', disputes') made. */
    long net(String invoiceId, String account) {
        return netByInvoice.getOrDefault(invoiceId, Map.of()).getOrDefault(account, 0L);
    }

    static String invoiceId(Object canonical) {
        if (canonical instanceof Invoice i) return i.invoiceId();
        if (canonical instanceof Payment p) return p.invoiceId();
        if (canonical instanceof Refund r) return r.invoiceId();
        if (canonical instanceof CreditMemo c) return c.invoiceId();
        if (canonical instanceof Dispute d) return d.invoiceId();
        throw new IllegalArgumentException("no invoice on " + canonical);
    }

    @Override
    public void close() {
        store.close();
    }

    // ------------------------------------------------------------------------------------------------ shapes

    /** The fixture family of an API version: {@code 2024-06-20}, {@code acacia}, {@code basil}, ... */
    static String family(String apiVersion) {
        return apiVersion.contains(".") ? apiVersion.substring(apiVersion.indexOf('.') + 1) : apiVersion;
    }

    static JsonNode fixture(String family, String name) {
        try {
            return JSON.readTree(FIXTURES.resolve(family).resolve(name + ".json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every field path any fixture of the family has, per object ({@code invoice}, {@code refund}, ...). */
    static Map<String, Set<String>> fixturePaths(String family) {
        Map<String, Set<String>> out = new HashMap<>();
        try (Stream<Path> files = Files.list(FIXTURES.resolve(family))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                JsonNode event = JSON.readTree(file.toFile());
                if (event.has("data")) {
                    out.computeIfAbsent(objectOf(event), k -> new TreeSet<>()).addAll(paths(event));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static String objectOf(JsonNode event) {
        return event.path("data").path("object").path("object").asText();
    }

    /** Every field path in the tree, array elements merged under {@code []}. */
    static Set<String> paths(JsonNode node) {
        Set<String> out = new TreeSet<>();
        collect(node, "", out);
        return out;
    }

    static Set<String> paths(List<? extends JsonNode> nodes) {
        Set<String> out = new TreeSet<>();
        nodes.forEach(n -> collect(n, "", out));
        return out;
    }

    private static void collect(JsonNode node, String prefix, Set<String> out) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String path = prefix + "." + field.getKey();
                out.add(path);
                collect(field.getValue(), path, out);
            }
        } else if (node.isArray()) {
            node.forEach(element -> collect(element, prefix + "[]", out));
        }
    }
}
