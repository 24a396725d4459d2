package dev.sluice.bench.load;

import java.util.random.RandomGenerator;

/** Conversational traffic: varied prompts of 128–1024 tokens, 64–256 tokens out. */
final class ChatLikeWorkload implements Workload {

    static final int MIN_PROMPT = 128;
    static final int MAX_PROMPT = 1024;
    static final int MIN_OUTPUT = 64;
    static final int MAX_OUTPUT = 256;

    @Override
    public String name() {
        return "chat-like";
    }

    @Override
    public String description() {
        return "prompts of " + MIN_PROMPT + "-" + MAX_PROMPT + " tokens, " + MIN_OUTPUT + "-" + MAX_OUTPUT + " out";
    }

    @Override
    public RequestShape next(RandomGenerator random) {
        int prompt = Workload.between(random, MIN_PROMPT, MAX_PROMPT);
        int output = Workload.between(random, MIN_OUTPUT, MAX_OUTPUT);
        return new RequestShape(PromptSegment.NONE, new PromptSegment(random.nextLong(), prompt), output);
    }
}
