package dev.sluice.engine.text;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Turns one sequence's generated tokens into text deltas as they arrive.
 *
 * <p>Byte-level vocabularies split a character across tokens (an emoji is often two or three
 * tokens), so a delta ends only at a UTF-8 character boundary: the trailing bytes of a character
 * still incomplete are held back until a later token completes it. Bytes that can never become a
 * character are emitted as U+FFFD as soon as that is certain, and at the latest by {@link #flush()}.
 *
 * <p>Not thread-safe: one instance per sequence. Per token it does an array lookup in
 * {@link TokenTexts} (no native call) and decodes the new bytes; it allocates only the returned
 * string.
 */
public final class StreamingDetokenizer {

    /** Longest UTF-8 encoding of one character. */
    private static final int MAX_CHAR_BYTES = 4;

    private final TokenTexts texts;
    private final boolean renderSpecial;
    /** Held bytes of an incomplete character first, then room for the next piece. */
    private byte[] buffer = new byte[64];
    private int held;

    /** Control tokens (EOS, chat markers) produce no text. */
    public StreamingDetokenizer(TokenTexts texts) {
        this(texts, false);
    }

    /** @param renderSpecial  write control tokens as their text (e.g. {@code <|im_end|>}) */
    public StreamingDetokenizer(TokenTexts texts, boolean renderSpecial) {
        this.texts = Objects.requireNonNull(texts, "texts");
        this.renderSpecial = renderSpecial;
    }

    /** Adds a token; returns the text now complete (possibly empty). */
    public String append(int token) {
        byte[] piece = texts.piece(token, renderSpecial);
        if (held == 0 && incompleteTail(piece, piece.length) == 0) {
            return piece.length == 0 ? "" : new String(piece, StandardCharsets.UTF_8);
        }
        int length = held + piece.length;
        if (length > buffer.length) {
            byte[] grown = new byte[Math.max(length, buffer.length * 2)];
            System.arraycopy(buffer, 0, grown, 0, held);
            buffer = grown;
        }
        System.arraycopy(piece, 0, buffer, held, piece.length);
        int complete = length - incompleteTail(buffer, length);
        String text = complete == 0 ? "" : new String(buffer, 0, complete, StandardCharsets.UTF_8);
        held = length - complete;
        System.arraycopy(buffer, complete, buffer, 0, held);
        return text;
    }

    /** Ends the sequence: returns held bytes of an unfinished character as U+FFFD (or ""). */
    public String flush() {
        if (held == 0) {
            return "";
        }
        String text = new String(buffer, 0, held, StandardCharsets.UTF_8);
        held = 0;
        return text;
    }

    /**
     * How many bytes at the end of {@code bytes[0, length)} could still be completed into a character
     * by later bytes: a lead byte followed by fewer continuation bytes than it announces. Anything
     * else is either complete or already invalid, and decoding it now is final.
     */
    static int incompleteTail(byte[] bytes, int length) {
        int start = Math.max(0, length - (MAX_CHAR_BYTES - 1));
        for (int i = length - 1; i >= start; i--) {
            int b = bytes[i] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // continuation byte: look further back for its lead
            }
            return length - i < sequenceLength(b) ? length - i : 0;
        }
        return 0;
    }

    /** The length a UTF-8 sequence starting with {@code lead} announces; 1 for bytes that cannot start one. */
    private static int sequenceLength(int lead) {
        if (lead >= 0xC2 && lead <= 0xDF) {
            return 2;
        }
        if (lead >= 0xE0 && lead <= 0xEF) {
            return 3;
        }
        if (lead >= 0xF0 && lead <= 0xF4) {
            return 4;
        }
        return 1;
    }
}
