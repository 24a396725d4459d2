package dev.sluice.bench.load;

import java.util.random.RandomGenerator;

/**
 * Many users behind one long system prompt: the same 1000-token prefix on every request, then a
 * distinct 20–60-token tail, 64–128 tokens out. With prefix caching a server prefills the prefix
 * once; without it every request pays for it again, which TTFT shows.
 */
final class SharedPrefixWorkload implements Workload {

    static final int PREFIX = 1000;
    static final int MIN_TAIL = 20;
    static final int MAX_TAIL = 60;
    static final int MIN_OUTPUT = 64;
    static final int MAX_OUTPUT = 128;

    /** Fixed rather than drawn, so the prefix is the same whatever the seed or the request order. */
    private static final PromptSegment SYSTEM_PREFIX = new PromptSegment(0x5eed_9e3779b9L, PREFIX);

    @Override
    public String name() {
        return "shared-prefix";
    }

    @Override
    public String description() {
        return "one " + PREFIX + "-token system prefix + distinct " + MIN_TAIL + "-" + MAX_TAIL
                + "-token tails, " + MIN_OUTPUT + "-" + MAX_OUTPUT + " out";
    }

    @Override
    public RequestShape next(RandomGenerator random) {
        int tail = Workload.between(random, MIN_TAIL, MAX_TAIL);
        int output = Workload.between(random, MIN_OUTPUT, MAX_OUTPUT);
        return new RequestShape(SYSTEM_PREFIX, new PromptSegment(random.nextLong(), tail), output);
    }
}
