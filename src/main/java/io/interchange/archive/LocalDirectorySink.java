package io.interchange.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Archive files in a local directory. Camel's file producer is not used: it can write to a temporary name and
 * rename, but it never forces the data to disk, and the archive commits Kafka offsets on the strength of this write.
 * So each put writes a temporary file beside the target, forces it, renames it atomically over the target and
 * forces the directory, as a crash-safe replace needs on POSIX file systems.
 */
public final class LocalDirectorySink implements ArchiveSink {

    private final Path root;

    public LocalDirectorySink(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    @Override
    public void put(String key, byte[] content) throws IOException {
        Path target = root.resolve(key).normalize();
        if (!target.startsWith(root)) throw new IOException("archive key outside the archive directory: " + key);
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path temp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the archive directory's file system cannot rename atomically: " + dir, e);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        forceDirectory(dir);
    }

    /** The rename is durable only once the directory entry is: force the directory (not possible on every OS). */
    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            if (!System.getProperty("os.name", "").toLowerCase().contains("win")) throw e instanceof IOException io ? io
                    : new IOException(e);
        }
    }

    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return "directory " + root;
    }
}
