package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.ggml.Graph;
import dev.sluice.bindings.ggml.RopeParams;
import dev.sluice.bindings.ggml.Tensor;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.LayerWeights;
import dev.sluice.engine.model.ModelConfig;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.engine.model.RopeScaling;

import java.util.ArrayList;
import java.util.List;

/**
 * One step's transformer graph, built with ggml ops for an {@link AttentionPlan}, and the tensors
 * its inputs are written to and its logits read from.
 *
 * <p>Attention per layer: the new K/V rows are scattered into the paged pools with
 * {@code set_rows}; then, per attention group, the group's K/V rows are gathered in logical order
 * through the block tables ({@code get_rows}), or read in place, and fed to
 * {@code flash_attn_ext} with a causal mask (decode groups and prefill chunks of 2 to 63 tokens to
 * {@link MatrixAttention} instead, when it suits them). A transposed V pool
 * ({@link KvCache#transposedValues()}) is written one element per row and read as Vᵀ, in place or
 * gathered block by block ({@link ValueRows}); flash attention gets a copy of it in rows. Only the rows that come out of the step (logits rows,
 * then hidden-state rows for embeddings: {@link OutputRows}) go through the last layer's MLP, and
 * only the logits rows through the output head. {@code logits} or {@code hidden} is null when no
 * row asks for it.
 */
