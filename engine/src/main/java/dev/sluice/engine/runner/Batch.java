package dev.sluice.engine.runner;

import java.util.Arrays;

/**
 * One engine step's input: sequences, each contributing a run of new tokens (a prefill chunk or
 * a single decode token), with the block table that says where its KV lives. Positions are
 * logical token indices within the sequence, so token {@code i} of a sequence whose first new
 * token is at position {@code p} goes to slot
 * {@code blockTable[(p + i) / blockSize] * blockSize + (p + i) % blockSize}.
 *
 * <p>Reused step after step by its owner (the engine loop): {@link #clear()} then
 * {@link #add}. The arrays passed in are read during {@link ModelRunner#forward} and must not
 * change until it returns.
 */
public final class Batch {

    /** Which of a sequence's new tokens need logits. */
    public enum Logits {
        /** None (an intermediate prefill chunk). */
        NONE,
        /** The last one (to sample the next token). */
        LAST,
        /** Every one (a prompt's log-probabilities; the last row also samples). */
        ALL
    }

    /**
     * Which of a sequence's new tokens return their final hidden state (after the output norm,
     * before the output head), for pooled embeddings. Independent of {@link Logits}; a sequence
     * asks for one or the other.
     */
    public enum Hidden {
        NONE,
        /** The first new token (CLS pooling, in the chunk at position 0). */
        FIRST,
        /** The last new token (last-token pooling, in the prompt's final chunk). */
        LAST,
        /** Every new token (mean pooling). */
        ALL
    }

    private int sequences;
    private int tokenCount;
    private int[] tokens = new int[256];
    private int[] seqTokenStart = new int[16];
    private int[] seqTokenCount = new int[16];
    private int[] seqStartPosition = new int[16];
    private int[][] seqBlockTable = new int[16][];
    private int[] seqBlockCount = new int[16];
    private Logits[] seqLogits = new Logits[16];
    private Hidden[] seqHidden = new Hidden[16];

    public void clear() {
        sequences = 0;
        tokenCount = 0;
    }

    /**
     * Adds a sequence's new tokens {@code tokens[from, from + count)} at positions
     * {@code startPosition, …}, with the first {@code blockCount} entries of {@code blockTable}
     * covering every position up to {@code startPosition + count - 1}. Returns its index in the batch.
     */
    public int add(int[] source, int from, int count, int startPosition, int[] blockTable, int blockCount, Logits logits) {
        if (count <= 0) {
            throw new IllegalArgumentException("a sequence needs at least one new token");
        }
        if (startPosition < 0 || from < 0 || from + count > source.length) {
            throw new IllegalArgumentException("bad token range or position");
        }
        if (sequences == seqTokenStart.length) {
            int n = sequences * 2;
            seqTokenStart = Arrays.copyOf(seqTokenStart, n);
            seqTokenCount = Arrays.copyOf(seqTokenCount, n);
            seqStartPosition = Arrays.copyOf(seqStartPosition, n);
            seqBlockTable = Arrays.copyOf(seqBlockTable, n);
            seqBlockCount = Arrays.copyOf(seqBlockCount, n);
            seqLogits = Arrays.copyOf(seqLogits, n);
            seqHidden = Arrays.copyOf(seqHidden, n);
        }
        if (tokenCount + count > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, tokenCount + count));
        }
        System.arraycopy(source, from, tokens, tokenCount, count);
        int s = sequences++;
        seqTokenStart[s] = tokenCount;
        seqTokenCount[s] = count;
        seqStartPosition[s] = startPosition;
        seqBlockTable[s] = blockTable;
        seqBlockCount[s] = blockCount;
        seqLogits[s] = logits;
        seqHidden[s] = Hidden.NONE;
        tokenCount += count;
        return s;
    }

    /** Convenience for a decode step: one token at {@code position}. */
    public int addToken(int token, int position, int[] blockTable, int blockCount) {
        return add(new int[] {token}, 0, 1, position, blockTable, blockCount, Logits.LAST);
    }

    public int sequenceCount() {
        return sequences;
    }

    public int tokenCount() {
        return tokenCount;
    }

    public int token(int i) {
        return tokens[i];
    }

    public int tokenStart(int seq) {
        return seqTokenStart[seq];
    }

    public int tokenCount(int seq) {
        return seqTokenCount[seq];
    }

    public int startPosition(int seq) {
        return seqStartPosition[seq];
    }

    /** Positions 0 … contextLength-1 are in the KV cache once the step has run. */
    public int contextLength(int seq) {
        return seqStartPosition[seq] + seqTokenCount[seq];
    }

    public int[] blockTable(int seq) {
        return seqBlockTable[seq];
    }

    public int blockCount(int seq) {
        return seqBlockCount[seq];
    }

    public Logits logits(int seq) {
        return seqLogits[seq];
    }

    /** Sets which of sequence {@code seq}'s new tokens return logits (after {@link #add}). */
    public void logits(int seq, Logits logits) {
        if (seq < 0 || seq >= sequences) {
            throw new IndexOutOfBoundsException("batch sequence " + seq + " of " + sequences);
        }
        seqLogits[seq] = logits;
    }

    /** Sets which of sequence {@code seq}'s new tokens return hidden states (after {@link #add}). */
    public void hidden(int seq, Hidden hidden) {
        if (seq < 0 || seq >= sequences) {
            throw new IndexOutOfBoundsException("batch sequence " + seq + " of " + sequences);
        }
        seqHidden[seq] = hidden;
    }

    public Hidden hidden(int seq) {
        return seqHidden[seq];
    }
}
