package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.Tensor;
import dev.sluice.engine.model.ModelConfig;

/**
 * Attention of one sequence's prefill chunk as two matrix products and a softmax, instead of
 * {@code flash_attn_ext}: {@code K [hd, L, kvHeads] × Q [hd, T, heads]} (ggml broadcasts each KV
 * head over its GQA group of query heads), one masked softmax over the [L, T, heads] scores, then
 * {@code Vᵀ [L, hd, kvHeads] × weights}.
 *
 * <p>Why: ggml's CPU flash attention has a tiled kernel for 64 query rows or more and, below
 * that, walks the keys one query row at a time, about 60 ns per query row, key and head on 2
 * cores. A chunk of 2 to 63 tokens after a long context (a chat's next turn, a request behind a
 * cached system prompt) spent most of its step there: 40 tokens after 1000 cached ones took 727 ms
 * (llama.cpp's {@code llama_decode} 732 ms), 64 tokens 181 ms. As products (llamafile's tinyBLAS)
 * the 40 take 111 ms ({@code InterleavedPrefill -Dcached=1000}, smollm2-135m-shape Q8_0). From 64
 * rows on the tiled kernel is as fast or faster (128 rows: 309 against 341 ms), and it needs no
 * [L, T, heads] score tensor. {@code -Dsluice.prefill-attention=flash} turns this off.
 *
 * <p>Decode groups of a GQA model ({@link #attendDecodes}) the same way: per sequence and KV
 * head, the query heads that share it are the columns of one product, where flash attention's
 * row kernel takes each query head on its own. 32 sequences over 512 positions: 451 → 267 ms a
 * step ({@code InterleavedDecode -Dcontext=512}, smollm2-135m-shape, 3 query heads per KV head).
 * {@code -Dsluice.decode-attention=flash} turns that off.
 *
 * <p>On the CPU backend only ({@link ModelRunner}): other backends' flash-attention kernels have
 * no such row-at-a-time path, and this was measured and checked on the CPU alone.
 */
final class MatrixAttention {

    /** Chunks of fewer rows keep flash attention: one row's product is a vector dot, no faster. */
    static final int MIN_ROWS = 2;
    /** From this many rows ggml's flash attention uses its tiled kernel ({@code GGML_FA_TILE_Q}). */
    static final int TILED_ROWS = 64;
    /**
     * Contexts shorter than this keep flash attention: there the two cost about the same (a fresh
     * 16-token prompt 36.5 against 38.1 ms), and llama.cpp computes short prompts with that kernel,
     * so they stay as exactly comparable to it as before. From 64 cached tokens on products win
     * (8 new tokens 1.24x faster, 32 tokens 1.66x; after 192 cached, 1.78x and 2.55x).
     */
    static final int MIN_CONTEXT = 128;
    /**
     * The most bytes of [L, T, heads] F32 scores per layer (the softmax's output takes as much
     * again): a 63-token chunk over a 100k-token context with 32 heads would need 0.8 GB of each,
     * where flash attention needs none. Past this the chunk keeps flash attention.
     */
    static final long MAX_SCORE_BYTES = 64L << 20;
    /**
     * Decode groups over contexts shorter than this keep flash attention (and stay bit-exact with
     * llama.cpp's decode, a transposed V copied into rows for it: a copy of fewer than this many
     * rows per stream). At 32 sequences products were 1.24x faster over 64 positions, 1.25x over
     * 128, 1.69x over 512 (InterleavedDecode, smollm2-135m-shape Q8_0, GQA 3, V in rows).
     */
    static final int MIN_DECODE_CONTEXT = Integer.getInteger("sluice.decode-products-min", 128);
    private static final boolean ENABLED = !"flash".equalsIgnoreCase(System.getProperty("sluice.prefill-attention", "auto").strip());
    private static final boolean DECODES_ENABLED = !"flash".equalsIgnoreCase(System.getProperty("sluice.decode-attention", "auto").strip());

    private MatrixAttention() {
    }

    /**
     * Whether {@code group} (not a cascade group) of a model with {@code heads} query heads is
     * attended this way: one stream of 2 to 63 tokens over 128 positions or more, its scores
     * within {@link #MAX_SCORE_BYTES}.
     */
    static boolean suits(AttentionPlan.Group group, int heads) {
        int t = group.tokensPerStream();
        return ENABLED && group.streams() == 1 && t >= MIN_ROWS && t < TILED_ROWS && group.kvLength() >= MIN_CONTEXT
                && 4L * group.kvLength() * t * heads <= MAX_SCORE_BYTES;
    }

