package dev.sluice.engine.runner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Decode sequences read in place, batched into as few attention ops as their layout allows.
 *
 * <p>A sequence whose blocks are consecutive is one slice of the pool; sequences whose slices
 * start at equally spaced slots are one 4-D view of it ({@code nb[3]} = the spacing), which one
 * flash-attention op reads as streams, as llama.cpp reads its per-slot KV streams. One op per
 * sequence costs two thread barriers and a few graph nodes per layer each; and one query's op is
 * split across threads by head (9 heads over 2 threads: 5 and 4), where streams are split by
 * rows of all of them. Every stream attends the group's longest context, its own padding
 * masked (the CPU kernel skips masked positions; what they read is another sequence's rows or
 * unused pool rows, never outside the pool).
 *
 * <p>Sequences are taken in slot order; a run grows while the next one continues the spacing,
 * its padding costs at most {@link AttentionPlan#GROUP_COST_POSITIONS} positions more (what the
 * op it saves costs), and the view still ends within the pool. Any two in-place sequences are
 * equally spaced, so a served batch pairs up at least; sequences in equal regions of the pool
 * (as {@code EngineStepFixture} and llama.cpp's per-slot layout lay them out) form one run.
 */
final class InPlaceStreams {

    /** Sequences {@code members} as streams: member i's rows start at slot {@code firstSlot + i * stride}. */
    record Run(int[] members, int firstSlot, int stride, int kvLength) {
    }

    private InPlaceStreams() {
    }

    /**
     * Runs of {@code sequences} (decode sequences of {@code batch}, each on consecutive blocks),
     * in slot order; {@code poolSlots} is the pool's size.
     */
    static List<Run> of(Batch batch, int[] sequences, int blockSize, int poolSlots) {
        int n = sequences.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = sequences[i];
        }
        Arrays.sort(order, Comparator.comparingInt(s -> firstSlot(batch, s, blockSize)));
        List<Run> runs = new ArrayList<>();
        int start = 0;
        while (start < n) {
            int first = firstSlot(batch, order[start], blockSize);
            int longest = batch.contextLength(order[start]);
            long contexts = longest;
            int stride = 0;
            int end = start + 1;
            while (end < n) {
                int slot = firstSlot(batch, order[end], blockSize);
                int gap = slot - firstSlot(batch, order[end - 1], blockSize);
                if (gap <= 0 || (stride != 0 && gap != stride)) {
                    break;
                }
                int context = batch.contextLength(order[end]);
                int joinedLongest = Math.max(longest, context);
                int streams = end - start;
                int joinedLength = length(joinedLongest, first, slot, streams + 1, poolSlots);
                if (joinedLength < 0) {
                    break; // the view would not fit in the pool
                }
                long padding = (long) length(longest, first, slot - gap, streams, poolSlots) * streams - contexts;
                long joinedPadding = (long) joinedLength * (streams + 1) - contexts - context;
                if (joinedPadding - padding > AttentionPlan.GROUP_COST_POSITIONS) {
                    break;
                }
                stride = gap;
                longest = joinedLongest;
                contexts += context;
                end++;
            }
            int[] members = new int[end - start];
            for (int i = 0; i < members.length; i++) {
                members[i] = order[start + i];
            }
            int lastSlot = first + (members.length - 1) * stride;
            runs.add(new Run(members, first, stride, length(longest, first, lastSlot, members.length, poolSlots)));
            start = end;
        }
        return runs;
    }

    /**
     * Attention length of an in-place group of {@code streams} from {@code firstSlot} to
     * {@code lastSlot}: its longest context rounded up to {@link AttentionPlan#REUSE_PADDING}
     * positions (masked, and skipped by the kernel) so consecutive decode steps keep one graph
     * shape, within {@link #fits}; -1 when not even the longest context fits.
     */
    static int length(int longest, int firstSlot, int lastSlot, int streams, int poolSlots) {
        int padding = AttentionPlan.REUSE_PADDING;
        int padded = (longest + padding - 1) / padding * padding;
        long cap = Math.min(poolSlots - (long) lastSlot, (poolSlots - (long) firstSlot) / streams);
        return longest > cap ? -1 : (int) Math.max(longest, Math.min(padded, cap));
    }

    /**
     * Whether a view of {@code streams} × {@code length} rows from {@code firstSlot} is one ggml
     * accepts over a pool of {@code poolSlots}: the last stream's rows end within the pool, and so
     * does the contiguous size ggml checks a view against (streams × length rows from the first
     * slot), which is larger when streams overlap; ggml aborts the process on a view that fails it.
     */
    static boolean fits(int firstSlot, int lastSlot, int streams, int length, int poolSlots) {
        return (long) lastSlot + length <= poolSlots && (long) firstSlot + (long) streams * length <= poolSlots;
    }

    private static int firstSlot(Batch batch, int seq, int blockSize) {
        return batch.blockTable(seq)[0] * blockSize;
    }
}
