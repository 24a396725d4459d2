package dev.sluice.engine.testmodel;

import dev.sluice.engine.testmodel.TensorSpec.Role;

import java.util.ArrayList;
import java.util.List;

/**
 * The hyperparameters of a decoder-only transformer, enough to lay out every tensor llama.cpp
 * loads for the architecture and to write the metadata it reads.
 *
 * @param headDim            per-head size of Q, K and V; may differ from {@code embeddingLength / heads}
 *                           (Qwen3 does that), then llama.cpp reads it from {@code attention.key_length}
 * @param tiedEmbeddings     no {@code output.weight}: the output projection reuses {@code token_embd.weight}
 * @param qkvBias            {@code attn_q/k/v.bias} (Qwen2)
 * @param qkNorm             per-head RMS norms of Q and K, {@code attn_q_norm/attn_k_norm.weight} (Qwen3)
 */
public record ModelShape(
        Architecture architecture,
        int embeddingLength,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int feedForwardLength,
        int contextLength,
        float ropeFreqBase,
        float rmsEpsilon,
        boolean tiedEmbeddings,
        boolean qkvBias,
        boolean qkNorm,
        Vocabulary vocabulary) {

    /** The architectures the generator writes, by their {@code general.architecture} names. */
    public enum Architecture {
        LLAMA("llama"), QWEN2("qwen2"), QWEN3("qwen3");

        private final String ggufName;

        Architecture(String ggufName) {
            this.ggufName = ggufName;
        }

        public String ggufName() {
            return ggufName;
        }
    }

    public ModelShape {
        if (embeddingLength <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0
                || feedForwardLength <= 0 || contextLength <= 0 || !(ropeFreqBase > 0) || !(rmsEpsilon > 0)) {
            throw new IllegalArgumentException("model dimensions must be positive");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " heads cannot share " + kvHeads + " KV heads evenly");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE needs an even head dimension, not " + headDim);
        }
        // llama.cpp's qwen2 loader shapes Q and the attention output as n_embd x n_embd.
        if (architecture == Architecture.QWEN2 && heads * headDim != embeddingLength) {
            throw new IllegalArgumentException("qwen2 needs heads * headDim == embeddingLength");
        }
        // qwen3 requires the Q/K norms; the other loaders would reject them as unexpected tensors.
        if (qkNorm != (architecture == Architecture.QWEN3)) {
            throw new IllegalArgumentException("per-head Q/K norms are what qwen3 has and the others lack");
        }
        if (vocabulary == null) {
            throw new IllegalArgumentException("no vocabulary");
        }
    }

    public int vocabSize() {
        return vocabulary.modelTokens();
    }

    /** Every tensor, in file order: embeddings, then each layer's, then the output norm and projection. */
    public List<TensorSpec> tensors() {
        long d = embeddingLength;
        long qDim = (long) heads * headDim;
        long kvDim = (long) kvHeads * headDim;
        List<TensorSpec> tensors = new ArrayList<>();
        tensors.add(new TensorSpec("token_embd.weight", Role.VOCABULARY, d, vocabSize()));
        for (int i = 0; i < layers; i++) {
            String blk = "blk." + i + ".";
            tensors.add(new TensorSpec(blk + "attn_norm.weight", Role.NORM, d));
            tensors.add(new TensorSpec(blk + "attn_q.weight", Role.QUERY_KEY, d, qDim));
            tensors.add(new TensorSpec(blk + "attn_k.weight", Role.QUERY_KEY, d, kvDim));
            tensors.add(new TensorSpec(blk + "attn_v.weight", Role.PROJECTION, d, kvDim));
            if (qkvBias) {
                tensors.add(new TensorSpec(blk + "attn_q.bias", Role.BIAS, qDim));
                tensors.add(new TensorSpec(blk + "attn_k.bias", Role.BIAS, kvDim));
                tensors.add(new TensorSpec(blk + "attn_v.bias", Role.BIAS, kvDim));
            }
            if (qkNorm) {
                tensors.add(new TensorSpec(blk + "attn_q_norm.weight", Role.NORM, headDim));
                tensors.add(new TensorSpec(blk + "attn_k_norm.weight", Role.NORM, headDim));
            }
            tensors.add(new TensorSpec(blk + "attn_output.weight", Role.ATTENTION_OUTPUT, qDim, d));
            tensors.add(new TensorSpec(blk + "ffn_norm.weight", Role.NORM, d));
            tensors.add(new TensorSpec(blk + "ffn_gate.weight", Role.PROJECTION, d, feedForwardLength));
            tensors.add(new TensorSpec(blk + "ffn_up.weight", Role.PROJECTION, d, feedForwardLength));
            tensors.add(new TensorSpec(blk + "ffn_down.weight", Role.FFN_OUTPUT, feedForwardLength, d));
        }
        tensors.add(new TensorSpec("output_norm.weight", Role.NORM, d));
        if (!tiedEmbeddings) {
            tensors.add(new TensorSpec("output.weight", Role.VOCABULARY, d, vocabSize()));
        }
        return tensors;
    }

    /** Weights in the model, counting tied embeddings once (as llama.cpp's {@code llama_model_n_params} does). */
    public long parameterCount() {
        return tensors().stream().mapToLong(TensorSpec::elements).sum();
    }
}
