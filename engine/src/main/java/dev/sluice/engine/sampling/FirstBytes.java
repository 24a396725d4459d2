package dev.sluice.engine.sampling;

import java.util.Arrays;

/**
 * The vocabulary by first byte, so a grammar's full-vocabulary check can skip most tokens.
 * llama.cpp's grammar sampler decodes and matches every candidate it is given (about 151k for
 * Qwen) each time the sampled token is rejected. But a token can only be allowed if a token made
 * of its first byte alone is (llama.cpp matches a lone UTF-8 lead byte against every character it
 * could start), so asking the grammar about at most 256 one-byte tokens first rules out every
 * token whose first byte it refuses: at a JSON structural position (after a key, between
 * members) that leaves a few thousand candidates. Tokens with no one-byte representative for
 * their first byte, and tokens without text (control, end of generation), are always asked.
 *
 * <p>Where few first bytes pass (a structural position of JSON, where white space is allowed and
 * so every token starting with a space passes: 40% of Qwen's vocabulary), the same is done with
 * the two-byte tokens of those bytes, which rules out " word"-like tokens.
 */
final class FirstBytes {

    /** Per token: its first byte (0-255), or -1 when it must always be asked. */
    final int[] firstByte;
    /** Per byte: a token whose text is exactly that byte, or -1. */
    final int[] representative = new int[256];
    /** The bytes that have a representative, in order; their tokens in {@link #probeTokens}. */
    final int[] probeBytes;
    final int[] probeTokens;

    /** Per token: its first two bytes as {@code b1 << 8 | b2} when a two-byte token spells them, else -1. */
    final int[] firstPair;
    /** Per first byte: the two-byte tokens starting with it, and their pairs. */
    final int[][] pairTokens = new int[256][];
    final int[][] pairCodes = new int[256][];
    final int maxPairs;

    FirstBytes(int vocabSize, java.util.function.IntFunction<byte[]> piece) {
        Arrays.fill(representative, -1);
        firstByte = new int[vocabSize];
        for (int t = 0; t < vocabSize; t++) {
            byte[] p = piece.apply(t);
            if (p.length == 1 && representative[p[0] & 0xFF] < 0) {
                representative[p[0] & 0xFF] = t;
            }
        }
        for (int t = 0; t < vocabSize; t++) {
            byte[] p = piece.apply(t);
            firstByte[t] = p.length > 0 && representative[p[0] & 0xFF] >= 0 ? p[0] & 0xFF : -1;
        }
        int[] pairRep = new int[65536];
        Arrays.fill(pairRep, -1);
        int[] perByte = new int[256];
        for (int t = 0; t < vocabSize; t++) {
            byte[] p = piece.apply(t);
            int code = p.length == 2 ? (p[0] & 0xFF) << 8 | p[1] & 0xFF : -1;
            if (code >= 0 && pairRep[code] < 0 && firstByte[t] >= 0) {
                pairRep[code] = t;
                perByte[p[0] & 0xFF]++;
            }
        }
        firstPair = new int[vocabSize];
        for (int t = 0; t < vocabSize; t++) {
            byte[] p = piece.apply(t);
            int code = p.length >= 2 ? (p[0] & 0xFF) << 8 | p[1] & 0xFF : -1;
            firstPair[t] = code >= 0 && pairRep[code] >= 0 ? code : -1;
        }
        int most = 0;
        for (int b = 0; b < 256; b++) {
            pairTokens[b] = new int[perByte[b]];
            pairCodes[b] = new int[perByte[b]];
            most = Math.max(most, perByte[b]);
        }
        maxPairs = most;
        int[] filled = new int[256];
        for (int code = 0; code < 65536; code++) {
            if (pairRep[code] >= 0) {
                int b = code >>> 8;
                pairTokens[b][filled[b]] = pairRep[code];
                pairCodes[b][filled[b]++] = code;
            }
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            n += representative[b] >= 0 ? 1 : 0;
        }
        probeBytes = new int[n];
        probeTokens = new int[n];
        for (int b = 0, i = 0; b < 256; b++) {
            if (representative[b] >= 0) {
                probeBytes[i] = b;
                probeTokens[i++] = representative[b];
            }
        }
    }
}
