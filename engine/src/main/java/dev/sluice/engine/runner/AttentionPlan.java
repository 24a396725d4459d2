package dev.sluice.engine.runner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * How one step's batch is attended: which sequences form attention groups, where each
 * sequence's tokens sit among the graph's rows ({@code graphRow}), and which rows produce logits,
 * in batch order ({@code firstRow}, {@code rowCount}). Pure Java, decided from the batch and the
 * block tables alone.
 *
 * <p>A group is either one sequence's prefill chunk (T tokens over its context) or a set of
 * decode sequences (one token each, contexts padded to the group's longest with masked slots),
 * batched as flash-attention streams. Decode sequences are sorted by context length and split
 * where padding would cost more than another group does, so one long context does not pad every
 * other to its length. Decode sequences with a context of {@link #IN_PLACE_MIN_POSITIONS} or more
 * whose blocks are consecutive read their K/V in place, with no gather (copying long contexts
 * into logical order costs more than an attention op), as streams of one op where their slots
 * are equally spaced ({@link InPlaceStreams}).
 *
 * @param tokens     the batch's tokens: the graph's rows
 * @param outputRows rows that come out of the step: logits rows, then hidden-state rows ({@link OutputRows})
 * @param firstRow   per batch sequence, its first logits row
 * @param rowCount   per batch sequence, how many logits rows it has (0, 1 or all its tokens)
 * @param graphRow   per batch sequence, the graph row of its first token
 * @param outputs    which rows produce logits and which hidden states
 */
record AttentionPlan(int tokens, List<AttentionPlan.Group> groups, int outputRows, int[] firstRow, int[] rowCount,
                     int[] graphRow, OutputRows outputs) {

    /** In-place attention lengths are padded to this many positions so decode steps reuse a graph. */
    static final int REUSE_PADDING = 32;
    /**
     * What one more attention group costs, in gathered positions: ~16 graph nodes per layer of
     * fixed overhead against ~2 µs per position gathered and attended (smollm2-135m, 2 threads).
     */
    static final int GROUP_COST_POSITIONS = 512;
    /**
     * Decode contexts at least this long whose blocks are consecutive are attended in place, each
     * in a group of its own: one attention op more, no gather. Measured with InterleavedDecode
     * (smollm2-135m-shape Q8_0, 2 threads, speed against llama_decode, gathered vs in place): at 32
     * sequences 0.90x vs 0.95x over 96-token contexts, 0.63x vs 0.87x over 512, 0.66x vs 0.94x over
     * 1024; at 32- and 64-token contexts the two are even (0.99-1.01x), and below that one op per
     * sequence costs more than its gather saves.
     */
    static final int IN_PLACE_MIN_POSITIONS = Integer.getInteger("sluice.in-place-min", 64);

    /**
     * Sequences attended together: S streams of T tokens over L cached positions each, whose
     * tokens are graph rows [firstToken, firstToken + S*T), stream by stream. {@code firstSlot}
     * is set (≥ 0) when the group's sequences each have physically consecutive blocks, stream i's
     * starting at slot {@code firstSlot + i * slotStride}: their K/V rows are then one view of the
     * pool, read in place without a gather.
     *
     * <p>{@code prefixLength > 0} makes it a cascade group ({@link CascadeAttention}): decode
     * sequences whose first {@code prefixLength} positions are the same physical blocks; the
     * prefix is attended once for all of them and each member's own positions
     * [prefixLength, kvLength) separately. Its {@code firstSlot} (≥ 0) is the prefix's, read in
     * place; the members' own rows are always gathered.
     */
    record Group(int[] members, int tokensPerStream, int kvLength, int firstToken, int firstSlot, int prefixLength,
                 int slotStride) {

        Group(int[] members, int tokensPerStream, int kvLength, int firstToken, int firstSlot) {
            this(members, tokensPerStream, kvLength, firstToken, firstSlot, 0, 0);
        }

        Group(int[] members, int tokensPerStream, int kvLength, int firstToken, int firstSlot, int prefixLength) {
            this(members, tokensPerStream, kvLength, firstToken, firstSlot, prefixLength, 0);
        }

        int streams() {
            return members.length;
        }

        boolean inPlace() {
            return firstSlot >= 0;
        }

        boolean cascade() {
            return prefixLength > 0;
        }

        /** Whether the group has gather rows (an input); {@link #gatheredRows()} of them. */
        boolean gathers() {
            return cascade() || !inPlace();
        }

        /** Pool rows the group gathers per layer for K (as many again for V). */
        long gatheredRows() {
            if (cascade()) {
                return (inPlace() ? 0L : prefixLength) + (long) streams() * (kvLength - prefixLength);
            }
            return inPlace() ? 0L : (long) kvLength * streams();
        }
    }

    /**
     * Plans {@code batch}; {@code inPlaceAllowed} when rows may be read in place (an F16 cache:
     * quantized rows must be dequantized by a gather), {@code poolSlots} the pool's size.
     */
    static AttentionPlan of(Batch batch, int blockSize, boolean inPlaceAllowed, int poolSlots) {
        return of(batch, blockSize, inPlaceAllowed, poolSlots, CascadeMode.OFF);
    }

    /** As {@link #of(Batch, int, boolean, int)}, with decode sequences sharing a prefix grouped as {@code cascade} says. */
    static AttentionPlan of(Batch batch, int blockSize, boolean inPlaceAllowed, int poolSlots, CascadeMode cascade) {
        int sequences = batch.sequenceCount();
        OutputRows outputs = OutputRows.of(batch);
        // Decode sequences with short contexts run together: one gather and one batched attention
        // per group (over short contexts one attention op per sequence costs more in per-op
        // overhead than the gather saves). From IN_PLACE_MIN_POSITIONS on, a sequence whose blocks
        // are consecutive is a group of its own and reads its rows in place.
        List<Group> groups = new ArrayList<>();
        int[] graphRow = new int[sequences];
        int row = 0;
        int s = 0;
        while (s < sequences) {
            if (batch.tokenCount(s) == 1) {
                int first = s;
                while (s < sequences && batch.tokenCount(s) == 1) {
                    s++;
                }
                CascadeGrouping.Split split = CascadeGrouping.of(batch, first, s, blockSize, cascade);
                for (CascadeGrouping.Cascade c : split.cascades()) {
                    int[] members = c.members();
                    int longest = 0;
                    for (int i = 0; i < members.length; i++) {
                        longest = Math.max(longest, batch.contextLength(members[i]));
                        graphRow[members[i]] = row + i;
                    }
                    int[] table = batch.blockTable(members[0]);
                    int slot = inPlaceAllowed && consecutive(table, c.prefixBlocks()) ? table[0] * blockSize : -1;
                    groups.add(new Group(members, 1, longest, row, slot, c.prefixBlocks() * blockSize));
                    row += members.length;
                }
                int[][] inPlaceAndGathered = splitInPlace(batch, split.rest(), blockSize, inPlaceAllowed);
                int[] inPlace = inPlaceAndGathered[0];
                for (int[] members : splitByLength(batch, inPlaceAndGathered[1])) {
                    int longest = 0;
                    for (int m : members) {
                        longest = Math.max(longest, batch.contextLength(m));
                    }
                    for (int i = 0; i < members.length; i++) {
                        graphRow[members[i]] = row + i;
                    }
                    // A short context alone in its group: read in place too, when it can be.
                    int slot = members.length == 1 && inPlaceAllowed ? contiguousFirstSlot(batch, members[0], blockSize) : -1;
                    groups.add(new Group(members, 1, slot >= 0 ? paddedLength(longest, slot, poolSlots) : longest, row, slot));
                    row += members.length;
                }
                for (InPlaceStreams.Run run : InPlaceStreams.of(batch, inPlace, blockSize, poolSlots)) {
                    int[] members = run.members();
                    for (int i = 0; i < members.length; i++) {
                        graphRow[members[i]] = row + i;
                    }
                    groups.add(new Group(members, 1, run.kvLength(), row, run.firstSlot(), 0, run.stride()));
                    row += members.length;
                }
            } else {
                int slot = inPlaceAllowed ? contiguousFirstSlot(batch, s, blockSize) : -1;
                int context = batch.contextLength(s);
                graphRow[s] = row;
                groups.add(new Group(new int[] {s}, batch.tokenCount(s),
                        slot >= 0 ? paddedLength(context, slot, poolSlots) : context, row, slot));
                row += batch.tokenCount(s);
                s++;
            }
        }
        return new AttentionPlan(batch.tokenCount(), List.copyOf(groups), outputs.total(), outputs.firstRow(),
                outputs.rowCount(), graphRow, outputs);
    }

    /**
     * The decode sequences of {@code all} read in place (long contexts on consecutive blocks,
     * whose gather would cost more than an op) and the rest, each in {@code all}'s order; one pass.
     */
    private static int[][] splitInPlace(Batch batch, int[] all, int blockSize, boolean inPlaceAllowed) {
        int[] inPlace = new int[all.length];
        int[] gathered = new int[all.length];
        int i = 0;
        int g = 0;
        for (int seq : all) {
            if (inPlaceAllowed && batch.contextLength(seq) >= IN_PLACE_MIN_POSITIONS
                    && contiguousFirstSlot(batch, seq, blockSize) >= 0) {
                inPlace[i++] = seq;
            } else {
                gathered[g++] = seq;
            }
        }
        return new int[][] {Arrays.copyOf(inPlace, i), Arrays.copyOf(gathered, g)};
    }

    /**
     * Decode sequences {@code decode} sorted by context length and split into groups that
     * minimise the positions gathered and attended, padding included, plus
     * {@link #GROUP_COST_POSITIONS} per group (an O(n²) partition over at most a few hundred).
     */
    private static List<int[]> splitByLength(Batch batch, int[] decode) {
        int n = decode.length;
        if (n <= 1) {
            return n == 0 ? List.of() : List.of(decode);
        }
        Integer[] sorted = new Integer[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = decode[i];
        }
        Arrays.sort(sorted, (a, b) -> Integer.compare(batch.contextLength(a), batch.contextLength(b)));
        long[] best = new long[n + 1]; // best[j]: cost of the first j sorted sequences
        int[] cut = new int[n + 1];    // where the last group of best[j] starts
        for (int j = 1; j <= n; j++) {
            long longest = batch.contextLength(sorted[j - 1]);
            best[j] = Long.MAX_VALUE;
            for (int i = j - 1; i >= 0; i--) {
                long cost = best[i] + (j - i) * longest + GROUP_COST_POSITIONS;
                if (cost < best[j]) {
                    best[j] = cost;
                    cut[j] = i;
                }
            }
        }
        List<int[]> groups = new ArrayList<>();
        for (int j = n; j > 0; j = cut[j]) {
            int[] members = new int[j - cut[j]];
            for (int k = 0; k < members.length; k++) {
                members[k] = sorted[cut[j] + k];
            }
            groups.add(members);
        }
        Collections.reverse(groups);
        return groups;
    }

    private static int paddedLength(int context, int firstSlot, int poolSlots) {
        return InPlaceStreams.length(context, firstSlot, firstSlot, 1, poolSlots);
    }

    /** Groups that attend a shared prefix once. */
    int cascadeGroups() {
        int cascades = 0;
        for (Group group : groups) { // a loop, not a stream: every step asks
            cascades += group.cascade() ? 1 : 0;
        }
        return cascades;
    }

    /** KV rows per layer the step's attention gathers (for K; as many again for V). */
    long gatheredRows() {
        long rows = 0;
        for (Group group : groups) {
            rows += group.gatheredRows();
        }
        return rows;
    }

    /** Context rows the step's sequences attend to, each sequence its own. */
    static long contextRows(Batch batch) {
        long rows = 0;
        for (int s = 0; s < batch.sequenceCount(); s++) {
            rows += batch.contextLength(s);
        }
        return rows;
    }

    /** Group shapes and input sizes: two steps with equal signatures can share one graph. */
    int[] signature() {
        int[] sig = new int[4 + groups.size() * 7];
        sig[0] = tokens;
        sig[1] = outputRows;
        sig[2] = groups.size();
        sig[3] = outputs.logitRows();
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            int at = 4 + i * 7;
            sig[at] = g.streams();
            sig[at + 1] = g.tokensPerStream();
            sig[at + 2] = g.kvLength();
            sig[at + 3] = g.firstToken();
            sig[at + 4] = g.firstSlot();
            sig[at + 5] = g.prefixLength();
            sig[at + 6] = g.slotStride();
        }
        return sig;
    }

    /** Whether the first {@code blocks} entries of {@code table} are consecutive blocks. */
    private static boolean consecutive(int[] table, int blocks) {
        for (int i = 1; i < blocks; i++) {
            if (table[i] != table[0] + i) {
                return false;
            }
        }
        return true;
    }

    /** The sequence's first slot if the blocks holding its context are consecutive, else -1. */
    private static int contiguousFirstSlot(Batch batch, int seq, int blockSize) {
        int[] table = batch.blockTable(seq);
        int blocks = (batch.contextLength(seq) + blockSize - 1) / blockSize;
        for (int i = 1; i < blocks; i++) {
            if (table[i] != table[0] + i) {
                return -1;
            }
        }
        return table[0] * blockSize;
    }
}
