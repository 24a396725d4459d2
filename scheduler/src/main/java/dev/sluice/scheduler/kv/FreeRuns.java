package dev.sluice.scheduler.kv;

/**
 * Where in the pool a sequence's blocks go, so that the engine reads them in place: runs of
 * consecutive free blocks, found by scanning the pool, and <b>claims</b>, the free blocks after a
 * sequence's first that are left for it to grow into ({@link BlockPool#allocateFirst(int,
 * BlockTable)} says why). A run is {start, length}. Policy only: {@link BlockPool} takes the
 * blocks. Engine-thread only.
 */
final class FreeRuns {

    private final KvBlock[] blocks;
    private final FreeList free;

    FreeRuns(KvBlock[] blocks, FreeList free) {
        this.blocks = blocks;
        this.free = free;
    }

    /** Ends the claim of {@code table}'s sequence on the blocks after its own (none: nothing). */
    void unclaim(BlockTable table) {
        for (int i = table.claimFrom; i < table.claimTo; i++) {
            if (blocks[i].claimant == table) {
                blocks[i].claimant = null;
            }
        }
        table.claimFrom = 0;
        table.claimTo = 0;
    }

    void claim(BlockTable table, int from, int to) {
        unclaim(table);
        for (int i = from; i < to; i++) {
            blocks[i].claimant = table;
        }
        table.claimFrom = from;
        table.claimTo = Math.max(from, to);
    }

    /**
     * {start, length} of the run to place a sequence of {@code wanted} blocks in: the shortest
     * run {@link #takesInPlace} would take that holds them; else, among runs of unclaimed free
     * blocks that hold them, the one whose blocks the sequence would take hold the least recently
     * freed cached content (the prefix cache's LRU order, by run); else the longest of the first
     * kind. Taking the shortest such run regardless of what it cached evicted prompts freed just
     * before a burst that repeated them: TTFT p90 at 64 concurrent requests rose from 5 to 31 s.
     * O(blocks × wanted) at worst, once per sequence.
     */
    int[] placement(int wanted) {
        int[] fit = shortestRunOf(wanted);
        if (fit[1] >= wanted) {
            return fit;
        }
        int[] oldest = oldestRunOf(wanted);
        return oldest != null ? oldest : longestRun();
    }

    /** The run of unclaimed free blocks holding {@code wanted} whose placed blocks cache the oldest content; null when none holds them. */
    private int[] oldestRunOf(int wanted) {
        int[][] best = {null};
        long[] bestNewest = {Long.MAX_VALUE};
        forEachRun(true, (start, length) -> {
            if (length < wanted) {
                return;
            }
            int first = startIn(new int[] {start, length}, wanted);
            long newest = 0; // when the most recently freed cached block the sequence would take was freed
            for (int j = first; j < first + wanted; j++) {
                newest = blocks[j].cached ? Math.max(newest, blocks[j].freedAt) : newest;
            }
            if (newest < bestNewest[0] || newest == bestNewest[0] && length < best[0][1]) {
                best[0] = new int[] {start, length};
                bestNewest[0] = newest;
            }
        });
        return best[0];
    }

    /**
     * Where in {@code run} ({start, length}) a sequence needing {@code wanted} blocks starts: at
     * the run's start when no sequence can grow into it from the left, else in its middle, early
     * enough that the wanted blocks fit when they can.
     */
    int startIn(int[] run, int wanted) {
        boolean growsIntoIt = run[0] > 0 && !blocks[run[0] - 1].free;
        return run[0] + (growsIntoIt ? Math.min(run[1] / 2, Math.max(0, run[1] - wanted)) : 0);
    }

    /** {start, length} of the longest run of blocks {@link #takesInPlace} would take. O(blocks). */
    int[] longestRun() {
        return longestRun(false);
    }

    /** {start, length} of the longest run of unclaimed free blocks ({@code anyFree}), or of those {@link #takesInPlace} would take. */
    int[] longestRun(boolean anyFree) {
        return run(anyFree, Integer.MAX_VALUE);
    }

    /** As {@link #longestRun()}, but the shortest run of at least {@code wanted} blocks when there is one. */
    private int[] shortestRunOf(int wanted) {
        return run(false, wanted);
    }

    /**
     * {start, length} of the shortest run of at least {@code wanted} blocks of the kind
     * {@code anyFree} says, or the longest run of that kind when none is that long.
     */
    private int[] run(boolean anyFree, int wanted) {
        int[] best = {-1, 0};
        forEachRun(anyFree, (start, length) -> {
            boolean better = best[1] < wanted ? length > best[1] : length >= wanted && length < best[1];
            if (better) {
                best[0] = start;
                best[1] = length;
            }
        });
        return best;
    }

    /** Each maximal run of unclaimed free blocks ({@code anyFree}), or of blocks {@link #takesInPlace} would take, in pool order. O(blocks). */
    private void forEachRun(boolean anyFree, RunVisitor visitor) {
        int start = -1;
        for (int i = 0; i <= blocks.length; i++) {
            boolean takes = i < blocks.length && (anyFree ? blocks[i].free && blocks[i].claimant == null
                    : takesInPlace(blocks[i], null));
            if (takes && start < 0) {
                start = i;
            } else if (!takes && start >= 0) {
                visitor.run(start, i - start);
                start = -1;
            }
        }
    }

    private interface RunVisitor {
        void run(int start, int length);
    }

    /**
     * Whether a block taken out of LRU order is fair to take for {@code table}'s sequence (null:
     * none in particular): free, and claimed for it, or unclaimed and holding no cached content
     * or only old content.
     */
    boolean takesInPlace(KvBlock block, BlockTable table) {
        if (!block.free) {
            return false;
        }
        if (block.claimant != null) {
            return block.claimant == table;
        }
        return !block.cached || free.olderHalf(block);
    }
}
