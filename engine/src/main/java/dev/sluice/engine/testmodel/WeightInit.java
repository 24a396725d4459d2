package dev.sluice.engine.testmodel;

import dev.sluice.engine.testmodel.TensorSpec.Role;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Random weights that behave numerically like a trained model's although they encode nothing:
 * activations stay moderate through every layer in F16, and the logits spread over a few units
 * with the top one usually well clear of the runner-up, so that two implementations' greedy
 * tokens agree unless their logits really differ.
 *
 * <p>Every value is a pure function of (seed, tensor name, row, column): each row draws from its
 * own {@link SplitMix64} stream, so rows can be filled in any order on any number of threads and
 * the file comes out byte-identical. Draws are uniform on [-σ√3, σ√3] (standard deviation σ, and
 * no rare outlier weight). With {@code d} the embedding length, {@code L} the layer count and
 * {@code fan_in} a matrix's row length:
 * <ul>
 * <li><b>Projections reading the residual stream</b> see its RMS-normalized values, about 1 per
 *     element. V, FFN gate and up: σ = 1/√fan_in, for outputs of unit variance (SiLU sees
 *     arguments of order 1). Q and K: σ = {@value #QUERY_KEY_GAIN}/√fan_in, so attention scores
 *     q·k/√head_dim have a standard deviation of about {@value #QUERY_KEY_GAIN}² and attention is
 *     peaked, as in trained models, rather than a near-uniform average (Qwen3's Q/K norms reset
 *     that scale to about 1).
 * <li><b>Projections writing into the residual stream</b>: FFN down has
 *     σ = {@value #RESIDUAL_RMS}/√(2L)/√fan_in, the attention output {@value #ATTENTION_SHARE}
 *     times that. Each of the 2L residual branches then adds a variance of at most
 *     {@value #RESIDUAL_RMS}²/(2L), so the stream's RMS stays below about {@value #RESIDUAL_RMS}
 *     at any depth: far from F16's limits, and large against the token embeddings. That matters
 *     with tied embeddings, where the current token's own logit gets a boost of about
 *     |embedding|²/RMS; with a stream four times smaller, greedy decoding of the tied presets
 *     mostly repeats a few tokens. The attention branches are weaker because attention averages
 *     over positions: stacked at full strength, deep models' positions converge to one shared
 *     state (the rank collapse of Dong et al., 2021). On a 24-layer Qwen2 shape that made
 *     consecutive positions' logits correlate at 0.9 and greedy decoding repeat one token; at
 *     half strength the correlation is about 0.3 and 22 of 24 greedy tokens differ.
 * <li><b>Vocabulary rows</b> ({@code token_embd}, {@code output}): row v has σ = s·a_v/√d with
 *     s = {@value #LOGIT_STDEV} and a per-token scale a_v = exp(c·u)/√(sinh 2c / 2c), u uniform
 *     on [-1, 1), c = {@value #TOKEN_SCALE_SPREAD}·√3, normalized so that E[a²] = 1. The final RMS
 *     norm makes the hidden state's length √d whatever the layers did, so the logits have a
 *     standard deviation of about s across the vocabulary, as trained models' do. The spread of
 *     a_v (0.26 to 2.05), like the frequency-skewed norms of trained embeddings, widens the gap
 *     between the top logit and the runner-up: 1.1 to 1.5 on average on the presets, where equal
 *     norms give about 0.7. Near-ties remain possible (a gap under 0.05 at a few
 *     percent of positions), as with any continuous logits: compare greedy tokens tie-aware.
 * <li><b>Norm weights</b>: uniform on [1 - {@value #NORM_SPREAD}, 1 + {@value #NORM_SPREAD}]:
 *     about 1, yet an implementation that forgets to apply them gets different logits.
 * <li><b>Biases</b>: σ = {@value #BIAS_STDEV}: visible against the unit-variance outputs they
 *     shift, but small, because a Q bias adds the same term to every query's score for a key and
 *     so draws all positions' attention to the same keys (at σ = 0.5, tiny-qwen2's consecutive
 *     positions' logits correlated at 0.5 instead of 0.35).
 * </ul>
 */
final class WeightInit {

    static final float LOGIT_STDEV = 3f;
    static final double TOKEN_SCALE_SPREAD = 0.6;
    static final float QUERY_KEY_GAIN = 1.5f;
    static final float RESIDUAL_RMS = 16f;
    static final float ATTENTION_SHARE = 0.5f;
    static final float NORM_SPREAD = 0.2f;
    static final float BIAS_STDEV = 0.2f;

    private static final double SQRT3 = Math.sqrt(3); // Math.sqrt is correctly rounded: the same everywhere
    private static final double TOKEN_SCALE_WIDTH = TOKEN_SCALE_SPREAD * SQRT3;
    private static final double TOKEN_SCALE_NORM = Math.sqrt(StrictMath.sinh(2 * TOKEN_SCALE_WIDTH) / (2 * TOKEN_SCALE_WIDTH));

    private final long seed;
    private final boolean perTokenScale;
    private final int rowLength;
    private final float center;
    private final float halfWidth;

    WeightInit(TensorSpec tensor, ModelShape shape, long modelSeed) {
        this.seed = SplitMix64.stream(modelSeed, tensor.name());
        this.perTokenScale = tensor.role() == Role.VOCABULARY;
        this.rowLength = Math.toIntExact(tensor.rowLength());
        double fanIn = Math.sqrt(rowLength);
        double residualBranch = RESIDUAL_RMS / Math.sqrt(2.0 * shape.layers());
        this.center = tensor.role() == Role.NORM ? 1f : 0f;
        this.halfWidth = (float) switch (tensor.role()) {
            case VOCABULARY -> SQRT3 * LOGIT_STDEV / fanIn;
            case NORM -> NORM_SPREAD;
            case BIAS -> SQRT3 * BIAS_STDEV;
            case QUERY_KEY -> SQRT3 * QUERY_KEY_GAIN / fanIn;
            case PROJECTION -> SQRT3 / fanIn;
            case ATTENTION_OUTPUT -> SQRT3 * ATTENTION_SHARE * residualBranch / fanIn;
            case FFN_OUTPUT -> SQRT3 * residualBranch / fanIn;
        };
    }

    /** Writes rows {@code [firstRow, firstRow + rows)} as F32 values at the start of {@code dst}. */
    void fill(long firstRow, int rows, MemorySegment dst) {
        for (int r = 0; r < rows; r++) {
            SplitMix64 random = new SplitMix64(SplitMix64.stream(seed, firstRow + r));
            float width = perTokenScale ? halfWidth * tokenScale(random.nextSymmetric()) : halfWidth;
            long base = (long) r * rowLength;
            for (int i = 0; i < rowLength; i++) {
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, base + i, center + width * random.nextSymmetric());
            }
        }
    }

    private static float tokenScale(float u) {
        return (float) (StrictMath.exp(TOKEN_SCALE_WIDTH * u) / TOKEN_SCALE_NORM);
    }
}
