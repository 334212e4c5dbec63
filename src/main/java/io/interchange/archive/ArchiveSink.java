package io.interchange.archive;

import java.io.IOException;

/**
 * Where archive files go: a local directory ({@link LocalDirectorySink}) or an S3-compatible bucket ({@link S3Sink}).
 * A put is durable and whole when it returns, and replaces an earlier object of the same key whole: a reader sees the
 * old content or the new one, never a mix. That is all the archive needs for exactly-once by overwrite.
 */
public interface ArchiveSink {

    /** Writes {@code content} under {@code key} (a relative path with '/' separators), replacing what is there. */
    void put(String key, byte[] content) throws IOException;

    /** For logs: where the files go. */
    String describe();
}
