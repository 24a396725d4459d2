package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A seeded draw from a logits row in Java, with temperature, min-p, top-k and top-p, touching
 * each vocabulary entry a few times and sorting nothing (see {@link Sampler}'s "Fast paths").
 * Engine-thread only, like the workspace it uses.
 */
final class JavaDraw {

    /** Most draws top-p makes before finding its nucleus by bisection instead. */
    private static final int MAX_NUCLEUS_DRAWS = 64;

    private final SamplingParams params;
    private final SamplingWorkspace workspace;
    private final int vocabSize;
    private final Mt19937 rng;
    private final RowOps ops = RowOps.get();
    private final int[] count = new int[1];

    JavaDraw(SamplingParams params, SamplingWorkspace workspace, Mt19937 rng) {
        this.params = params;
        this.workspace = workspace;
        this.vocabSize = workspace.vocabSize();
        this.rng = rng;
    }

    /** A token drawn from {@code row} (bias and penalties already applied). */
    int draw(MemorySegment row) {
        float max = ops.max(row, vocabSize);
        float scale = 1f / params.temperature();
        // min-p and top-k each keep the logits from a threshold up, so together they keep the higher one.
        float floor = params.minP() > 0f ? (float) Math.log(params.minP()) : Float.NEGATIVE_INFINITY;
        if (params.topK() > 1 && params.topK() < vocabSize) {
            float kth = Selection.kthLargest(row, vocabSize, params.topK(), workspace.selection());
            floor = Math.max(floor, (kth - max) * scale);
        }
        MemorySegment numerators = workspace.numerators();
        double sum = ops.softmaxNumerators(row, numerators, vocabSize, max, scale, floor);
        if (params.topP() >= 1f) {
            return ops.firstReaching(numerators, vocabSize, sum * rng.nextDouble());
        }
        double nucleus = params.topP() * sum;
        for (int attempt = 0; attempt < MAX_NUCLEUS_DRAWS; attempt++) {
            int token = ops.firstReaching(numerators, vocabSize, sum * rng.nextDouble());
            float p = numerators.getAtIndex(ValueLayout.JAVA_FLOAT, token);
            // In the nucleus iff the tokens likelier than it hold less than top_p of the mass (as
            // llama.cpp's top-p: sorted by probability, kept up to the token that crosses top_p).
            if (ops.massAbove(numerators, vocabSize, p, count) < nucleus) {
                return token;
            }
        }
        return drawFromNucleus(numerators, nucleus);
    }

    /**
     * The nucleus as a threshold: the smallest numerator {@code t} whose likelier tokens hold less
     * than {@code nucleus}, found by bisecting [0, 1] (numerators are at most exp(0) = 1), then one
     * draw among the numerators from {@code t} up.
     */
    private int drawFromNucleus(MemorySegment numerators, double nucleus) {
        float low = 0f;   // likelier tokens hold at least the nucleus: not kept (for values <= low)
        float high = 1f;  // a value here is kept
        for (int i = 0; i < 48 && Math.nextUp(low) < high; i++) {
            float mid = (low + high) / 2;
            if (ops.massAbove(numerators, vocabSize, mid, count) < nucleus) {
                high = mid;
            } else {
                low = mid;
            }
        }
        double sum = 0;
        for (int i = 0; i < vocabSize; i++) {
            float v = numerators.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (v < high) {
                numerators.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0f);
            } else {
                sum += v;
            }
        }
        return ops.firstReaching(numerators, vocabSize, sum * rng.nextDouble());
    }
}
