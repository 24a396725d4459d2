package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Writes a step's inputs into its graph: token ids, positions, the KV slot of every new token,
 * the rows that produce logits, and per attention group the gather rows and the causal mask.
 *
 * <p>On the CPU each input is written straight into its tensor's memory. On other backends (a
 * GPU) each input is written to its own region of a host staging buffer, then copied to the
 * device: regions never overlap, because every input is written before any is copied. The
 * staging path can be forced on the CPU, so tests exercise it where no GPU is present.
 */
final class StepInputs implements AutoCloseable {

    private static final short F16_NEG_INF = (short) 0xFC00;

    private final boolean staged;
    // Shared, not confined: the runner is built on a loader thread and used on the engine thread.
    private final Arena arena = Arena.ofShared();
    private MemorySegment staging = MemorySegment.NULL;
    private long stagingUsed;
    private MemorySegment negInfRow = MemorySegment.NULL;
    private MemorySegment logits = MemorySegment.NULL;

    /** @param staged write through host staging buffers (other backends; or forced, for tests) */
    StepInputs(boolean staged) {
        this.staged = staged;
    }

    boolean staged() {
        return staged;
    }

    /**
     * Writes every input of {@code g} for {@code batch} as {@code plan} arranged it;
     * {@code kvDim} and {@code poolBlocks} place the V gather rows of a transposed pool.
     */
    void write(Batch batch, AttentionPlan plan, StepGraph g, int blockSize, int kvDim, int poolBlocks) {
        if (plan.tokens() != batch.tokenCount()) {
            throw new IllegalStateException("plan and batch disagree");
        }
        reserve(g);
        MemorySegment tokens = input(g.tokens());
        MemorySegment positions = input(g.positions());
        MemorySegment slots = input(g.slots());
        for (int s = 0; s < batch.sequenceCount(); s++) {
            int start = batch.tokenStart(s);
            int row = plan.graphRow()[s];
            int[] table = batch.blockTable(s);
            for (int i = 0; i < batch.tokenCount(s); i++) {
                int pos = batch.startPosition(s) + i;
                tokens.setAtIndex(ValueLayout.JAVA_INT, row + i, batch.token(start + i));
                positions.setAtIndex(ValueLayout.JAVA_INT, row + i, pos);
                slots.setAtIndex(ValueLayout.JAVA_LONG, row + i, (long) table[pos / blockSize] * blockSize + pos % blockSize);
            }
        }
        MemorySegment outputs = input(g.outputRows());
        plan.outputs().write(outputs, batch, plan.graphRow());
        MemorySegment[] gathers = new MemorySegment[plan.groups().size()];
        MemorySegment[] values = new MemorySegment[plan.groups().size()];
        MemorySegment[] masks = new MemorySegment[plan.groups().size()];
        for (int i = 0; i < plan.groups().size(); i++) {
            AttentionPlan.Group group = plan.groups().get(i);
            gathers[i] = group.gathers() ? input(g.gatherRows()[i]) : null;
            if (g.valueRows()[i] != null) {
                values[i] = input(g.valueRows()[i]);
                ValueRows.write(values[i], batch, group, blockSize, kvDim, poolBlocks);
            }
            masks[i] = input(g.masks()[i]);
            if (group.cascade()) {
                CascadeRows.write(batch, group, gathers[i], blockSize);
                writeGroup(batch, group, null, masks[i], blockSize);
            } else {
                writeGroup(batch, group, gathers[i], masks[i], blockSize);
            }
        }
        if (staged) {
            // Everything is written, each to its own region: now copy each to its tensor.
            g.tokens().write(tokens, 0);
            g.positions().write(positions, 0);
            g.slots().write(slots, 0);
            g.outputRows().write(outputs, 0);
            for (int i = 0; i < masks.length; i++) {
                if (gathers[i] != null) {
                    g.gatherRows()[i].write(gathers[i], 0);
                }
                if (values[i] != null) {
                    g.valueRows()[i].write(values[i], 0);
                }
                g.masks()[i].write(masks[i], 0);
            }
        }
    }

