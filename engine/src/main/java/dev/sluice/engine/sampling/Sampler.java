package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaSampler;
import dev.sluice.bindings.llama.LlamaTokenDataArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Picks the tokens of one sequence from the model's logits, one step at a time, with vLLM's
 * semantics. One per generated sequence; used only by the engine thread, the one that created
 * its {@link SamplingWorkspace}.
 *
 * <p>Each step, in this order (vLLM v1's):
 * <ol>
 *   <li><b>logit bias</b> is added to the raw logits;</li>
 *   <li><b>repetition penalty</b> (HF style: positive logits divided by it, negative ones
 *       multiplied) applies to every token in the prompt ({@link #acceptPrompt}) or the output so
 *       far; then <b>frequency</b> ({@code count × penalty}) and <b>presence</b> penalties are
 *       subtracted for tokens of the output only (OpenAI's definition). The windows are the whole
 *       prompt and output, not llama.cpp's last-n ring, which is why penalties are applied here in
 *       Java: llama.cpp's penalties sampler keeps one window for all three, allocates it up front,
 *       and looks up every vocabulary entry in a hash map per step, where this walks only the
 *       distinct tokens seen;</li>
 *   <li>if greedy (temperature below 1e-5, or top-k 1): the highest logit, the lowest id on ties;
 *       otherwise <b>temperature</b>, then <b>min-p</b>, <b>top-k</b> and <b>top-p</b> (each on the
 *       distribution the previous one left), then a random draw (in Java, see <b>Fast paths</b>;
 *       with a grammar and truncation, by llama.cpp's native samplers). The draw uses a Mersenne
 *       Twister seeded with the request's seed folded to 32 bits (the identity for seeds 0 to 2^32 - 2, so such seeds draw as llama-server does), or a
 *       random seed when absent: the same seed, parameters and logits give the same tokens;</li>
 *   <li>a <b>grammar</b> sets the logits of tokens it does not allow next to -infinity. Where that
 *       yields the same distribution, the cheaper order of llama.cpp's common/sampling.cpp is used:
 *       pick first, ask the grammar about that one token, and only if it is rejected constrain the
 *       whole vocabulary and pick again. That is exact for greedy picks and for untruncated draws
 *       (a rejected draw redrawn from the renormalized rest), but not when top-k/top-p/min-p
 *       truncate, whose kept sets depend on what the grammar removed; then the grammar constrains
 *       first, as vLLM's structured output does. A lazy grammar ({@link LazyGrammar}) applies
 *       only from a trigger in the output on; until then the output is free, except that a token
 *       completing the trigger with text the grammar refuses is drawn again. Under a grammar a
 *       token is also refused when it would make the output invalid UTF-8 ({@link Utf8State}):
 *       llama.cpp's grammar lets overlong forms and surrogates through; and a control token
 *       other than an end of generation, which the grammar reads as text the output lacks.</li>
 * </ol>
 *
 * <p><b>Logprobs</b> are OpenAI's and vLLM's default ({@code raw_logprobs}): the log-softmax of the
 * raw logits row, before bias, penalties, temperature, truncation and grammar. The chosen token's
 * logprob comes from that distribution even when the processing chose a token it ranks low.
 *
 * <p><b>Fast paths.</b> Every request without a grammar is sampled in Java with whole-row kernels
 * ({@link RowOps}, vectorized), never sorting the vocabulary (llama.cpp's top-p sorts all of it:
 * tens of ms per row on a 152k vocabulary): greedy parameters without bias or penalties take the
 * row's maximum; otherwise bias and penalties are applied to a copy of the row, min-p and top-k
 * become one threshold on the scaled logits (top-k's the k-th largest logit, found by selection),
 * and the draw uses the same Mersenne Twister stream and the same running-sum rule as llama.cpp's
 * {@code dist} sampler, so without top-p a seed draws what llama-server draws from the same
 * probabilities. <b>Top-p</b> draws from the whole (truncated) distribution and keeps the token if
 * the probability mass of the tokens likelier than it is below {@code top_p}, else draws again:
 * exactly a draw from the renormalized nucleus, in about {@code 1 / top_p} passes over the row
 * (after 64 misses, a small top-p over a flat distribution, the nucleus is found by bisection).
 * Under a grammar without truncation the draw is in Java too; only the grammar's checks are
 * native, and a full check asks llama.cpp only about tokens whose first bytes the grammar allows
 * ({@link FirstBytes}); with top-k, top-p or min-p the grammar constrains first, through
 * llama.cpp's samplers.
 *
 * <p>{@link #close()} frees the native samplers and may be called more than once; any other call
 * after it throws {@link IllegalStateException}.
 */
public final class Sampler implements AutoCloseable {

    private static final String GRAMMAR_ROOT = "root";

    private final SamplingParams params;
    private final SamplingWorkspace workspace;
    private final int vocabSize;
    private final boolean greedy;
    private final boolean plainGreedy;
    private final LogitAdjustments adjustments; // bias and penalties
    private GrammarConstraint grammar;         // null without a grammar, or while a lazy one waits for its trigger
    private final LazyGrammar lazy;            // null unless the grammar is lazy (SamplingParams#grammarTriggers)
    private final boolean grammarFirst;
    private final List<LlamaSampler> stages;   // temperature, truncation, dist; empty when greedy or drawn in Java
    private final boolean javaDraw;            // no grammar: sampled with RowOps
    private final boolean grammarJava;         // a grammar checked after an untruncated draw: draws in Java too
    private final Mt19937 rng;                 // the Java path's generator; null otherwise
    private final JavaDraw draw;               // the draw on the Java path; null when greedy or native
    private final RowOps ops = RowOps.get();
    /** Draws refused by a grammar before it checks the whole vocabulary instead. */
    private static final int GRAMMAR_REDRAWS = 8;
    /** Draws refused in a row at a lazy grammar's trigger before sampling gives up (each is a near-impossible event). */
    private static final int MAX_LAZY_REDRAWS = 64;
    private boolean closed;

    /**
     * @throws IllegalArgumentException if a logit bias names a token outside the vocabulary, or the
     *                                  grammar is not valid GBNF with a rule {@code root}
     */
    public Sampler(SamplingParams params, SamplingWorkspace workspace) {
        this.params = params;
        this.workspace = workspace;
        this.vocabSize = workspace.vocabSize();
        this.greedy = params.isGreedy();

        Map<Integer, Float> bias = params.logitBias();
        for (int token : bias.keySet()) {
            checkToken(token, "logit_bias");
        }
        this.adjustments = new LogitAdjustments(params, bias);
        this.plainGreedy = greedy && adjustments.isEmpty() && params.grammar().isEmpty();
        this.grammarFirst = params.grammar().isPresent() && !greedy && params.truncates();
        boolean nativeTruncation = (params.topK() > 1 && params.topK() < vocabSize) || params.topP() < 1f;
        this.javaDraw = params.grammar().isEmpty();
        this.grammarJava = params.grammar().isPresent() && !nativeTruncation && !grammarFirst;
        this.rng = (javaDraw || grammarJava) && !greedy ? new Mt19937(javaSeed(params.seed())) : null;
        this.draw = rng != null ? new JavaDraw(params, workspace, rng) : null;

        List<LlamaSampler> created = new ArrayList<>();
        try {
            boolean lazyGrammar = !params.grammarTriggers().isEmpty();
            this.grammar = params.grammar().isPresent()
                    ? new GrammarConstraint(track(created, LlamaSampler.grammar(workspace.vocab(), params.grammar().get(),
                            GRAMMAR_ROOT)), workspace)
                    : null;
            if (lazyGrammar) {
                grammar.close(); // parsed once to refuse a bad grammar now; it starts at the trigger
                created.clear();
                grammar = null;
            }
            this.lazy = lazyGrammar ? new LazyGrammar(params.grammarTriggers(), params.grammar().get(), GRAMMAR_ROOT,
                    workspace) : null;
            this.stages = greedy || javaDraw || grammarJava ? List.of() : drawStages(params, vocabSize, created);
        } catch (RuntimeException e) {
            created.forEach(LlamaSampler::close);
            throw e;
        }
    }

    private static List<LlamaSampler> drawStages(SamplingParams params, int vocabSize, List<LlamaSampler> created) {
        int first = created.size();
        if (params.temperature() != 1f) {
            track(created, LlamaSampler.temperature(params.temperature()));
        }
        if (params.minP() > 0f) {
            track(created, LlamaSampler.minP(params.minP()));
        }
        if (params.topK() > 1 && params.topK() < vocabSize) {
            track(created, LlamaSampler.topK(params.topK()));
        }
        if (params.topP() < 1f) {
            track(created, LlamaSampler.topP(params.topP()));
        }
        track(created, LlamaSampler.distribution(nativeSeed(params.seed())));
        return List.copyOf(created.subList(first, created.size()));
    }

    private static LlamaSampler track(List<LlamaSampler> created, LlamaSampler sampler) {
        created.add(sampler);
        return sampler;
    }

    /**
     * The seed folded to the 32 bits llama.cpp's generator takes. Seeds 0 to 2^32 - 2 stay as they
     * are; 2^32 - 1, llama.cpp's "seed from the system" marker, and larger seeds fold like collisions.
     */
    static int nativeSeed(OptionalLong seed) {
        if (seed.isEmpty()) {
            return LlamaSampler.RANDOM_SEED;
        }
        long value = seed.getAsLong();
        int folded = (int) (value ^ (value >>> 32));
        return folded == LlamaSampler.RANDOM_SEED ? folded - 1 : folded;
    }

    /** The seed of a Java draw: as {@link #nativeSeed}, and a random one where the request gave none. */
    private static int javaSeed(OptionalLong seed) {
        return seed.isPresent() ? nativeSeed(seed) : java.util.concurrent.ThreadLocalRandom.current().nextInt();
    }

    /**
     * A sampler for another choice of the same request, as it stands now (after the prompt): the
     * same parameters but the seed plus {@code index}, so each choice draws its own stream, and a
     * copy of the tokens seen so far.
     */
    public Sampler fork(int index) {
        checkOpen();
        SamplingParams forked = params.seed().isPresent()
                ? params.toBuilder().seed(params.seed().getAsLong() + index).build() : params;
        Sampler sibling = new Sampler(forked, workspace);
        sibling.adjustments.copyCounts(adjustments);
        return sibling;
    }

    /** Whether {@link #sample} reports log-probabilities. */
    public boolean logprobs() {
        return params.logprobs();
    }

    /** Records the prompt, whose tokens the repetition penalty also covers. */
    public void acceptPrompt(int[] tokens) {
        checkOpen();
        for (int token : tokens) {
            checkToken(token, "prompt");
            adjustments.countPrompt(token);
        }
    }

    /**
     * Picks the next token.
     *
     * @param logits the model's raw F32 logits row for this sequence, one float per vocabulary token
     * @throws IllegalStateException if the grammar allows no token at this point
     */
    public SampledToken sample(MemorySegment logits) {
        checkOpen();
        if (logits.byteSize() != (long) vocabSize * Float.BYTES) {
            throw new IllegalArgumentException("logits row has " + logits.byteSize() + " bytes; expected "
                    + vocabSize + " F32 values");
        }
        int token = plainGreedy ? ops.argmax(logits, vocabSize) : javaDraw ? drawInJava(logits) : choose(logits);
        return params.logprobs()
                ? Logprobs.score(logits, vocabSize, token, params.topLogprobs(), workspace)
                : SampledToken.withoutLogprobs(token);
    }

    /**
     * Records the token the sequence continues with (normally the one {@link #sample} returned):
     * advances the grammar and counts it for the penalties.
     *
     * @throws IllegalArgumentException if the grammar does not allow the token here
     */
    public void accept(int token) {
        checkOpen();
        checkToken(token, "accepted");
        if (grammar != null) {
            grammar.accept(token);
        } else if (lazy != null) {
            grammar = lazy.accept(token); // the grammar, past this token, once it completes a trigger
        }
        adjustments.countOutput(token);
    }

    /** Bias and penalties on a copy of the row, then the maximum or a softmax draw (see the class comment). */
    private int drawInJava(MemorySegment logits) {
        MemorySegment row = logits;
        if (!adjustments.isEmpty()) {
            row = adjustedCopy(logits);
        }
        if (greedy) {
            return ops.argmax(row, vocabSize);
        }
        return draw.draw(row);
    }

    /** The row with bias and penalties applied, in the workspace's scratch row. */
    private MemorySegment adjustedCopy(MemorySegment logits) {
        MemorySegment row = workspace.scratch();
        MemorySegment.copy(logits, 0, row, 0, (long) vocabSize * Float.BYTES);
        adjustments.apply(row);
        return row;
    }

    private int choose(MemorySegment logits) {
        if (grammarJava) {
            // Draw in Java as without a grammar (llama.cpp's dist sorts the whole vocabulary, twice
            // here), check that one token, and only if it is rejected mask and redraw.
            int token = drawInJava(logits);
            if (grammar == null ? lazy.admits(token) : grammar.allows(token)) {
                return token;
            }
            LlamaTokenDataArray candidates = workspace.candidates();
            if (grammar == null) {
                prepare(candidates, logits);
                return redrawAdmitted(candidates, logits, token);
            }
            int redrawn = redrawWithout(logits, token);
            if (redrawn >= 0) {
                return redrawn;
            }
            prepare(candidates, logits);
            grammar.constrain(candidates);
            return drawMasked(candidates);
        }
        LlamaTokenDataArray candidates = workspace.candidates();
        prepare(candidates, logits);
        if (grammarFirst && grammar != null) {
            grammar.constrain(candidates);
        }
        int token = pick(candidates);
        if (grammar == null && lazy != null && !lazy.admits(token)) {
            prepare(candidates, logits);
            return redrawAdmitted(candidates, logits, token);
        }
        if (grammar == null || grammarFirst || grammar.allows(token)) {
            return token;
        }
        if (!greedy) {
            prepare(candidates, logits); // the draw reordered and truncated the candidates
        }
        grammar.constrain(candidates);
        return pick(candidates);
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
        MemorySegment row = adjustedCopy(logits);
        for (int attempt = 0; attempt < GRAMMAR_REDRAWS; attempt++) {
            row.setAtIndex(ValueLayout.JAVA_FLOAT, refused, Float.NEGATIVE_INFINITY);
            int token = greedy ? ops.argmax(row, vocabSize) : draw.draw(row);
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
            int token = grammarJava ? drawMasked(candidates) : pick(candidates);
            if (lazy.admits(token)) {
                return token;
            }
            excluded.add(token);
            if (!grammarJava) {
                prepare(candidates, logits); // the draw reordered and truncated the candidates
            }
        }
        throw new IllegalStateException("no token the grammar's trigger admits among the " + MAX_LAZY_REDRAWS
                + " most likely draws");
    }

    /** The greedy pick or a Java draw from candidates a grammar masked (bias and penalties already applied). */
    private int drawMasked(LlamaTokenDataArray candidates) {
        MemorySegment row = workspace.scratch();
        for (int i = 0, n = candidates.size(); i < n; i++) {
            row.setAtIndex(ValueLayout.JAVA_FLOAT, candidates.id(i), candidates.logit(i));
        }
        if (greedy) {
            return ops.argmax(row, vocabSize);
        }
        float max = ops.max(row, vocabSize);
        MemorySegment numerators = workspace.numerators();
        double sum = ops.softmaxNumerators(row, numerators, vocabSize, max, 1f / params.temperature(), Float.NEGATIVE_INFINITY);
        return ops.firstReaching(numerators, vocabSize, sum * rng.nextDouble());
    }

    /** Every token as a candidate, in id order, with bias and penalties applied. */
    private void prepare(LlamaTokenDataArray candidates, MemorySegment logits) {
        candidates.fill(adjustments.isEmpty() ? logits : adjustedCopy(logits));
    }

    private int pick(LlamaTokenDataArray candidates) {
        if (greedy) {
            return candidates.id(argmax(candidates));
        }
        for (LlamaSampler stage : stages) {
            stage.apply(candidates);
        }
        int selected = candidates.selectedIndex();
        if (selected < 0) {
            throw new IllegalStateException("llama.cpp's dist sampler selected no token from "
                    + candidates.size() + " candidates");
        }
        return candidates.id(selected);
    }

    private static int argmax(LlamaTokenDataArray candidates) {
        int best = 0;
        float bestLogit = candidates.logit(0);
        for (int i = 1, n = candidates.size(); i < n; i++) {
            float logit = candidates.logit(i);
            if (logit > bestLogit) {
                best = i;
                bestLogit = logit;
            }
        }
        return best;
    }

    private void checkToken(int token, String what) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException(what + " token id " + token + " is outside the vocabulary [0, "
                    + vocabSize + ")");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("Sampler is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (grammar != null) {
            grammar.close();
        }
        stages.forEach(LlamaSampler::close);
    }
}
