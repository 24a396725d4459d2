package dev.sluice.scheduler.kv;

import java.util.ArrayList;
import java.util.List;

/**
 * Every physical KV block, with reference counts, the {@link FreeList} (which is also the
 * prefix cache's LRU), and the prefix cache's entries (found through its {@link PrefixIndex});
 * where a sequence's blocks go, so that the engine reads them in place.
 *
 * <p>The free list doubles as the prefix cache's LRU: a freed block that still holds cached
 * content goes to the tail and keeps its cache entry, so a later request with the same prefix can
 * take it back; allocation takes from the head, evicting the cache entry of the block it reuses,
 * so the least recently freed cached blocks go first. Freed blocks without cached content go to
 * the head: they are worthless and should be reused before anything cached. All operations are
 * O(1).
 *
 * <p>Besides full blocks, found by content hash, the cache keeps <b>tails</b>: the last, partly
 * filled block of a finished or preempted sequence. Every cached block is also indexed under its
 * parent ({@link #childrenKey}), so a prompt that diverges from a cached one in the middle of a
 * block, or that continues a finished sequence, still reuses the tokens it shares
 * ({@link #longestPartialMatch}): token-granular reuse at the end of the prefix, where block
 * granularity would recompute up to a block of tokens (for a one-block prompt, all of it).
 *
 * <p>Invariant, checked by {@link #checkInvariants()}: every block is either free (in the list,
 * no references) or in use (references, not in the list); cached blocks are a subset of either.
 * Engine-thread only.
 */
public final class BlockPool {

    private final KvBlock[] blocks;
    private final PrefixIndex index = new PrefixIndex();
    private final FreeList free = new FreeList();
    private final FreeRuns runs;

    public BlockPool(int blockCount) {
        if (blockCount <= 0) {
            throw new IllegalArgumentException("block count must be positive: " + blockCount);
        }
        blocks = new KvBlock[blockCount];
        for (int i = 0; i < blockCount; i++) {
            blocks[i] = new KvBlock(i);
            free.addNew(blocks[i]);
        }
        runs = new FreeRuns(blocks, free);
    }

    public int size() {
        return blocks.length;
    }

    /** Blocks that can be allocated now (including cached ones that would be evicted). */
    public int freeCount() {
        return free.count();
    }

    /** Free blocks still holding cached content. */
    public int cachedFreeCount() {
        return free.cachedCount();
    }

    /** Blocks referenced by at least one sequence. */
    public int usedCount() {
        return blocks.length - free.count();
    }

    /** Blocks in the prefix cache (full ones and tails), in use or free. */
    public int cachedCount() {
        return index.fullBlocks() + index.tails();
    }

    public KvBlock block(int id) {
        return blocks[id];
    }

    /** Takes the least valuable free block (reference count 1), or null when none is free. */
    public KvBlock allocate() {
        KvBlock block = free.first();
        return block == null ? null : take(block);
    }

    /**
     * Takes the block right after {@code previous} when it is free and holds no cached content,
     * so a sequence's blocks stay physically consecutive and the engine reads its K/V in place
     * rather than through a gather; otherwise {@link #allocate()}. With no {@code previous} (a
     * sequence's first block): {@link #allocateFirst}.
     *
     * <p>Once every free block holds cached content (a server that has run a while), {@link
     * #allocate()} evicts one anyway, and would scatter every new sequence: then the block after
     * {@code previous} is taken, and its content evicted instead, when it is in the older half of
     * the free list (freed no later than halfway between the oldest and the newest). Recently
     * freed prefixes, a conversation's next turn likely among them, stay. Blocks another
     * sequence has claimed are left to it.
     */
    public KvBlock allocateAfter(KvBlock previous) {
        return allocateAfter(previous, null, 1);
    }

    /**
     * As {@link #allocateAfter(KvBlock)} for the sequence of {@code table}, which expects to need
     * {@code wanted} more blocks (this one included): the block after {@code previous} is taken
     * when it is free for it (claimed for it, or as above); otherwise the sequence goes on in a
     * new run, placed and claimed as {@link #allocateFirst(int, BlockTable)} places a new one,
     * rather than at the head of the free list, which is likely where another sequence's room is.
     */
    public KvBlock allocateAfter(KvBlock previous, BlockTable table, int wanted) {
        if (previous == null) {
            return allocateFirst(wanted, table);
        }
        if (previous.id() + 1 < blocks.length && runs.takesInPlace(blocks[previous.id() + 1], table)) {
            return take(blocks[previous.id() + 1]);
        }
        return table == null ? allocate() : allocateFirst(wanted, table);
    }

