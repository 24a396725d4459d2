package dev.sluice.engine.step;

import dev.sluice.engine.sampling.SamplingParams;

/**
 * The seam between scheduling and the model: the scheduler says which sequences compute which
 * tokens and which block moves come first ({@link StepPlan}); the executor runs the forward pass
 * and returns sampled token ids ({@link StepResult}). Tensors, logits and sampler state stay on
 * this side: each sequence's sampler (its seeded generator, the penalties' token counts, its
 * grammar) lives here from {@link #startSequence} to {@link #endSequence}, survives preemption,
 * and is forked for a request's other choices at its fork point.
 *
 * <p>The real one is {@link EngineExecutor}; scheduler tests use a fake with no native code.
 * Called from the engine thread only.
 */
public interface ModelExecutor extends AutoCloseable {

    /**
     * Creates sequence {@code id}'s sampler state; {@code prompt} counts for the repetition penalty.
     *
     * @throws IllegalArgumentException if the parameters cannot be sampled with (a logit bias on a
     *                                  token outside the vocabulary, a grammar that does not parse)
     */
    void startSequence(long id, SamplingParams params, int[] prompt);

    /** Drops sequence {@code id}'s sampler state (it finished); unknown ids are ignored. */
    void endSequence(long id);

    /**
     * Runs one step. A sequence whose sampling fails gets an error in the result instead of a
     * token; a failure of the step itself (the forward pass, a block move) throws.
     */
    StepResult execute(StepPlan plan);

    @Override
    void close();
}
