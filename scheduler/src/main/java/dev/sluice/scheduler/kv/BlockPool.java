package dev.sluice.scheduler.kv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every physical KV block, with reference counts, one free list, and the prefix cache index.
 *
 * <p>The free list doubles as the prefix cache's LRU: a freed block that still holds cached
 * content goes to the tail and keeps its cache entry, so a later request with the same prefix can
 * take it back; allocation takes from the head, evicting the cache entry of the block it reuses,
 * so the least recently freed cached blocks go first. Freed blocks without cached content go to
 * the head: they are worthless and should be reused before anything cached. All operations are
 * O(1).
 *
 * <p>Invariant, checked by {@link #checkInvariants()}: every block is either free (in the list,
 * no references) or in use (references, not in the list); cached blocks are a subset of either.
 * Engine-thread only.
 */
public final class BlockPool {

    private final KvBlock[] blocks;
    private final Map<Long, KvBlock> cache = new HashMap<>();
    private final KvBlock head = new KvBlock(-1); // sentinel: head.nextFree is the first free block
    private int freeCount;
    private int cachedFreeCount;

    public BlockPool(int blockCount) {
        if (blockCount <= 0) {
            throw new IllegalArgumentException("block count must be positive: " + blockCount);
        }
        blocks = new KvBlock[blockCount];
        head.prevFree = head;
        head.nextFree = head;
        for (int i = 0; i < blockCount; i++) {
            blocks[i] = new KvBlock(i);
            linkBefore(head, blocks[i]);
        }
    }

    public int size() {
        return blocks.length;
    }

    /** Blocks that can be allocated now (including cached ones that would be evicted). */
    public int freeCount() {
        return freeCount;
    }

    /** Free blocks still holding cached content. */
    public int cachedFreeCount() {
        return cachedFreeCount;
    }

    /** Blocks referenced by at least one sequence. */
    public int usedCount() {
        return blocks.length - freeCount;
    }

    /** Blocks in the prefix cache, in use or free. */
    public int cachedCount() {
        return cache.size();
    }

    public KvBlock block(int id) {
        return blocks[id];
    }

    /** Takes the least valuable free block (reference count 1), or null when none is free. */
    public KvBlock allocate() {
        KvBlock block = head.nextFree;
        if (block == head) {
            return null;
        }
        unlink(block);
        if (block.cached) {
            evict(block);
        }
        block.refCount = 1;
        return block;
    }

    /** Takes {@code n} blocks, or none at all when fewer are free. */
    public List<KvBlock> allocate(int n) {
        if (n > freeCount) {
            return null;
        }
        List<KvBlock> taken = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            taken.add(allocate());
        }
        return taken;
    }

    /** Adds a reference (a prefix-cache hit, or a forked sequence sharing the block). */
    public void retain(KvBlock block) {
        if (block.free) {
            unlink(block);
        }
        block.refCount++;
    }

    /** Drops a reference; at zero the block becomes free (keeping its cached content, if any). */
    public void release(KvBlock block) {
        if (block.refCount <= 0) {
            throw new IllegalStateException("releasing " + block + " with no references");
        }
        if (--block.refCount == 0) {
            if (block.cached) {
                linkBefore(head, block); // tail: most recently used
            } else {
                linkBefore(head.nextFree, block); // head: reuse first
            }
        }
    }

    /**
     * Records that {@code block} (in use, full) holds {@code tokens} after the block
     * {@code parentId} (-1 for a sequence's first block), under {@code hash}. A second block with
     * the same hash is not cached: the first one serves the prefix.
     */
    public void cache(KvBlock block, long hash, int[] tokens, int parentId) {
        if (block.cached || block.free || cache.containsKey(hash)) {
            return;
        }
        block.cached = true;
        block.hash = hash;
        block.tokens = tokens;
        block.parentId = parentId;
        cache.put(hash, block);
    }

    /**
     * The cached block holding exactly {@code tokens} after block {@code parentId}, or null. The
     * hash only finds a candidate; its tokens and parent are compared, so a hash collision can
     * never hand one prompt's KV to another.
     */
    public KvBlock lookup(long hash, int[] tokens, int from, int parentId) {
        KvBlock block = cache.get(hash);
        if (block == null || block.parentId != parentId) {
            return null;
        }
        int[] held = block.tokens;
        for (int i = 0; i < held.length; i++) {
            if (held[i] != tokens[from + i]) {
                return null;
            }
        }
        return block;
    }

    /** Throws if the bookkeeping is inconsistent; cheap enough for tests, not for every step. */
    public void checkInvariants() {
        int free = 0;
        int cachedFree = 0;
        for (KvBlock b = head.nextFree; b != head; b = b.nextFree) {
            if (!b.free || b.refCount != 0) {
                throw new IllegalStateException("free list holds " + b);
            }
            free++;
            if (b.cached) {
                cachedFree++;
            }
        }
        int cached = 0;
        for (KvBlock b : blocks) {
            if (b.free == (b.refCount > 0)) {
                throw new IllegalStateException("inconsistent " + b);
            }
            if (b.cached) {
                cached++;
                if (cache.get(b.hash) != b) {
                    throw new IllegalStateException("cached " + b + " is not in the index");
                }
            }
        }
        if (free != freeCount || cachedFree != cachedFreeCount || cached != cache.size()) {
            throw new IllegalStateException("counts: free " + free + "/" + freeCount + ", cached free " + cachedFree
                    + "/" + cachedFreeCount + ", cached " + cached + "/" + cache.size());
        }
    }

    private void evict(KvBlock block) {
        cache.remove(block.hash);
        block.cached = false;
        block.tokens = null;
        if (block.free) {
            cachedFreeCount--;
        }
    }

    private void linkBefore(KvBlock next, KvBlock block) {
        KvBlock prev = next.prevFree;
        block.prevFree = prev;
        block.nextFree = next;
        prev.nextFree = block;
        next.prevFree = block;
        block.free = true;
        freeCount++;
        if (block.cached) {
            cachedFreeCount++;
        }
    }

    private void unlink(KvBlock block) {
        block.prevFree.nextFree = block.nextFree;
        block.nextFree.prevFree = block.prevFree;
        block.prevFree = null;
        block.nextFree = null;
        block.free = false;
        freeCount--;
        if (block.cached) {
            cachedFreeCount--;
        }
    }
}
