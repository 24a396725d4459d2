package dev.sluice.scheduler;

/** Accounting of host swap slots (each holds one block); the engine owns their memory. */
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
}
