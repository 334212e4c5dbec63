package io.interchange.hostile;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The corpus files kept as test data are exactly what the (seeded) generator writes. */
class CorpusFilesTest {

    @Test
    void webhookCorpusIsWhatTheGeneratorWrites() throws Exception {
        List<String> generated = CorpusGenerator.webhookLines(Path.of("mappings"));
        assertSame(CorpusGenerator.WEBHOOK_RESOURCE, Corpus.lines(CorpusGenerator.WEBHOOK_RESOURCE), generated);
        assertThat(generated).hasSizeGreaterThanOrEqualTo(1000);
    }

    @Test
    void erpAnswerCorpusIsWhatTheGeneratorWrites() throws Exception {
        List<String> generated = CorpusGenerator.erpLines();
        assertSame(CorpusGenerator.ERP_RESOURCE, Corpus.lines(CorpusGenerator.ERP_RESOURCE), generated);
        assertThat(generated).hasSizeGreaterThanOrEqualTo(50);
    }

    /** Names the first line that differs instead of printing megabytes of corpus. */
    private static void assertSame(String resource, List<String> kept, List<String> generated) {
        int n = Math.min(kept.size(), generated.size());
        for (int i = 0; i < n; i++) {
            if (!kept.get(i).equals(generated.get(i))) {
                throw new AssertionError(resource + " is stale at line " + (i + 1) + ": run CorpusGenerator (kept "
                        + abbreviate(kept.get(i)) + ", generated " + abbreviate(generated.get(i)) + ")");
            }
        }
        assertThat(kept.size()).as(resource + " is stale (line count): run CorpusGenerator").isEqualTo(generated.size());
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }
}
