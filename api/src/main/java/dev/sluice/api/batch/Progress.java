package dev.sluice.api.batch;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The offline runner's progress on stderr: lines done, completion tokens per second and the time
 * left. On a terminal one bar redrawn in place (at most 10 times a second); otherwise a plain line
 * every 10 s (logs and CI keep every line).
 */
public final class Progress {

    private final PrintStream out;
    private final boolean terminal;
    private final long intervalNanos;
    private long start;
    private long lastPrint;
    private int total;
    private int done;
    private long tokens;

    public Progress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
        this.intervalNanos = terminal ? TimeUnit.MILLISECONDS.toNanos(100) : TimeUnit.SECONDS.toNanos(10);
    }

    /** No progress at all (tests). */
    public static Progress silent() {
        return new Progress(new PrintStream(java.io.OutputStream.nullOutputStream()), false);
    }

    synchronized void start(int total, int skipped) {
        this.total = total;
        this.start = System.nanoTime();
        this.lastPrint = start;
        if (skipped > 0) {
            out.println("resuming: " + skipped + " lines already in the output, " + total + " to run");
        }
    }

    synchronized void lineDone(long completionTokens) {
        done++;
        tokens += completionTokens;
        long now = System.nanoTime();
        if (now - lastPrint >= intervalNanos) {
            lastPrint = now;
            print(now);
        }
    }

    synchronized void finish() {
        print(System.nanoTime());
        if (terminal) {
            out.println();
        }
    }

    private void print(long now) {
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        double rate = tokens / seconds;
        String eta = done == 0 ? "?" : duration((long) (seconds * (total - done) / done));
        String text = String.format(Locale.ROOT, "%d/%d lines, %.1f tok/s, %s elapsed, ETA %s", done, total, rate,
                duration((long) seconds), eta);
        if (terminal) {
            int width = 30;
            int filled = total == 0 ? width : (int) ((long) width * done / total);
            out.print("\r[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + text + "   ");
            out.flush();
        } else {
            out.println("batch: " + text);
        }
    }

    private static String duration(long seconds) {
        return seconds >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds / 60 % 60)
                : seconds >= 60 ? String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60) : seconds + "s";
    }
}
