package dev.sluice.engine.step;

import dev.sluice.engine.runner.Batch;

import java.util.Arrays;

/**
 * What the scheduler asks of one engine step, in the order the engine does it: swap blocks out to
 * host slots, swap blocks in, copy blocks (copy-on-write), then one forward pass over the
 * {@link #batch()} and a sampled token for every entry that asks for one.
 *
 * <p>Every batch entry belongs to a sequence, named by a {@code long} id the scheduler chose and
 * {@link ModelExecutor#startSequence started}. An entry that samples takes its tokens from its
 * last logits row. An entry at a request's fork point (the end of the prompt, {@code n > 1})
 * samples {@code n} tokens from that one row, for sequences {@code id, id + 1, …, id + n - 1}; the
 * executor forks the others' sampler state from {@code id}'s first.
 *
 * <p>Reused step after step by its owner: {@link #clear()}, then the operations.
 */
public final class StepPlan {

    private final Batch batch = new Batch();
    private long[] ids = new long[16];
    private int[] samples = new int[16];
    private final PrefillRequests prefill = new PrefillRequests();
    private final IntPairs swapOuts = new IntPairs();
    private final IntPairs swapIns = new IntPairs();
    private final IntPairs copies = new IntPairs();

    public void clear() {
        batch.clear();
        prefill.clear();
        swapOuts.clear();
        swapIns.clear();
        copies.clear();
    }

    /** Moves block {@code block}'s contents to host swap slot {@code slot}. */
    public void swapOut(int block, int slot) {
        swapOuts.add(block, slot);
    }

    /** Restores host swap slot {@code slot} into block {@code block}. */
    public void swapIn(int slot, int block) {
        swapIns.add(slot, block);
    }

    /** Copies block {@code source} into block {@code target}. */
    public void copy(int source, int target) {
        copies.add(source, target);
    }

    /**
     * Adds sequence {@code id}'s new tokens {@code tokens[from, from + count)} at positions
     * {@code startPosition, …}, the first {@code blockCount} entries of {@code blockTable} holding
     * its KV, and how many tokens to sample after them (0, 1, or {@code n} at a fork point).
     * Returns the entry's index.
     */
    public int add(long id, int[] tokens, int from, int count, int startPosition, int[] blockTable, int blockCount,
                   int samples) {
        if (samples < 0) {
            throw new IllegalArgumentException("samples must not be negative: " + samples);
        }
        int entry = batch.add(tokens, from, count, startPosition, blockTable, blockCount,
                samples > 0 ? Batch.Logits.LAST : Batch.Logits.NONE);
        if (entry == ids.length) {
            ids = Arrays.copyOf(ids, entry * 2);
            this.samples = Arrays.copyOf(this.samples, entry * 2);
        }
        ids[entry] = id;
        this.samples[entry] = samples;
        prefill.added(entry, tokens);
        return entry;
    }

    /**
     * Asks entry {@code entry}'s prompt tokens for more than their KV: its pooled embedding
     * ({@code embed}, returned once {@code lastChunk} ran), or the log-probability of each
     * following prompt token with {@code promptLogprobs} alternatives (-1: none). The entry's
     * token array is its whole sequence; {@code promptLength} of it is prompt.
     */
    public void prefillOutputs(int entry, boolean embed, int promptLogprobs, int promptLength, boolean lastChunk) {
        if (entry < 0 || entry >= entries()) {
            throw new IndexOutOfBoundsException("entry " + entry + " of " + entries());
        }
        prefill.set(entry, embed, promptLogprobs, promptLength, lastChunk);
        if (promptLogprobs >= 0) {
            batch.logits(entry, Batch.Logits.ALL);
        }
    }

    /** What entries asked of their prompt tokens (see {@link #prefillOutputs}). */
    public PrefillRequests prefill() {
        return prefill;
    }

    /** The forward pass's input. */
    public Batch batch() {
        return batch;
    }

    public int entries() {
        return batch.sequenceCount();
    }

    /** The sequence id of entry {@code entry}. */
    public long id(int entry) {
        return ids[entry];
    }

    /** Tokens entry {@code entry} samples (for sequences {@code id(entry)} and the next ones). */
    public int samples(int entry) {
        return samples[entry];
    }

    public IntPairs swapOuts() {
        return swapOuts;
    }

    public IntPairs swapIns() {
        return swapIns;
    }

    public IntPairs copies() {
        return copies;
    }

    /** A growable list of int pairs. */
    public static final class IntPairs {
        private int[] values = new int[16];
        private int size;

        void clear() {
            size = 0;
        }

        void add(int first, int second) {
            if (2 * size + 2 > values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[2 * size] = first;
            values[2 * size + 1] = second;
            size++;
        }

        public int size() {
            return size;
        }

        public int first(int i) {
            return values[2 * i];
        }

        public int second(int i) {
            return values[2 * i + 1];
        }
    }
}
