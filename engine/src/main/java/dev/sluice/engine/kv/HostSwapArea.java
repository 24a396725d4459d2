package dev.sluice.engine.kv;

import dev.sluice.bindings.HostMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host memory where preempted sequences' blocks wait: {@code slots} slots of one KV block each
 * (all layers, K and V), allocated once from this class's own {@link Arena}. Which slot holds
 * what is the scheduler's bookkeeping; this class only moves bytes. Engine-thread only.
 */
public final class HostSwapArea implements AutoCloseable {

    private final KvCache cache;
    private final int slots;
    private final long slotBytes;
    private final Arena arena;
    private final MemorySegment memory;
    private boolean closed;

    public HostSwapArea(KvCache cache, int slots) {
        if (slots < 0) {
            throw new IllegalArgumentException("negative swap slots");
        }
        this.cache = cache;
        this.slots = slots;
        this.slotBytes = cache.blockBytes();
        this.arena = Arena.ofShared();
        this.memory = slots == 0 ? MemorySegment.NULL : HostMemory.reserve(slotBytes * slots, arena);
    }

    /** How many slots fit in {@code bytes}. */
    public static int slotsForBudget(KvCache cache, long bytes) {
        return (int) Math.min(Integer.MAX_VALUE, bytes / cache.blockBytes());
    }

    public int slots() {
        return slots;
    }

    public long bytes() {
        return slotBytes * slots;
    }

    public void swapOut(int block, int slot) {
        cache.swapOut(block, slot(slot));
    }

    public void swapIn(int slot, int block) {
        cache.swapIn(slot(slot), block);
    }

    private MemorySegment slot(int slot) {
        if (closed) {
            throw new IllegalStateException("HostSwapArea is closed");
        }
        if (slot < 0 || slot >= slots) {
            throw new IndexOutOfBoundsException("swap slot " + slot + " outside [0, " + slots + ")");
        }
        return memory.asSlice(slot * slotBytes, slotBytes);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
