package dev.sluice.bench.load;

import java.util.random.RandomGenerator;

/**
 * A synthetic traffic shape. Implementations draw every choice from the generator they are
 * given, so a seed fixes the whole request sequence; they hold no other state that changes.
 */
interface Workload {

    /** The name {@code --workload} selects it by. */
    String name();

    /** One line for {@code --help}. */
    String description();

    /** The next request's shape. */
    RequestShape next(RandomGenerator random);

    /** True when the workload measures batch-1 latency, so every level runs one request at a time. */
    default boolean singleStream() {
        return false;
    }

    /** A uniform integer in [min, max], both ends included. */
    static int between(RandomGenerator random, int min, int max) {
        return random.nextInt(min, max + 1);
    }
}
