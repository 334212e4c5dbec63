package io.interchange.testkit;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

class TempDirsTest {

    @Test
    void aTreeIsDeletedWithEverythingInItAndOneGoneAlreadyIsNothingToDo() throws Exception {
        Path root = TempDirs.create("interchange-tempdirs");
        Files.createDirectories(root.resolve("kafka/billing-0"));
        Files.writeString(root.resolve("kafka/billing-0/00000000000000000000.log"), "records");
        Files.writeString(root.resolve("kafka/meta.properties"), "node.id=1");
        Files.createDirectories(root.resolve("data/store"));

        TempDirs.delete(root);

        assertThat(root).doesNotExist();
        assertThatCode(() -> TempDirs.delete(root)).doesNotThrowAnyException();
    }

    @Test
    void aSymbolicLinkOutOfTheTreeIsDeletedAndNotFollowed() throws Exception {
        Path outside = TempDirs.create("interchange-tempdirs-outside");
        Files.writeString(outside.resolve("kept"), "not the tree's");
        Path root = TempDirs.create("interchange-tempdirs");
        Files.createSymbolicLink(root.resolve("elsewhere"), outside);
        try {
            TempDirs.delete(root);

            assertThat(root).doesNotExist();
            assertThat(outside.resolve("kept")).hasContent("not the tree's");
        } finally {
            TempDirs.delete(outside);
        }
    }
}
