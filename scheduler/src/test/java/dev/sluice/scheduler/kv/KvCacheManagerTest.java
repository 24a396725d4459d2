package dev.sluice.scheduler.kv;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvCacheManagerTest {

    private static final int B = 4;

    private static int[] tokens(int from, int count) {
        return IntStream.range(from, from + count).toArray();
    }

    @Test
    void aSharedPrefixIsAllocatedOnce() {
        BlockPool pool = new BlockPool(16);
        KvCacheManager kv = new KvCacheManager(pool, B, true);
        BlockCopies copies = new BlockCopies();
        int[] first = concat(tokens(100, 12), tokens(1, 3));   // 3 full shared blocks + tail
        int[] second = concat(tokens(100, 12), tokens(50, 6));

        BlockTable a = new BlockTable();
        assertEquals(0, kv.acquireCachedPrefix(a, first, first.length, 0));
        assertTrue(kv.reserve(a, 0, first.length, copies));
        kv.cacheFullBlocks(a, first, first.length, 0);
        int usedAfterFirst = pool.usedCount();

        BlockTable b = new BlockTable();
        assertEquals(12, kv.acquireCachedPrefix(b, second, second.length, 0), "three blocks hit");
        for (int i = 0; i < 3; i++) {
            assertSame(a.get(i), b.get(i));
            assertEquals(2, a.get(i).refCount());
        }
        assertTrue(kv.reserve(b, 12, second.length - 12, copies));
        assertEquals(usedAfterFirst + 2, pool.usedCount(), "only the 6-token tail needed new blocks");
        assertEquals(0, copies.size());

        BlockTable salted = new BlockTable();
        assertEquals(0, kv.acquireCachedPrefix(salted, second, second.length, 99), "another salt shares nothing");
        assertEquals(12, kv.prefixHitTokens());
        assertEquals(first.length + 2L * second.length, kv.prefixQueryTokens());
    }

    @Test
    void leavesAtLeastOneTokenToCompute() {
        BlockPool pool = new BlockPool(8);
        KvCacheManager kv = new KvCacheManager(pool, B, true);
        int[] prompt = tokens(7, 8); // exactly two blocks
        BlockTable a = new BlockTable();
        kv.reserve(a, 0, 8, new BlockCopies());
        kv.cacheFullBlocks(a, prompt, 8, 0);
        BlockTable b = new BlockTable();
        assertEquals(7, kv.acquireCachedPrefix(b, prompt, 8, 0), "the last token is recomputed for its logits");
        // It shares the cached last block's first three rows, and writes its fourth into a copy.
        assertSame(a.get(1), b.get(1));
        BlockCopies copies = new BlockCopies();
        assertEquals(1, kv.blocksNeeded(b, 7, 1));
        assertTrue(kv.reserve(b, 7, 1, copies));
        assertEquals(1, copies.size());
        assertNotEquals(a.get(1).id(), b.get(1).id());
        assertEquals(1, a.get(1).refCount(), "the cached block keeps only its owner's reference");
        pool.checkInvariants();
    }

    @Test
    void aFinishedSequencesTailServesTheSamePromptAndItsContinuation() {
        BlockPool pool = new BlockPool(8);
        KvCacheManager kv = new KvCacheManager(pool, B, true);
        int[] conversation = tokens(10, 7); // one full block and 3 tokens of a second
        BlockTable a = new BlockTable();
        assertEquals(0, kv.acquireCachedPrefix(a, conversation, 7, 0));
        kv.reserve(a, 0, 7, new BlockCopies());
        kv.cacheFullBlocks(a, conversation, 6, 0);
        // Finished with 6 tokens computed (the 7th sampled, never fed back): rows 4 and 5 of block 1.
        int tailBlock = a.get(1).id();
        kv.cacheTail(a, conversation, 6, 0);
        kv.release(a);
        pool.checkInvariants();
        assertEquals(2, pool.cachedCount());

        // The next turn continues the conversation: 6 tokens reused, not 4.
        int[] next = concat(conversation, tokens(90, 5));
        BlockTable b = new BlockTable();
        assertEquals(6, kv.acquireCachedPrefix(b, next, next.length, 0));
        assertEquals(tailBlock, b.get(1).id());
        BlockCopies copies = new BlockCopies();
        assertTrue(kv.reserve(b, 6, next.length - 6, copies));
        assertEquals(1, copies.size(), "the tail is copied, not written");
        assertNotEquals(tailBlock, b.get(1).id());
        kv.release(b);

        // A prompt that diverges inside the tail reuses what it shares; another salt nothing.
        int[] diverging = concat(tokens(10, 5), tokens(70, 3));
        assertEquals(5, kv.acquireCachedPrefix(new BlockTable(), diverging, diverging.length, 0));
        assertEquals(0, kv.acquireCachedPrefix(new BlockTable(), diverging, diverging.length, 7));
        pool.checkInvariants();
    }

    @Test
    void tailsAreEvictedLikeAnyCachedBlock() {
        BlockPool pool = new BlockPool(2);
        KvCacheManager kv = new KvCacheManager(pool, B, true);
        int[] prompt = tokens(1, 3);
        BlockTable a = new BlockTable();
        kv.reserve(a, 0, 3, new BlockCopies());
        kv.cacheTail(a, prompt, 3, 0);
        kv.release(a);
        assertEquals(1, pool.cachedCount());
        // Both blocks are needed: the tail's is evicted, and nothing is left to match.
        BlockTable other = new BlockTable();
        assertTrue(kv.reserve(other, 0, 8, new BlockCopies()));
        assertEquals(0, pool.cachedCount());
        kv.release(other);
        assertEquals(0, kv.acquireCachedPrefix(new BlockTable(), prompt, 3, 0));
        pool.checkInvariants();
    }

    @Test
    void forkedSequencesCopyTheSharedPartialBlockBeforeWriting() {
        BlockPool pool = new BlockPool(8);
        KvCacheManager kv = new KvCacheManager(pool, B, true);
        BlockCopies copies = new BlockCopies();
        BlockTable parent = new BlockTable();
        kv.reserve(parent, 0, 6, copies); // prompt of 6: one full block and a partial one
        BlockTable child = new BlockTable();
        kv.fork(parent, child);
        assertEquals(2, parent.get(1).refCount());

        // The child writes token 7 into block 1: it gets its own copy first.
        assertEquals(1, kv.blocksNeeded(child, 6, 1));
        assertTrue(kv.reserve(child, 6, 1, copies));
        assertEquals(1, copies.size());
        assertEquals(parent.get(1).id(), copies.source(0));
        assertEquals(child.get(1).id(), copies.target(0));
        assertNotEquals(parent.get(1).id(), child.get(1).id());
        assertSame(parent.get(0), child.get(0), "the full block stays shared");
        assertEquals(1, parent.get(1).refCount());

        // The parent now owns its partial block alone: no copy.
        copies.clear();
        assertTrue(kv.reserve(parent, 6, 1, copies));
        assertEquals(0, copies.size());

        kv.release(parent);
        kv.release(child);
        assertEquals(8, pool.freeCount());
        pool.checkInvariants();
    }

    @Test
    void reserveChangesNothingWhenThePoolIsShort() {
        BlockPool pool = new BlockPool(2);
        KvCacheManager kv = new KvCacheManager(pool, B, false);
        BlockTable table = new BlockTable();
        assertFalse(kv.reserve(table, 0, 9, new BlockCopies()));
        assertEquals(0, table.size());
        assertEquals(2, pool.freeCount());
    }

    /** Runs a whole prompt through a table: prefix lookup, relocation (when asked), blocks, cache entries. */
    private static BlockTable run(KvCacheManager kv, int[] prompt, boolean relocate, BlockCopies copies) {
        BlockTable table = new BlockTable();
        int cached = kv.acquireCachedPrefix(table, prompt, prompt.length, 0);
        if (relocate) {
            kv.relocateCachedPrefix(table, prompt.length, copies);
        }
        assertTrue(kv.reserve(table, cached, prompt.length - cached, copies));
        kv.cacheFullBlocks(table, prompt, prompt.length, 0);
        return table;
    }

    private static boolean consecutive(BlockTable table, int blocks) {
        for (int i = 1; i < blocks; i++) {
            if (table.get(i).id() != table.get(i - 1).id() + 1) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aPrefixMovedRequestAfterRequestKeepsEveryContextConsecutive() {
        // One request at a time over one shared prefix, as WaitingAdmission runs them: the cached
        // prefix moves with room for the prompt and the output, and every move leaves the blocks
        // after the last one cached (that request's own prompt and output, freed just now). With
        // a run for the prompt only and no fallback past recently cached blocks, the pool was
        // soon cut into runs shorter than a context, and contexts were gathered.
        BlockPool pool = new BlockPool(96);
        KvCacheManager kv = new KvCacheManager(pool, B, true);
        int[] prefix = tokens(100, 6 * B);
        int out = 2 * B;
        for (int r = 0; r < 40; r++) {
            int[] prompt = concat(prefix, tokens(1000 + 40 * r, 2 * B + r % 3));
            int[] context = concat(prompt, tokens(5000 + 40 * r, out));
            BlockCopies copies = new BlockCopies();
            BlockTable table = new BlockTable();
            int cached = kv.acquireCachedPrefix(table, prompt, prompt.length, 0);
            if (cached > 0) {
                kv.relocateCachedPrefix(table, prompt.length + out, copies);
            }
            assertTrue(kv.reserve(table, cached, prompt.length - cached, copies));
            for (int k = 0; k < out; k++) {
                assertTrue(kv.reserve(table, prompt.length + k, 1, copies));
            }
            assertTrue(consecutive(table, (context.length + B - 1) / B), "request " + r + ": " + table);
            kv.cacheFullBlocks(table, context, context.length, 0);
            kv.release(table);
        }
        pool.checkInvariants();
    }

    @Test
    void aCachedPrefixHeldAloneMovesNextToFreeRoomAndTheCacheFollowsIt() {
        BlockPool pool = new BlockPool(64);
        KvCacheManager kv = new KvCacheManager(pool, B, true);
        int[] prefix = tokens(100, 6 * B);
        int[] first = concat(prefix, tokens(1, 2 * B));
        int[] second = concat(prefix, tokens(50, 2 * B + 1));

        BlockTable a = run(kv, first, false, new BlockCopies());
        int firstOwnBlock = a.get(6).id();
        kv.release(a); // cached; the block after the prefix holds the first prompt's own tokens

        BlockCopies copies = new BlockCopies();
        BlockTable b = new BlockTable();
        assertEquals(6 * B, kv.acquireCachedPrefix(b, second, second.length, 0));
        int[] old = java.util.Arrays.copyOf(b.ids(), 6);
        assertFalse(pool.extendsInPlace(b.last()), "the block after the prefix is the first prompt's");
        assertTrue(kv.relocateCachedPrefix(b, second.length, copies));
        assertTrue(kv.reserve(b, 6 * B, second.length - 6 * B, copies));
        assertTrue(consecutive(b, b.size()), "the whole context is consecutive: " + b);
        assertEquals(6, copies.size(), "each prefix block copied once");
        for (int i = 0; i < 6; i++) {
            assertEquals(old[i], copies.source(i));
            assertEquals(b.get(i).id(), copies.target(i));
            assertFalse(pool.block(old[i]).isCached(), "the old block gave up its entry");
        }
        kv.cacheFullBlocks(b, second, second.length, 0);
        pool.checkInvariants();
        int[] moved = java.util.Arrays.copyOf(b.ids(), b.size());
        kv.release(b);

        // Later prompts find the prefix in its new place, and the blocks after it: the second
        // prompt's own (cached after the move) and the first's (whose parent moved).
        BlockTable again = new BlockTable();
        assertEquals(second.length - 1, kv.acquireCachedPrefix(again, second, second.length, 0));
        assertEquals(moved[0], again.get(0).id());
        assertEquals(moved[7], again.get(7).id());
        kv.release(again);
        BlockTable firstAgain = new BlockTable();
        assertEquals(first.length - 1, kv.acquireCachedPrefix(firstAgain, first, first.length, 0),
                "the first prompt's own blocks still follow the moved prefix");
        assertEquals(moved[5], firstAgain.get(5).id());
        assertEquals(firstOwnBlock, firstAgain.get(6).id());
        kv.release(firstAgain);
        pool.checkInvariants();
    }

    @Test
    void sharedOrAlreadyPlacedBlocksStay() {
        BlockPool pool = new BlockPool(64);
        KvCacheManager kv = new KvCacheManager(pool, B, true);
        int[] prefix = tokens(100, 6 * B);
        BlockTable a = run(kv, concat(prefix, tokens(1, 2 * B)), false, new BlockCopies());

        // Held by a running sequence too: cascade attention reads it once for both, so it stays.
        BlockCopies copies = new BlockCopies();
        BlockTable shared = new BlockTable();
        kv.acquireCachedPrefix(shared, concat(prefix, tokens(9, 3)), 6 * B + 3, 0);
        assertFalse(kv.relocateCachedPrefix(shared, 6 * B + 3, copies));
        kv.release(shared);
        kv.release(a);

        // Consecutive, and a free uncached block follows (the earlier prompt's partly filled
        // last block, not cached): read in place already.
        BlockPool pool2 = new BlockPool(64);
        KvCacheManager kv2 = new KvCacheManager(pool2, B, true);
        kv2.release(run(kv2, concat(prefix, tokens(1, 2)), false, new BlockCopies()));
        BlockTable placed = new BlockTable();
        assertEquals(6 * B, kv2.acquireCachedPrefix(placed, concat(prefix, tokens(9, 3)), 6 * B + 3, 0));
        assertTrue(consecutive(placed, placed.size()) && pool2.extendsInPlace(placed.last()));
        assertFalse(kv2.relocateCachedPrefix(placed, 6 * B + 3, copies), "already in place");
        assertEquals(0, copies.size());

        // Too short a prefix is gathered rather than copied.
        BlockPool small = new BlockPool(64);
        KvCacheManager kvSmall = new KvCacheManager(small, B, true);
        int[] shortPrefix = tokens(100, (KvCacheManager.MIN_RELOCATED_BLOCKS - 1) * B);
        kvSmall.release(run(kvSmall, concat(shortPrefix, tokens(1, 2 * B)), false, new BlockCopies()));
        BlockTable s = new BlockTable();
        kvSmall.acquireCachedPrefix(s, concat(shortPrefix, tokens(7, 5)), shortPrefix.length + 5, 0);
        assertFalse(kvSmall.relocateCachedPrefix(s, shortPrefix.length + 5, copies));
    }

    @Test
    void sequencesStartedTogetherGrowInPlaceIntoTheBlocksTheyClaimed() {
        int[][] claimed = layouts(true);
        for (int[] ids : claimed) {
            assertTrue(consecutive(ids), java.util.Arrays.toString(ids));
        }
        assertEquals(0, claimed[0][0]);
        assertEquals(16, claimed[1][0], "placed after what the first one claimed, not in its middle");
        // Without expectations each starts in the middle of the longest run, and the first grows into the third.
        boolean all = true;
        for (int[] ids : layouts(false)) {
            all &= consecutive(ids);
        }
        assertFalse(all);
    }

    @Test
    void aSequencePastItsClaimGoesOnInARunOfItsOwnNotInAnothersClaim() {
        BlockPool pool = new BlockPool(32);
        KvCacheManager kv = new KvCacheManager(pool, B, false);
        BlockCopies copies = new BlockCopies();
        BlockTable a = new BlockTable();
        BlockTable b = new BlockTable();
        kv.expect(a, 4 * B);
        kv.expect(b, 8 * B);
        assertTrue(kv.reserve(a, 0, B, copies));
        assertTrue(kv.reserve(b, 0, B, copies));
        assertEquals(4, b.get(0).id(), "right after a's claim");
        assertTrue(kv.reserve(a, B, 3 * B, copies));
        assertEquals("[0, 1, 2, 3]", a.toString());
        // a outgrows what it expected: block 4 is b's, 5..11 are claimed for b.
        assertTrue(kv.reserve(a, 4 * B, B, copies));
        assertEquals(12, a.get(4).id(), "a run of its own after b's claim");
        assertTrue(kv.reserve(b, B, 7 * B, copies));
        assertEquals("[4, 5, 6, 7, 8, 9, 10, 11]", b.toString());
        pool.checkInvariants();
    }

    @Test
    void claimedBlocksStillServeWhenNothingElseIsFree() {
        BlockPool pool = new BlockPool(4);
        KvCacheManager kv = new KvCacheManager(pool, B, false);
        BlockCopies copies = new BlockCopies();
        BlockTable a = new BlockTable();
        kv.expect(a, 4 * B);
        assertTrue(kv.reserve(a, 0, B, copies)); // claims blocks 1..3
        BlockTable b = new BlockTable();
        assertTrue(kv.reserve(b, 0, 3 * B, copies), "a claim is not a reservation: all three taken");
        assertEquals(3, b.size());
        assertEquals(0, pool.freeCount());
        assertFalse(kv.reserve(a, B, 1, copies));
        pool.checkInvariants();
        kv.release(b);
        assertTrue(kv.reserve(a, B, 1, copies));
        pool.checkInvariants();
    }

    private static boolean consecutive(int[] ids) {
        for (int i = 1; i < ids.length; i++) {
            if (ids[i] != ids[0] + i) {
                return false;
            }
        }
        return true;
    }

    private static int[][] layouts(boolean expect) {
        BlockPool pool = new BlockPool(40);
        KvCacheManager kv = new KvCacheManager(pool, B, false);
        BlockCopies copies = new BlockCopies();
        int[] expected = {16 * B, 4 * B, 4 * B, 16 * B};
        BlockTable[] tables = new BlockTable[expected.length];
        for (int i = 0; i < tables.length; i++) {
            tables[i] = new BlockTable();
            if (expect) {
                kv.expect(tables[i], expected[i]);
            }
            assertTrue(kv.reserve(tables[i], 0, 2 * B, copies)); // a two-block prompt
        }
        for (int computed = 2 * B; computed < 16 * B; computed++) {
            for (int i = 0; i < tables.length; i++) {
                if (computed < expected[i]) {
                    assertTrue(kv.reserve(tables[i], computed, 1, copies));
                }
            }
            pool.checkInvariants();
        }
        int[][] ids = new int[tables.length][];
        for (int i = 0; i < tables.length; i++) {
            ids[i] = java.util.Arrays.copyOf(tables[i].ids(), tables[i].size());
            kv.release(tables[i]);
        }
        pool.checkInvariants();
        assertEquals(40, pool.freeCount(), "claims end with their sequences");
        return ids;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