    /**
     * Takes a sequence's first block where the sequence has room to grow in place: in the longest
     * run of blocks {@link #allocateAfter} would take, at its start when no sequence can grow
     * into it from the left (it starts the pool, or follows a free block), else in its middle, so
     * that sequence keeps half the run to grow into. Sequences admitted together spread out over
     * the pool as llama.cpp's slots do, and their blocks stay consecutive far longer than when
     * each takes the free list's first block, right where another one ends. Taken early enough in
     * the run that the {@code wanted} blocks the sequence needs now (its prompt's) fit in it,
     * when they can. Falls back to {@link #allocate()} when no run is two blocks long.
     * O(blocks): once per sequence.
     */
    public KvBlock allocateFirst(int wanted) {
        return allocateFirst(wanted, null);
    }

    /**
     * As {@link #allocateFirst(int)} for the sequence of {@code table} (null: none), which
     * expects to fill {@code wanted} blocks from this one (its prompt and room for its output),
     * and <b>claims</b> the free blocks after it, up to {@code wanted} in all: {@link
     * #allocateAfter} leaves claimed blocks to their sequence, and new sequences are placed
     * outside them, so the sequence grows in place however many others start meanwhile. Without
     * claims, 64 sequences that start and grow at once each took half of the longest free run
     * for the next one and then grew into each other: 86% of a served chat-like run's decode KV
     * rows were gathered. The run chosen is the shortest that holds {@code wanted} blocks (long
     * runs stay for long sequences) among blocks free of recent cached content; else the run of
     * any unclaimed free blocks whose content is the least recently freed (evicted: a prefix
     * cache entry costs its recompute once, a gathered sequence costs a gather every step); else
     * the longest run ({@link FreeRuns#placement}). A claim is a
     * hint, not a reservation: claimed blocks count as free, and {@link #allocate()} takes them
     * when nothing else is free. It ends when the sequence's blocks are released ({@link
     * #unclaim}).
     */
    public KvBlock allocateFirst(int wanted, BlockTable table) {
        int[] run = table == null ? runs.longestRun() : runs.placement(wanted);
        if (run[1] < 2) {
            if (table != null) {
                runs.unclaim(table); // it goes on elsewhere
            }
            return allocate();
        }
        int first = runs.startIn(run, wanted);
        KvBlock block = take(blocks[first]);
        if (table != null) {
            runs.claim(table, first + 1, Math.min(first + wanted, run[0] + run[1]));
        }
        return block;
    }

