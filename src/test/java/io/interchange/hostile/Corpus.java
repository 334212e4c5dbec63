package io.interchange.hostile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Reads the corpus files kept as test resources (see {@link CorpusGenerator} for their format). */
final class Corpus {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Corpus() {
    }

    /** The entries of a corpus resource, in file order. */
    static List<JsonNode> load(String resource) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : lines(resource)) {
            if (!line.isBlank()) out.add(JSON.readTree(line));
        }
        return out;
    }

    static List<String> lines(String resource) throws IOException {
        try (InputStream in = Corpus.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IOException("corpus resource " + resource + " not found; run CorpusGenerator");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    /** The body an entry describes: {@code bodyBase64} or {@code bodyRecipe}. */
    static byte[] body(JsonNode entry) {
        if (entry.has("bodyBase64")) return Base64.getDecoder().decode(entry.get("bodyBase64").asText());
        if (entry.has("bodyRecipe")) return CorpusGenerator.build(entry.get("bodyRecipe"));
        throw new IllegalArgumentException(entry.path("name").asText() + " has no body");
    }
}
