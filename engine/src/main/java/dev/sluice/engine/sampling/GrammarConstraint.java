package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaSampler;
import dev.sluice.bindings.llama.LlamaTokenDataArray;

/**
 * One sequence's grammar: llama.cpp's grammar sampler for the checks (the one native part of
 * constrained decoding), with a first-byte prefilter so a full check asks llama.cpp only about
 * tokens whose first bytes the grammar allows ({@link FirstBytes}), and the output's UTF-8 state,
 * kept valid (llama.cpp's grammar lets overlong forms and surrogates through). Owns its
 * {@link LlamaSampler}; {@link #close()} frees it. Engine-thread only.
 */
final class GrammarConstraint {

    /** The two-byte filter runs only when at most this many first bytes pass (structural positions). */
    private static final int PAIR_FILTER_MAX_BYTES = 16;

    private final LlamaSampler grammar;
    private final SamplingWorkspace workspace;
    private int utf8 = Utf8State.START;
    /** Reused by every full check (one per rejected draw): the probe's logits and the first bytes allowed. */
    private float[] zeros = new float[0];
    private final boolean[] allowed = new boolean[256];

    GrammarConstraint(LlamaSampler grammar, SamplingWorkspace workspace) {
        this.grammar = grammar;
        this.workspace = workspace;
    }

    /**
     * Advances the grammar past {@code token}.
     *
     * @throws IllegalArgumentException if the grammar does not allow it here
     */
    void accept(int token) {
        // llama.cpp aborts the process on a token its grammar rejects: ask first.
        if (!allows(token)) {
            throw new IllegalArgumentException("token " + token + " is not allowed by the grammar here");
        }
        grammar.accept(token);
        utf8 = Utf8State.after(utf8, workspace.piece(token));
    }

    /**
     * Sets every candidate the grammar does not allow next (or that would make the output invalid
     * UTF-8) to -infinity.
     *
     * @throws IllegalStateException if no candidate is left
     */
    void constrain(LlamaTokenDataArray candidates) {
        applyGrammar(candidates);
        boolean any = false;
        for (int i = 0, n = candidates.size(); i < n; i++) {
            if (candidates.logit(i) != Float.NEGATIVE_INFINITY) {
                int id = candidates.id(i);
                if (Utf8State.after(utf8, workspace.piece(id)) == Utf8State.INVALID || workspace.unseenByGrammar(id)) {
                    candidates.setLogit(i, Float.NEGATIVE_INFINITY);
                } else {
                    any = true;
                }
            }
        }
        if (any) {
            return;
        }
        throw new IllegalStateException("the grammar allows no token at this point of the output"
                + " (no vocabulary token can continue it)");
    }

    /**
     * The grammar over every candidate, asking llama.cpp only about tokens whose first byte the
     * grammar allows ({@link FirstBytes}); the others are set to -infinity here.
     */
    private void applyGrammar(LlamaTokenDataArray candidates) {
        FirstBytes bytes = workspace.firstBytes();
        LlamaTokenDataArray probe = workspace.probe();
        int[] probeTokens = bytes.probeTokens;
        if (zeros.length < probeTokens.length) {
            zeros = new float[probeTokens.length];
        }
        probe.fillSubset(probeTokens, zeros, probeTokens.length);
        grammar.apply(probe);
        java.util.Arrays.fill(allowed, true);
        for (int i = 0; i < probeTokens.length; i++) {
            allowed[bytes.probeBytes[i]] = probe.logit(i) != Float.NEGATIVE_INFINITY;
        }
        int[] ids = workspace.subsetIds();
        float[] logits = workspace.subsetLogits();
        int[] where = workspace.subsetIndices();
        boolean[] pairRejected = pairFilter(bytes, allowed, ids, logits);
        int kept = 0;
        for (int i = 0, n = candidates.size(); i < n; i++) {
            int id = candidates.id(i);
            int first = bytes.firstByte[id];
            int pair = bytes.firstPair[id];
            if (first >= 0 && !allowed[first] || pairRejected != null && pair >= 0 && pairRejected[pair]) {
                candidates.setLogit(i, Float.NEGATIVE_INFINITY);
            } else if (candidates.logit(i) != Float.NEGATIVE_INFINITY) {
                ids[kept] = id;
                logits[kept] = candidates.logit(i);
                where[kept++] = i;
            }
        }
        if (kept == candidates.size()) {
            grammar.apply(candidates);
            return;
        }
        LlamaTokenDataArray subset = workspace.subset();
        subset.fillSubset(ids, logits, kept);
        grammar.apply(subset);
        for (int k = 0; k < kept; k++) {
            candidates.setLogit(where[k], subset.logit(k));
        }
    }

    /** Few first bytes pass: asks about their two-byte tokens too; null when it would not pay. */
    private boolean[] pairFilter(FirstBytes bytes, boolean[] allowed, int[] ids, float[] logits) {
        int count = 0;
        int passing = 0;
        for (int b = 0; b < 256; b++) {
            if (allowed[b] && bytes.representative[b] >= 0) {
                passing++;
                count += bytes.pairTokens[b].length;
            }
        }
        if (passing > PAIR_FILTER_MAX_BYTES || count == 0) {
            return null;
        }
        int k = 0;
        for (int b = 0; b < 256; b++) {
            if (allowed[b] && bytes.representative[b] >= 0) {
                for (int token : bytes.pairTokens[b]) {
                    ids[k] = token;
                    logits[k++] = 0f;
                }
            }
        }
        LlamaTokenDataArray probe = workspace.subset();
        probe.fillSubset(ids, logits, k);
        grammar.apply(probe);
        boolean[] rejected = workspace.pairRejected();
        java.util.Arrays.fill(rejected, false);
        k = 0;
        for (int b = 0; b < 256; b++) {
            if (allowed[b] && bytes.representative[b] >= 0) {
                for (int code : bytes.pairCodes[b]) {
                    rejected[code] = probe.logit(k++) == Float.NEGATIVE_INFINITY;
                }
            }
        }
        return rejected;
    }

    /**
     * Whether the grammar allows {@code token} next (and it keeps the output valid UTF-8, and is
     * not a control token the grammar would read as text the output does not show).
     */
    boolean allows(int token) {
        if (workspace.unseenByGrammar(token)) {
            return false;
        }
        LlamaTokenDataArray single = workspace.single();
        single.fillSingle(token);
        grammar.apply(single);
        return single.logit(0) != Float.NEGATIVE_INFINITY
                && Utf8State.after(utf8, workspace.piece(token)) != Utf8State.INVALID;
    }

    /** Frees the native grammar. */
    void close() {
        grammar.close();
    }
}
