package dev.sluice.engine.sampling;

/**
 * The 32-bit Mersenne Twister, {@code std::mt19937}, and the uniform draw llama.cpp's {@code dist}
 * sampler takes from it ({@code std::uniform_real_distribution<double>(0, 1)}). Implemented here
 * so that draws made in Java follow the same sequence as llama.cpp's for the same seed: a request
 * with a seed samples what llama-server would sample from the same probabilities.
 */
final class Mt19937 {

    private static final int N = 624;
    private static final int M = 397;
    private static final int UPPER = 0x80000000;
    private static final int LOWER = 0x7fffffff;
    private static final int MATRIX = 0x9908b0df;
    private static final double TWO_POW_32 = 4294967296.0;
    private static final double TWO_POW_64 = TWO_POW_32 * TWO_POW_32;

    private final int[] state = new int[N];
    private int index;

    /** Seeded as {@code std::mt19937(seed)}. */
    Mt19937(int seed) {
        state[0] = seed;
        for (int i = 1; i < N; i++) {
            int previous = state[i - 1];
            state[i] = 1812433253 * (previous ^ (previous >>> 30)) + i;
        }
        index = N;
    }

    /** The next 32-bit output, as an unsigned value. */
    long nextUnsigned() {
        if (index >= N) {
            twist();
        }
        int y = state[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    /**
     * A double in [0, 1) as libstdc++'s {@code generate_canonical<double, 53>} makes it from two
     * outputs: {@code (a + b * 2^32) / 2^64}, and the largest double below 1 where that rounds to 1.
     */
    double nextDouble() {
        long low = nextUnsigned();
        long high = nextUnsigned();
        double value = (low + high * TWO_POW_32) / TWO_POW_64;
        return value >= 1.0 ? Math.nextDown(1.0) : value;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (state[i] & UPPER) | (state[(i + 1) % N] & LOWER);
            int next = state[(i + M) % N] ^ (y >>> 1);
            state[i] = (y & 1) == 0 ? next : next ^ MATRIX;
        }
        index = 0;
    }
}
