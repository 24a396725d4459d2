package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.ggml.Tensor;
import dev.sluice.engine.model.ModelConfig;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Attention of a cascade group ({@link AttentionPlan.Group#cascade()}): S decode sequences whose
 * first P positions are the same physical K/V rows. Per layer:
 * <ol>
 *   <li>prefix scores, once for the group: {@code K_prefix [hd, P, kvHeads] × Q [hd, S, heads]}
 *       is one matrix product per KV head over every member's query and every head of the KV
 *       head's GQA group (ggml broadcasts the KV head over its query heads);</li>
 *   <li>suffix scores per member over its own positions [P, P + Ls), gathered and padded to the
 *       group's longest, as one batched product;</li>
 *   <li>both written side by side into one [P + Ls, S, heads] score buffer and normalised by one
 *       masked softmax: the exact merge, since every member's weights share one maximum and one
 *       normaliser across the two parts (the log-sum-exp merge of separately normalised parts
 *       gives the same weights, with more ops);</li>
 *   <li>the weights times V: the prefix part as one product with the prefix's Vᵀ (read once for
 *       the group), the suffix part per member, and their sum.</li>
 * </ol>
 * The prefix's K/V are read once per layer instead of once per member: at 64 members over a
 * 1000-token prefix that is 1/64 of the rows the normal path gathers and attends.
 */
final class CascadeAttention {

    /**
     * Test hook: normalise the prefix and suffix parts each on its own and add them, i.e. drop the
     * shared normaliser. Wrong on purpose, so a test can show the parity check catches a bad merge.
     */
    static volatile boolean separateNormalisersForTest;

    private final GgmlContext ctx;
    private final ModelConfig config;
    private final float scale;
    private final boolean separate = separateNormalisersForTest;
    // One score buffer per group, reused by every layer: layer l+1's scores depend on layer l's
    // output, so the graph writes them only after layer l's softmax has read the buffer.
    private final Map<AttentionPlan.Group, Tensor> scoreBuffers = new IdentityHashMap<>();

    CascadeAttention(GgmlContext ctx, ModelConfig config, float scale) {
        this.ctx = ctx;
        this.config = config;
        this.scale = scale;
    }

    /**
     * The group's attention output, [heads * headDim, S]. {@code q} is the step's [hd, heads,
     * tokens]; {@code rows} the group's K gather rows (the prefix's P unless read in place, then
     * each member's Ls); {@code mask} [P + Ls, 1, 1, S] in F16; {@code prefixValuesT} the
     * prefix's Vᵀ [P, hd, kvHeads] and {@code ownValuesT} the members' [Ls, hd, kvHeads, S]
     * (the step graph reads them as the V pool's layout allows).
     */
    Tensor attend(AttentionPlan.Group group, Tensor q, Tensor kPool, Tensor rows, Tensor mask, Tensor prefixValuesT,
                  Tensor ownValuesT) {
        int hd = config.headDim();
        int heads = config.heads();
        int kvHeads = config.kvHeads();
        int s = group.streams();
        int p = group.prefixLength();
        int l = group.kvLength();
        int ls = l - p;
        long qOffset = q.nb(2) * group.firstToken();

        // Prefix: [hd, P, kvHeads] K, in place or gathered once for the whole group.
        Tensor kp;
        long suffixRowsOffset;
        if (group.inPlace()) {
            kp = poolSlice(kPool, group.firstSlot(), p);
            suffixRowsOffset = 0;
        } else {
            kp = heads(gather(kPool, ctx.view1d(rows, p, 0)), p, 1);
            suffixRowsOffset = (long) p * rows.nb(0);
        }
        Tensor qp = ctx.view3d(q, hd, s, heads, q.nb(2), q.nb(1), qOffset);           // [hd, S, heads]
        Tensor prefixScores = ctx.mulMat(kp, qp);                                        // [P, S, heads]

        // Suffix: each member's own rows, [hd, Ls, kvHeads, S].
        Tensor suffixRows = ctx.view1d(rows, (long) ls * s, suffixRowsOffset);
        Tensor ks = heads(gather(kPool, suffixRows), ls, s);
        Tensor qs = ctx.view4d(q, hd, 1, heads, s, q.nb(1), q.nb(1), q.nb(2), qOffset);  // [hd, 1, heads, S]
        Tensor suffixScores = ctx.mulMat(ks, qs);                                        // [Ls, 1, heads, S]
        Tensor suffixView = ctx.view3d(suffixScores, ls, s, heads, suffixScores.nb(3), suffixScores.nb(2), 0);

        Tensor mask2d = ctx.reshape(mask, l, s);
        Tensor prefixWeights;
        Tensor suffixWeights;
        if (separate) {
            prefixWeights = ctx.softMax(prefixScores, null, scale);
            Tensor suffixMask = ctx.cont(ctx.view2d(mask2d, ls, s, mask2d.nb(1), (long) p * mask2d.nb(0)));
            Tensor suffixWeights3d = ctx.softMax(ctx.cont(suffixView), suffixMask, scale);
            suffixWeights = ctx.view4d(suffixWeights3d, ls, 1, heads, s, suffixWeights3d.nb(1), suffixWeights3d.nb(2),
                    suffixWeights3d.nb(1), 0);
        } else {
            Tensor buffer = scoreBuffers.computeIfAbsent(group, g -> ctx.newTensor(GgmlType.F32, l, s, heads));
            long nb1 = buffer.nb(1);
            long nb2 = buffer.nb(2);
            long nb3 = buffer.nb(3);
            Tensor scores = ctx.setInPlace(buffer, prefixScores, nb1, nb2, nb3, 0);
            scores = ctx.setInPlace(scores, suffixView, nb1, nb2, nb3, (long) p * buffer.nb(0));
            Tensor weights = ctx.softMax(scores, mask2d, scale);                          // [P + Ls, S, heads]
            prefixWeights = ctx.view3d(weights, p, s, heads, weights.nb(1), weights.nb(2), 0);
            suffixWeights = ctx.view4d(weights, ls, 1, heads, s, weights.nb(1), weights.nb(2), weights.nb(1),
                    (long) p * weights.nb(0));
        }

        Tensor prefixOut = ctx.mulMat(prefixValuesT, prefixWeights);                                 // [hd, S, heads]
        Tensor suffixOut = ctx.mulMat(ownValuesT, suffixWeights);                                    // [hd, 1, heads, S]
        Tensor out = ctx.add(ctx.reshape(suffixOut, hd, heads, s), ctx.permute(prefixOut, 0, 2, 1, 3));
        return ctx.reshape(out, (long) hd * heads, s);
    }

    /** Slots [first, first + length) of an F16 pool read in place as [hd, length, kvHeads]. */
    private Tensor poolSlice(Tensor pool, int firstSlot, int length) {
        long rowBytes = pool.nb(1);
        return ctx.view3d(pool, config.headDim(), length, config.kvHeads(), rowBytes, pool.nb(0) * config.headDim(),
                rowBytes * firstSlot);
    }

    /** Pool rows in the order of {@code rows}, as [kvDim, rows] F16 (the values llama.cpp's attention reads). */
    private Tensor gather(Tensor pool, Tensor rows) {
        if (pool.type() == GgmlType.F16) {
            // F16 pairs read as I32, which get_rows copies unconverted (see StepGraph).
            return ctx.reinterpret(ctx.getRows(ctx.reinterpret(pool, GgmlType.I32), rows), GgmlType.F16);
        }
        return ctx.cast(ctx.getRows(pool, rows), GgmlType.F16);
    }

    /** Gathered [kvDim, length * streams] rows viewed as [hd, length, kvHeads, streams]. */
    private Tensor heads(Tensor gathered, int length, int streams) {
        long rowBytes = gathered.nb(1);
        return ctx.view4d(gathered, config.headDim(), length, config.kvHeads(), streams,
                rowBytes, gathered.nb(0) * config.headDim(), rowBytes * length, 0);
    }
}
