package dev.sluice.scheduler;

import dev.sluice.engine.runner.Batch;
import dev.sluice.engine.runner.Logits;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A model stand-in for scheduler tests: its "KV cache" stores the token written at every slot,
 * and the logits it returns depend only on the token history it reads back through the block
 * table. Two tokens, {@link #candidates}, get a high logit (greedy takes the lower id; sampling
 * picks either); everything else gets zero. So any bookkeeping bug (a block shared that should not
 * be, a copy or swap that lost data, a stale block table) changes what the fake sees and makes the
 * output fail {@link #isConsistent}, without any model.
 */
final class FakeExecutor implements ModelExecutor {

    static final int FIRST_ORDINARY_TOKEN = 3;
    static final int TOKEN_RANGE = 5000;

    private final int blockSize;
    private final int vocabSize;
    private final int[] slots;
    private final int[][] swap;
    private final Arena arena = Arena.ofConfined();
    private MemorySegment logits = MemorySegment.NULL;
    int forwardCalls;
    int copies;
    int swapOuts;
    int swapIns;
    int lastStepTokens;
    /** When set, the next {@link #forward} throws it, once: a step that fails. */
    RuntimeException failNextForward;
    /** When set, every {@link #forward} throws it: the JVM giving out. */
    Error errorOnForward;

    FakeExecutor(int blocks, int blockSize, int swapSlots, int vocabSize) {
        this.blockSize = blockSize;
        this.vocabSize = vocabSize;
        this.slots = new int[blocks * blockSize];
        Arrays.fill(slots, -1);
        this.swap = new int[swapSlots][];
    }

    /** The two tokens the fake favours after {@code history[0, length)}. */
    static int[] candidates(int[] history, int length) {
        long h = 1469598103934665603L;
        for (int i = 0; i < length; i++) {
            h = (h ^ history[i]) * 1099511628211L;
        }
        int a = FIRST_ORDINARY_TOKEN + (int) Math.floorMod(h, (long) TOKEN_RANGE);
        int b = FIRST_ORDINARY_TOKEN + (int) Math.floorMod(h >>> 17, (long) TOKEN_RANGE);
        return new int[] {a, b};
    }

    /** Whether every output token is one the fake favoured after the tokens before it. */
    static boolean isConsistent(int[] prompt, int[] output) {
        int[] history = Arrays.copyOf(prompt, prompt.length + output.length);
        for (int i = 0; i < output.length; i++) {
            int[] c = candidates(history, prompt.length + i);
            if (output[i] != c[0] && output[i] != c[1]) {
                return false;
            }
            history[prompt.length + i] = output[i];
        }
        return true;
    }

    /** The greedy continuation (the lower-id candidate each time). */
    static int[] greedy(int[] prompt, int count) {
        int[] history = Arrays.copyOf(prompt, prompt.length + count);
        for (int i = 0; i < count; i++) {
            int[] c = candidates(history, prompt.length + i);
            history[prompt.length + i] = Math.min(c[0], c[1]);
        }
        return Arrays.copyOfRange(history, prompt.length, prompt.length + count);
    }

    @Override
    public void copyBlock(int source, int target) {
        copies++;
        System.arraycopy(slots, source * blockSize, slots, target * blockSize, blockSize);
    }

    @Override
    public void swapOut(int block, int slot) {
        swapOuts++;
        // The block may still be shared (prefix cache, a forked sibling): leave it as it is.
        swap[slot] = Arrays.copyOfRange(slots, block * blockSize, (block + 1) * blockSize);
    }

    @Override
    public void swapIn(int slot, int block) {
        swapIns++;
        System.arraycopy(swap[slot], 0, slots, block * blockSize, blockSize);
        swap[slot] = null;
    }

    @Override
    public Logits forward(Batch batch) {
        forwardCalls++;
        if (errorOnForward != null) {
            throw errorOnForward;
        }
        if (failNextForward != null) {
            RuntimeException e = failNextForward;
            failNextForward = null;
            throw e;
        }
        lastStepTokens = batch.tokenCount();
        int sequences = batch.sequenceCount();
        int[] firstRow = new int[sequences];
        int[] rowCount = new int[sequences];
        int rows = 0;
        for (int s = 0; s < sequences; s++) {
            int[] table = batch.blockTable(s);
            for (int i = 0; i < batch.tokenCount(s); i++) {
                int pos = batch.startPosition(s) + i;
                slots[table[pos / blockSize] * blockSize + pos % blockSize] = batch.token(batch.tokenStart(s) + i);
            }
            firstRow[s] = rows;
            rowCount[s] = batch.logits(s) == Batch.Logits.NONE ? 0 : 1;
            rows += rowCount[s];
        }
        long bytes = (long) Math.max(rows, 1) * vocabSize * Float.BYTES;
        if (logits.byteSize() < bytes) {
            logits = arena.allocate(bytes, 64);
        }
        logits.asSlice(0, bytes).fill((byte) 0);
        for (int s = 0; s < sequences; s++) {
            if (rowCount[s] == 0) {
                continue;
            }
            int context = batch.contextLength(s);
            int[] table = batch.blockTable(s);
            int[] history = new int[context];
            for (int pos = 0; pos < context; pos++) {
                history[pos] = slots[table[pos / blockSize] * blockSize + pos % blockSize];
            }
            long row = (long) firstRow[s] * vocabSize;
            for (int token : candidates(history, context)) {
                logits.setAtIndex(ValueLayout.JAVA_FLOAT, row + token, 30f);
            }
        }
        return new Logits(logits, vocabSize, rows, firstRow, rowCount);
    }

    @Override
    public void close() {
        arena.close();
    }
}
