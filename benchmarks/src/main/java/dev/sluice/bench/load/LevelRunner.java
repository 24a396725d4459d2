package dev.sluice.bench.load;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one level of load: a closed loop of N workers or an open loop of Poisson arrivals, one
 * virtual thread per request in flight. Every level replays the same request sequence (the seed's),
 * so levels differ only in how the requests are offered.
 */
final class LevelRunner {

    /** Arrivals draw from their own stream, so the pacing never changes which prompts are sent. */
    private static final long ARRIVAL_SALT = 0x6a09e667f3bcc909L;

    private final OpenAiClient client;
    private final Generation generation;
    private final Workload workload;
    private final PromptRenderer renderer;
    private final long seed;

    LevelRunner(OpenAiClient client, Generation generation, Workload workload, PromptRenderer renderer, long seed) {
        this.client = client;
        this.generation = generation;
        this.workload = workload;
        this.renderer = renderer;
        this.seed = seed;
    }

    LevelRun run(LoadPattern pattern, StopCondition stop, LevelCounters counters) throws InterruptedException {
        long start = System.nanoTime();
        RequestFeed feed = new RequestFeed(workload, renderer, seed, stop, start);
        ConcurrentLinkedQueue<RequestSample> samples = new ConcurrentLinkedQueue<>();
        List<Future<?>> tasks = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            switch (pattern) {
                case LoadPattern.ClosedLoop closed -> {
                    for (int i = 0; i < closed.concurrency(); i++) {
                        tasks.add(executor.submit(() -> {
                            PlannedRequest request;
                            while ((request = feed.next()) != null) {
                                samples.add(send(request, start, counters));
                            }
                            return null;
                        }));
                    }
                }
                case LoadPattern.OpenLoop open -> arrive(open, feed, start, counters, samples, executor, tasks);
            }
        }
        double durationS = (System.nanoTime() - start) / 1e9;
        for (Future<?> task : tasks) {
            try {
                task.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("a request worker failed", e.getCause());
            }
        }
        List<RequestSample> ordered = new ArrayList<>(samples);
        ordered.sort(Comparator.comparingInt(RequestSample::index));
        return new LevelRun(List.copyOf(ordered), durationS, counters.peak());
    }

    /** Dispatches requests at Poisson arrival times; a full set of slots holds back the arrivals behind it. */
    private void arrive(LoadPattern.OpenLoop open, RequestFeed feed, long start, LevelCounters counters,
                        ConcurrentLinkedQueue<RequestSample> samples, ExecutorService executor, List<Future<?>> tasks)
            throws InterruptedException {
        SplittableRandom arrivals = new SplittableRandom(seed ^ ARRIVAL_SALT);
        Semaphore slots = open.maxConcurrency() > 0 ? new Semaphore(open.maxConcurrency()) : null;
        double arrivalNanos = 0;
        while (true) {
            sleepUntil(start + (long) arrivalNanos);
            PlannedRequest request = feed.next();
            if (request == null) {
                return;
            }
            if (slots != null) {
                slots.acquire();
            }
            tasks.add(executor.submit(() -> {
                try {
                    samples.add(send(request, start, counters));
                } finally {
                    if (slots != null) {
                        slots.release();
                    }
                }
                return null;
            }));
            if (Double.isFinite(open.requestRate())) {
                arrivalNanos += -Math.log(1 - arrivals.nextDouble()) / open.requestRate() * 1e9;
            }
        }
    }

    private RequestSample send(PlannedRequest request, long start, LevelCounters counters) throws InterruptedException {
        counters.started();
        RequestSample sample = null;
        try {
            sample = client.stream(generation, request, start, counters.outputTokens);
            return sample;
        } finally {
            counters.finished(sample != null && sample.success());
        }
    }

    private static void sleepUntil(long deadlineNanos) throws InterruptedException {
        long remaining;
        while ((remaining = deadlineNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(remaining);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }
}
