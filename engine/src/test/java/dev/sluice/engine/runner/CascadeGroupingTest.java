package dev.sluice.engine.runner;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which decode sequences attend a shared prefix once, pure Java from the block tables. */
class CascadeGroupingTest {

    private static final int BLOCK = 16;
    private static final int POOL_SLOTS = 1 << 16;

    /** A decode token at position {@code context - 1}: shared blocks first, then its own. */
    private static void decode(Batch batch, int context, int[] shared, int ownFirst) {
        int blocks = (context + BLOCK - 1) / BLOCK;
        int[] table = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            table[i] = i < shared.length ? shared[i] : ownFirst + i;
        }
        batch.addToken(1, context - 1, table, blocks);
    }

    private static int[] blocks(int from, int count) {
        return IntStream.range(from, from + count).toArray();
    }

    @Test
    void sequencesSharingLeadingBlocksFormOneGroupOverTheirFullSharedBlocks() {
        Batch batch = new Batch();
        int[] prefix = blocks(1000, 63); // a 1008-token prefix
        decode(batch, 1020, prefix, 2000);
        decode(batch, 40, blocks(3000, 1), 3000); // shares nothing
        decode(batch, 1050, prefix, 4000);
        decode(batch, 1009, prefix, 5000); // its token is the first of block 63
        AttentionPlan plan = AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS, CascadeMode.ON);
        assertEquals(0, AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS, CascadeMode.AUTO).cascadeGroups(),
                "three sequences save 2016 positions: less than a cascade group costs");

        AttentionPlan.Group cascade = plan.groups().getFirst();
        assertTrue(cascade.cascade());
        assertArrayEquals(new int[] {0, 2, 3}, cascade.members());
        assertEquals(63 * BLOCK, cascade.prefixLength(), "every full shared block");
        assertEquals(1050, cascade.kvLength(), "prefix plus the longest own part");
        assertEquals(1000 * BLOCK, cascade.firstSlot(), "consecutive prefix blocks are read in place");
        assertEquals(3 * (1050 - 63 * BLOCK), cascade.gatheredRows(), "only the members' own rows are gathered");
        assertFalse(plan.groups().get(1).cascade());
        assertArrayEquals(new int[] {1}, plan.groups().get(1).members());
        assertEquals(0, plan.graphRow()[0]);
        assertEquals(3, plan.graphRow()[1]);
    }

    @Test
    void aPrefixStillBeingWrittenIsNotShared() {
        Batch batch = new Batch();
        int[] prefix = blocks(10, 4);
        // Both tokens fall in block 0 of the table: no block is full before them.
        decode(batch, 9, prefix, 100);
        decode(batch, 12, prefix, 200);
        assertEquals(0, AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS, CascadeMode.ON).cascadeGroups());
    }

    @Test
    void theCostModelSkipsShortPrefixesUnlessForcedAndOffNeverGroups() {
        Batch batch = new Batch();
        int[] prefix = blocks(10, 2); // 32 shared positions: saves 32, costs more
        decode(batch, 40, prefix, 100);
        decode(batch, 45, prefix, 200);
        assertEquals(0, AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS, CascadeMode.AUTO).cascadeGroups());
        assertEquals(1, AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS, CascadeMode.ON).cascadeGroups());
        assertEquals(0, AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS, CascadeMode.OFF).cascadeGroups());
    }

    @Test
    void aScatteredPrefixIsGatheredOnceForTheGroup() {
        Batch batch = new Batch();
        int[] prefix = IntStream.range(0, 63).map(i -> 5000 - 3 * i).toArray();
        for (int s = 0; s < 16; s++) {
            decode(batch, 1010 + s, prefix, 10_000 + 100 * s);
        }
        AttentionPlan plan = AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS, CascadeMode.AUTO);
        AttentionPlan.Group group = plan.groups().getFirst();
        assertEquals(1, plan.groups().size());
        assertFalse(group.inPlace());
        int own = 1025 - 63 * BLOCK;
        assertEquals(63 * BLOCK + 16L * own, group.gatheredRows());
        assertEquals(63 * BLOCK + 16L * own, plan.gatheredRows());
        long contextRows = AttentionPlan.contextRows(batch);
        assertTrue(plan.gatheredRows() * 10 < contextRows, "a tenth of what a gather of every context would copy");
    }
}
