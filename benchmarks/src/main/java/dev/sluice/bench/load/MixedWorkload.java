package dev.sluice.bench.load;

import java.util.random.RandomGenerator;

/**
 * Chat-like traffic with about one request in twenty carrying a 4000-token prompt: shows whether
 * long prefills stall the decode of everyone else (what chunked prefill is for).
 */
final class MixedWorkload implements Workload {

    static final int LONG_PROMPT = 4000;
    static final double LONG_FRACTION = 0.05;

    private final ChatLikeWorkload chat = new ChatLikeWorkload();

    @Override
    public String name() {
        return "mixed";
    }

    @Override
    public String description() {
        return "chat-like with ~" + Math.round(LONG_FRACTION * 100) + "% " + LONG_PROMPT + "-token prompts among them";
    }

    @Override
    public RequestShape next(RandomGenerator random) {
        RequestShape shape = chat.next(random);
        if (random.nextDouble() < LONG_FRACTION) {
            return new RequestShape(PromptSegment.NONE, new PromptSegment(shape.user().seed(), LONG_PROMPT), shape.outputTokens());
        }
        return shape;
    }
}
