package dev.sluice.scheduler.kv;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The prefix cache's index over cached blocks: full blocks by content hash, and every cached
 * block (full, or a tail: the partly filled last block of a finished sequence) under its parent's
 * key ({@link BlockPool#childrenKey}), so a prompt that diverges from a cached one in the middle
 * of a block, or continues a finished sequence, finds the block that shares most of its tokens.
 * Lookups compare tokens and parents, never only hashes. What a block's lifetime is (references,
 * the free list that is the cache's LRU) is {@link BlockPool}'s; this class only finds blocks.
 * Engine-thread only.
 */
final class PrefixIndex {

    /** Most children remembered per parent: bounds the scan of a partial lookup. */
    static final int MAX_CHILDREN = 16;

    private final Map<Long, KvBlock> byHash = new HashMap<>();
    private final Map<Long, ArrayDeque<KvBlock>> children = new HashMap<>();
    private int tails;

    boolean holdsHash(long hash) {
        return byHash.containsKey(hash);
    }

    /** Whether {@code block} is the one indexed under its hash (invariant checks). */
    boolean indexes(KvBlock block) {
        return byHash.get(block.hash) == block;
    }

    int fullBlocks() {
        return byHash.size();
    }

    int tails() {
        return tails;
    }

    /**
     * Indexes a full block (its hash, tokens and parent already set) under its hash and under
     * {@code parentKey}. Returns a tail the parent's children no longer have room for, which the
     * caller must evict (a tail is reachable only through this index), or null.
     */
    KvBlock addFull(KvBlock block, long parentKey) {
        byHash.put(block.hash, block);
        return addChild(block, parentKey);
    }

    /** Indexes a tail under {@code parentKey}; returns a tail to evict, as {@link #addFull}. */
    KvBlock addTail(KvBlock block, long parentKey) {
        tails++;
        return addChild(block, parentKey);
    }

    /**
     * Gives {@code to} (in use, holding no entry) the entry of the full cached block {@code from},
     * whose content it holds: hash, tokens, parent. Returns a tail to evict, as {@link #addFull}.
     */
    KvBlock move(KvBlock from, KvBlock to) {
        if (!from.cached || from.tail || to.cached) {
            throw new IllegalStateException("cannot move the cache entry of " + from + " to " + to);
        }
        long parentKey = from.parentKey;
        remove(from);
        to.cached = true;
        to.hash = from.hash;
        to.tokens = from.tokens;
        to.parentId = from.parentId;
        from.cached = false;
        from.tokens = null;
        return addFull(to, parentKey);
    }

    /** Forgets {@code block} (a full block or a tail). */
    void remove(KvBlock block) {
        if (block.tail) {
            tails--;
        } else {
            byHash.remove(block.hash);
        }
        ArrayDeque<KvBlock> list = children.get(block.parentKey);
        if (list != null && list.remove(block) && list.isEmpty()) {
            children.remove(block.parentKey);
        }
    }

    private KvBlock addChild(KvBlock block, long parentKey) {
        block.parentKey = parentKey;
        ArrayDeque<KvBlock> list = children.computeIfAbsent(parentKey, k -> new ArrayDeque<>());
        KvBlock pushedOut = null;
        if (list.size() == MAX_CHILDREN) {
            KvBlock oldest = list.peekFirst();
            if (oldest.tail) {
                pushedOut = oldest;
            } else {
                list.pollFirst(); // a full block stays reachable by its hash
            }
        }
        list.addLast(block);
        return pushedOut;
    }

    /**
     * The cached block holding exactly {@code tokens} after block {@code parentId}, or null. The
     * hash only finds a candidate; its tokens and parent are compared, so a hash collision can
     * never hand one prompt's KV to another.
     */
    KvBlock lookup(long hash, int[] tokens, int from, int parentId) {
        KvBlock block = byHash.get(hash);
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

    /**
     * The cached block under {@code parentKey}, after block {@code parentId}, whose tokens share
     * the longest prefix with {@code tokens[from, from + max)}, or null when none shares one. Its
     * shared length is left in {@code matched[0]}.
     */
    KvBlock longestPartialMatch(long parentKey, int parentId, int[] tokens, int from, int max, int[] matched) {
        ArrayDeque<KvBlock> list = children.get(parentKey);
        matched[0] = 0;
        if (list == null || max <= 0) {
            return null;
        }
        KvBlock best = null;
        for (KvBlock b : list) {
            if (b.parentId != parentId) {
                continue;
            }
            int[] held = b.tokens;
            int n = Math.min(held.length, max);
            int common = 0;
            while (common < n && held[common] == tokens[from + common]) {
                common++;
            }
            if (common > matched[0]) {
                matched[0] = common;
                best = b;
            }
        }
        return best;
    }
}
