package dev.sluice.engine.step;

import dev.sluice.engine.kv.HostSwapArea;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.runner.Logits;
import dev.sluice.engine.runner.ModelRunner;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.sampling.SamplingWorkspace;
import dev.sluice.engine.sampling.Samplers;

import java.lang.foreign.MemorySegment;

/**
 * The real {@link ModelExecutor}: the engine's KV cache and host swap area for block moves, its
 * {@link ModelRunner} for the forward pass, and the sequences' {@link Samplers} for the tokens.
 * Owns the samplers; the runner, cache and swap area belong to the {@link dev.sluice.engine.Engine}.
 */
public final class EngineExecutor implements ModelExecutor {

    private final ModelRunner runner;
    private final KvCache cache;
    private final HostSwapArea swap;
    private final Samplers samplers;
    private final StepResult result = new StepResult();

    /** Must be created on the engine thread (the samplers' workspace is confined to it). */
    public EngineExecutor(ModelRunner runner, KvCache cache, HostSwapArea swap, SamplingWorkspace workspace) {
        this.runner = runner;
        this.cache = cache;
        this.swap = swap;
        this.samplers = new Samplers(workspace);
    }

    @Override
    public void startSequence(long id, SamplingParams params, int[] prompt) {
        samplers.start(id, params, prompt);
    }

    @Override
    public void endSequence(long id) {
        samplers.end(id);
    }

    @Override
    public StepResult execute(StepPlan plan) {
        long start = System.nanoTime();
        for (int i = 0; i < plan.swapOuts().size(); i++) {
            swap.swapOut(plan.swapOuts().first(i), plan.swapOuts().second(i));
        }
        for (int i = 0; i < plan.swapIns().size(); i++) {
            swap.swapIn(plan.swapIns().first(i), plan.swapIns().second(i));
        }
        for (int i = 0; i < plan.copies().size(); i++) {
            cache.copyBlock(plan.copies().first(i), plan.copies().second(i));
        }
        Logits logits = runner.forward(plan.batch());
        long forwarded = System.nanoTime();
        result.reset(plan);
        for (int e = 0; e < plan.entries(); e++) {
            int count = plan.samples(e);
            if (count == 0) {
                continue;
            }
            MemorySegment row = logits.lastRowOf(e);
            long id = plan.id(e);
            // At a fork point the other choices start from the state after the prompt: fork first.
            for (int k = 1; k < count; k++) {
                if (!samplers.has(id + k)) {
                    try {
                        samplers.fork(id, id + k, k);
                    } catch (RuntimeException x) {
                        result.setError(e, k, x.getMessage() == null ? x.toString() : x.getMessage());
                    }
                }
            }
            for (int k = 0; k < count; k++) {
                if (result.error(e, k) == null) {
                    sample(e, k, id + k, row);
                }
            }
        }
        result.setTimings(forwarded - start, System.nanoTime() - forwarded);
        if (runner.lastTimings() != null) {
            result.setKvRows(runner.lastTimings().gatheredRows(), runner.lastTimings().contextRows());
        }
        return result;
    }

    private void sample(int entry, int k, long id, MemorySegment row) {
        try {
            SampledToken sampled = samplers.sample(id, row);
            result.setToken(entry, k, sampled, samplers.logprobs(id));
        } catch (RuntimeException e) {
            result.setError(entry, k, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Live samplers (for leak checks). */
    public int liveSamplers() {
        return samplers.size();
    }

    /** Frees the samplers; the engine frees the rest. */
    @Override
    public void close() {
        samplers.close();
    }
}
