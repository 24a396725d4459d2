package dev.sluice.bench.load;

/** A request ready to send: its place in the level's sequence, its prompt and its output length. */
record PlannedRequest(int index, Prompt prompt, int maxTokens) {
}
