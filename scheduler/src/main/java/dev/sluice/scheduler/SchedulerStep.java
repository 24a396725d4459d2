package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.BlockCopies;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * What one engine step runs, in order: swap-outs (host slots ← blocks), swap-ins (blocks ← host
 * slots), block copies (copy-on-write), then one forward pass over {@link #sequences()} with
 * {@link #newTokens(int)} tokens each. Single-token sequences come first, so the runner can batch
 * their attention.
 */
public final class SchedulerStep {

    private final List<Sequence> sequences = new ArrayList<>();
    private int[] newTokens = new int[64];
    final BlockCopies copies = new BlockCopies();
    int[] swapOut = new int[0];   // pairs: block, slot
    int[] swapIn = new int[0];    // pairs: slot, block
    int preemptions;
    int tokens;

    void clear() {
        sequences.clear();
        copies.clear();
        swapOut = new int[0];
        swapIn = new int[0];
        preemptions = 0;
        tokens = 0;
    }

    void add(Sequence sequence, int count) {
        if (sequences.size() == newTokens.length) {
            newTokens = Arrays.copyOf(newTokens, newTokens.length * 2);
        }
        newTokens[sequences.size()] = count;
        sequences.add(sequence);
        tokens += count;
    }

    /** Puts single-token sequences first, keeping the order within each kind. */
    void orderDecodesFirst() {
        int n = sequences.size();
        int firstChunk = 0;
        while (firstChunk < n && newTokens[firstChunk] == 1) {
            firstChunk++;
        }
        int next = firstChunk;
        while (next < n && newTokens[next] != 1) {
            next++;
        }
        if (next == n) {
            return; // already decodes first (the common, decode-only step)
        }
        List<Sequence> ordered = new ArrayList<>(n);
        int[] counts = new int[Math.max(n, 1)];
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < n; i++) {
                if ((newTokens[i] == 1) == (pass == 0)) {
                    counts[ordered.size()] = newTokens[i];
                    ordered.add(sequences.get(i));
                }
            }
        }
        sequences.clear();
        sequences.addAll(ordered);
        System.arraycopy(counts, 0, newTokens, 0, n);
    }

    public List<Sequence> sequences() {
        return Collections.unmodifiableList(sequences);
    }

    public int newTokens(int i) {
        return newTokens[i];
    }

    public BlockCopies copies() {
        return copies;
    }

    /** Swap-outs as (block, slot) pairs. */
    public int[] swapOuts() {
        return swapOut;
    }

    /** Swap-ins as (slot, block) pairs. */
    public int[] swapIns() {
        return swapIn;
    }

    public int preemptions() {
        return preemptions;
    }

    public int tokenCount() {
        return tokens;
    }

    public boolean isEmpty() {
        return sequences.isEmpty();
    }
}
