package io.interchange.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** Temporary directories of tests: made under the system's temporary directory, and deleted with all they hold. */
public final class TempDirs {

    private TempDirs() {
    }

    /** A new empty directory whose name starts with the prefix. */
    public static Path create(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory " + prefix + "*: " + e.getMessage(), e);
        }
    }

    /** Directories deleted as the test JVM exits ({@link #untilExit}). */
    private static final java.util.List<Path> AT_EXIT = new java.util.concurrent.CopyOnWriteArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Path dir : AT_EXIT) {
                try {
                    delete(dir);
                } catch (UncheckedIOException e) {
                    System.err.println("Temporary directory left behind: " + e.getMessage());
                }
            }
        }, "temp-dirs-at-exit"));
    }

    /**
     * A new empty directory deleted with all it holds as the test JVM exits: for a directory a broker, a database or a
     * runtime holds for the whole test class (or longer), where no test can say when it is free to go.
     */
    public static Path untilExit(String prefix) {
        Path dir = create(prefix);
        AT_EXIT.add(dir);
        return dir;
    }

    /**
     * Deletes the directory and everything in it. A file or directory that vanishes meanwhile (one a broker or a
     * database deletes as it stops) counts as deleted, and a directory that is gone already is nothing to do. A file
     * written into a directory while it is emptied has it walked once more; what still cannot be deleted is an
     * {@link UncheckedIOException} naming it.
     */
    public static void delete(Path root) {
        try {
            try {
                walkDeleting(root);
            } catch (DirectoryNotEmptyException e) {
                walkDeleting(root);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the temporary directory " + root + ": " + e, e);
        }
    }

    private static void walkDeleting(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) throw e;
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