    /**
     * {@code n} consecutive blocks, taken as {@link #allocateFirst} places a sequence in the
     * longest run of blocks {@link #allocateAfter} would take; failing that, in the longest run of
     * free blocks whatever they cache (their entries are evicted); null (nothing taken) when no
     * run of free blocks is {@code n} long.
     *
     * <p>The fallback is for a cached prefix moved so that it is read in place: each move leaves
     * the blocks after the one before it cached (the last request's own prompt and output, freed
     * just now), so one shared prefix moved request after request cut the pool into runs a little
     * shorter than itself, and from the 50th request on (a new prefix every 12, one request at a
     * time) no run was long enough: 91% of the KV rows attended were gathered. A prefix known to be
     * used again is worth more than the recently freed blocks it displaces.
     */
    public List<KvBlock> allocateRun(int n) {
        if (n <= 0) {
            return null;
        }
        int[] run = runs.longestRun(false);
        if (run[1] < n) {
            run = runs.longestRun(true);
        }
        if (run[1] < n) {
            return null;
        }
        int first = runs.startIn(run, n);
        List<KvBlock> taken = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            taken.add(take(blocks[first + i]));
        }
        return taken;
    }

    /** Whether the block after {@code last} is one {@link #allocateAfter} would take. */
    public boolean extendsInPlace(KvBlock last) {
        return last.id() + 1 < blocks.length && runs.takesInPlace(blocks[last.id() + 1], null);
    }

    /**
     * Hands the cache entries of {@code from}'s full cached blocks to {@code to}'s blocks, which
     * hold (or are about to hold, by a copy the engine makes first) the same content: the n-th
     * takes the n-th's hash and tokens, and every cached block whose parent was one of
     * {@code from} gets the matching block of {@code to} as its parent, so chains of lookups run
     * through the new blocks as through the old. Both lists' blocks are in use; {@code to}'s
     * hold no cache entry yet. O(blocks).
     */
    public void moveCacheEntries(List<KvBlock> from, List<KvBlock> to) {
        java.util.Map<Integer, Integer> parents = new java.util.HashMap<>();
        for (int i = 0; i < from.size(); i++) {
            if (from.get(i).free || to.get(i).free) {
                throw new IllegalStateException("cannot move the cache entry of " + from.get(i) + " to " + to.get(i));
            }
            evictIfPushedOut(index.move(from.get(i), to.get(i)));
            parents.put(from.get(i).id(), to.get(i).id());
        }
        for (KvBlock b : blocks) {
            if (b.cached) {
                b.parentId = parents.getOrDefault(b.parentId, b.parentId);
            }
        }
    }

    private KvBlock take(KvBlock block) {
        free.remove(block);
        block.claimant = null;
        if (block.cached) {
            evict(block);
        }
        block.refCount = 1;
        return block;
    }

    /** Ends the claim of {@code table}'s sequence on the blocks after its own (none: nothing). */
    public void unclaim(BlockTable table) {
        runs.unclaim(table);
    }

    /** Takes {@code n} blocks for one sequence, consecutive where they can be, or none at all when fewer are free. */
    public List<KvBlock> allocate(int n) {
        if (n > free.count()) {
            return null;
        }
        List<KvBlock> taken = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            taken.add(i == 0 ? allocateFirst(n) : allocateAfter(taken.get(i - 1)));
        }
        return taken;
    }

    /** Adds a reference (a prefix-cache hit, or a forked sequence sharing the block). */
    public void retain(KvBlock block) {
        if (block.free) {
            free.remove(block);
            block.claimant = null; // a prefix-cache hit on a block claimed for another sequence's growth
        }
        block.refCount++;
    }

    /** Drops a reference; at zero the block becomes free (keeping its cached content, if any). */
    public void release(KvBlock block) {
        if (block.refCount <= 0) {
            throw new IllegalStateException("releasing " + block + " with no references");
        }
        if (--block.refCount == 0) {
            free.add(block); // keeping cached content: the LRU's tail; else reused first
        }
    }

    /**
     * Records that {@code block} (in use, full) holds {@code tokens} after the block
     * {@code parentId} (-1 for a sequence's first block), under {@code hash}. A second block with
     * the same hash is not cached: the first one serves the prefix.
     */
    public void cache(KvBlock block, long hash, int[] tokens, int parentId, long parentKey) {
        if (block.cached || block.free || index.holdsHash(hash)) {
            return;
        }
        block.cached = true;
        block.hash = hash;
        block.tokens = tokens;
        block.parentId = parentId;
        evictIfPushedOut(index.addFull(block, parentKey));
    }

    /**
     * Records that {@code block} (in use by one sequence that is about to release it, partly
     * filled) holds the KV of {@code tokens} after block {@code parentId}.
     */
    public void cacheTail(KvBlock block, int[] tokens, int parentId, long parentKey) {
        if (block.cached || block.free || block.refCount != 1 || tokens.length == 0) {
            return;
        }
        block.cached = true;
        block.tail = true;
        block.tokens = tokens;
        block.parentId = parentId;
        evictIfPushedOut(index.addTail(block, parentKey));
    }

    /**
     * The cached block under {@code parentKey}, after block {@code parentId}, whose tokens share
     * the longest prefix with {@code tokens[from, from + max)}, or null when none shares one. Its
     * shared length is left in {@code matched[0]}.
     */
    public KvBlock longestPartialMatch(long parentKey, int parentId, int[] tokens, int from, int max, int[] matched) {
        return index.longestPartialMatch(parentKey, parentId, tokens, from, max, matched);
    }

    /** The key a block's children are indexed under: its content hash, or the root's per salt. */
    public static long childrenKey(long parentHash, long salt) {
        return PrefixHasher.hash(parentHash, null, 0, 0, salt);
    }

    /**
     * The cached block holding exactly {@code tokens} after block {@code parentId}, or null. The
     * hash only finds a candidate; its tokens and parent are compared, so a hash collision can
     * never hand one prompt's KV to another.
     */
    public KvBlock lookup(long hash, int[] tokens, int from, int parentId) {
        return index.lookup(hash, tokens, from, parentId);
    }

    /** Throws if the bookkeeping is inconsistent; cheap enough for tests, not for every step. */
    public void checkInvariants() {
        free.check();
        int cached = 0;
        int tails = 0;
        for (KvBlock b : blocks) {
            if (b.tail) {
                tails++;
                if (!b.cached) {
                    throw new IllegalStateException("uncached tail " + b);
                }
            }
            if (b.free == (b.refCount > 0) || b.claimant != null && !b.free) {
                throw new IllegalStateException("inconsistent " + b);
            }
            if (b.cached && !b.tail) {
                cached++;
                if (!index.indexes(b)) {
                    throw new IllegalStateException("cached " + b + " is not in the index");
                }
            }
        }
        if (cached != index.fullBlocks() || tails != index.tails()) {
            throw new IllegalStateException("counts: cached " + cached + "/" + index.fullBlocks() + ", tails " + tails
                    + "/" + index.tails());
        }
    }

    private void evictIfPushedOut(KvBlock tail) {
        if (tail != null) {
            evict(tail);
        }
    }

    private void evict(KvBlock block) {
        index.remove(block);
        block.tail = false;
        block.cached = false;
        block.tokens = null;
        free.uncached(block);
    }
}
