package dev.sluice.scheduler.kv;

/**
 * Gives sequences the blocks they need, shares blocks between sequences, and maintains the
 * prefix cache.
 *
 * <ul>
 *   <li><b>Prefix caching:</b> when a sequence is admitted, its leading full blocks are looked up
 *       by content ({@link PrefixHasher}) and reused without recomputation; as blocks fill up
 *       they are entered into the cache. Past the last full block that matches, the prompt can
 *       still share the first tokens of a cached block (one it diverges from mid-block, or a
 *       finished sequence's partly filled last block): the sequence takes a copy of that block
 *       and skips those tokens too. At least one prompt token is always left to compute, since its
 *       logits are needed.</li>
 *   <li><b>Sharing:</b> a forked sequence ({@code n > 1}) references its parent's blocks.
 *       Shared blocks are never written: a sequence about to write into a shared, partially
 *       filled block first gets its own copy (copy-on-write), which the engine performs.</li>
 * </ul>
 *
 * Engine-thread only.
 */
public final class KvCacheManager {

    /** Fewer cached blocks than this are gathered rather than copied into place (a copy has a fixed cost per block). */
    static final int MIN_RELOCATED_BLOCKS = 4;

    private final BlockPool pool;
    private final int blockSize;
    private final boolean prefixCaching;
    private long prefixQueryTokens;
    private long prefixHitTokens;

