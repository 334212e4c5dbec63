package io.interchange.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Inputs shared by the benchmarks: the mapping fixtures bundled in the runtime's jar, and the webhook parser. */
final class Fixtures {

    /**
     * Configured as the runtime parses webhook bodies ({@code BillingEventTranslator.JSON}, package-private there):
     * bounded nesting, string and number lengths, trailing tokens refused. Ours and the baseline both parse with it.
     */
    static final ObjectMapper WEBHOOK_JSON = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64)
                            .maxStringLength(1_000_000).maxNumberLength(40).build()).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Fixtures() {
    }

    /** A file under {@code mappings/} on the classpath (the runtime's jar bundles mappings/ with its fixtures). */
    static byte[] mappingFile(String relative) {
        String name = "mappings/" + relative;
        try (InputStream in = Fixtures.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is not on the classpath; rebuild the runtime jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
