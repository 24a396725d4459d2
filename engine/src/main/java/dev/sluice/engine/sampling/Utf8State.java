package dev.sluice.engine.sampling;

/**
 * Where a sequence's output stands in UTF-8, so a grammar never lets it become invalid.
 * llama.cpp's grammar decodes tokens to code points without rejecting overlong forms, surrogates
 * or continuation bytes inside one token, so with byte-level vocabularies a grammar-valid token
 * sequence can still be invalid UTF-8, which a client's decoder turns into replacement characters
 * (breaking a schema's lengths and patterns). The state is packed in an int: bytes still needed,
 * and the range the next byte must fall in (RFC 3629's table).
 */
final class Utf8State {

    static final int START = pack(0, 0x80, 0xBF);
    static final int INVALID = -1;

    private Utf8State() {
    }

    private static int pack(int need, int lo, int hi) {
        return need << 16 | lo << 8 | hi;
    }

    /** The state after {@code bytes}, or {@link #INVALID}. */
    static int after(int state, byte[] bytes) {
        int need = state >>> 16;
        int lo = state >>> 8 & 0xFF;
        int hi = state & 0xFF;
        for (byte value : bytes) {
            int b = value & 0xFF;
            if (need > 0) {
                if (b < lo || b > hi) {
                    return INVALID;
                }
                need--;
                lo = 0x80;
                hi = 0xBF;
            } else if (b < 0x80) {
                // ASCII
            } else if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
            } else if (b == 0xE0) {
                need = 2;
                lo = 0xA0;
            } else if (b == 0xED) {
                need = 2;
                hi = 0x9F;
            } else if (b >= 0xE1 && b <= 0xEF) {
                need = 2;
            } else if (b == 0xF0) {
                need = 3;
                lo = 0x90;
            } else if (b >= 0xF1 && b <= 0xF3) {
                need = 3;
            } else if (b == 0xF4) {
                need = 3;
                hi = 0x8F;
            } else {
                return INVALID;
            }
        }
        return pack(need, lo, hi);
    }
}
