package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.sampling.SamplingWorkspace;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;
import dev.sluice.scheduler.metrics.EngineMetrics;
import dev.sluice.testing.TestModels;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler and engine loop over the {@link FakeExecutor}, stepped by the test on its own
 * thread (deterministic), with a real tokenizer for detokenization and end-of-generation checks.
 */
final class Harness implements AutoCloseable {

    private static Tokenizer tokenizer;

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
        Tokenizer tok = tokenizer();
        this.executor = new FakeExecutor(blocks, blockSize, config.swapBlocks(), tok.vocabSize());
        this.loop = new EngineLoop(scheduler, executor, tok, () -> new SamplingWorkspace(tok.vocab()), metrics, limits);
    }

    static synchronized Tokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = Tokenizer.open(TestModels.llamaCppVocab("ggml-vocab-llama-spm.gguf"));
        }
        return tokenizer;
    }

    Request submit(int[] prompt, SamplingParams sampling, int maxTokens, int n) {
        return submit(prompt, sampling, StopConditions.maxTokens(maxTokens), n, 0);
    }

    Request submit(int[] prompt, SamplingParams sampling, StopConditions stop, int n, int priority) {
        Request request = new Request("r" + nextId++, prompt, sampling, stop, n, priority, 0);
        loop.submit(request);
        List<List<Integer>> perSequence = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            perSequence.add(new ArrayList<>());
        }
        outputs.put(request, perSequence);
        return request;
    }

    /** Steps until nothing is left to run (or {@code maxSteps}); returns the steps taken. */
    int runUntilIdle(int maxSteps) {
        int steps = 0;
        while (steps < maxSteps && (loop.runOnce() || scheduler.hasWork())) {
            steps++;
            collect();
        }
        collect();
        return steps;
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

    /** Every block is free (possibly still cached): nothing leaked. */
    void assertNoLeaks() {
        pool.checkInvariants();
        if (pool.freeCount() != pool.size()) {
            throw new AssertionError("leaked " + (pool.size() - pool.freeCount()) + " blocks; unfinished: "
                    + scheduler.unfinished());
        }
    }

    @Override
    public void close() {
        loop.release();
        executor.close();
    }
}
