package dev.sluice.scheduler.kv;

/**
 * Content hashes for full KV blocks: a block's hash covers its parent block's hash, its token
 * ids, and a salt for anything else that changes KV (the model, an adapter, a tenant's cache
 * isolation). Equal prefixes therefore hash equally block by block; the pool still compares
 * tokens and parents on every hit, so a collision costs a miss, never a wrong answer.
 */
public final class PrefixHasher {

    /** The parent hash of a sequence's first block. */
    public static final long ROOT = 0x5EEDL;

    private PrefixHasher() {
    }

    public static long hash(long parentHash, int[] tokens, int from, int count, long salt) {
        long h = mix(parentHash ^ 0x9E3779B97F4A7C15L) ^ mix(salt + count);
        for (int i = 0; i < count; i++) {
            h = mix(h ^ (tokens[from + i] * 0xC2B2AE3D27D4EB4FL + i));
        }
        return h;
    }

    /** SplitMix64's finalizer: a fast bijective 64-bit mix. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
