package dev.sluice.engine.runner;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A group's V gather rows when the V pools are transposed ({@code KvCache#transposedValues}).
 * Such a pool, viewed as [blockSize, blocks * kvDim], has one row per V element d and block b,
 * row {@code d * blocks + b}: the block's {@code blockSize} values of element d. A stream's blocks'
 * rows taken in the order (d, block) are its Vᵀ, [B * blockSize, hd, kvHeads] for B blocks, as
 * the {@code Vᵀ × weights} product reads it: {@code get_rows} lays them out that way with no
 * further copy. Positions past a stream's context (its last block's tail, blocks padding it to
 * the group's longest) hold finite data its mask hides.
 *
 * <p>A cascade group's rows: the shared prefix's P / blockSize blocks once (unless read in place),
 * then each member's blocks from the prefix's end on.
 */
final class ValueRows {

    private ValueRows() {
    }

    /** Blocks per stream for the group's own part: its positions [P, L) rounded up to whole blocks. */
    static int blocksPerStream(AttentionPlan.Group group, int blockSize) {
        return ceilDiv(group.kvLength() - group.prefixLength(), blockSize);
    }

    /** Rows of a cascade group's shared prefix, gathered once, ahead of the members' own; 0 when read in place. */
    static long prefixRows(AttentionPlan.Group group, int blockSize, int kvDim) {
        return group.cascade() && !group.inPlace() ? (long) group.prefixLength() / blockSize * kvDim : 0;
    }

    /** How many rows the group gathers; 0 when it reads V in place. */
    static long count(AttentionPlan.Group group, int blockSize, int kvDim) {
        long own = group.gathers() ? (long) group.streams() * blocksPerStream(group, blockSize) * kvDim : 0;
        return prefixRows(group, blockSize, kvDim) + own;
    }

    /** Writes the group's {@link #count} rows for {@code batch} into {@code rows} (I32). */
    static void write(MemorySegment rows, Batch batch, AttentionPlan.Group group, int blockSize, int kvDim, int poolBlocks) {
        long at = 0;
        int firstBlock = 0;
        if (group.cascade()) {
            firstBlock = group.prefixLength() / blockSize;
            if (!group.inPlace()) {
                at = stream(rows, at, batch, group.members()[0], 0, firstBlock, blockSize, kvDim, poolBlocks);
            }
        }
        int perStream = blocksPerStream(group, blockSize);
        for (int s : group.members()) {
            at = stream(rows, at, batch, s, firstBlock, perStream, blockSize, kvDim, poolBlocks);
        }
    }

    /**
     * One stream's rows for its logical blocks [first, first + count): blocks past its context
     * repeat block {@code first}'s. The block ids are resolved once, so the loop that writes
     * {@code kvDim * count} rows has no branch (see {@code StepInputs} on why that matters).
     */
    private static long stream(MemorySegment rows, long at, Batch batch, int seq, int first, int count, int blockSize,
                               int kvDim, int poolBlocks) {
        int[] table = batch.blockTable(seq);
        int used = Math.min(table.length, ceilDiv(batch.contextLength(seq), blockSize));
        int[] blocks = new int[count];
        for (int j = 0; j < count; j++) {
            blocks[j] = table[first + j < used ? first + j : first];
        }
        for (int d = 0; d < kvDim; d++) {
            int base = d * poolBlocks;
            for (int j = 0; j < count; j++) {
                rows.setAtIndex(ValueLayout.JAVA_INT, at++, base + blocks[j]);
            }
        }
        return at;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
