package dev.sluice.engine.runner;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Attention planning, pure Java: groups, graph rows, in-place reads and logits rows. */
class AttentionPlanTest {

    private static final int BLOCK = 4;
    private static final int POOL_SLOTS = 4096;

    /** A decode token at position {@code context - 1} over blocks {@code table}. */
    private static void decode(Batch batch, int context, int... table) {
        batch.addToken(1, context - 1, table, (context + BLOCK - 1) / BLOCK);
    }

    @Test
    void decodesOfSimilarLengthShareAGroupAndALongOneGetsItsOwn() {
        Batch batch = new Batch();
        decode(batch, 10, 0, 1, 2);
        decode(batch, 1000, range(3, 253));
        decode(batch, 12, 260, 261, 262);
        decode(batch, 9, 270, 271, 272);
        AttentionPlan plan = AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS);
        assertEquals(2, plan.groups().size());
        AttentionPlan.Group shortOnes = plan.groups().get(0);
        assertArrayEquals(new int[] {3, 0, 2}, shortOnes.members(), "sorted by context length");
        assertEquals(12, shortOnes.kvLength(), "padded to the group's longest");
        AttentionPlan.Group longOne = plan.groups().get(1);
        assertArrayEquals(new int[] {1}, longOne.members());
        // Graph rows follow the groups; logits rows stay in batch order.
        assertArrayEquals(new int[] {1, 3, 2, 0}, plan.graphRow());
        assertArrayEquals(new int[] {0, 1, 2, 3}, plan.firstRow());
        assertEquals(4, plan.outputRows());
    }

    @Test
    void longContextsOnConsecutiveBlocksAreReadInPlaceAndScatteredOnesAreGathered() {
        int context = AttentionPlan.IN_PLACE_MIN_POSITIONS;
        int blocks = context / BLOCK;
        Batch batch = new Batch();
        decode(batch, context, range(0, blocks));                     // consecutive
        decode(batch, context + 1, range(1000, 1001 + blocks));       // consecutive
        int[] scattered = range(2000, 2000 + blocks);
        scattered[blocks - 1] = 3000;
        decode(batch, context, scattered);                            // the last block elsewhere
        decode(batch, context - 1, range(4000, 4000 + blocks));       // consecutive, but short
        AttentionPlan plan = AttentionPlan.of(batch, BLOCK, true, 1 << 16);
        assertEquals(2, plan.groups().size(), "the two short-or-scattered ones gathered together, the others in place");
        AttentionPlan.Group gathered = plan.groups().get(0);
        assertArrayEquals(new int[] {3, 2}, gathered.members());
        assertFalse(gathered.inPlace());
        AttentionPlan.Group inPlace = plan.groups().get(1);
        assertArrayEquals(new int[] {0, 1}, inPlace.members(), "two streams of one op: any two are equally spaced");
        assertTrue(inPlace.inPlace());
        assertEquals(0, inPlace.firstSlot());
        assertEquals(1000 * BLOCK, inPlace.slotStride());
        assertEquals(context + AttentionPlan.REUSE_PADDING, inPlace.kvLength(), "the longer one's context, padded");
        assertEquals(2L * context, plan.gatheredRows(), "only the gathered group's rows");
        assertFalse(AttentionPlan.of(batch, BLOCK, false, 1 << 16).groups().stream().anyMatch(AttentionPlan.Group::inPlace),
                "not from a quantized cache");
    }

    @Test
    void equallySpacedSequencesAreStreamsOfOneInPlaceGroupInSlotOrder() {
        int min = AttentionPlan.IN_PLACE_MIN_POSITIONS;
        int region = 100; // blocks
        Batch batch = new Batch();
        // Batch order differs from slot order; contexts differ.
        decode(batch, min + 40, range(2 * region, 2 * region + 30));
        decode(batch, min, range(0, 20));
        decode(batch, min + 100, range(region, region + 50));
        decode(batch, min + 7, range(3 * region, 3 * region + 20));
        AttentionPlan plan = AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS);
        assertEquals(1, plan.groups().size());
        AttentionPlan.Group group = plan.groups().getFirst();
        assertArrayEquals(new int[] {1, 2, 0, 3}, group.members(), "in slot order");
        assertEquals(0, group.firstSlot());
        assertEquals(region * BLOCK, group.slotStride());
        assertEquals(min + 100 + AttentionPlan.REUSE_PADDING - (min + 100) % AttentionPlan.REUSE_PADDING, group.kvLength(),
                "every stream attends the longest context, padded");
        assertArrayEquals(new int[] {2, 0, 1, 3}, plan.graphRow(), "graph rows follow the streams");
        assertEquals(0, plan.gatheredRows());

        // The spacing breaks after the second: two runs.
        Batch uneven = new Batch();
        decode(uneven, min, range(0, 20));
        decode(uneven, min, range(region, region + 20));
        decode(uneven, min, range(3 * region, 3 * region + 20));
        decode(uneven, min, range(4 * region, 4 * region + 20));
        List<AttentionPlan.Group> runs = AttentionPlan.of(uneven, BLOCK, true, POOL_SLOTS).groups();
        assertEquals(List.of(2, 2), runs.stream().map(AttentionPlan.Group::streams).toList());
        assertEquals(3 * region * BLOCK, runs.get(1).firstSlot());
    }

    @Test
    void inPlaceStreamsJoinOnlyWhilePaddingCostsLessThanAnOpAndTheViewFitsThePool() {
        int min = AttentionPlan.IN_PLACE_MIN_POSITIONS;
        Batch batch = new Batch();
        decode(batch, min, range(0, min / BLOCK));
        decode(batch, 2000, range(1000, 1000 + 2000 / BLOCK)); // pads the first by ~1950 positions: not worth an op
        assertEquals(2, AttentionPlan.of(batch, BLOCK, true, 1 << 16).groups().size());

        // Overlapping streams (the last one's context is longer than the spacing): ggml checks a
        // view's contiguous size, streams x length rows from the first slot, against the pool.
        Batch overlapping = new Batch();
        decode(overlapping, 100, range(0, 25));
        decode(overlapping, 400, range(25, 125));
        assertEquals(1, AttentionPlan.of(overlapping, BLOCK, true, 1024).groups().size(), "2 x 416 rows fit in 1024");
        List<AttentionPlan.Group> apart = AttentionPlan.of(overlapping, BLOCK, true, 780).groups();
        assertEquals(2, apart.size(), "2 x 400 rows from slot 0 would not fit in 780");
        for (AttentionPlan.Group g : apart) {
            int last = g.firstSlot() + (g.streams() - 1) * g.slotStride();
            assertTrue(InPlaceStreams.fits(g.firstSlot(), last, g.streams(), g.kvLength(), 780));
        }
    }

    @Test
    void aSequenceOnConsecutiveBlocksIsReadInPlaceWithItsLengthPadded() {
        Batch batch = new Batch();
        decode(batch, 37, range(20, 30));
        AttentionPlan plan = AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS);
        AttentionPlan.Group group = plan.groups().getFirst();
        assertTrue(group.inPlace());
        assertEquals(20 * BLOCK, group.firstSlot());
        assertEquals(64, group.kvLength(), "rounded up to the reuse padding");
        assertFalse(AttentionPlan.of(batch, BLOCK, false, POOL_SLOTS).groups().getFirst().inPlace(),
                "not from a quantized cache");
        Batch scattered = new Batch();
        decode(scattered, 37, 20, 21, 22, 23, 24, 25, 26, 27, 28, 40);
        assertFalse(AttentionPlan.of(scattered, BLOCK, true, POOL_SLOTS).groups().getFirst().inPlace());
    }

    @Test
    void aPrefillChunkIsItsOwnGroupAndOnlyItsLastChunkHasLogits() {
        int[] tokens = new int[40];
        int[] table = range(0, 10);
        Batch batch = new Batch();
        decode(batch, 6, 50, 51);
        batch.add(tokens, 0, 20, 0, table, 5, Batch.Logits.NONE);
        batch.add(tokens, 20, 20, 20, table, 10, Batch.Logits.LAST);
        AttentionPlan plan = AttentionPlan.of(batch, BLOCK, true, POOL_SLOTS);
        assertEquals(3, plan.groups().size());
        assertEquals(20, plan.groups().get(1).tokensPerStream());
        assertArrayEquals(new int[] {1, 0, 1}, plan.rowCount());
        assertEquals(2, plan.outputRows());
        assertEquals(41, plan.tokens());
        assertEquals(List.of(1, 20, 20), plan.groups().stream().map(g -> g.tokensPerStream() * g.streams()).toList());
    }

    @Test
    void signaturesTellWhenAGraphCanBeReused() {
        Batch a = new Batch();
        decode(a, 10, 0, 1, 2);
        Batch b = new Batch();
        decode(b, 10, 5, 9, 7);
        Batch c = new Batch();
        decode(c, 11, 5, 9, 7);
        int[] sa = AttentionPlan.of(a, BLOCK, false, POOL_SLOTS).signature();
        assertArrayEquals(sa, AttentionPlan.of(b, BLOCK, false, POOL_SLOTS).signature(), "other blocks, same shapes");
        assertFalse(java.util.Arrays.equals(sa, AttentionPlan.of(c, BLOCK, false, POOL_SLOTS).signature()),
                "a longer context is another shape");
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }
}
