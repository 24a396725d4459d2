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
    // One step's sampling jobs: sequence id, logits row, and where the result goes.
    private int jobs;
    private long[] ids = new long[64];
    private MemorySegment[] rows = new MemorySegment[64];
    private int[] jobEntry = new int[64];
    private int[] jobChoice = new int[64];
    private SampledToken[] tokens = new SampledToken[64];
    private String[] errors = new String[64];

    /** Sampling lanes: {@code -Dsluice.sampling-threads=N} (1 = all on the engine thread). */
    private static final int SAMPLING_LANES = Integer.getInteger("sluice.sampling-threads", Samplers.defaultLanes());
    private final PrefillOutputs prefill;

    /** Must be created on the engine thread (the samplers' workspace is confined to it). */
    public EngineExecutor(ModelRunner runner, KvCache cache, HostSwapArea swap, SamplingWorkspace workspace) {
        this.runner = runner;
        this.cache = cache;
        this.swap = swap;
        this.samplers = new Samplers(workspace, SAMPLING_LANES);
        this.prefill = new PrefillOutputs(runner.config().pooling(), workspace);
    }

    @Override
    public void startSequence(long id, SamplingParams params, int[] prompt) {
        samplers.start(id, params, prompt);
    }

    @Override
    public void endSequence(long id) {
        samplers.end(id);
        prefill.end(id);
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
        for (int i = 0, n = plan.copies().size(); i < n; ) {
            // Runs of consecutive blocks into consecutive blocks (a prefix moved into place) copy as one.
            int source = plan.copies().first(i);
            int target = plan.copies().second(i);
            int count = 1;
            while (i + count < n && plan.copies().first(i + count) == source + count
                    && plan.copies().second(i + count) == target + count) {
                count++;
            }
            cache.copyBlocks(source, target, count);
            i += count;
        }
        prefill.prepare(plan);
        Logits logits = runner.forward(plan.batch());
        long forwarded = System.nanoTime();
        result.reset(plan);
        prefill.collect(plan, logits, runner.hiddenStates(), result);
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
                    addJob(e, k, id + k, row);
                }
            }
        }
        sampleJobs();
        result.setTimings(forwarded - start, System.nanoTime() - forwarded);
        if (runner.lastTimings() != null) {
            result.setKvRows(runner.lastTimings().gatheredRows(), runner.lastTimings().contextRows());
        }
        return result;
    }

    private void addJob(int entry, int k, long id, MemorySegment row) {
        if (jobs == ids.length) {
            int grown = ids.length * 2;
            ids = java.util.Arrays.copyOf(ids, grown);
            rows = java.util.Arrays.copyOf(rows, grown);
            jobEntry = java.util.Arrays.copyOf(jobEntry, grown);
            jobChoice = java.util.Arrays.copyOf(jobChoice, grown);
            tokens = new SampledToken[grown];
            errors = new String[grown];
        }
        ids[jobs] = id;
        rows[jobs] = row;
        jobEntry[jobs] = entry;
        jobChoice[jobs++] = k;
    }

    /** Samples every row of the step at once (the lanes in parallel where it pays) and records the results. */
    private void sampleJobs() {
        java.util.Arrays.fill(tokens, 0, jobs, null);
        java.util.Arrays.fill(errors, 0, jobs, null);
        samplers.sampleAll(ids, rows, jobs, tokens, errors);
        for (int i = 0; i < jobs; i++) {
            if (errors[i] != null) {
                result.setError(jobEntry[i], jobChoice[i], errors[i]);
            } else {
                result.setToken(jobEntry[i], jobChoice[i], tokens[i], samplers.logprobs(ids[i]));
            }
            rows[i] = null;
        }
        jobs = 0;
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
