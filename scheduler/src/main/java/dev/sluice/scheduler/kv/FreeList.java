package dev.sluice.scheduler.kv;

/**
 * The free blocks, in the order they are reused: a doubly linked list through the blocks
 * themselves, which doubles as the prefix cache's LRU. Blocks without cached content go to the
 * head (reused first: they are worthless); blocks that keep cached content go to the tail, stamped
 * with the time they were freed, so the least recently freed cached blocks are reused first. All
 * operations are O(1). Engine-thread only.
 */
final class FreeList {

    private final KvBlock head = new KvBlock(-1); // sentinel: head.nextFree is the first free block
    private int count;
    private int cached;
    /** Counts cached blocks becoming free: {@link KvBlock#freedAt} orders the LRU. */
    private long clock;

    FreeList() {
        head.prevFree = head;
        head.nextFree = head;
    }

    int count() {
        return count;
    }

    /** Free blocks still holding cached content. */
    int cachedCount() {
        return cached;
    }

    /** The block reused next, or null when none is free. */
    KvBlock first() {
        return head.nextFree == head ? null : head.nextFree;
    }

    /** A new pool's block, in id order: the list starts out as blocks 0, 1, 2, … */
    void addNew(KvBlock block) {
        linkBefore(head, block);
    }

    /** A block that has just lost its last reference: to the tail if it keeps cached content, else the head. */
    void add(KvBlock block) {
        if (block.cached) {
            block.freedAt = ++clock;
            linkBefore(head, block);
        } else {
            linkBefore(head.nextFree, block);
        }
    }

    void remove(KvBlock block) {
        block.prevFree.nextFree = block.nextFree;
        block.nextFree.prevFree = block.prevFree;
        block.prevFree = null;
        block.nextFree = null;
        block.free = false;
        count--;
        if (block.cached) {
            cached--;
        }
    }

    /** A free block's cached content was evicted. */
    void uncached(KvBlock block) {
        if (block.free) {
            cached--;
        }
    }

    /**
     * Whether {@code block} (free, cached) is in the older half of a list that holds only cached
     * blocks: freed no later than halfway between the oldest and the newest.
     */
    boolean olderHalf(KvBlock block) {
        KvBlock oldest = head.nextFree;
        return oldest != head && oldest.cached && block.freedAt - oldest.freedAt <= (clock - oldest.freedAt) / 2;
    }

    /** Throws unless the links and counts agree with the blocks' flags (tests). */
    void check() {
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
        if (free != count || cachedFree != cached) {
            throw new IllegalStateException("free list counts: " + free + "/" + count + ", cached " + cachedFree + "/" + cached);
        }
    }

    private void linkBefore(KvBlock next, KvBlock block) {
        KvBlock prev = next.prevFree;
        block.prevFree = prev;
        block.nextFree = next;
        prev.nextFree = block;
        next.prevFree = block;
        block.free = true;
        count++;
        if (block.cached) {
            cached++;
        }
    }
}