    private void writeGroup(Batch batch, AttentionPlan.Group group, MemorySegment rows, MemorySegment mask, int blockSize) {
        int l = group.kvLength();
        MemorySegment negInf = negInfRow(l);
        long rowBytes = (long) l * Short.BYTES;
        for (int stream = 0; stream < group.streams(); stream++) {
            int s = group.members()[stream];
            int[] table = batch.blockTable(s);
            int context = batch.contextLength(s);
            if (rows != null) {
                writeGatherRows(rows, (long) stream * l, table, Math.min(context, l), l, blockSize);
            }
            for (int t = 0; t < group.tokensPerStream(); t++) {
                int visible = batch.startPosition(s) + t + 1; // causal: positions 0 … pos
                long offset = ((long) stream * group.tokensPerStream() + t) * rowBytes;
                mask.asSlice(offset, (long) visible * Short.BYTES).fill((byte) 0);
                MemorySegment.copy(negInf, 0, mask, offset + (long) visible * Short.BYTES, rowBytes - (long) visible * Short.BYTES);
            }
        }
    }

    /**
     * The cache slots a stream gathers: its context's {@code context} positions block by block,
     * then padding up to {@code length}, which gathers the sequence's own first row (finite data,
     * masked out). Two plain loops, no branch per position: one loop with a branch between the
     * two kinds made C2 speculate that the branch always went one way, then deoptimize and
     * recompile the method again and again (130 ms of compiler time each, on a 2-core host).
     */
    private static void writeGatherRows(MemorySegment rows, long base, int[] table, int context, int length,
                                        int blockSize) {
        int j = 0;
        for (int b = 0; j < context; b++) {
            int first = table[b] * blockSize;
            int end = Math.min(context, j + blockSize);
            for (int slot = first; j < end; j++, slot++) {
                rows.setAtIndex(ValueLayout.JAVA_INT, base + j, slot);
            }
        }
        int firstSlot = table[0] * blockSize;
        for (; j < length; j++) {
            rows.setAtIndex(ValueLayout.JAVA_INT, base + j, firstSlot);
        }
    }

    /** Makes the staging buffer large enough for every input of {@code g}, each in its own region. */
    private void reserve(StepGraph g) {
        stagingUsed = 0;
        if (!staged) {
            return;
        }
        long total = aligned(g.tokens()) + aligned(g.positions()) + aligned(g.slots()) + aligned(g.outputRows());
        for (int i = 0; i < g.masks().length; i++) {
            total += aligned(g.masks()[i]) + (g.gatherRows()[i] == null ? 0 : aligned(g.gatherRows()[i]))
                    + (g.valueRows()[i] == null ? 0 : aligned(g.valueRows()[i]));
        }
        if (staging.byteSize() < total) {
            staging = arena.allocate(Math.max(total, staging.byteSize() * 2), 64);
        }
    }

    private static long aligned(Tensor tensor) {
        return (tensor.bytes() + 63) & ~63L;
    }

    /** Where to write a tensor's input: its own memory, or the next free staging region. */
    private MemorySegment input(Tensor tensor) {
        if (!staged) {
            return tensor.hostData();
        }
        MemorySegment region = staging.asSlice(stagingUsed, tensor.bytes());
        stagingUsed += aligned(tensor);
        return region;
    }

    private MemorySegment negInfRow(int length) {
        if (negInfRow.byteSize() < (long) length * Short.BYTES) {
            negInfRow = arena.allocate((long) Math.max(length, 1024) * Short.BYTES, 64);
            for (long i = 0; i < negInfRow.byteSize() / Short.BYTES; i++) {
                negInfRow.setAtIndex(ValueLayout.JAVA_SHORT, i, F16_NEG_INF);
            }
        }
        return negInfRow;
    }

    /** A host buffer of at least {@code bytes} to read logits back into from a device; reused step after step. */
    MemorySegment logitsBuffer(long bytes) {
        if (logits.byteSize() < bytes) {
            logits = arena.allocate(Math.max(bytes, logits.byteSize() * 2), 64);
        }
        return logits.asSlice(0, bytes);
    }

    @Override
    public void close() {
        arena.close();
    }
}
