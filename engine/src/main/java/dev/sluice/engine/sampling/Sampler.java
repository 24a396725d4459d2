package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.util.Map;

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
 * <p><b>Parts.</b> {@link LogitAdjustments} holds the bias and penalties, {@link JavaPick} the
 * pick in Java (with {@link JavaDraw}'s truncation and draw), {@link GrammarChoice} the order of
 * pick and grammar check and the redraws (with {@link NativeDraw}, llama.cpp's samplers),
 * {@link Logprobs} the log-probabilities and {@link Seeds} the seed folding; this class chooses the
 * path once per sequence and checks its input.
 *
 * <p>{@link #close()} frees the native samplers and may be called more than once; any other call
 * after it throws {@link IllegalStateException}.
 */
public final class Sampler implements AutoCloseable {

    private final SamplingParams params;
    private final SamplingWorkspace workspace;
    private final int vocabSize;
    private final boolean plainGreedy;
    private final LogitAdjustments adjustments; // bias and penalties
    private final boolean javaDraw;            // no grammar: sampled with RowOps
    private final JavaPick java;               // bias, penalties and the pick on the Java path
    private final GrammarChoice grammar;       // null without a grammar
    private final RowOps ops = RowOps.get();
    private boolean closed;

    /**
     * @throws IllegalArgumentException if a logit bias names a token outside the vocabulary, or the
     *                                  grammar is not valid GBNF with a rule {@code root}
     */
    public Sampler(SamplingParams params, SamplingWorkspace workspace) {
        this.params = params;
        this.workspace = workspace;
        this.vocabSize = workspace.vocabSize();
        boolean greedy = params.isGreedy();

        Map<Integer, Float> bias = params.logitBias();
        for (int token : bias.keySet()) {
            checkToken(token, "logit_bias");
        }
        this.adjustments = new LogitAdjustments(params, bias);
        this.plainGreedy = greedy && adjustments.isEmpty() && params.grammar().isEmpty();
        boolean grammarFirst = params.grammar().isPresent() && !greedy && params.truncates();
        boolean nativeTruncation = (params.topK() > 1 && params.topK() < vocabSize) || params.topP() < 1f;
        this.javaDraw = params.grammar().isEmpty();
        // A grammar checked after an untruncated draw: draws in Java too.
        boolean grammarJava = params.grammar().isPresent() && !nativeTruncation && !grammarFirst;
        this.java = new JavaPick(params, workspace, adjustments, (javaDraw || grammarJava) && !greedy);
        this.grammar = javaDraw ? null : GrammarChoice.create(params, workspace, java, grammarFirst, grammarJava);
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
        int token = plainGreedy ? ops.argmax(logits, vocabSize) : javaDraw ? java.pick(logits) : grammar.choose(logits);
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
        }
        adjustments.countOutput(token);
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
    }
}