    /**
     * Whether decode group {@code group} (one token per stream) is attended as products: over
     * contexts of {@link #MIN_DECODE_CONTEXT} or more, with scores within
     * {@link #MAX_SCORE_BYTES}, any model's when the V pool is transposed (Vᵀ is read as it lies;
     * flash attention would need V copied into rows), else a GQA model's (the query heads of one
     * KV head are the columns of one product, where flash attention takes them one row at a time).
     */
    static boolean suitsDecodes(AttentionPlan.Group group, ModelConfig config, boolean transposedValues) {
        return DECODES_ENABLED && group.tokensPerStream() == 1 && !group.cascade()
                && (transposedValues || config.heads() > config.kvHeads()) && group.kvLength() >= MIN_DECODE_CONTEXT
                && 4L * group.kvLength() * config.heads() * group.streams() <= MAX_SCORE_BYTES;
    }

    /**
     * A decode group's attention output, [heads * hd, S]: per stream and KV head, the K rows
     * [hd, L] times that KV head's query heads as columns [hd, heads / kvHeads]; one softmax over
     * each head's L scores with the group's mask [L, 1, 1, S]; then Vᵀ [L, hd] times the weights.
     * {@code k} is [hd, L, kvHeads, S] and {@code vT} [L, hd, kvHeads, S] (in place or
     * gathered; rows along L contiguous). Read from a transposed V pool, Vᵀ costs nothing; made
     * from V in rows, its copy was about half of this attention's time (154 of 328 ms of a
     * one-thread step of 32 sequences over 512 positions, {@code OpProfile}).
     */
    static Tensor attendDecodes(GgmlContext ctx, ModelConfig config, AttentionPlan.Group group, Tensor q, Tensor k,
                                Tensor vT, Tensor mask, float scale) {
        int hd = config.headDim();
        int heads = config.heads();
        int kvHeads = config.kvHeads();
        int gqa = heads / kvHeads;
        int s = group.streams();
        int l = group.kvLength();
        Tensor qv = ctx.view4d(q, hd, gqa, kvHeads, s, q.nb(1), q.nb(1) * gqa, q.nb(2),
                q.nb(2) * group.firstToken());                                                  // [hd, gqa, kvHeads, S]
        Tensor scores = ctx.reshape(ctx.mulMat(k, qv), l, 1, heads, s);                         // [L, 1, heads, S]
        Tensor weights = ctx.reshape(ctx.softMax(scores, mask, scale), l, gqa, kvHeads, s);
        Tensor out = ctx.mulMat(vT, weights);                                                   // [hd, gqa, kvHeads, S]
        return ctx.reshape(out, (long) hd * heads, s);                                          // query head h = gqa * j + g
    }

    /**
     * The chunk's attention output, [heads * hd, T]. {@code q} is the step's [hd, heads, tokens];
     * {@code k} the chunk's context as [hd, L, kvHeads] and {@code vT} as [L, hd, kvHeads] (in
     * place or gathered); {@code mask} [L, T, 1, 1] in F16, the causal mask flash attention would get.
     */
    static Tensor attend(GgmlContext ctx, ModelConfig config, AttentionPlan.Group group, Tensor q, Tensor k, Tensor vT,
                         Tensor mask, float scale) {
        int hd = config.headDim();
        int heads = config.heads();
        int t = group.tokensPerStream();
        int l = group.kvLength();
        Tensor qg = ctx.view3d(q, hd, t, heads, q.nb(2), q.nb(1), q.nb(2) * group.firstToken());   // [hd, T, heads]
        Tensor k3 = ctx.view3d(k, hd, l, config.kvHeads(), k.nb(1), k.nb(2), 0);
        Tensor vT3 = ctx.view3d(vT, l, hd, config.kvHeads(), vT.nb(1), vT.nb(2), 0);
        Tensor scores = ctx.mulMat(k3, qg);                                                          // [L, T, heads]
        Tensor weights = ctx.softMax(scores, ctx.reshape(mask, l, t), scale);
        Tensor out = ctx.mulMat(vT3, weights);                                                       // [hd, T, heads]
        return ctx.reshape(ctx.cont(ctx.permute(out, 0, 2, 1, 3)), (long) hd * heads, t);            // [hd, heads, T]
    }
}
