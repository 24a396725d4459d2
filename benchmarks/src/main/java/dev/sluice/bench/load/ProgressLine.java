package dev.sluice.bench.load;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * Shows a level's progress while it runs: on a terminal one line rewritten every second, else a
 * plain line every ten seconds, so logs stay readable. Reads the level's counters from its own
 * thread; {@link #stop()} stops it and ends the line.
 */
final class ProgressLine {

    private final String label;
    private final StopCondition stop;
    private final LevelCounters counters;
    private final PrintStream out;
    private final boolean terminal;
    private final long startNanos = System.nanoTime();
    private final Thread thread;
    private long lastTokens;
    private long lastNanos = startNanos;

    ProgressLine(String label, StopCondition stop, LevelCounters counters, PrintStream out, boolean terminal) {
        this.label = label;
        this.stop = stop;
        this.counters = counters;
        this.out = out;
        this.terminal = terminal;
        Duration interval = terminal ? Duration.ofSeconds(1) : Duration.ofSeconds(10);
        this.thread = Thread.ofVirtual().name("progress " + label).start(() -> {
            try {
                while (true) {
                    Thread.sleep(interval);
                    print(false);
                }
            } catch (InterruptedException e) {
                // stopped: the level is over
            }
        });
    }

    void stop() throws InterruptedException {
        thread.interrupt();
        thread.join();
        print(true);
    }

    /** Ticks show the token rate since the previous tick; the last line, the level's average. */
    private synchronized void print(boolean last) {
        long now = System.nanoTime();
        long tokens = counters.outputTokens.sum();
        long since = last ? 0 : lastTokens;
        double seconds = (now - (last ? startNanos : lastNanos)) / 1e9;
        double rate = seconds > 0 ? (tokens - since) / seconds : 0;
        lastTokens = tokens;
        lastNanos = now;
        String text = line(rate, (now - startNanos) / 1e9);
        if (terminal) {
            out.print("\r" + text + "\u001b[K" + (last ? "\n" : ""));
            out.flush();
        } else if (!last) {
            out.println(text);
        }
    }

    /** E.g. {@code concurrency 8 | 120/500 done | 2 failed | 8 in flight | 1534 tok/s | 12 s}. */
    String line(double tokensPerSecond, double elapsedS) {
        String done = stop.duration() == null ? counters.done() + "/" + stop.maxRequests() : Long.toString(counters.done());
        String time = stop.duration() == null
                ? String.format(Locale.ROOT, "%.0f s", elapsedS)
                : String.format(Locale.ROOT, "%.0f/%d s", elapsedS, stop.duration().toSeconds());
        return String.format(Locale.ROOT, "%s | %s done | %d failed | %d in flight | %.0f tok/s | %s",
                label, done, counters.failed(), counters.inFlight(), tokensPerSecond, time);
    }
}