record StepGraph(Graph graph, Tensor tokens, Tensor positions, Tensor slots, Tensor outputRows, Tensor[] gatherRows,
                 Tensor[] valueRows, Tensor[] masks, Tensor logits, Tensor hidden) {

    /** Graph nodes a plan needs, with room to spare. */
    static int nodes(ModelConfig config, AttentionPlan plan, boolean matrixAttention, boolean transposedValues) {
        int cascades = 0;
        int products = 0; // groups attended by MatrixAttention: a dozen tensors where flash attention takes a few
        for (AttentionPlan.Group group : plan.groups()) {
            cascades += group.cascade() ? 1 : 0;
            products += matrixAttention && byProducts(group, config, transposedValues) ? 1 : 0;
        }
        // Reading a transposed V pool takes a few views more per group (and flash attention a copy back into rows).
        int perGroup = transposedValues ? 24 : 16;
        return 64 + config.layers() * (48 + perGroup * plan.groups().size() + 16 * products + 48 * cascades);
    }

    /**
     * Builds the graph of {@code plan} in {@code ctx}; {@code matrixAttention} lets
     * {@link MatrixAttention} take the groups it suits (what it works around is ggml's CPU kernel).
     */
    static StepGraph build(GgmlContext ctx, AttentionPlan plan, ModelWeights weights, KvCache cache, int maxNodes,
                           boolean matrixAttention) {
        return new Builder(ctx, weights, cache, matrixAttention).build(plan, maxNodes);
    }

    /** Whether {@link MatrixAttention} suits {@code group}, a decode group or a short prefill chunk. */
    private static boolean byProducts(AttentionPlan.Group group, ModelConfig config, boolean transposedValues) {
        return !group.cascade() && (MatrixAttention.suits(group, config.heads())
                || MatrixAttention.suitsDecodes(group, config, transposedValues));
    }

    private static final class Builder {
        private final GgmlContext ctx;
        private final ModelWeights weights;
        private final ModelConfig config;
        private final KvCache cache;
        private final RopeParams rope;
        private final float attentionScale;
        private final CascadeAttention cascade;
        private final boolean matrixAttention;
        private final boolean transposed;

        Builder(GgmlContext ctx, ModelWeights weights, KvCache cache, boolean matrixAttention) {
            this.ctx = ctx;
            this.matrixAttention = matrixAttention;
            this.weights = weights;
            this.config = weights.config();
            this.cache = cache;
            RopeScaling scaling = config.ropeScaling();
            this.rope = new RopeParams(config.ropeDims(), config.architecture().ropeMode(), scaling.originalContext(),
                    config.ropeFreqBase(), scaling.freqScale(), scaling.type() == RopeScaling.Type.YARN ? 1f : 0f,
                    scaling.attnFactor(), 32f, 1f);
            this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
            this.cascade = new CascadeAttention(ctx, config, attentionScale);
            this.transposed = cache.transposedValues();
        }

        StepGraph build(AttentionPlan plan, int maxNodes) {
            int n = plan.tokens();
            Tensor tokens = ctx.newTensor(GgmlType.I32, n).asInput();
            Tensor positions = ctx.newTensor(GgmlType.I32, n).asInput();
            Tensor slots = ctx.newTensor(GgmlType.I64, n).asInput();
            Tensor outputRows = ctx.newTensor(GgmlType.I32, plan.outputRows()).asInput();
            int groups = plan.groups().size();
            Tensor[] gatherRows = new Tensor[groups];
            Tensor[] valueRows = new Tensor[groups];
            Tensor[] masks = new Tensor[groups];
            for (int i = 0; i < groups; i++) {
                AttentionPlan.Group group = plan.groups().get(i);
                if (group.gathers()) {
                    gatherRows[i] = ctx.newTensor(GgmlType.I32, group.gatheredRows()).asInput();
                    if (transposed) {
                        valueRows[i] = ctx.newTensor(GgmlType.I32, ValueRows.count(group, cache.blockSize(), config.kvDim())).asInput();
                    }
                }
                masks[i] = ctx.newTensor(GgmlType.F16, group.kvLength(), group.tokensPerStream(), 1, group.streams()).asInput();
            }

            int hd = config.headDim();
            float eps = config.rmsEps();
            Tensor x = ctx.getRows(weights.tokenEmbedding(), tokens);
            for (int layer = 0; layer < config.layers(); layer++) {
                LayerWeights w = weights.layer(layer);
                Tensor h = ctx.mul(ctx.rmsNorm(x, eps), w.attnNorm());

                Tensor q = ctx.reshape(addBias(ctx.mulMat(w.wq(), h), w.bq()), hd, config.heads(), n);
                Tensor k = ctx.reshape(addBias(ctx.mulMat(w.wk(), h), w.bk()), hd, config.kvHeads(), n);
                Tensor v = addBias(ctx.mulMat(w.wv(), h), w.bv());
                if (config.architecture().qkNorm()) {
                    q = ctx.mul(ctx.rmsNorm(q, eps), w.qNorm());
                    k = ctx.mul(ctx.rmsNorm(k, eps), w.kNorm());
                }
                q = ctx.rope(q, positions, weights.ropeFreqs(), rope);
                k = ctx.rope(k, positions, weights.ropeFreqs(), rope);

                // Scatter this step's K/V into the paged pools; attention reads the pools through the
                // set_rows results, so every read is ordered after the write.
                Tensor kPool = ctx.setRows(cache.keys(layer), ctx.reshape(k, config.kvDim(), n), slots);
                Tensor vPool = transposed ? writeTransposed(cache.values(layer), v, slots, n)
                        : ctx.setRows(cache.values(layer), v, slots);

                List<Tensor> outputs = new ArrayList<>(groups);
                for (int i = 0; i < groups; i++) {
                    outputs.add(attend(plan.groups().get(i), q, kPool, vPool, gatherRows[i], valueRows[i], masks[i]));
                }
                Tensor attention = joinInto(q, outputs);
                Tensor o = addBias(ctx.mulMat(w.wo(), attention), w.attnOutputBias());
                if (layer == config.layers() - 1) {
                    // Only rows that need logits go through the last MLP and the output head.
                    o = ctx.getRows(o, outputRows);
                    x = ctx.getRows(x, outputRows);
                }
                x = ctx.add(o, x);

                Tensor f = ctx.mul(ctx.rmsNorm(x, eps), w.ffnNorm());
                f = ctx.mulMat(w.ffnDown(), ctx.swigluSplit(ctx.mulMat(w.ffnGate(), f), ctx.mulMat(w.ffnUp(), f)));
                x = ctx.add(f, x);
            }
            x = ctx.mul(ctx.rmsNorm(x, eps), weights.outputNorm());
            // Output rows are logits rows, then hidden-state rows (OutputRows): the hidden states
            // are the normed rows themselves (llama.cpp's t_embd); only the logits rows meet the head.
            OutputRows out = plan.outputs();
            Tensor hidden = out.hiddenRows() > 0 ? x.asOutput() : null;
            Tensor logits = null;
            if (out.logitRows() > 0) {
                Tensor head = out.hiddenRows() == 0 ? x : ctx.view2d(x, x.ne(0), out.logitRows(), x.nb(1), 0);
                logits = addBias(ctx.mulMat(weights.output(), head), weights.outputBias()).asOutput();
            }
            Graph graph = ctx.newGraph(maxNodes);
            if (logits != null) {
                graph.expand(logits);
            }
            if (hidden != null) {
                graph.expand(hidden);
            }
            return new StepGraph(graph, tokens, positions, slots, outputRows, gatherRows, valueRows, masks, logits, hidden);
        }

        /**
         * Writes V [kvDim, n] into a transposed pool [slots, kvDim], one element per row, as
         * llama.cpp writes its transposed V: the pool seen as [1, slots, kvDim] and V as
         * [1, n, kvDim], with the tokens' slots broadcast over the kvDim planes (no index per
         * element). Returns the written pool as [slots, kvDim].
         */
        private Tensor writeTransposed(Tensor pool, Tensor v, Tensor slots, int n) {
            long e = pool.nb(0);
            Tensor planes = ctx.view3d(pool, 1, pool.ne(0), pool.ne(1), e, pool.nb(1), 0);
            Tensor source = ctx.view3d(v, 1, n, config.kvDim(), v.nb(1), v.nb(0), 0);
            Tensor written = ctx.setRows(planes, source, slots);
            return ctx.view2d(written, pool.ne(0), pool.ne(1), pool.nb(1), 0);
        }

        /** One group's attention output, [heads * headDim, streams * tokensPerStream]. */
        private Tensor attend(AttentionPlan.Group group, Tensor q, Tensor kPool, Tensor vPool, Tensor gatherRows,
                              Tensor valueRows, Tensor mask) {
            if (group.cascade()) {
                return cascade.attend(group, q, kPool, gatherRows, mask, prefixValuesT(group, vPool, gatherRows, valueRows),
                        ownValuesT(group, vPool, gatherRows, valueRows));
            }
            int hd = config.headDim();
            int t = group.tokensPerStream();
            int s = group.streams();
            Tensor kg = group.inPlace() ? sliceKv(kPool, group) : gatherKv(kPool, gatherRows, group.kvLength(), s);
            if (matrixAttention && byProducts(group, config, transposed)) {
                Tensor vT = ownValuesT(group, vPool, gatherRows, valueRows);
                return t == 1 ? MatrixAttention.attendDecodes(ctx, config, group, q, kg, vT, mask, attentionScale)
                        : MatrixAttention.attend(ctx, config, group, q, kg, vT, mask, attentionScale);
            }
            // q: [hd, heads, tokens] -> this group's rows as [hd, T, heads, S]
            Tensor qg = ctx.permute(ctx.view4d(q, hd, config.heads(), t, s,
                    q.nb(1), q.nb(2), q.nb(2) * t, q.nb(2) * group.firstToken()), 0, 2, 1, 3);
            Tensor vg = transposed ? ctx.cont(ctx.permute(ownValuesT(group, vPool, gatherRows, valueRows), 1, 0, 2, 3))
                    : group.inPlace() ? sliceKv(vPool, group) : gatherKv(vPool, gatherRows, group.kvLength(), s);
            Tensor out = ctx.flashAttention(qg, kg, vg, mask, attentionScale); // [hd, heads, T, S]
            return ctx.reshape(out, (long) hd * config.heads(), (long) t * s);
        }

        /**
         * Vᵀ of the group's own positions (a cascade group's [P, L), any other's [0, L)) as
         * [length, hd, kvHeads, S]: from a transposed pool in place or gathered by block; from a
         * pool in rows, the rows in place or gathered, then transposed by a copy.
         */
        private Tensor ownValuesT(AttentionPlan.Group group, Tensor vPool, Tensor gatherRows, Tensor valueRows) {
            int s = group.streams();
            int length = group.kvLength() - group.prefixLength();
            if (!transposed) {
                Tensor rows;
                if (group.cascade()) {
                    long offset = group.inPlace() ? 0 : (long) group.prefixLength() * gatherRows.nb(0);
                    rows = gatherKv(vPool, ctx.view1d(gatherRows, (long) length * s, offset), length, s);
                } else {
                    rows = group.inPlace() ? sliceKv(vPool, group) : gatherKv(vPool, gatherRows, length, s);
                }
                return ctx.cont(ctx.permute(rows, 1, 0, 2, 3));
            }
            if (group.inPlace() && !group.cascade()) {
                int stride = s > 1 ? group.slotStride() : length;
                checkInPlace(group, vPool.ne(0));
                return valuesT(vPool, group.firstSlot(), length, s, stride);
            }
            int blocks = ValueRows.blocksPerStream(group, cache.blockSize());
            long prefixRows = ValueRows.prefixRows(group, cache.blockSize(), config.kvDim());
            long rows = (long) s * blocks * config.kvDim();
            return gatherValuesT(vPool, ctx.view1d(valueRows, rows, prefixRows * valueRows.nb(0)), blocks, length, s);
        }

        /** A cascade group's prefix Vᵀ, [P, hd, kvHeads]: in place, or gathered once for the group. */
        private Tensor prefixValuesT(AttentionPlan.Group group, Tensor vPool, Tensor gatherRows, Tensor valueRows) {
            int p = group.prefixLength();
            if (!transposed) {
                Tensor rows = group.inPlace()
                        ? ctx.view4d(vPool, config.headDim(), p, config.kvHeads(), 1, vPool.nb(1),
                                vPool.nb(0) * config.headDim(), vPool.nb(1) * p, vPool.nb(1) * group.firstSlot())
                        : gatherKv(vPool, ctx.view1d(gatherRows, p, 0), p, 1);
                return ctx.cont(ctx.permute(rows, 1, 0, 2, 3));
            }
            if (group.inPlace()) {
                return valuesT(vPool, group.firstSlot(), p, 1, p);
            }
            return gatherValuesT(vPool, ctx.view1d(valueRows, ValueRows.prefixRows(group, cache.blockSize(), config.kvDim()), 0),
                    p / cache.blockSize(), p, 1);
        }

        /** Slots [first + i * stride, + length) of a transposed pool, as Vᵀ [length, hd, kvHeads, streams]. */
        private Tensor valuesT(Tensor pool, int firstSlot, int length, int streams, int stride) {
            long e = pool.nb(0);
            long row = pool.nb(1); // one V element over every slot
            return ctx.view4d(pool, length, config.headDim(), config.kvHeads(), streams,
                    row, row * config.headDim(), e * stride, e * firstSlot);
        }

        /**
         * Gathers {@code blocks} blocks per stream of a transposed pool as Vᵀ
         * [length, hd, kvHeads, streams] ({@link ValueRows}): the pool seen as rows of one V
         * element over one block, read as pairs of F16 packed in I32, which get_rows copies as
         * they are.
         */
        private Tensor gatherValuesT(Tensor pool, Tensor rows, int blocks, int length, int streams) {
            int bs = cache.blockSize();
            long e = pool.nb(0);
            Tensor byBlock = ctx.reinterpret(ctx.view2d(pool, bs, pool.ne(0) / bs * pool.ne(1), bs * e, 0), GgmlType.I32);
            Tensor gathered = ctx.reinterpret(ctx.getRows(byBlock, rows), GgmlType.F16);          // [bs, rows]
            long span = (long) blocks * bs * e;                                                   // one element, one stream
            return ctx.view4d(gathered, length, config.headDim(), config.kvHeads(), streams,
                    span, span * config.headDim(), span * config.kvDim(), 0);
        }

        /**
         * An in-place group's rows read from an F16 pool: stream i's slots
         * [first + i * stride, first + i * stride + L) as [hd, L, kvHeads, S]. No copy at all, and
         * exactly the layout llama.cpp's attention reads from its per-slot streams.
         */
        private Tensor sliceKv(Tensor pool, AttentionPlan.Group group) {
            long rowBytes = pool.nb(1);
            long headBytes = pool.nb(0) * config.headDim();
            int l = group.kvLength();
            int stride = group.streams() > 1 ? group.slotStride() : l;
            checkInPlace(group, pool.ne(1));
            long streamBytes = rowBytes * stride;
            return ctx.view4d(pool, config.headDim(), l, config.kvHeads(), group.streams(),
                    rowBytes, headBytes, streamBytes, rowBytes * group.firstSlot());
        }

        /** ggml would abort the process on a view outside the pool: a planning bug must fail the step, not the server. */
        private static void checkInPlace(AttentionPlan.Group group, long poolSlots) {
            int l = group.kvLength();
            int stride = group.streams() > 1 ? group.slotStride() : l;
            int lastSlot = group.firstSlot() + (group.streams() - 1) * stride;
            if (!InPlaceStreams.fits(group.firstSlot(), lastSlot, group.streams(), l, (int) poolSlots)) {
                throw new IllegalStateException("in-place view outside the KV pool: " + group);
            }
        }

        /** Gathers [kvDim, L*S] rows in logical order and lays them out as [hd, L, kvHeads, S] in F16. */
        private Tensor gatherKv(Tensor pool, Tensor rows, int kvLength, int streams) {
            Tensor gathered;
            if (pool.type() == GgmlType.F16) {
                // get_rows converts F16 rows to F32, and attention wants F16: read the rows as pairs of
                // F16 packed in I32 instead, which get_rows copies as they are. One pass, 2 bytes per
                // element each way, and exactly the values llama.cpp's attention reads.
                gathered = ctx.reinterpret(ctx.getRows(ctx.reinterpret(pool, GgmlType.I32), rows), GgmlType.F16);
            } else {
                // A quantized pool: dequantized to F32 by get_rows, then to F16 as llama.cpp's attention reads it.
                gathered = ctx.cast(ctx.getRows(pool, rows), GgmlType.F16);
            }
            return ctx.permute(ctx.reshape(gathered, config.headDim(), config.kvHeads(), kvLength, streams), 0, 2, 1, 3);
        }

        /**
         * The groups' outputs as one [heads * headDim, tokens] tensor, in group order. With several
         * groups, each group's rows are written over its own query rows in {@code q} (same shape),
         * which only its own attention reads, and which that attention has read before the write
         * that depends on its output: one copy per row and no new tensor, where a pairwise concat
         * copied each row log2(groups) times through ever larger tensors.
         */
        private Tensor joinInto(Tensor q, List<Tensor> parts) {
            if (parts.size() == 1) {
                return parts.getFirst();
            }
            long rowBytes = q.nb(2);
            Tensor joined = q;
            long row = 0;
            for (Tensor part : parts) {
                joined = ctx.set2dInPlace(joined, part, rowBytes, row * rowBytes);
                row += part.ne(1);
            }
            return ctx.reshape(joined, q.ne(0) * q.ne(1), q.ne(2));
        }

        private Tensor addBias(Tensor x, Tensor bias) {
            return bias == null ? x : ctx.add(x, bias);
        }
    }
}
