package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaSampler;

import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a request's 64-bit seed becomes the 32-bit seed of a sequence's generator: folded the way
 * that keeps seeds 0 to 2^32 - 2 as they are, so such seeds draw what llama-server draws.
 */
final class Seeds {

    private Seeds() {
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
    static int javaSeed(OptionalLong seed) {
        return seed.isPresent() ? nativeSeed(seed) : ThreadLocalRandom.current().nextInt();
    }
}
