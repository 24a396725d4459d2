package dev.sluice.bench.engine;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.OpTimes;
import dev.sluice.bindings.llama.LlamaBatch;
import dev.sluice.bindings.llama.LlamaContext;
import dev.sluice.bindings.llama.LlamaModel;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.Logits;
import dev.sluice.engine.runner.ModelRunner;

import java.nio.file.Path;

/**
 * Sluice's runner and llama.cpp's {@code llama_decode} on one GGUF, each with {@code batch}
 * sequences prefilled to {@link #CONTEXT} tokens, ready to run the same decode step again and
 * again: ours rewrites the same KV slots, llama.cpp's new positions are removed again with
 * {@code llama_memory_seq_rm} (cheap bookkeeping). Optionally one spare sequence more, for a
 * prefill of up to {@code spareTokens} tokens, which is left to the caller.
 */
final class EngineStepFixture implements AutoCloseable {

    /** Tokens each sequence holds before the measured step ({@code -Dcontext=N}, default 128). */
    static final int CONTEXT = Integer.getInteger("context", 128);
    static final int BLOCK = 16;
    static final boolean SCATTERED = "scattered".equals(System.getProperty("blocks", "consecutive"));

    private final int batch;
    private final Backend backend;
    private final ModelWeights weights;
    private final KvCache cache;
    private final ModelRunner runner;
    private final LlamaModel llamaModel;
    private final LlamaContext llama;
    private final LlamaBatch llamaDecode;
    private final Batch decode = new Batch();
    private final int[] spareTable;

    EngineStepFixture(Path model, int threads, int batch, int spareTokens) {
        this(model, threads, batch, spareTokens, null);
    }

    /** @param llamaProfile where llama.cpp's decodes are profiled node by node (null: not profiled) */
    EngineStepFixture(Path model, int threads, int batch, int spareTokens, OpTimes llamaProfile) {
        this.batch = batch;
        int[] prompt = prompt(Math.max(CONTEXT + 1, spareTokens));
        int blocksPerSequence = Math.max(CONTEXT + 1, spareTokens) / BLOCK + 1;
        int sequences = batch + (spareTokens > 0 ? 1 : 0);
        backend = Backend.cpu(threads);
        weights = ModelWeights.load(model, backend);
        cache = new KvCache(weights.config(), backend, BLOCK, sequences * blocksPerSequence, KvCache.CacheType.F16);
        runner = new ModelRunner(weights, cache, backend);
        llamaModel = LlamaModel.load(model, LlamaModel.Options.CPU);
        llama = LlamaContext.create(llamaModel, new LlamaContext.Options(Math.max(batch, 1) * Math.max(1024, CONTEXT + 64) + spareTokens,
                Math.max(512, Math.max(spareTokens, CONTEXT)), sequences, threads, LlamaContext.FlashAttention.ON, null),
                llamaProfile);
        llamaDecode = new LlamaBatch(Math.max(batch, 1));

        int[][] tables = new int[sequences][blocksPerSequence];
        for (int s = 0; s < sequences; s++) {
            for (int b = 0; b < blocksPerSequence; b++) {
                // -Dblocks=scattered: the sequences' blocks taken in turn, so none are consecutive and
                // every decode is gathered (as most are in served chat-like, where prefix-cache hits
                // are followed by blocks elsewhere); default: each sequence's blocks consecutive.
                tables[s][b] = SCATTERED ? b * sequences + s : s * blocksPerSequence + b;
            }
        }
        spareTable = spareTokens > 0 ? tables[batch] : null;
        Batch setup = new Batch();
        try (LlamaBatch llamaSetup = new LlamaBatch(CONTEXT)) {
            for (int s = 0; s < batch; s++) {
                setup.clear();
                setup.add(prompt, 0, CONTEXT, 0, tables[s], (CONTEXT + BLOCK - 1) / BLOCK, Batch.Logits.LAST);
                runner.forward(setup);
                llamaSetup.clear();
                for (int i = 0; i < CONTEXT; i++) {
                    llamaSetup.add(prompt[i], i, s, i == CONTEXT - 1);
                }
                llama.decode(llamaSetup);
            }
        }
        for (int s = 0; s < batch; s++) {
            decode.addToken(prompt[CONTEXT], CONTEXT, tables[s], CONTEXT / BLOCK + 1);
            llamaDecode.add(prompt[CONTEXT], CONTEXT, s, true);
        }
    }

    /** A deterministic token sequence spread over the vocabulary. */
    static int[] prompt(int length) {
        int[] prompt = new int[length];
        for (int i = 0; i < length; i++) {
            prompt[i] = 1000 + (i * 37) % 20000;
        }
        return prompt;
    }

    Logits sluiceDecodeStep() {
        return runner.forward(decode);
    }

    void llamaDecodeStep() {
        llama.decode(llamaDecode);
        for (int s = 0; s < batch; s++) {
            llama.removeSequencePositions(s, CONTEXT);
        }
    }

    /** A batch prefilling {@code tokens} of {@code prompt} into the spare sequence. */
    Batch sparePrefill(int[] prompt, int tokens) {
        Batch prefill = new Batch();
        prefill.add(prompt, 0, tokens, 0, spareTable, (tokens + BLOCK - 1) / BLOCK, Batch.Logits.LAST);
        return prefill;
    }

    /** A batch prefilling {@code prompt[from, from + tokens)} at positions from {@code from} into the spare sequence. */
    Batch sparePrefill(int[] prompt, int from, int tokens) {
        Batch prefill = new Batch();
        prefill.add(prompt, from, tokens, from, spareTable, (from + tokens + BLOCK - 1) / BLOCK, Batch.Logits.LAST);
        return prefill;
    }

    /** Runs {@code step} (on the spare sequence) in llama.cpp, then removes its positions from {@code keep} on. */
    void llamaSpareStep(LlamaBatch step, int keep) {
        llama.decode(step);
        llama.removeSequencePositions(batch, keep);
    }

    Logits sluiceStep(Batch step) {
        return runner.forward(step);
    }

    /** Runs {@code step} (on the spare sequence) in llama.cpp, then removes its positions again. */
    void llamaSpareStep(LlamaBatch step) {
        llama.decode(step);
        llama.removeSequencePositions(batch, 0);
    }

    /** Profiles Sluice's following steps node by node into {@code times} (null: stop). */
    void profileSluice(OpTimes times) {
        runner.profile(times);
    }

    /** Where Sluice's last step spent its time. */
    dev.sluice.engine.runner.StepTimings lastTimings() {
        return runner.lastTimings();
    }

    /** The llama.cpp sequence id of the spare sequence. */
    int spareSequence() {
        return batch;
    }

    @Override
    public void close() {
        llamaDecode.close();
        llama.close();
        llamaModel.close();
        runner.close();
        cache.close();
        weights.close();
        backend.close();
    }
}
