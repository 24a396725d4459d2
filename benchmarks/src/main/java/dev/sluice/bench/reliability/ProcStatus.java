package dev.sluice.bench.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** A process's resident set size, from Linux's {@code /proc/<pid>/status}. */
public final class ProcStatus {

    private ProcStatus() {
    }

    /** {@code VmRSS} in bytes, from the text of a status file. */
    public static OptionalLong rssBytes(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring("VmRSS:".length()).strip().split("\\s+");
                try {
                    long value = Long.parseLong(parts[0]);
                    String unit = parts.length > 1 ? parts[1] : "kB";
                    long scale = switch (unit) {
                        case "kB", "KB", "kb" -> 1024L;
                        case "mB", "MB" -> 1024L * 1024;
                        case "gB", "GB" -> 1024L * 1024 * 1024;
                        default -> 1;
                    };
                    return OptionalLong.of(value * scale);
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }

    /** The live process's RSS, empty when it is gone or this is not Linux. */
    public static OptionalLong rssBytes(long pid) {
        try {
            return rssBytes(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }
}
