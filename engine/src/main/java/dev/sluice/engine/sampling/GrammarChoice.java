package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaSampler;
import dev.sluice.bindings.llama.LlamaTokenDataArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The pick of a sequence under a grammar, in the order {@link Sampler}'s class comment gives:
 * where the grammar can be asked after the pick (greedy, or a draw no truncation depends on), pick
 * first, ask about that one token, and only if it is refused draw again without it or constrain the
 * whole vocabulary; with top-k, top-p or min-p the grammar constrains first, and llama.cpp's
 * samplers ({@link NativeDraw}) draw. A lazy grammar ({@link LazyGrammar}) waits for its trigger;
 * until then a token that would complete the trigger with text the grammar refuses is drawn again.
 * Owns the grammar and the native samplers; {@link #close()} frees them. Engine-thread only.
 */
final class GrammarChoice {

    private static final String GRAMMAR_ROOT = "root";
    /** Draws refused by a grammar before it checks the whole vocabulary instead. */
    private static final int GRAMMAR_REDRAWS = 8;
    /** Draws refused in a row at a lazy grammar's trigger before sampling gives up (each is a near-impossible event). */
    private static final int MAX_LAZY_REDRAWS = 64;

    private GrammarConstraint grammar;         // null while a lazy one waits for its trigger
    private final LazyGrammar lazy;            // null unless the grammar is lazy (SamplingParams#grammarTriggers)
    private final SamplingWorkspace workspace;
    private final boolean greedy;
    private final boolean grammarFirst;        // constrain, then draw natively (the draw truncates)
    private final boolean grammarJava;         // checked after an untruncated Java draw
    private final JavaPick java;
    private final NativeDraw nativeDraw;

    private GrammarChoice(GrammarConstraint grammar, LazyGrammar lazy, SamplingWorkspace workspace, boolean greedy,
                          boolean grammarFirst, boolean grammarJava, JavaPick java, NativeDraw nativeDraw) {
        this.grammar = grammar;
        this.lazy = lazy;
        this.workspace = workspace;
        this.greedy = greedy;
        this.grammarFirst = grammarFirst;
        this.grammarJava = grammarJava;
        this.java = java;
        this.nativeDraw = nativeDraw;
    }

    /**
     * The grammar of {@code params} (which has one) and the native samplers its draws need.
     *
     * @throws IllegalArgumentException if the grammar is not valid GBNF with a rule {@code root}
     */
    static GrammarChoice create(SamplingParams params, SamplingWorkspace workspace, JavaPick java,
                                boolean grammarFirst, boolean grammarJava) {
        boolean greedy = params.isGreedy();
        String gbnf = params.grammar().orElseThrow();
        List<LlamaSampler> created = new ArrayList<>();
        try {
            boolean lazyGrammar = !params.grammarTriggers().isEmpty();
            LlamaSampler parsed = LlamaSampler.grammar(workspace.vocab(), gbnf, GRAMMAR_ROOT);
            created.add(parsed);
            GrammarConstraint grammar = new GrammarConstraint(parsed, workspace);
            if (lazyGrammar) {
                grammar.close(); // parsed once to refuse a bad grammar now; it starts at the trigger
                created.clear();
                grammar = null;
            }
            LazyGrammar lazy = lazyGrammar ? new LazyGrammar(params.grammarTriggers(), gbnf, GRAMMAR_ROOT, workspace) : null;
            NativeDraw nativeDraw = greedy || grammarJava
                    ? NativeDraw.none(greedy) : NativeDraw.of(params, workspace.vocabSize(), created);
            return new GrammarChoice(grammar, lazy, workspace, greedy, grammarFirst, grammarJava, java, nativeDraw);
        } catch (RuntimeException e) {
            created.forEach(LlamaSampler::close);
            throw e;
        }
    }

    /**
     * Advances the grammar past {@code token}, or a lazy one's trigger search.
     *
     * @throws IllegalArgumentException if the grammar does not allow the token here
     */
    void accept(int token) {
        if (grammar != null) {
            grammar.accept(token);
        } else if (lazy != null) {
            grammar = lazy.accept(token); // the grammar, past this token, once it completes a trigger
        }
    }

    /** The next token from the model's raw logits row. */
    int choose(MemorySegment logits) {
        if (grammarJava) {
            // Draw in Java as without a grammar (llama.cpp's dist sorts the whole vocabulary, twice
            // here), check that one token, and only if it is rejected mask and redraw.
            int token = java.pick(logits);
            if (grammar == null ? lazy.admits(token) : grammar.allows(token)) {
                return token;
            }
            LlamaTokenDataArray candidates = workspace.candidates();
            if (grammar == null) {
                java.fill(candidates, logits);
                return redrawAdmitted(candidates, logits, token);
            }
            int redrawn = redrawWithout(logits, token);
            if (redrawn >= 0) {
                return redrawn;
            }
            java.fill(candidates, logits);
            grammar.constrain(candidates);
            return java.pickMasked(candidates);
        }
        LlamaTokenDataArray candidates = workspace.candidates();
        java.fill(candidates, logits);
        if (grammarFirst && grammar != null) {
            grammar.constrain(candidates);
        }
        int token = nativeDraw.pick(candidates);
        if (grammar == null && lazy != null && !lazy.admits(token)) {
            java.fill(candidates, logits);
            return redrawAdmitted(candidates, logits, token);
        }
        if (grammar == null || grammarFirst || grammar.allows(token)) {
            return token;
        }
        if (!greedy) {
            java.fill(candidates, logits); // the draw reordered and truncated the candidates
        }
        grammar.constrain(candidates);
        return nativeDraw.pick(candidates);
    }

    /**
     * After the grammar refused {@code refused}: draws again from the row without the tokens it
     * refused, up to {@link #GRAMMAR_REDRAWS} times, asking the grammar about each draw alone.
     * Exact: a draw from the distribution without tokens the grammar refuses is a draw from it
     * restricted to the tokens it allows. Where the grammar allows most tokens (inside a string)
     * this finds one at the cost of a few softmaxes, not a check of the whole vocabulary; where it
     * allows few (structure) the full check is cheap anyway (the first-byte prefilter). Returns -1
     * when every draw was refused.
     */
    private int redrawWithout(MemorySegment logits, int refused) {
        MemorySegment row = java.adjustedCopy(logits);
        for (int attempt = 0; attempt < GRAMMAR_REDRAWS; attempt++) {
            row.setAtIndex(ValueLayout.JAVA_FLOAT, refused, Float.NEGATIVE_INFINITY);
            int token = java.pickFromRow(row);
            if (row.getAtIndex(ValueLayout.JAVA_FLOAT, token) == Float.NEGATIVE_INFINITY) {
                return -1; // nothing left to draw from
            }
            if (grammar.allows(token)) {
                return token;
            }
            refused = token;
        }
        return -1;
    }

    /**
     * While a lazy grammar waits: draws again without {@code refused}, a token that would complete
     * a trigger with text the grammar does not allow, until a token is admitted.
     */
    private int redrawAdmitted(LlamaTokenDataArray candidates, MemorySegment logits, int refused) {
        List<Integer> excluded = new ArrayList<>();
        excluded.add(refused);
        for (int attempt = 0; attempt < MAX_LAZY_REDRAWS; attempt++) {
            for (int t : excluded) {
                candidates.setLogit(t, Float.NEGATIVE_INFINITY);
            }
            int token = grammarJava ? java.pickMasked(candidates) : nativeDraw.pick(candidates);
            if (lazy.admits(token)) {
                return token;
            }
            excluded.add(token);
            if (!grammarJava) {
                java.fill(candidates, logits); // the draw reordered and truncated the candidates
            }
        }
        throw new IllegalStateException("no token the grammar's trigger admits among the " + MAX_LAZY_REDRAWS
                + " most likely draws");
    }

    /** Frees the grammar and the native samplers. */
    void close() {
        if (grammar != null) {
            grammar.close();
        }
        nativeDraw.close();
    }
}
