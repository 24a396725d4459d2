package dev.sluice.engine.testmodel;

import java.nio.charset.StandardCharsets;

/**
 * Steele, Lea and Flood's SplitMix64, written out here rather than borrowed from
 * {@link java.util.SplittableRandom} so that the weights a seed produces can never change with the
 * JDK. Not thread-safe: one instance per row being filled.
 */
final class SplitMix64 {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    SplitMix64(long seed) {
        this.state = seed;
    }

    long nextLong() {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** Uniform on [-1, 1), in steps of 2^-23. */
    float nextSymmetric() {
        return (nextLong() >>> 40) * 0x1.0p-23f - 1f;
    }

    /** A well-mixed seed for the {@code index}-th stream under {@code seed}. */
    static long stream(long seed, long index) {
        return mix(seed + (index + 1) * GOLDEN_GAMMA);
    }

    /** A seed derived from a name (64-bit FNV-1a of its UTF-8 bytes, mixed with {@code seed}). */
    static long stream(long seed, String name) {
        long hash = 0xCBF29CE484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xFF)) * 0x100000001B3L;
        }
        return mix(mix(seed) ^ hash);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
