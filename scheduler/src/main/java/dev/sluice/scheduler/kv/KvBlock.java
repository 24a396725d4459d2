package dev.sluice.scheduler.kv;

/**
 * The scheduler's record of one physical KV block: who references it and, once it is full and
 * cached, what it holds. Its links make the free list intrusive, so freeing and allocating a
 * block are O(1) whatever the pool size.
 */
public final class KvBlock {

    private final int id;
    int refCount;

    /**
     * Set while the block is in the prefix cache: its content hash (full blocks only), tokens and
     * parent, and the key of its parent's children in the pool's index. A cached block is never
     * written: a sequence that continues from one writes into a copy.
     */
    boolean cached;
    long hash;
    int[] tokens;
    int parentId;
    long parentKey;
    /** A cached partial block: the computed tail of a finished or preempted sequence. */
    boolean tail;

    /** When it last became free while cached, on the pool's release clock: its place in the LRU order. */
    long freedAt;

    /**
     * Set while the block is free and claimed: the sequence (its table) expected to grow into it
     * ({@link BlockPool#allocateFirst(int, BlockTable)}), whom in-place allocation leaves it to.
     */
    BlockTable claimant;

    KvBlock prevFree;
    KvBlock nextFree;
    boolean free;

    KvBlock(int id) {
        this.id = id;
    }

    /** The physical block index in the engine's KV pools. */
    public int id() {
        return id;
    }

    public int refCount() {
        return refCount;
    }

    public boolean isCached() {
        return cached;
    }

    @Override
    public String toString() {
        return "KvBlock[" + id + ", refs=" + refCount + (cached ? ", cached" : "") + (free ? ", free" : "")
                + (claimant != null ? ", claimed" : "") + "]";
    }
}
