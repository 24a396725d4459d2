package dev.sluice.engine.step;

import dev.sluice.engine.model.Pooling;
import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.HiddenStates;
import dev.sluice.engine.runner.Logits;
import dev.sluice.engine.sampling.PromptLogprob;
import dev.sluice.engine.sampling.PromptScorer;
import dev.sluice.engine.sampling.SamplingWorkspace;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine side of prefill-only outputs: before a step, which rows of the entries that asked
 * ({@link PrefillRequests}) return hidden states (by the model's {@link Pooling}) or all their
 * logits; after it, the pooled embeddings (mean pooling sums over a prompt's chunks here, on the
 * engine thread) and each prompt token's log-probability, into the {@link StepResult}.
 * Engine-thread only.
 */
final class PrefillOutputs {

    private final Pooling pooling;
    private final SamplingWorkspace workspace;
    /** Per sequence being embedded over several chunks: the sum (mean) or first row (CLS) so far. */
    private final Map<Long, double[]> partial = new HashMap<>();

    PrefillOutputs(Pooling pooling, SamplingWorkspace workspace) {
        this.pooling = pooling;
        this.workspace = workspace;
    }

    /** Marks the hidden rows embedding entries need; log-probability entries already asked for all logits. */
    void prepare(StepPlan plan) {
        PrefillRequests prefill = plan.prefill();
        if (!prefill.any()) {
            return;
        }
        Batch batch = plan.batch();
        for (int e = 0; e < plan.entries(); e++) {
            if (!prefill.embed(e)) {
                continue;
            }
            if (!pooling.embeds()) {
                throw new IllegalStateException("this model's pooling (" + pooling + ") gives no embeddings");
            }
            batch.hidden(e, switch (pooling) {
                case MEAN -> Batch.Hidden.ALL;
                case CLS -> batch.startPosition(e) == 0 ? Batch.Hidden.FIRST : Batch.Hidden.NONE;
                case LAST -> prefill.lastChunk(e) ? Batch.Hidden.LAST : Batch.Hidden.NONE;
                default -> Batch.Hidden.NONE;
            });
        }
    }

    /** Reads what the step returned for the entries that asked. */
    void collect(StepPlan plan, Logits logits, HiddenStates hidden, StepResult result) {
        PrefillRequests prefill = plan.prefill();
        if (!prefill.any()) {
            return;
        }
        for (int e = 0; e < plan.entries(); e++) {
            if (prefill.embed(e)) {
                embed(plan, e, hidden, result);
            }
            if (prefill.promptLogprobs(e) >= 0) {
                score(plan, e, logits, result);
            }
        }
    }

    private void embed(StepPlan plan, int e, HiddenStates hidden, StepResult result) {
        Batch batch = plan.batch();
        long id = plan.id(e);
        int width = hidden.width();
        int rows = hidden.rowCount(e);
        if (batch.startPosition(e) == 0) {
            partial.remove(id); // a first chunk, or a recompute after preemption: start over
        }
        if (rows > 0) {
            double[] acc = partial.computeIfAbsent(id, k -> new double[width]);
            for (int r = 0; r < rows; r++) {
                MemorySegment row = hidden.row(e, r);
                for (int i = 0; i < width; i++) {
                    acc[i] += row.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                }
            }
        }
        if (!plan.prefill().lastChunk(e)) {
            return;
        }
        double[] acc = partial.remove(id);
        if (acc == null) {
            throw new IllegalStateException("sequence " + id + " ended its prompt without the rows " + pooling + " pools");
        }
        // Mean pooling averages every prompt token (an embedding never reads cached prefixes).
        double divisor = pooling == Pooling.MEAN ? batch.contextLength(e) : 1;
        float[] pooled = new float[acc.length];
        for (int i = 0; i < pooled.length; i++) {
            pooled[i] = (float) (acc[i] / divisor);
        }
        result.setEmbedding(e, pooled);
    }

    /** Row {@code i} of the entry predicts the token after its position: score that prompt token. */
    private void score(StepPlan plan, int e, Logits logits, StepResult result) {
        Batch batch = plan.batch();
        PrefillRequests prefill = plan.prefill();
        int[] source = prefill.source(e);
        int start = batch.startPosition(e);
        int count = Math.min(batch.tokenCount(e), prefill.promptLength(e) - 1 - start);
        List<PromptLogprob> scored = new ArrayList<>(Math.max(0, count));
        int first = logits.firstRowOf(e);
        for (int i = 0; i < count; i++) {
            scored.add(PromptScorer.score(logits.row(first + i), source[start + i + 1], prefill.promptLogprobs(e), workspace));
        }
        result.setPromptLogprobs(e, start + 1, scored);
    }

    /** Forgets a finished sequence's partial embedding. */
    void end(long id) {
        partial.remove(id);
    }
}
