package dev.sluice.engine.runner;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which decode sequences of a step attend to a shared prefix once, together (pure Java, from the
 * block tables alone). Sequences whose tables start with the same physical blocks share those
 * positions' K/V exactly: prefix-cache hits across requests, {@code n > 1} siblings of one
 * prompt. They are bucketed by their first block; a bucket's shared prefix is the longest run of
 * full blocks (every position written before this step) that all its members' tables agree on.
 *
 * <p>Cost model, in gathered-and-attended positions like {@link AttentionPlan#GROUP_COST_POSITIONS}:
 * the normal path gathers and attends every member's whole context; a cascade group reads the
 * prefix once and runs it as one matrix product for all members, at the price of about nine more
 * compute nodes per layer ({@link #CASCADE_COST_POSITIONS}: each a barrier for ggml's threads)
 * and per member its own score rows, softmax row and V product ({@link #MEMBER_COST_POSITIONS}).
 * It pays when the positions it saves, {@code (members - 1) × prefix}, exceed that.
 */
final class CascadeGrouping {

    /**
     * Fixed cost of a cascade group beyond a normal group, in positions, and its cost per member
     * (measured with {@code SharedPrefixDecode}, smollm2-135m shape: one thread, ~5 ms per group
     * and ~0.6 ms per member against ~5.3 µs per position the normal path attends; at two
     * threads on a busy host the extra barriers cost more, hence the margin. See
     * benchmarks/results/2026-11-29-cascade.md).
     */
    static final int CASCADE_COST_POSITIONS = 4096;
    static final int MEMBER_COST_POSITIONS = 160;

    /** Members of one cascade group and how many leading blocks they share. */
    record Cascade(int[] members, int prefixBlocks) {
    }

    /** The cascade groups of a decode run, and the sequences left for the normal path, in batch order. */
    record Split(List<Cascade> cascades, int[] rest) {
    }

    private CascadeGrouping() {
    }

    /** Splits decode sequences [from, to) of {@code batch}. */
    static Split of(Batch batch, int from, int to, int blockSize, CascadeMode mode) {
        List<Cascade> cascades = new ArrayList<>();
        boolean[] taken = new boolean[to - from];
        if (mode != CascadeMode.OFF && to - from >= 2) {
            Map<Integer, List<Integer>> byFirstBlock = new LinkedHashMap<>();
            for (int s = from; s < to; s++) {
                if (fullBlocks(batch, s, blockSize) > 0) {
                    byFirstBlock.computeIfAbsent(batch.blockTable(s)[0], b -> new ArrayList<>()).add(s);
                }
            }
            for (List<Integer> bucket : byFirstBlock.values()) {
                if (bucket.size() < 2) {
                    continue;
                }
                int shared = sharedBlocks(batch, bucket, blockSize);
                long saved = (long) (bucket.size() - 1) * shared * blockSize;
                long cost = CASCADE_COST_POSITIONS + (long) MEMBER_COST_POSITIONS * bucket.size();
                if (shared > 0 && (mode == CascadeMode.ON || saved >= cost)) {
                    int[] members = bucket.stream().mapToInt(Integer::intValue).toArray();
                    for (int m : members) {
                        taken[m - from] = true;
                    }
                    cascades.add(new Cascade(members, shared));
                }
            }
        }
        int[] rest = new int[to - from];
        int n = 0;
        for (int s = from; s < to; s++) {
            if (!taken[s - from]) {
                rest[n++] = s;
            }
        }
        return new Split(cascades, java.util.Arrays.copyOf(rest, n));
    }

    /** Blocks wholly before the sequence's first new token: written by earlier steps, never by this one. */
    private static int fullBlocks(Batch batch, int s, int blockSize) {
        return batch.startPosition(s) / blockSize;
    }

    private static int sharedBlocks(Batch batch, List<Integer> members, int blockSize) {
        int[] first = batch.blockTable(members.getFirst());
        int shared = Integer.MAX_VALUE;
        for (int m : members) {
            shared = Math.min(shared, fullBlocks(batch, m, blockSize));
        }
        for (int m : members) {
            int[] table = batch.blockTable(m);
            int i = 0;
            while (i < shared && table[i] == first[i]) {
                i++;
            }
            shared = i;
        }
        return shared;
    }
}
