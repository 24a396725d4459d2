package dev.sluice.bench.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Samples a server's RSS on its own thread, tagging each sample with how many requests had
 * completed, so the soak can compare the first and the last quarter of its measured requests
 * (after its warm-up requests: G1 grows the heap and the code cache fills while the first ~1000
 * run, by 300 MiB and more on a 24 GiB host, and then stays flat; a leak keeps growing).
 */
final class RssSampler implements AutoCloseable {

    /** One sample: requests completed so far and RSS in bytes. */
    record Sample(long completed, long rssBytes) {
    }

    /** Averages over the first and the last quarter of a run of {@code total} requests. */
    record Quarters(double firstBytes, double lastBytes, int firstSamples, int lastSamples) {
        double growthPercent() {
            return (lastBytes - firstBytes) / firstBytes * 100;
        }
    }

    private final List<Sample> samples = new ArrayList<>();
    private final Thread thread;
    private volatile boolean stop;

    RssSampler(ServerProcess server, LongSupplier completed, long periodMillis) {
        thread = Thread.ofPlatform().daemon().name("rss-sampler").start(() -> {
            while (!stop) {
                server.rssBytes().ifPresent(rss -> {
                    synchronized (samples) {
                        samples.add(new Sample(completed.getAsLong(), rss));
                    }
                });
                try {
                    Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    static Quarters quarters(List<Sample> samples, long total) {
        double firstSum = 0;
        double lastSum = 0;
        int first = 0;
        int last = 0;
        for (Sample s : samples) {
            if (s.completed() < total / 4.0) {
                firstSum += s.rssBytes();
                first++;
            } else if (s.completed() >= total * 3 / 4.0 && s.completed() < total) {
                lastSum += s.rssBytes();
                last++;
            }
        }
        return new Quarters(first == 0 ? Double.NaN : firstSum / first, last == 0 ? Double.NaN : lastSum / last, first, last);
    }

    /** Mean RSS over each tenth of the requests (NaN for a tenth without samples): the shape of the growth. */
    static double[] tenths(List<Sample> samples, long total) {
        double[] sums = new double[10];
        int[] counts = new int[10];
        for (Sample s : samples) {
            if (s.completed() < total) {
                int tenth = (int) Math.min(9, s.completed() * 10 / Math.max(1, total));
                sums[tenth] += s.rssBytes();
                counts[tenth]++;
            }
        }
        double[] means = new double[10];
        for (int i = 0; i < 10; i++) {
            means[i] = counts[i] == 0 ? Double.NaN : sums[i] / counts[i];
        }
        return means;
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.interrupt();
        thread.join();
    }
}
