package dev.sluice.scheduler;

import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.step.ModelExecutor;
import dev.sluice.engine.step.StepPlan;
import dev.sluice.engine.step.StepResult;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A model stand-in for scheduler tests, in plain Java: its "KV cache" stores the token written at
 * every slot, and the tokens it samples depend only on the token history it reads back through
 * the block table. Two tokens, {@link #candidates}, are the likely ones: a greedy sequence takes
 * the lower id, a sampled one either, drawn from its own seeded stream (the seed plus the choice's
 * index for a fork, as the real sampler does). So any bookkeeping bug (a block shared that should
 * not be, a copy or swap that lost data, a stale block table) changes what the fake sees and makes
 * the output fail {@link #isConsistent}, without any model or native library.
 */
final class FakeExecutor implements ModelExecutor {

    static final int FIRST_ORDINARY_TOKEN = 3;
    static final int TOKEN_RANGE = 5000;

    /** A sequence's sampling state: how it picks, and its own random stream. */
    private record Stream(SamplingParams params, SplittableRandom random) {
    }

    private final int blockSize;
    private final int vocabSize;
    private final int[] slots;
    private final int[][] swap;
    private final Map<Long, Stream> streams = new HashMap<>();
    private final StepResult result = new StepResult();
    int forwardCalls;
    int copies;
    int swapOuts;
    int swapIns;
    int lastStepTokens;
    int lastStepSequences;
    /** Milliseconds each step takes (0: as fast as it goes), to make the fake's steps measurable. */
    int delayMillis;
    /** When set, the next {@link #execute} throws it, once: a step that fails. */
    RuntimeException failNextForward;
    /** When set, every {@link #execute} throws it: the JVM giving out. */
    Error errorOnForward;

    FakeExecutor(int blocks, int blockSize, int swapSlots, int vocabSize) {
        this.blockSize = blockSize;
        this.vocabSize = vocabSize;
        this.slots = new int[blocks * blockSize];
        Arrays.fill(slots, -1);
        this.swap = new int[swapSlots][];
    }

    /** The two tokens the fake favours after {@code history[0, length)}. */
    static int[] candidates(int[] history, int length) {
        long h = 1469598103934665603L;
        for (int i = 0; i < length; i++) {
            h = (h ^ history[i]) * 1099511628211L;
        }
        int a = FIRST_ORDINARY_TOKEN + (int) Math.floorMod(h, (long) TOKEN_RANGE);
        int b = FIRST_ORDINARY_TOKEN + (int) Math.floorMod(h >>> 17, (long) TOKEN_RANGE);
        return new int[] {a, b};
    }

    /** Whether every output token is one the fake favoured after the tokens before it. */
    static boolean isConsistent(int[] prompt, int[] output) {
        int[] history = Arrays.copyOf(prompt, prompt.length + output.length);
        for (int i = 0; i < output.length; i++) {
            int[] c = candidates(history, prompt.length + i);
            if (output[i] != c[0] && output[i] != c[1]) {
                return false;
            }
            history[prompt.length + i] = output[i];
        }
        return true;
    }

    /** The greedy continuation (the lower-id candidate each time). */
    static int[] greedy(int[] prompt, int count) {
        int[] history = Arrays.copyOf(prompt, prompt.length + count);
        for (int i = 0; i < count; i++) {
            int[] c = candidates(history, prompt.length + i);
            history[prompt.length + i] = Math.min(c[0], c[1]);
        }
        return Arrays.copyOfRange(history, prompt.length, prompt.length + count);
    }

    @Override
    public void startSequence(long id, SamplingParams params, int[] prompt) {
        // The real sampler refuses a bias on a token outside the vocabulary; so does the fake.
        for (int token : params.logitBias().keySet()) {
            if (token < 0 || token >= vocabSize) {
                throw new IllegalArgumentException("logit_bias token id " + token + " is outside the vocabulary");
            }
        }
        streams.put(id, new Stream(params, random(params, 0)));
    }

    private static SplittableRandom random(SamplingParams params, int index) {
        return new SplittableRandom(params.seed().orElse(System.nanoTime()) + index);
    }

    @Override
    public void endSequence(long id) {
        streams.remove(id);
    }

    /** Sequences with sampling state (a leak check: 0 once everything finished). */
    int liveSequences() {
        return streams.size();
    }

    @Override
    public StepResult execute(StepPlan plan) {
        forwardCalls++;
        if (errorOnForward != null) {
            throw errorOnForward;
        }
        if (failNextForward != null) {
            RuntimeException e = failNextForward;
            failNextForward = null;
            throw e;
        }
        for (int i = 0; i < plan.swapOuts().size(); i++) {
            swapOuts++;
            // The block may still be shared (prefix cache, a forked sibling): leave it as it is.
            int block = plan.swapOuts().first(i);
            swap[plan.swapOuts().second(i)] = Arrays.copyOfRange(slots, block * blockSize, (block + 1) * blockSize);
        }
        for (int i = 0; i < plan.swapIns().size(); i++) {
            swapIns++;
            int slot = plan.swapIns().first(i);
            System.arraycopy(swap[slot], 0, slots, plan.swapIns().second(i) * blockSize, blockSize);
            swap[slot] = null;
        }
        for (int i = 0; i < plan.copies().size(); i++) {
            copies++;
            System.arraycopy(slots, plan.copies().first(i) * blockSize, slots, plan.copies().second(i) * blockSize, blockSize);
        }
        if (delayMillis > 0) {
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Batch batch = plan.batch();
        lastStepTokens = batch.tokenCount();
        lastStepSequences = batch.sequenceCount();
        result.reset(plan);
        for (int s = 0; s < batch.sequenceCount(); s++) {
            int[] table = batch.blockTable(s);
            for (int i = 0; i < batch.tokenCount(s); i++) {
                int pos = batch.startPosition(s) + i;
                slots[table[pos / blockSize] * blockSize + pos % blockSize] = batch.token(batch.tokenStart(s) + i);
            }
        }
        for (int s = 0; s < batch.sequenceCount(); s++) {
            if (plan.samples(s) > 0) {
                sample(plan, s);
            }
        }
        prefillOutputs(plan);
        return result;
    }

    /** Rows of the last step that returned whole logits (prompt logprobs). */
    int lastStepAllLogitRows;

    /**
     * Prefill-only outputs, from what the fake's cache holds: an embedding of {@link #fakeEmbedding}
     * of the context read back, and per prompt row a "logprob" of {@code -position} for the next
     * prompt token (so a lost, repeated or shifted row shows).
     */
    private void prefillOutputs(StepPlan plan) {
        lastStepAllLogitRows = 0;
        Batch batch = plan.batch();
        for (int s = 0; s < batch.sequenceCount(); s++) {
            if (plan.prefill().embed(s) && plan.prefill().lastChunk(s)) {
                int context = batch.contextLength(s);
                int[] table = batch.blockTable(s);
                int[] history = new int[context];
                for (int pos = 0; pos < context; pos++) {
                    history[pos] = slots[table[pos / blockSize] * blockSize + pos % blockSize];
                }
                result.setEmbedding(s, fakeEmbedding(history));
            }
            if (plan.prefill().promptLogprobs(s) >= 0) {
                lastStepAllLogitRows += batch.tokenCount(s);
                int start = batch.startPosition(s);
                int[] source = plan.prefill().source(s);
                List<dev.sluice.engine.sampling.PromptLogprob> scored = new java.util.ArrayList<>();
                for (int p = start + 1; p < Math.min(start + batch.tokenCount(s) + 1, plan.prefill().promptLength(s)); p++) {
                    scored.add(new dev.sluice.engine.sampling.PromptLogprob(source[p], -p, 1, List.of()));
                }
                result.setPromptLogprobs(s, start + 1, scored);
            }
        }
    }

    /** The fake's embedding of a token history: its length and a hash of it. */
    static float[] fakeEmbedding(int[] history) {
        return new float[] {history.length, Arrays.hashCode(history)};
    }

    /** The entry's tokens, from the history its block table reads back. */
    private void sample(StepPlan plan, int s) {
        Batch batch = plan.batch();
        int context = batch.contextLength(s);
        int[] table = batch.blockTable(s);
        int[] history = new int[context];
        for (int pos = 0; pos < context; pos++) {
            history[pos] = slots[table[pos / blockSize] * blockSize + pos % blockSize];
        }
        int[] c = candidates(history, context);
        long id = plan.id(s);
        Stream parent = streams.get(id);
        for (int k = 0; k < plan.samples(s); k++) {
            Stream stream = streams.get(id + k);
            if (stream == null) {
                stream = new Stream(parent.params(), random(parent.params(), k));
                streams.put(id + k, stream);
            }
            int token = stream.params().temperature() < 1e-5f ? Math.min(c[0], c[1]) : c[stream.random().nextInt(2)];
            result.setToken(s, k, new SampledToken(token, Float.NaN, List.of()), false);
        }
    }

    @Override
    public void close() {
        streams.clear();
    }
}
