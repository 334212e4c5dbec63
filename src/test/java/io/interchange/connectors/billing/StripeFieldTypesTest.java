package io.interchange.connectors.billing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.mapping.MappingSource;
import io.interchange.testkit.StripeFixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The type checks walk the declared paths as one tree and, only when something fails, field by field to name the
 * first failure. The two must agree on every object: a value the tree passes but a field fails would let a broken event
 * through. Checked on every object of the Stripe corpus (every API version we claim), each value in turn replaced by
 * a value of every JSON type, by null, or removed.
 */
class StripeFieldTypesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final List<JsonNode> REPLACEMENTS = List.of(NODES.nullNode(), NODES.textNode(""),
            NODES.textNode("x"), NODES.numberNode(7), NODES.numberNode(1.5), NODES.booleanNode(true),
            NODES.objectNode(), NODES.arrayNode(), NODES.objectNode().put("id", "obj_1"));

    private final StripeFieldTypes types = new StripeFieldTypes(MappingSource.bundled());

    @Test
    void theTreeAndTheFieldByFieldWalkAgreeOnEveryMutationOfTheCorpus() throws Exception {
        int objects = 0;
        int variants = 0;
        int failing = 0;
        for (String family : StripeFixtures.FAMILIES) {
            for (Path file : StripeFixtures.events(family)) {
                JsonNode event = JSON.readTree(file.toFile());
                JsonNode object = event.path("data").path("object");
                String name = object.path("object").asText();
                if (!object.isObject()) continue;
                objects++;
                assertAgree(name, object, file + " as it is");
                int[] counts = new int[2];
                mutations((ObjectNode) object.deepCopy(), m -> {
                    counts[0]++;
                    if (assertAgree(name, m, file + " mutated")) counts[1]++;
                });
                variants += counts[0];
                failing += counts[1];
            }
        }
        assertThat(objects).as("objects of the corpus").isGreaterThan(100);
        // the corpus and its mutations reach both answers, many times each
        assertThat(failing).as("mutations that break a declared type").isGreaterThan(1000);
        assertThat(variants - failing).as("mutations that break none").isGreaterThan(1000);
    }

    @Test
    void aFailureIsNamedByTheFirstFieldOfTheFileThatFails() {
        ObjectNode invoice = JSON.createObjectNode().put("object", "invoice").put("id", "in_1").put("currency", "eur");
        invoice.putObject("lines").putArray("data").addObject().put("id", "il_1").put("amount", "12");
        invoice.put("total", 1.5);
        assertThat(types.passes("invoice", invoice)).isFalse();
        // total comes before lines.data[].amount in the file
        assertThatThrownBy(() -> types.check("evt_1", "invoice", invoice)).isInstanceOf(WebhookRejection.class)
                .hasMessageContaining("data.object.total is not a whole number in range: 1.5");
        invoice.put("total", 150);
        assertThatThrownBy(() -> types.check("evt_1", "invoice", invoice)).isInstanceOf(WebhookRejection.class)
                .hasMessageContaining("data.object.lines.data[0].amount is a string, not integer");
        ((ObjectNode) invoice.path("lines").path("data").get(0)).put("amount", 12);
        assertThat(types.passes("invoice", invoice)).isTrue();
    }

    /** True when the object breaks a declared type; fails the test when the two walks disagree. */
    private boolean assertAgree(String object, JsonNode data, String what) {
        String failure = types.firstFailure(object, data);
        assertThat(types.passes(object, data)).as(what + " (field by field: " + failure + ")").isEqualTo(failure == null);
        return failure != null;
    }

    /**
     * The object with each of its values (at any depth) replaced by each replacement, or removed: one at a time, in
     * place, handed to {@code out} before the value is put back.
     */
    private static void mutations(ObjectNode root, Consumer<JsonNode> out) {
        List<Runnable[]> edits = new ArrayList<>(); // {apply, undo} pairs, found before any is applied
        collect(root, edits);
        for (Runnable[] edit : edits) {
            edit[0].run();
            out.accept(root);
            edit[1].run();
        }
    }

    private static void collect(JsonNode node, List<Runnable[]> edits) {
        if (node instanceof ObjectNode o) {
            for (String field : iterable(o)) {
                JsonNode original = o.get(field);
                for (JsonNode r : REPLACEMENTS) {
                    if (r.equals(original)) continue;
                    edits.add(new Runnable[]{() -> o.set(field, r), () -> o.set(field, original)});
                }
                edits.add(new Runnable[]{() -> o.remove(field), () -> o.set(field, original)});
                collect(original, edits);
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                int index = i;
                JsonNode original = a.get(i);
                for (JsonNode r : REPLACEMENTS) {
                    if (r.equals(original)) continue;
                    edits.add(new Runnable[]{() -> a.set(index, r), () -> a.set(index, original)});
                }
                collect(original, edits);
            }
        }
    }

    private static List<String> iterable(ObjectNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
