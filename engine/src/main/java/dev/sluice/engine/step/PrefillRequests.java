package dev.sluice.engine.step;

import java.util.Arrays;

/**
 * Per entry of a {@link StepPlan}, what its prompt tokens return besides their KV: a pooled
 * embedding, their log-probabilities, or nothing (the usual case: everything here stays false).
 */
public final class PrefillRequests {

    private int[][] sources = new int[16][];
    private boolean[] embed = new boolean[16];
    private int[] promptLogprobs = new int[16];
    private int[] promptLength = new int[16];
    private boolean[] lastChunk = new boolean[16];
    private boolean any;

    void clear() {
        any = false;
    }

    void added(int entry, int[] source) {
        if (entry >= sources.length) {
            int n = Math.max(entry + 1, sources.length * 2);
            sources = Arrays.copyOf(sources, n);
            embed = Arrays.copyOf(embed, n);
            promptLogprobs = Arrays.copyOf(promptLogprobs, n);
            promptLength = Arrays.copyOf(promptLength, n);
            lastChunk = Arrays.copyOf(lastChunk, n);
        }
        sources[entry] = source;
        embed[entry] = false;
        promptLogprobs[entry] = -1;
        promptLength[entry] = 0;
        lastChunk[entry] = false;
    }

    void set(int entry, boolean embed, int promptLogprobs, int promptLength, boolean lastChunk) {
        this.embed[entry] = embed;
        this.promptLogprobs[entry] = promptLogprobs;
        this.promptLength[entry] = promptLength;
        this.lastChunk[entry] = lastChunk;
        any |= embed || promptLogprobs >= 0;
    }

    /** Whether any entry of the step asked for something. */
    public boolean any() {
        return any;
    }

    /** The entry's whole token array (prompt first); its new tokens start at its start position. */
    public int[] source(int entry) {
        return sources[entry];
    }

    public boolean embed(int entry) {
        return embed[entry];
    }

    /** Alternatives per prompt token, or -1 when the entry asked for no prompt log-probabilities. */
    public int promptLogprobs(int entry) {
        return promptLogprobs[entry];
    }

    public int promptLength(int entry) {
        return promptLength[entry];
    }

    /** Whether this chunk ends the entry's prompt (an embedding is returned after it). */
    public boolean lastChunk(int entry) {
        return lastChunk[entry];
    }
}
