package dev.sluice.bench.load;

import java.util.random.RandomGenerator;

/**
 * Decode throughput at any concurrency: 64 tokens in, 128 out. Short prompts keep prefill out of
 * the way, so per-token costs (sampling, grammars) show; used for constrained vs unconstrained.
 */
final class ShortWorkload implements Workload {

    static final int PROMPT = 64;
    static final int OUTPUT = 128;

    @Override
    public String name() {
        return "short";
    }

    @Override
    public String description() {
        return PROMPT + " tokens in, " + OUTPUT + " out";
    }

    @Override
    public RequestShape next(RandomGenerator random) {
        return new RequestShape(PromptSegment.NONE, new PromptSegment(random.nextLong(), PROMPT), OUTPUT);
    }
}
