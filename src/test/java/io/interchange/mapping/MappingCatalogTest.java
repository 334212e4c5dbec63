package io.interchange.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Enforces the conventions of {@code mappings/}: every mapping file is in the catalog and vice versa, every mapping
 * has fixtures (modules, which hold functions for others to import, are tested through them), each fixture's output
 * equals its expected file, and canonical outputs bind strictly to the model ("json:" targets are intermediate shapes).
 * Run with {@code -Dinterchange.fixtures.write=true} to write missing expected files (then review them).
 */
class MappingCatalogTest {

    static final Path ROOT = Path.of("mappings");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final MappingEngine ENGINE = MappingEngine.load(MappingSource.directory(ROOT));

    @Test
    void everyMappingFileIsInTheCatalogAndEveryCatalogEntryHasAFileAndFixtures() throws IOException {
        Set<String> catalogIds = new HashSet<>();
        for (JsonNode m : ENGINE.catalog().path("mappings")) {
            String id = m.path("id").asText();
            assertThat(catalogIds.add(id)).as("catalog id %s listed once", id).isTrue();
            assertThat(ROOT.resolve(id + ".jslt")).as("file for mapping %s", id).exists();
            assertThat(m.path("to").asText()).as("target of %s", id).isNotBlank();
            if (m.path("module").asBoolean()) continue; // tested through the mappings that import it
            assertThat(fixtures(id)).as("fixtures of mapping %s in %s.fixtures/", id, id).isNotEmpty();
        }
        try (Stream<Path> files = Files.walk(ROOT)) {
            List<String> onDisk = files.filter(p -> p.toString().endsWith(".jslt"))
                    .map(p -> ROOT.relativize(p).toString().replace('\\', '/').replaceAll("\\.jslt$", ""))
                    .toList();
            assertThat(catalogIds).containsExactlyInAnyOrderElementsOf(onDisk);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureMapsToItsExpectedOutput() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode m : ENGINE.catalog().path("mappings")) {
            String id = m.path("id").asText();
            String to = m.path("to").asText();
            if (m.path("module").asBoolean()) continue;
            for (Path input : fixtures(id)) {
                tests.add(DynamicTest.dynamicTest(id + " / " + input.getFileName(), () -> check(id, to, input)));
            }
        }
        return tests.stream();
    }

    private void check(String id, String to, Path input) throws Exception {
        JsonNode in = JSON.readTree(input.toFile());
        JsonNode out = ENGINE.get(id).apply(in, input.getFileName().toString());
        String caseName = input.getFileName().toString().replace(".input.json", "");
        boolean xml = to.startsWith("xml:");
        Path expected = input.resolveSibling(caseName + (xml ? ".expected.xml" : ".expected.json"));
        String actual = xml ? XmlWriter.write(out) + "\n" : JSON.writeValueAsString(out) + "\n";
        if (!Files.exists(expected) && Boolean.getBoolean("interchange.fixtures.write")) {
            Files.writeString(expected, actual);
        }
        assertThat(expected).as("expected output of %s", input).exists();
        if (xml) {
            assertThat(actual).isEqualTo(Files.readString(expected));
            assertThat(actual).startsWith("<" + to.substring(4)).as("root element");
        } else {
            // compared as re-read trees so integer widths (int vs long nodes) do not matter
            assertThat(JSON.readTree(JSON.writeValueAsString(out))).isEqualTo(JSON.readTree(expected.toFile()));
            if (!out.isNull() && !to.startsWith("json:")) {
                // every field the mapping writes must exist in the canonical model, with the right type
                ENGINE.get(id).apply(in, Class.forName(to), caseName);
            }
        }
    }

    static List<Path> fixtures(String id) {
        Path dir = ROOT.resolve(id + ".fixtures");
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".input.json")).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
