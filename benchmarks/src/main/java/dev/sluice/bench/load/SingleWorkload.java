package dev.sluice.bench.load;

import java.util.random.RandomGenerator;

/** Batch-1 latency: 128 tokens in, 128 out, one request at a time. */
final class SingleWorkload implements Workload {

    static final int PROMPT = 128;
    static final int OUTPUT = 128;

    @Override
    public String name() {
        return "single";
    }

    @Override
    public String description() {
        return PROMPT + " tokens in, " + OUTPUT + " out, concurrency forced to 1";
    }

    @Override
    public RequestShape next(RandomGenerator random) {
        return new RequestShape(PromptSegment.NONE, new PromptSegment(random.nextLong(), PROMPT), OUTPUT);
    }

    @Override
    public boolean singleStream() {
        return true;
    }
}
