package dev.sluice.bench.load;

/**
 * How a completions prompt is sent. Token ids make prompt lengths exact on every server; text is
 * what a chat endpoint needs, and lengths are then approximate (one word is about one token).
 */
enum PromptFormat {
    IDS,
    TEXT;

    static PromptFormat fromCliName(String name) throws UsageException {
        return switch (name) {
            case "ids" -> IDS;
            case "text" -> TEXT;
            default -> throw new UsageException("--prompt-tokens must be ids or text, got '" + name + "'");
        };
    }
}
