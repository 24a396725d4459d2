package dev.sluice.scheduler.kv;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockPoolTest {

    @Test
    void allocatesAndFreesWithExactAccounting() {
        BlockPool pool = new BlockPool(4);
        List<KvBlock> taken = pool.allocate(3);
        assertEquals(3, taken.size());
        assertEquals(1, pool.freeCount());
        assertEquals(3, pool.usedCount());
        assertNull(pool.allocate(2), "all or nothing");
        assertEquals(1, pool.freeCount());
        taken.forEach(pool::release);
        assertEquals(4, pool.freeCount());
        pool.checkInvariants();
        assertThrows(IllegalStateException.class, () -> pool.release(taken.getFirst()));
    }

    @Test
    void aSequenceGrowsIntoTheFreeUncachedBlockAfterItsLastOne() {
        BlockPool pool = new BlockPool(8);
        List<KvBlock> all = pool.allocate(8);
        // Free 2, 3 and 6 (uncached) and 5 (cached); the free list's head is now 6, then 3, 2.
        pool.cache(all.get(5), 5, new int[] {5}, -1, 0L);
        for (int id : new int[] {2, 3, 5, 6}) {
            pool.release(all.get(id));
        }
        assertSame(all.get(2), pool.allocateAfter(all.get(1)), "free and uncached: taken in place");
        assertSame(all.get(3), pool.allocateAfter(all.get(2)));
        KvBlock notAfter4 = pool.allocateAfter(all.get(4));
        assertSame(all.get(6), notAfter4, "block 5 holds cached content: the free list's first instead");
        assertTrue(all.get(5).isCached(), "and the cached block is kept");
        assertSame(all.get(5), pool.allocateAfter(all.get(7)), "past the pool's end: the free list's first");
        assertNull(pool.allocateAfter(null));
        pool.checkInvariants();
    }

    @Test
    void aSequencesFirstBlockLeavesRoomToGrowForItAndForTheSequenceBeforeIt() {
        BlockPool pool = new BlockPool(16);
        KvBlock a0 = pool.allocateFirst(1);
        assertEquals(0, a0.id(), "an empty pool: its start");
        KvBlock a1 = pool.allocateAfter(a0);
        assertEquals(1, a1.id());
        // The longest run is [2, 16), after a sequence that grows into it: its middle.
        KvBlock b0 = pool.allocateFirst(1);
        assertEquals(9, b0.id());
        // Now [2, 9) is the longest (7 blocks against 6): its middle again.
        assertEquals(5, pool.allocateAfter(null).id(), "a first block through allocateAfter too");
        // Freed, 0 and 1 join [2, 5); the longest is [10, 16), after b's block: its middle.
        pool.release(a1);
        pool.release(a0);
        assertEquals(13, pool.allocateFirst(1).id());
        // A prompt of 12 blocks in a run of 14 after a growing sequence: early enough that it fits.
        BlockPool prompt = new BlockPool(16);
        prompt.allocateAfter(prompt.allocateFirst(2));
        assertEquals(4, prompt.allocateFirst(12).id());
        // A run that follows a free block (nothing grows into it) is taken at its start.
        BlockPool other = new BlockPool(8);
        List<KvBlock> all = other.allocate(8);
        other.cache(all.get(2), 2, new int[] {2}, -1, 0L);
        other.release(all.get(3)); // uncached: 3..7 free, after 2
        other.release(all.get(4));
        other.release(all.get(5));
        other.release(all.get(6));
        other.release(all.get(7));
        other.release(all.get(2)); // cached, free: not taken out of order while uncached blocks are free
        assertEquals(3, other.allocateFirst(1).id(), "block 2 is free: nobody grows from it");
        // With fewer than two blocks in a row, the free list's first.
        BlockPool tight = new BlockPool(3);
        List<KvBlock> three = tight.allocate(3);
        tight.release(three.get(0));
        tight.release(three.get(2));
        assertEquals(2, tight.allocateFirst(1).id(), "the most recently freed uncached block first");
        pool.checkInvariants();
        other.checkInvariants();
        tight.checkInvariants();
    }

    @Test
    void aSwappedInSequenceGetsConsecutiveBlocksWhereThereIsRoom() {
        BlockPool pool = new BlockPool(16);
        KvBlock running = pool.allocateFirst(1);
        List<KvBlock> swapped = pool.allocate(4);
        for (int i = 1; i < swapped.size(); i++) {
            assertEquals(swapped.get(i - 1).id() + 1, swapped.get(i).id());
        }
        assertTrue(swapped.getFirst().id() > running.id() + 1, "and leaves the running sequence room");
        pool.checkInvariants();
    }

    @Test
    void onceOnlyCachedBlocksAreFreeTheNextBlockIsTakenIfItIsInTheOlderHalf() {
        BlockPool pool = new BlockPool(8);
        List<KvBlock> all = pool.allocate(8);
        for (int i = 0; i < 8; i++) {
            pool.cache(all.get(i), 100 + i, new int[] {i}, -1, 0L);
        }
        // Freed oldest first: 7, 2, 6, 3, 5 (the sequences in blocks 0, 1 and 4 still run).
        for (int id : new int[] {7, 2, 6, 3, 5}) {
            pool.release(all.get(id));
        }
        assertSame(all.get(2), pool.allocateAfter(all.get(1)), "2 is the second oldest: taken in place");
        assertFalse(all.get(2).isCached(), "its content evicted");
        assertNull(pool.lookup(102, new int[] {2}, 0, -1));
        KvBlock notAfter4 = pool.allocateAfter(all.get(4));
        assertSame(all.get(7), notAfter4, "5 was freed last, past the midpoint: the oldest (7) is evicted instead");
        assertTrue(all.get(5).isCached(), "and 5 keeps its content");
        assertSame(all.get(3), pool.allocateAfter(all.get(2)), "with 7 gone, 6 is the oldest and 3 within the older half");
        assertTrue(all.get(6).isCached() && all.get(5).isCached());
        pool.checkInvariants();
    }

    @Test
    void aRunForAMovedPrefixTakesRecentlyFreedCachedBlocksWhenNoOtherRunIsLongEnough() {
        BlockPool pool = new BlockPool(12);
        List<KvBlock> all = pool.allocate(12);
        // Blocks 0-3 and 8-11 cached long ago; 4 and 7 cached just now: every run of blocks
        // allocateAfter would take (the older half's and the uncached ones) is at most 4 long.
        for (int id : new int[] {0, 1, 2, 3, 8, 9, 10, 11, 4, 7}) {
            pool.cache(all.get(id), 200 + id, new int[] {id}, -1, 0L);
        }
        for (int id : new int[] {0, 1, 2, 3, 8, 9, 10, 11, 5, 6, 4, 7}) {
            pool.release(all.get(id));
        }
        List<KvBlock> run = pool.allocateRun(6);
        assertNotNull(run, "12 free blocks hold a run of 6");
        for (int i = 1; i < run.size(); i++) {
            assertEquals(run.get(i - 1).id() + 1, run.get(i).id(), "consecutive");
        }
        for (KvBlock b : run) {
            assertFalse(b.isCached(), "whatever they cached is evicted");
        }
        assertNull(pool.allocateRun(7), "6 free blocks left: no run of 7, and nothing taken");
        assertEquals(6, pool.freeCount());
        pool.checkInvariants();
    }

    @Test
    void aSequencePlacedOverCachedBlocksTakesTheRunWhoseContentWasFreedLongestAgo() {
        BlockPool pool = new BlockPool(14);
        List<KvBlock> all = pool.allocate(14);
        for (KvBlock block : all) {
            pool.cache(block, 1000 + block.id(), new int[] {block.id()}, -1, 0L);
        }
        // Blocks 4 and 9 stay in use: runs [0, 4), [5, 9), [10, 14). The first six freed (the older
        // half) are one block here and there, so no run of four is free of recent content; the run
        // whose newest content is oldest is [10, 14) (freed 1, 7, 4, 8), then [5, 9), then [0, 4).
        for (int id : new int[] {10, 5, 0, 12, 7, 2, 11, 13, 6, 8, 1, 3}) {
            pool.release(all.get(id));
        }
        BlockTable table = new BlockTable();
        KvBlock first = pool.allocateFirst(4, table);
        assertEquals(10, first.id(), "the least recently freed run, not the first or shortest");
        for (int id = 11; id < 14; id++) {
            assertSame(pool.block(id), pool.allocateAfter(pool.block(id - 1), table, 14 - id), "claimed for it");
        }
        assertTrue(pool.block(0).isCached() && pool.block(5).isCached(), "the newer runs keep their content");
        pool.checkInvariants();
    }

    @Test
    void evictsLeastRecentlyFreedCachedBlockOnlyWhenNothingElseIsFree() {
        BlockPool pool = new BlockPool(4);
        KvBlock a = pool.allocate();
        KvBlock b = pool.allocate();
        KvBlock c = pool.allocate();
        pool.cache(a, 1, new int[] {1}, -1, 0L);
        pool.cache(b, 2, new int[] {2}, -1, 0L);
        pool.cache(c, 3, new int[] {3}, -1, 0L);
        pool.release(b);
        pool.release(a);
        pool.release(c); // LRU order now: b, a, c
        assertEquals(3, pool.cachedFreeCount());

        KvBlock first = pool.allocate();
        assertFalse(first == a || first == b || first == c, "the never-cached block goes first");
        assertSame(b, pool.allocate(), "then the least recently freed cached block");
        assertFalse(b.isCached());
        assertNull(pool.lookup(2, new int[] {2}, 0, -1), "its cache entry is gone");
        assertNotNull(pool.lookup(1, new int[] {1}, 0, -1));
        assertSame(a, pool.allocate());
        assertSame(c, pool.allocate());
        assertNull(pool.allocate());
        pool.checkInvariants();
    }

    @Test
    void uncachedFreedBlocksAreReusedBeforeCachedOnes() {
        BlockPool pool = new BlockPool(2);
        KvBlock cached = pool.allocate();
        KvBlock plain = pool.allocate();
        pool.cache(cached, 9, new int[] {9}, -1, 0L);
        pool.release(cached);
        pool.release(plain);
        assertSame(plain, pool.allocate());
        assertSame(cached, pool.allocate());
    }

    @Test
    void aHitOnAFreeCachedBlockTakesItOffTheFreeList() {
        BlockPool pool = new BlockPool(2);
        KvBlock block = pool.allocate();
        pool.cache(block, 7, new int[] {4, 5}, -1, 0L);
        pool.release(block);
        assertEquals(2, pool.freeCount());
        KvBlock hit = pool.lookup(7, new int[] {0, 4, 5}, 1, -1);
        assertSame(block, hit);
        pool.retain(hit);
        assertEquals(1, pool.freeCount());
        assertEquals(1, hit.refCount());
        assertTrue(hit.isCached());
        pool.checkInvariants();
    }

    @Test
    void hashMatchesAreVerifiedByTokensAndParent() {
        BlockPool pool = new BlockPool(3);
        KvBlock block = pool.allocate();
        pool.cache(block, 42, new int[] {1, 2}, 5, 0L);
        assertNull(pool.lookup(42, new int[] {1, 3}, 0, 5), "same hash, other tokens: a collision, not a hit");
        assertNull(pool.lookup(42, new int[] {1, 2}, 0, 6), "same tokens after another parent");
        assertSame(block, pool.lookup(42, new int[] {1, 2}, 0, 5));
        KvBlock twin = pool.allocate();
        pool.cache(twin, 42, new int[] {1, 2}, 5, 0L);
        assertFalse(twin.isCached(), "one block per hash");
    }

    @Test
    void allocationIsConstantTimeWhateverThePoolSize() {
        // Not a timing test: counts that a full cycle over a large pool touches each block once.
        BlockPool pool = new BlockPool(1_000_000);
        List<KvBlock> all = new ArrayList<>();
        for (KvBlock b; (b = pool.allocate()) != null; ) {
            all.add(b);
        }
        assertEquals(1_000_000, all.size());
        all.forEach(pool::release);
        assertEquals(1_000_000, pool.freeCount());
    }
}
