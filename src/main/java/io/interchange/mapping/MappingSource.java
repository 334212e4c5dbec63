package io.interchange.mapping;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where mapping files are read from: a directory given by configuration, or the copy bundled in the jar. */
public final class MappingSource {

    private final Path dir;

    private MappingSource(Path dir) {
        this.dir = dir;
    }

    public static MappingSource directory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("Mappings directory " + dir + " does not exist");
        }
        return new MappingSource(dir);
    }

    public static MappingSource bundled() {
        return new MappingSource(null);
    }

    /** Reads a file relative to the mappings root, e.g. {@code stripe/invoice.jslt}. */
    public String read(String relative) {
        try {
            if (dir != null) {
                return Files.readString(dir.resolve(relative), StandardCharsets.UTF_8);
            }
            try (InputStream in = MappingSource.class.getClassLoader().getResourceAsStream("mappings/" + relative)) {
                if (in == null) {
                    throw new IllegalArgumentException("Mapping file mappings/" + relative + " is not bundled");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read mapping file " + relative, e);
        }
    }

    @Override
    public String toString() {
        return dir == null ? "bundled mappings" : dir.toString();
    }
}
