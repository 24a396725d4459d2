package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;

import dev.sluice.bindings.llama.LlamaTokenDataArray;
import dev.sluice.bindings.llama.LlamaVocab;
import dev.sluice.engine.text.TokenTexts;

/**
 * Scratch memory that every {@link Sampler} of one engine thread shares: the off-heap candidate
 * array, one entry per vocabulary token (12 bytes each, about 1.8 MB for a 152k vocabulary), is
 * allocated once here instead of once per sequence, since the engine thread samples one sequence
 * at a time.
 *
 * <p>Used by one thread at a time (the engine thread, or a sampling lane's worker it hands the
 * lane to and joins); close it after the samplers that use it. Closing twice is harmless;
 * samplers used after it closed throw {@link IllegalStateException}.
 */
public final class SamplingWorkspace implements AutoCloseable {

    private final LlamaVocab vocab;
    private final int vocabSize;
    private final LlamaTokenDataArray candidates;
    private final LlamaTokenDataArray single;
    /** Heap rows for the Java sampling path: an adjusted copy of the logits, and softmax numerators. */
    private final MemorySegment scratch;
    private final MemorySegment numerators;
    /** Room to select the k-th largest logit in (top-k on the Java path). */
    private final float[] selection;
    private final TokenTexts texts;    // null: pieces are read from the vocabulary on first use
    private byte[][] pieces;
    private FirstBytes firstBytes;             // built on the first grammar's full check
    private boolean[] unseen;                  // built with firstBytes: see unseenByGrammar
    private LlamaTokenDataArray probe;
    private int[] subsetIds;
    private float[] subsetLogits;
    private int[] subsetIndices;
    private final boolean[] pairRejected = new boolean[65536];
    private LlamaTokenDataArray subset;
    private boolean closed;

    public SamplingWorkspace(LlamaVocab vocab) {
        this(vocab, null);
    }

    /** @param texts the tokenizer's token texts, so grammars need not read every piece from the vocabulary */
    public SamplingWorkspace(LlamaVocab vocab, TokenTexts texts) {
        this.vocab = vocab;
        this.texts = texts;
        this.vocabSize = vocab.size();
        this.candidates = new LlamaTokenDataArray(vocabSize);
        this.single = new LlamaTokenDataArray(1);
        this.scratch = MemorySegment.ofArray(new float[vocabSize]);
        this.numerators = MemorySegment.ofArray(new float[vocabSize]);
        this.selection = new float[vocabSize];
    }

    /** Another workspace over the same vocabulary (for another sampling lane). */
    SamplingWorkspace sibling() {
        checkOpen();
        return new SamplingWorkspace(vocab, texts);
    }

    /** An array of {@link #vocabSize()} floats to reorder freely. */
    float[] selection() {
        checkOpen();
        return selection;
    }

    /** A row of {@link #vocabSize()} floats to adjust logits in (bias, penalties). */
    MemorySegment scratch() {
        checkOpen();
        return scratch;
    }

    /** A row of {@link #vocabSize()} floats for softmax numerators. */
    MemorySegment numerators() {
        checkOpen();
        return numerators;
    }

    /** Tokens in the vocabulary: the length of every logits row a sampler takes. */
    public int vocabSize() {
        return vocabSize;
    }

    LlamaVocab vocab() {
        checkOpen();
        return vocab;
    }

    /** Room for every token of the vocabulary. */
    LlamaTokenDataArray candidates() {
        checkOpen();
        return candidates;
    }

    /** Each token's bytes in generated text (empty for control tokens), for the grammar's UTF-8 check. */
    byte[] piece(int token) {
        checkOpen();
        if (texts != null) {
            return texts.textPiece(token);
        }
        if (pieces == null) {
            pieces = new byte[vocabSize][];
        }
        if (pieces[token] == null) {
            pieces[token] = vocab.piece(token, false);
        }
        return pieces[token];
    }

    /**
     * Whether a grammar would check {@code token} against text the output never shows: a control
     * token other than an end of generation (BOS, say), which llama.cpp's grammar reads as its
     * rendered text ({@code <s>}: three characters a JSON string allows) while the output gets
     * nothing. Such a token must never be chosen under a grammar.
     */
    boolean unseenByGrammar(int token) {
        checkOpen();
        if (unseen == null) {
            unseen = new boolean[vocabSize];
            for (int t = 0; t < vocabSize; t++) {
                byte[] shown = piece(t);
                byte[] checked = texts != null ? texts.specialPiece(t) : vocab.piece(t, true);
                boolean endOfGeneration = texts != null ? texts.isEndOfGeneration(t) : vocab.isEndOfGeneration(t);
                unseen[t] = !endOfGeneration && !java.util.Arrays.equals(shown, checked);
            }
        }
        return unseen[token];
    }

    /** The vocabulary by first byte (built once, on first use: a pass over every token's text). */
    FirstBytes firstBytes() {
        checkOpen();
        if (firstBytes == null) {
            firstBytes = new FirstBytes(vocabSize, this::piece);
            probe = new LlamaTokenDataArray(Math.max(1, firstBytes.probeTokens.length));
            subsetIds = new int[vocabSize];
            subsetLogits = new float[vocabSize];
            subsetIndices = new int[vocabSize];
            subset = new LlamaTokenDataArray(vocabSize);
        }
        return firstBytes;
    }

    /** Room for the one-byte probe tokens; valid after {@link #firstBytes()}. */
    LlamaTokenDataArray probe() {
        return probe;
    }

    /** Per two-byte prefix: whether the grammar refused it at the last pair probe. */
    boolean[] pairRejected() {
        return pairRejected;
    }

    int[] subsetIndices() {
        return subsetIndices;
    }

    /** Room for the candidates a grammar is asked about after the first-byte filter. */
    LlamaTokenDataArray subset() {
        return subset;
    }

    int[] subsetIds() {
        return subsetIds;
    }

    float[] subsetLogits() {
        return subsetLogits;
    }

    /** Room for one token: asking the grammar about a single candidate. */
    LlamaTokenDataArray single() {
        checkOpen();
        return single;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("SamplingWorkspace is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        candidates.close();
        single.close();
        if (probe != null) {
            probe.close();
            subset.close();
        }
    }
}
