package dev.sluice.scheduler.kv;

/**
 * The scheduler's record of one physical KV block: who references it and, once it is full and
 * cached, what it holds. Its links make the free list intrusive, so freeing and allocating a
 * block are O(1) whatever the pool size.
 */
public final class KvBlock {

    private final int id;
    int refCount;

    /** Set while the block is in the prefix cache: its content hash, tokens and parent. */
    boolean cached;
    long hash;
    int[] tokens;
    int parentId;

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
        return "KvBlock[" + id + ", refs=" + refCount + (cached ? ", cached" : "") + (free ? ", free" : "") + "]";
    }
}
