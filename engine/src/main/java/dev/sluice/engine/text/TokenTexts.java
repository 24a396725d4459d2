package dev.sluice.engine.text;

import java.util.stream.IntStream;

/**
 * What each token of a vocabulary means as output, in plain Java: its bytes as generated text shows
 * them (empty for control tokens), its bytes with control tokens rendered ({@code <|im_end|>}), and
 * whether it ends generation. Read once from the tokenizer; immutable, so any thread may use it,
 * and turning tokens into text needs no native call.
 */
public final class TokenTexts {

    private final byte[][] textPieces;
    private final byte[][] specialPieces;
    private final boolean[] endOfGeneration;
    private final int longestPiece;

    /**
     * @param textPieces      per token, its bytes in generated text (arrays are kept, not copied)
     * @param specialPieces   per token, its bytes with control tokens rendered
     * @param endOfGeneration per token, whether it ends generation (EOS, EOT, …)
     */
    public TokenTexts(byte[][] textPieces, byte[][] specialPieces, boolean[] endOfGeneration) {
        if (textPieces.length != specialPieces.length || textPieces.length != endOfGeneration.length) {
            throw new IllegalArgumentException("one entry per token in every table");
        }
        this.textPieces = textPieces;
        this.specialPieces = specialPieces;
        this.endOfGeneration = endOfGeneration;
        int longest = 1;
        for (int t = 0; t < textPieces.length; t++) {
            longest = Math.max(longest, Math.max(textPieces[t].length, specialPieces[t].length));
        }
        this.longestPiece = longest;
    }

    /**
     * The fewest tokens any tokenization of {@code text} can have: no token covers more bytes than
     * the longest piece, and a character is at least one byte. Lets an over-long prompt be refused
     * without tokenizing megabytes of it.
     */
    public long minTokens(CharSequence text) {
        return (text.length() + (long) longestPiece - 1) / longestPiece;
    }

    public int vocabSize() {
        return textPieces.length;
    }

    /** The shared piece array of a token (callers must not modify it). */
    byte[] piece(int token, boolean renderSpecial) {
        checkToken(token);
        return renderSpecial ? specialPieces[token] : textPieces[token];
    }

    /** A token's bytes in generated text (callers must not modify the array). */
    public byte[] textPiece(int token) {
        return piece(token, false);
    }

    /** A token's bytes with control tokens rendered, as llama.cpp's grammar reads it (callers must not modify the array). */
    public byte[] specialPiece(int token) {
        return piece(token, true);
    }

    public boolean isEndOfGeneration(int token) {
        checkToken(token);
        return endOfGeneration[token];
    }

    /** All end-of-generation token ids, ascending. */
    public int[] endOfGenerationTokens() {
        return IntStream.range(0, endOfGeneration.length).filter(t -> endOfGeneration[t]).toArray();
    }

    private void checkToken(int token) {
        if (token < 0 || token >= textPieces.length) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, "
                    + textPieces.length + ")");
        }
    }
}
