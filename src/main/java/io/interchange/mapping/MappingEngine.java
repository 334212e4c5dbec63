package io.interchange.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.schibsted.spt.data.jslt.JsltException;
import com.schibsted.spt.data.jslt.Parser;

import java.io.StringReader;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every mapping listed in {@code mappings/catalog.json}, compiled once at start-up.
 *
 * <p>Mappings are JSLT (Schibsted's JSON query and transformation language): JSON to JSON with functions,
 * conditionals and value maps, compiled to an expression tree that is thread-safe and evaluated without reflection.
 * camel-jslt is not available for Camel 4.18 here, so the engine calls the library directly.
 */
public final class MappingEngine {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Mapping> mappings;
    private final JsonNode catalog;

    private MappingEngine(Map<String, Mapping> mappings, JsonNode catalog) {
        this.mappings = mappings;
        this.catalog = catalog;
    }

    /** Compiles every mapping in the catalog; fails at start-up, naming the file and line, if one does not compile. */
    public static MappingEngine load(MappingSource source) {
        JsonNode catalog;
        try {
            catalog = JSON.readTree(source.read("catalog.json"));
        } catch (Exception e) {
            throw new IllegalArgumentException("Cannot read mappings/catalog.json from " + source + ": " + e.getMessage(), e);
        }
        Map<String, Mapping> out = new LinkedHashMap<>();
        for (JsonNode entry : catalog.path("mappings")) {
            if (entry.path("module").asBoolean()) continue; // functions other mappings import, not a mapping itself
            String id = entry.path("id").asText();
            String file = id + ".jslt";
            try {
                var expr = new Parser(new StringReader(source.read(file)))
                        .withSource(file)
                        .withFunctions(MappingFunctions.all())
                        // `import "stripe/common.jslt" as common` reads from the same mappings as the importer
                        .withResourceResolver(name -> new StringReader(source.read(name)))
                        .compile();
                out.put(id, new Mapping(id, expr));
            } catch (JsltException e) {
                throw new IllegalArgumentException("Mapping " + file + " does not compile: " + e.getMessage(), e);
            }
        }
        return new MappingEngine(Collections.unmodifiableMap(out), catalog);
    }

    public Mapping get(String id) {
        Mapping m = mappings.get(id);
        if (m == null) {
            throw new IllegalArgumentException("No mapping '" + id + "' in mappings/catalog.json");
        }
        return m;
    }

    public Map<String, Mapping> all() {
        return mappings;
    }

    /** The catalog as read: each mapping's id, source, target and fixtures. */
    public JsonNode catalog() {
        return catalog;
    }
}