    public KvCacheManager(BlockPool pool, int blockSize, boolean prefixCaching) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive");
        }
        this.pool = pool;
        this.blockSize = blockSize;
        this.prefixCaching = prefixCaching;
    }

    public BlockPool pool() {
        return pool;
    }

    public int blockSize() {
        return blockSize;
    }

    /** Blocks needed to hold {@code tokens} tokens. */
    public int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    /**
     * For a sequence with an empty table about to compute {@code tokens[0, length)}: takes
     * references on the cached blocks matching its longest full-block prefix (leaving at least one
     * token to compute) and returns how many tokens they cover.
     */
    public int acquireCachedPrefix(BlockTable table, int[] tokens, int length, long salt) {
        if (table.size() != 0) {
            throw new IllegalStateException("prefix lookup on a sequence that already has blocks");
        }
        if (!prefixCaching) {
            return 0;
        }
        int candidates = (length - 1) / blockSize;
        long parentHash = PrefixHasher.ROOT;
        int parentId = -1;
        int matched = 0;
        for (int i = 0; i < candidates; i++) {
            long hash = PrefixHasher.hash(parentHash, tokens, i * blockSize, blockSize, salt);
            KvBlock block = pool.lookup(hash, tokens, i * blockSize, parentId);
            if (block == null) {
                break;
            }
            pool.retain(block);
            table.add(block);
            table.setHash(i, hash);
            parentHash = hash;
            parentId = block.id();
            matched++;
        }
        table.hashedBlocks = matched;
        int reused = matched * blockSize;
        // Token-granular reuse past the full blocks: the cached block is shared until the first
        // write, which copies it (reserve), so the cache keeps its content.
        int[] partial = new int[1];
        KvBlock block = pool.longestPartialMatch(BlockPool.childrenKey(parentHash, salt), parentId, tokens, reused,
                Math.min(blockSize - 1, length - 1 - reused), partial);
        if (block != null) {
            pool.retain(block);
            table.add(block);
            reused += partial[0];
        }
        prefixQueryTokens += length;
        prefixHitTokens += reused;
        return reused;
    }

    /**
     * For a sequence that has just taken cached blocks ({@link #acquireCachedPrefix}) and holds
     * them alone: when they are scattered, or no free block follows them, moves them into a run
     * of consecutive blocks with room for {@code wantedTokens}, so the engine reads the sequence's
     * context in place instead of gathering it on every step. The engine copies the blocks first
     * (recorded in {@code copies}): the prefix is copied once instead of gathered once per step.
     * The cache entries move with the content, so later prompts find the prefix in the run, and
     * the blocks after it; the old blocks go back to the pool uncached. Changes nothing and
     * returns false when the blocks are already in place, are shared, or no run is long enough.
     *
     * <p>Only for a sequence alone on the engine (the caller's rule): sequences that share a
     * prefix's blocks attend to it once for all of them (cascade attention), which copies would
     * undo.
     */
    public boolean relocateCachedPrefix(BlockTable table, int wantedTokens, BlockCopies copies) {
        int held = table.size();
        if (!prefixCaching || held < MIN_RELOCATED_BLOCKS) {
            return false;
        }
        boolean consecutive = true;
        for (int i = 0; i < held; i++) {
            if (table.get(i).refCount() != 1) {
                return false;
            }
            consecutive &= i == 0 || table.get(i).id() == table.get(i - 1).id() + 1;
        }
        int wanted = Math.max(held + 1, blocksFor(wantedTokens));
        if (consecutive && pool.extendsInPlace(table.last())) {
            return false;
        }
        java.util.List<KvBlock> run = pool.allocateRun(wanted);
        if (run == null) {
            return false;
        }
        java.util.List<KvBlock> old = new java.util.ArrayList<>(held);
        for (int i = 0; i < held; i++) {
            old.add(table.get(i));
            copies.add(table.get(i).id(), run.get(i).id());
        }
        // Full blocks matched by hash hand over their entries; a partly shared last block keeps its own (the sequence writes into its copy).
        pool.moveCacheEntries(old.subList(0, table.hashedBlocks), run.subList(0, table.hashedBlocks));
        for (int i = 0; i < held; i++) {
            table.set(i, run.get(i));
            pool.release(old.get(i));
        }
        for (int i = held; i < wanted; i++) {
            table.add(run.get(i));
        }
        return true;
    }

    /**
     * Records that the sequence of {@code table} is expected to reach {@code tokens} tokens (its
     * prompt and room for output): its first block is placed where that many fit, and the blocks
     * after it are claimed for it ({@link BlockPool#allocateFirst(int, BlockTable)}).
     */
    public void expect(BlockTable table, int tokens) {
        table.expectedBlocks = blocksFor(tokens);
    }

    /**
     * Blocks {@link #reserve} would take from the pool for {@code newTokens} more tokens after
     * {@code computed} ones, including a copy-on-write of a shared last block.
     */
    public int blocksNeeded(BlockTable table, int computed, int newTokens) {
        int needed = Math.max(0, blocksFor(computed + newTokens) - table.size());
        if (writesIntoSharedBlock(table, computed)) {
            needed++;
        }
        return needed;
    }

    /**
     * Makes room for {@code newTokens} tokens after the first {@code computed}: copies a shared last
     * block the new tokens would write into (recording the copy in {@code copies}) and appends
     * blocks. Changes nothing and returns false when the pool has too few free blocks.
     */
    public boolean reserve(BlockTable table, int computed, int newTokens, BlockCopies copies) {
        int needed = blocksNeeded(table, computed, newTokens);
        if (needed > pool.freeCount()) {
            return false;
        }
        if (writesIntoSharedBlock(table, computed)) {
            int index = computed / blockSize;
            KvBlock shared = table.get(index);
            KvBlock own = pool.allocateAfter(index > 0 ? table.get(index - 1) : null, table,
                    Math.max(blocksFor(computed + newTokens), table.expectedBlocks) - index);
            copies.add(shared.id(), own.id());
            table.set(index, own);
            pool.release(shared);
        }
        int blocks = blocksFor(computed + newTokens);
        int expected = Math.max(blocks, table.expectedBlocks);
        while (table.size() < blocks) {
            // next to the sequence's last block when that one is free: consecutive blocks are read in place
            table.add(pool.allocateAfter(table.last(), table, expected - table.size()));
        }
        return true;
    }

    /** Enters the blocks that the first {@code computed} tokens have filled into the prefix cache. */
    public void cacheFullBlocks(BlockTable table, int[] tokens, int computed, long salt) {
        if (!prefixCaching) {
            return;
        }
        int full = Math.min(computed / blockSize, table.size());
        for (int i = table.hashedBlocks; i < full; i++) {
            long parentHash = i == 0 ? PrefixHasher.ROOT : table.hash(i - 1);
            long hash = PrefixHasher.hash(parentHash, tokens, i * blockSize, blockSize, salt);
            int[] content = java.util.Arrays.copyOfRange(tokens, i * blockSize, (i + 1) * blockSize);
            pool.cache(table.get(i), hash, content, i == 0 ? -1 : table.get(i - 1).id(),
                    BlockPool.childrenKey(parentHash, salt));
            table.setHash(i, hash);
        }
        table.hashedBlocks = Math.max(table.hashedBlocks, full);
    }

    /**
     * Before a sequence releases its blocks: enters its partly filled last block, holding the KV of
     * {@code tokens[full blocks, computed)}, into the prefix cache, so a prompt that continues it
     * (the next turn of a conversation, the same prompt again, a preempted sequence coming back)
     * computes only what is new.
     */
    public void cacheTail(BlockTable table, int[] tokens, int computed, long salt) {
        int full = computed / blockSize;
        int rows = computed % blockSize;
        if (!prefixCaching || rows == 0 || table.size() <= full || table.hashedBlocks < full) {
            return;
        }
        long parentHash = full == 0 ? PrefixHasher.ROOT : table.hash(full - 1);
        int[] content = java.util.Arrays.copyOfRange(tokens, full * blockSize, computed);
        pool.cacheTail(table.get(full), content, full == 0 ? -1 : table.get(full - 1).id(),
                BlockPool.childrenKey(parentHash, salt));
    }

    /** Puts freshly allocated blocks (a swap-in's) into an empty table, in order. */
    public void adopt(BlockTable table, java.util.List<KvBlock> blocks) {
        if (table.size() != 0) {
            throw new IllegalStateException("adopting blocks into a non-empty table");
        }
        for (KvBlock block : blocks) {
            table.add(block);
        }
    }

    /** Gives {@code target} (empty) references to all of {@code source}'s blocks. */
    public void fork(BlockTable source, BlockTable target) {
        if (target.size() != 0) {
            throw new IllegalStateException("forking into a non-empty table");
        }
        for (int i = 0; i < source.size(); i++) {
            pool.retain(source.get(i));
            target.add(source.get(i));
            target.setHash(i, source.hash(i));
        }
        target.hashedBlocks = source.hashedBlocks;
        target.expectedBlocks = source.expectedBlocks;
    }

    /**
     * Drops the table's references, last block first: blocks of a sequence's tail, least likely to
     * be shared by future prompts, then sit ahead of its prefix in the eviction order.
     */
    public void release(BlockTable table) {
        pool.unclaim(table);
        for (int i = table.size() - 1; i >= 0; i--) {
            pool.release(table.get(i));
        }
        table.clear();
    }

    /** Prompt tokens looked up in the prefix cache so far. */
    public long prefixQueryTokens() {
        return prefixQueryTokens;
    }

    /** Prompt tokens served from the prefix cache so far. */
    public long prefixHitTokens() {
        return prefixHitTokens;
    }

    private boolean writesIntoSharedBlock(BlockTable table, int computed) {
        if (computed % blockSize == 0 || table.size() <= computed / blockSize) {
            return false;
        }
        KvBlock block = table.get(computed / blockSize);
        return block.refCount > 1 || block.cached;
    }
}
