package dev.sluice.engine.runner;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A cascade group's gather rows ({@link CascadeAttention}): the shared prefix's P slots once
 * (unless the prefix is read in place), then for each member the slots of its own positions
 * [P, P + Ls), padded past its context with its first own slot (finite data, masked out). Its
 * mask is an ordinary group's: a member sees logical positions 0 … its own.
 */
final class CascadeRows {

    private CascadeRows() {
    }

    static void write(Batch batch, AttentionPlan.Group group, MemorySegment rows, int blockSize) {
        int p = group.prefixLength();
        int ls = group.kvLength() - p;
        long at = 0;
        if (!group.inPlace()) {
            int[] table = batch.blockTable(group.members()[0]);
            for (int j = 0; j < p; j++) {
                rows.setAtIndex(ValueLayout.JAVA_INT, at++, slot(table, j, blockSize));
            }
        }
        for (int s : group.members()) {
            int[] table = batch.blockTable(s);
            int context = batch.contextLength(s);
            int pad = slot(table, p, blockSize);
            for (int j = p; j < p + ls; j++) {
                rows.setAtIndex(ValueLayout.JAVA_INT, at++, j < context ? slot(table, j, blockSize) : pad);
            }
        }
    }

    private static int slot(int[] table, int position, int blockSize) {
        return table[position / blockSize] * blockSize + position % blockSize;
    }
}
