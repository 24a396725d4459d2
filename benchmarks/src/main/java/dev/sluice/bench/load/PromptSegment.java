package dev.sluice.bench.load;

/**
 * A stretch of synthetic prompt: {@code tokens} tokens whose content follows from {@code seed}
 * alone, so two requests holding the same segment send identical tokens (a shared prefix).
 */
record PromptSegment(long seed, int tokens) {

    static final PromptSegment NONE = new PromptSegment(0, 0);

    PromptSegment {
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens must not be negative");
        }
    }
}
