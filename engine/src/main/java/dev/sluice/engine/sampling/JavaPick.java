package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaTokenDataArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One sequence's pick in Java (see {@link Sampler}'s "Fast paths"): bias and penalties on a copy
 * of the row, then the row's maximum when greedy or a {@link JavaDraw} from it otherwise; and the
 * same pick from candidates a grammar masked. Every draw takes the sequence's one Mersenne
 * Twister stream, so the order of the calls is the order of the draws. Engine-thread only, like
 * the workspace it uses.
 */
final class JavaPick {

    private final SamplingParams params;
    private final SamplingWorkspace workspace;
    private final int vocabSize;
    private final boolean greedy;
    private final LogitAdjustments adjustments;
    private final Mt19937 rng;                 // null when greedy or drawn by llama.cpp
    private final JavaDraw draw;               // null when greedy or drawn by llama.cpp
    private final RowOps ops = RowOps.get();

    /** @param draws whether this sequence draws in Java (with its own generator) rather than greedily or natively */
    JavaPick(SamplingParams params, SamplingWorkspace workspace, LogitAdjustments adjustments, boolean draws) {
        this.params = params;
        this.workspace = workspace;
        this.vocabSize = workspace.vocabSize();
        this.greedy = params.isGreedy();
        this.adjustments = adjustments;
        this.rng = draws ? new Mt19937(Seeds.javaSeed(params.seed())) : null;
        this.draw = rng != null ? new JavaDraw(params, workspace, rng) : null;
    }

    /** Bias and penalties on a copy of the row, then the maximum or a softmax draw. */
    int pick(MemorySegment logits) {
        MemorySegment row = logits;
        if (!adjustments.isEmpty()) {
            row = adjustedCopy(logits);
        }
        return pickFromRow(row);
    }

    /** The maximum of {@code row} when greedy, else a draw from it (bias and penalties already applied). */
    int pickFromRow(MemorySegment row) {
        if (greedy) {
            return ops.argmax(row, vocabSize);
        }
        return draw.draw(row);
    }

    /** The row with bias and penalties applied, in the workspace's scratch row. */
    MemorySegment adjustedCopy(MemorySegment logits) {
        MemorySegment row = workspace.scratch();
        MemorySegment.copy(logits, 0, row, 0, (long) vocabSize * Float.BYTES);
        adjustments.apply(row);
        return row;
    }

    /** Every token as a candidate, in id order, with bias and penalties applied. */
    void fill(LlamaTokenDataArray candidates, MemorySegment logits) {
        candidates.fill(adjustments.isEmpty() ? logits : adjustedCopy(logits));
    }

    /** The greedy pick or a Java draw from candidates a grammar masked (bias and penalties already applied). */
    int pickMasked(LlamaTokenDataArray candidates) {
        MemorySegment row = workspace.scratch();
        for (int i = 0, n = candidates.size(); i < n; i++) {
            row.setAtIndex(ValueLayout.JAVA_FLOAT, candidates.id(i), candidates.logit(i));
        }
        if (greedy) {
            return ops.argmax(row, vocabSize);
        }
        float max = ops.max(row, vocabSize);
        MemorySegment numerators = workspace.numerators();
        double sum = ops.softmaxNumerators(row, numerators, vocabSize, max, 1f / params.temperature(), Float.NEGATIVE_INFINITY);
        return ops.firstReaching(numerators, vocabSize, sum * rng.nextDouble());
    }
}
