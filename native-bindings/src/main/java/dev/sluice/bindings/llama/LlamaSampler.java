package dev.sluice.bindings.llama;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeLibraries;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One native {@code llama_sampler}: a stage that filters or reweights a
 * {@link LlamaTokenDataArray} (temperature, top-k, top-p, min-p, grammar) or selects a token from
 * it (dist). Which stages run, and in what order, is the engine's policy.
 *
 * <p>Not thread-safe. {@link #close()} frees the sampler and may be called more than once; any
 * other call after it throws {@link IllegalStateException}.
 */
public final class LlamaSampler implements AutoCloseable {

    /** {@code LLAMA_DEFAULT_SEED}: {@link #distribution} seeds itself from the system instead. */
    public static final int RANDOM_SEED = llama_cpp.LLAMA_DEFAULT_SEED();

    private final String description;
    private final LlamaVocab vocab; // the grammar sampler reads it on every call; null for the others
    private MemorySegment sampler;

    private LlamaSampler(String description, LlamaVocab vocab, MemorySegment sampler) {
        this.description = description;
        this.vocab = vocab;
        this.sampler = sampler;
    }

    /** Divides every logit by {@code t} ({@code t > 0}). */
    public static LlamaSampler temperature(float t) {
        if (!(t > 0f) || !Float.isFinite(t)) {
            throw new IllegalArgumentException("temperature must be positive and finite: " + t);
        }
        NativeLibraries.ensureLoaded();
        return wrap("temp " + t, llama_cpp.llama_sampler_init_temp(t));
    }

    /** Keeps the {@code k} candidates with the highest logits ({@code k > 0}). */
    public static LlamaSampler topK(int k) {
        if (k <= 0) {
            throw new IllegalArgumentException("top-k must be positive: " + k);
        }
        NativeLibraries.ensureLoaded();
        return wrap("top-k " + k, llama_cpp.llama_sampler_init_top_k(k));
    }

    /** Keeps the most likely candidates until their probabilities sum to at least {@code p}. */
    public static LlamaSampler topP(float p) {
        if (!(p > 0f && p <= 1f)) {
            throw new IllegalArgumentException("top-p must be in (0, 1]: " + p);
        }
        NativeLibraries.ensureLoaded();
        return wrap("top-p " + p, llama_cpp.llama_sampler_init_top_p(p, 1));
    }

    /** Keeps the candidates whose probability is at least {@code p} times the highest one. */
    public static LlamaSampler minP(float p) {
        if (!(p >= 0f && p <= 1f)) {
            throw new IllegalArgumentException("min-p must be in [0, 1]: " + p);
        }
        NativeLibraries.ensureLoaded();
        return wrap("min-p " + p, llama_cpp.llama_sampler_init_min_p(p, 1));
    }

    /**
     * Selects a candidate at random from the softmax of the logits, with a Mersenne Twister
     * seeded by {@code seed} read as an unsigned 32-bit value; {@link #RANDOM_SEED} asks for a
     * seed from the system.
     */
    public static LlamaSampler distribution(int seed) {
        NativeLibraries.ensureLoaded();
        return wrap("dist " + Integer.toUnsignedString(seed), llama_cpp.llama_sampler_init_dist(seed));
    }

    /**
     * Sets the logit of every candidate that the GBNF grammar does not allow next to -infinity;
     * {@link #accept} advances the grammar. Accepting a token the grammar does not allow aborts
     * the process inside llama.cpp, so callers must check the token first (apply this sampler to a
     * single candidate). The sampler refuses use once the vocabulary's model is closed.
     *
     * @throws IllegalArgumentException if the grammar does not parse, has left recursion, or has no
     *                                  rule {@code rootRule} (llama.cpp logs which)
     */
    public static LlamaSampler grammar(LlamaVocab vocab, String gbnf, String rootRule) {
        if (gbnf.isBlank()) {
            throw new IllegalArgumentException("grammar is empty");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sampler = llama_cpp.llama_sampler_init_grammar(
                    vocab.pointer(), arena.allocateFrom(gbnf), arena.allocateFrom(rootRule));
            if (sampler.equals(MemorySegment.NULL)) {
                throw new IllegalArgumentException("grammar is not valid GBNF with a rule '" + rootRule
                        + "' (undefined or left-recursive rules, or a syntax error; the llama.cpp log says which)");
            }
            return new LlamaSampler("grammar", vocab, sampler);
        }
    }

    private static LlamaSampler wrap(String description, MemorySegment sampler) {
        if (sampler.equals(MemorySegment.NULL)) {
            throw new NativeException("llama.cpp could not create sampler " + description);
        }
        return new LlamaSampler(description, null, sampler);
    }

    /** Filters, reweights or selects among {@code candidates} in place. */
    public void apply(LlamaTokenDataArray candidates) {
        llama_cpp.llama_sampler_apply(pointer(), candidates.struct());
    }

    /** Tells a stateful sampler (grammar) which token was chosen. */
    public void accept(int token) {
        llama_cpp.llama_sampler_accept(pointer(), token);
    }

    private MemorySegment pointer() {
        if (sampler == null) {
            throw new IllegalStateException("LlamaSampler " + description + " is closed");
        }
        if (vocab != null) {
            vocab.pointer(); // throws once the model that owns the vocabulary is closed
        }
        return sampler;
    }

    @Override
    public void close() {
        if (sampler == null) {
            return;
        }
        llama_cpp.llama_sampler_free(sampler);
        sampler = null;
    }

    @Override
    public String toString() {
        return "LlamaSampler[" + description + (sampler == null ? ", closed]" : "]");
    }
}
