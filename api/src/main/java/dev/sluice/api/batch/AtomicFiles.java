package dev.sluice.api.batch;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Files that appear whole or not at all: written to a temporary file in the same file system,
 * forced to disk, renamed over the target (atomic on POSIX), and the directory forced so that the
 * rename itself survives a crash. A reader never sees half a file, and a file the database names
 * is on disk before the database names it.
 */
final class AtomicFiles {

    /** Writes a file's content. */
    interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Writes {@code target} through a temporary file in {@code tmpDir}; returns its size in bytes. */
    static long write(Path tmpDir, Path target, Writer writer) throws IOException {
        Path tmp = Files.createTempFile(tmpDir, "write-", ".tmp");
        try {
            long size;
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = Channels.newOutputStream(channel)) {
                writer.write(out);
                out.flush();
                channel.force(true);
                size = channel.size();
            }
            publish(tmp, target);
            return size;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Moves a complete, forced temporary file to {@code target} atomically and forces the directory. */
    static void publish(Path tmp, Path target) throws IOException {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(target.getParent());
    }

    /** A directory's entries to disk (Linux allows fsync on a directory opened for reading). */
    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems (and platforms) refuse fsync on a directory; the rename stands.
            if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
                return;
            }
            throw e;
        }
    }
}
