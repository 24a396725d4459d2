package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvBlock;
import dev.sluice.scheduler.kv.KvCacheManager;

import java.util.List;

/**
 * Accounting of host swap slots (each holds one block), and the moves of a sequence's blocks to
 * and from them that a step carries out ({@link SchedulerStep#swapOut}, {@link SchedulerStep#swapIn});
 * the engine owns their memory.
 */
final class SwapSpace {

    private final int[] free;
    private int freeCount;

    SwapSpace(int slots) {
        free = new int[slots];
        for (int i = 0; i < slots; i++) {
            free[i] = slots - 1 - i;
        }
        freeCount = slots;
    }

    int capacity() {
        return free.length;
    }

    int freeCount() {
        return freeCount;
    }

    /** {@code n} slots, or null when fewer are free. */
    int[] allocate(int n) {
        if (n > freeCount) {
            return null;
        }
        int[] slots = new int[n];
        for (int i = 0; i < n; i++) {
            slots[i] = free[--freeCount];
        }
        return slots;
    }

    void release(int[] slots) {
        for (int slot : slots) {
            free[freeCount++] = slot;
        }
    }

    /**
     * Moves {@code seq}'s blocks to swap slots in {@code step} and gives the blocks back to the
     * pool; false (nothing moved) when the slots are too few.
     */
    boolean swapOut(Sequence seq, SchedulerStep step, KvCacheManager kv) {
        int blocks = seq.blocks().size();
        int[] slots = blocks > 0 ? allocate(blocks) : null;
        if (slots == null) {
            return false;
        }
        int[] pairs = new int[step.swapOut.length + 2 * blocks];
        System.arraycopy(step.swapOut, 0, pairs, 0, step.swapOut.length);
        for (int b = 0; b < blocks; b++) {
            pairs[step.swapOut.length + 2 * b] = seq.blocks().get(b).id();
            pairs[step.swapOut.length + 2 * b + 1] = slots[b];
        }
        step.swapOut = pairs;
        kv.release(seq.blocks());
        seq.swapSlots = slots;
        return true;
    }

    /** Moves a swapped {@code seq} back into new blocks of {@code pool} in {@code step} and frees its slots. */
    void swapIn(Sequence seq, SchedulerStep step, KvCacheManager kv, BlockPool pool) {
        int[] slots = seq.swapSlots;
        List<KvBlock> blocks = pool.allocate(slots.length);
        int[] pairs = new int[step.swapIn.length + 2 * slots.length];
        System.arraycopy(step.swapIn, 0, pairs, 0, step.swapIn.length);
        for (int b = 0; b < slots.length; b++) {
            pairs[step.swapIn.length + 2 * b] = slots[b];
            pairs[step.swapIn.length + 2 * b + 1] = blocks.get(b).id();
        }
        step.swapIn = pairs;
        kv.adopt(seq.blocks(), blocks);
        release(slots); // safe: no step swaps out and in at once (swap-ins need no preemption)
        seq.swapSlots = null;
    }
}
