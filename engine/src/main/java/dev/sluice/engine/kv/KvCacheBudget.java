package dev.sluice.engine.kv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How much memory the KV pool may take: a size ({@code 512MiB}, {@code 2g}, {@code 1073741824})
 * or a fraction of the memory free when the server starts ({@code 0.25}).
 */
public record KvCacheBudget(long bytes, double fraction) {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(i?b?)", Pattern.CASE_INSENSITIVE);

    public KvCacheBudget {
        if ((bytes > 0) == (fraction > 0)) {
            throw new IllegalArgumentException("a KV budget is either a size or a fraction of free memory");
        }
        if (fraction >= 1) {
            throw new IllegalArgumentException("a fraction of free memory must be below 1: " + fraction);
        }
    }

    public static KvCacheBudget ofBytes(long bytes) {
        return new KvCacheBudget(bytes, 0);
    }

    public static KvCacheBudget ofFreeMemory(double fraction) {
        return new KvCacheBudget(0, fraction);
    }

    /** Parses {@code 0.25} (a fraction) or a size with an optional K/M/G/T suffix (powers of 1024). */
    public static KvCacheBudget parse(String text) {
        String s = text.strip();
        if (s.startsWith("0.") || s.startsWith(".")) {
            return ofFreeMemory(Double.parseDouble(s));
        }
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a memory size or fraction: '" + text + "' (e.g. 2GiB, 512m, 0.3)");
        }
        double value = Double.parseDouble(m.group(1));
        if (m.group(2).isEmpty() && m.group(1).contains(".")) {
            throw new IllegalArgumentException("'" + text + "' is ambiguous: a fraction of free memory must be below 1"
                    + " (e.g. 0.3), a size needs a unit (e.g. 1.5GiB)");
        }
        int power = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 1;
            case "m" -> 2;
            case "g" -> 3;
            case "t" -> 4;
            default -> 0;
        };
        long bytes = (long) (value * Math.pow(1024, power));
        if (bytes <= 0) {
            throw new IllegalArgumentException("KV budget must be positive: '" + text + "'");
        }
        return ofBytes(bytes);
    }

    /** The budget in bytes, given how much memory is free on the device the pool goes to. */
    public long resolve(long freeBytes) {
        return bytes > 0 ? bytes : (long) (freeBytes * fraction);
    }

    /** Available host memory (Linux {@code MemAvailable}), or the JVM's view of free memory elsewhere. */
    public static long availableHostMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // fall through
        }
        return Runtime.getRuntime().freeMemory();
    }

    @Override
    public String toString() {
        return bytes > 0 ? (bytes >> 20) + " MiB" : Math.round(fraction * 100) + "% of free memory";
    }
}
