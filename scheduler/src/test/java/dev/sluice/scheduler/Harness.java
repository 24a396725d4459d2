package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.text.TokenTexts;
import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;
import dev.sluice.scheduler.metrics.EngineMetrics;

import java.nio.charset.StandardCharsets;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler and engine loop over the {@link FakeExecutor}, stepped by the test on its own
 * thread (deterministic), with a synthetic vocabulary ({@link #texts()}): no native library.
 */
final class Harness implements AutoCloseable {

    /** Tokens of the synthetic vocabulary; token {@value #EOS} ends generation. */
    static final int VOCAB = 32_000;
    static final int EOS = 2;
    private static TokenTexts texts;

    final int blockSize;
    final BlockPool pool;
    final KvCacheManager kv;
    final Scheduler scheduler;
    final FakeExecutor executor;
    final EngineMetrics metrics = new EngineMetrics();
    final EngineLoop loop;
    private final Map<Request, List<List<Integer>>> outputs = new HashMap<>();
    private final Map<Request, RequestUpdate> finals = new HashMap<>();
    private int nextId;

    Harness(int blocks, int blockSize, SchedulerConfig config) {
        this(blocks, blockSize, config, EngineLoop.Limits.DEFAULT);
    }

    Harness(int blocks, int blockSize, SchedulerConfig config, EngineLoop.Limits limits) {
        this.blockSize = blockSize;
        this.pool = new BlockPool(blocks);
        this.kv = new KvCacheManager(pool, blockSize, config.prefixCaching());
        this.scheduler = new Scheduler(config, kv);
        this.executor = new FakeExecutor(blocks, blockSize, config.swapBlocks(), VOCAB);
        this.loop = new EngineLoop(scheduler, () -> executor, texts(), metrics, limits);
    }

    /** Token {@code t} reads {@code "w<t> "}; {@link #EOS} and the tokens below it are control tokens. */
    static synchronized TokenTexts texts() {
        if (texts == null) {
            byte[][] text = new byte[VOCAB][];
            byte[][] special = new byte[VOCAB][];
            boolean[] eog = new boolean[VOCAB];
            for (int t = 0; t < VOCAB; t++) {
                special[t] = ("w" + t + " ").getBytes(StandardCharsets.UTF_8);
                text[t] = t <= EOS ? new byte[0] : special[t];
            }
            eog[EOS] = true;
            texts = new TokenTexts(text, special, eog);
        }
        return texts;
    }

    Request submit(int[] prompt, SamplingParams sampling, int maxTokens, int n) {
        return submit(prompt, sampling, StopConditions.maxTokens(maxTokens), n, 0);
    }

    Request submit(int[] prompt, SamplingParams sampling, StopConditions stop, int n, int priority) {
        return submit(new Request("r" + nextId++, prompt, sampling, stop, n, priority, 0));
    }

    /** Submits a request built by the test. */
    Request submit(Request request) {
        int n = request.n();
        loop.submit(request);
        List<List<Integer>> perSequence = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            perSequence.add(new ArrayList<>());
        }
        outputs.put(request, perSequence);
        return request;
    }

    /**
     * Steps until nothing is left to run (or {@code maxSteps}); returns the steps taken. An
     * iteration that ran nothing while work is left (background work waiting out its grace after a
     * client request) is not a step: the loop sleeps a millisecond, as the lane would wait.
     */
    int runUntilIdle(int maxSteps) {
        int steps = 0;
        long idleSince = 0;
        while (steps < maxSteps) {
            if (loop.runOnce()) {
                steps++;
                idleSince = 0;
            } else if (!scheduler.hasWork()) {
                break;
            } else {
                idleSince = idleSince == 0 ? System.nanoTime() : idleSince;
                if (System.nanoTime() - idleSince > 10_000_000_000L) {
                    break; // nothing ran for 10 s: stuck (the caller's assertions say what)
                }
                sleepMillis(1);
            }
            collect();
        }
        collect();
        return steps;
    }

    /** Sleeps at least {@code millis}; an interrupt fails the test. */
    static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    boolean step() {
        boolean worked = loop.runOnce();
        collect();
        return worked;
    }

    /** Reads every request's stream, as a client would. */
    void collect() {
        for (Map.Entry<Request, List<List<Integer>>> e : outputs.entrySet()) {
            try {
                RequestUpdate update;
                while (!finals.containsKey(e.getKey()) && (update = e.getKey().stream().next(0, TimeUnit.MILLISECONDS)) != null) {
                    for (SequenceDelta delta : update.deltas()) {
                        for (int token : delta.tokens()) {
                            e.getValue().get(delta.index()).add(token);
                        }
                    }
                    if (update.done()) {
                        finals.put(e.getKey(), update);
                    }
                }
            } catch (InterruptedException ex) {
                throw new AssertionError(ex);
            }
        }
    }

    /** Output token ids of each sequence, as streamed (end-of-generation tokens carry no output). */
    int[] output(Request request, int sequence) {
        return outputs.get(request).get(sequence).stream().mapToInt(Integer::intValue).toArray();
    }

    /** The final update, once the request is done; null before. */
    RequestUpdate result(Request request) {
        return finals.get(request);
    }

    /** Every block is free (possibly still cached) and no sampler state is left: nothing leaked. */
    void assertNoLeaks() {
        pool.checkInvariants();
        if (pool.freeCount() != pool.size()) {
            throw new AssertionError("leaked " + (pool.size() - pool.freeCount()) + " blocks; unfinished: "
                    + scheduler.unfinished());
        }
        if (executor.liveSequences() != 0) {
            throw new AssertionError("leaked the sampler state of " + executor.liveSequences() + " sequences");
        }
    }

    @Override
    public void close() {
        loop.release();
        executor.close();
    }
}
