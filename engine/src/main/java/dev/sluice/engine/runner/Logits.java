package dev.sluice.engine.runner;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The logits one {@link ModelRunner#forward} produced: one row of {@code vocabSize} floats per
 * token that asked for them, in batch order. Rows live in native memory that the next forward
 * reuses: read (sample) them before calling forward again.
 */
public final class Logits {

    private final MemorySegment data;
    private final int vocabSize;
    private final int rows;
    private final int[] firstRow;
    private final int[] rowCount;

    /** Rows {@code firstRow[s] … firstRow[s] + rowCount[s] - 1} belong to batch sequence {@code s}. */
    public Logits(MemorySegment data, int vocabSize, int rows, int[] firstRow, int[] rowCount) {
        this.data = data;
        this.vocabSize = vocabSize;
        this.rows = rows;
        this.firstRow = firstRow;
        this.rowCount = rowCount;
    }

    public int rows() {
        return rows;
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** Row {@code i}: {@code vocabSize} F32 logits. */
    public MemorySegment row(int i) {
        if (i < 0 || i >= rows) {
            throw new IndexOutOfBoundsException("logits row " + i + " of " + rows);
        }
        return data.asSlice((long) i * vocabSize * Float.BYTES, (long) vocabSize * Float.BYTES);
    }

    /** The last row of batch sequence {@code sequence} (its next-token distribution). */
    public MemorySegment lastRowOf(int sequence) {
        if (rowCount[sequence] == 0) {
            throw new IllegalArgumentException("sequence " + sequence + " asked for no logits");
        }
        return row(firstRow[sequence] + rowCount[sequence] - 1);
    }

    /** The first row of batch sequence {@code sequence}; it has {@link #rowCount(int)} rows. */
    public int firstRowOf(int sequence) {
        return firstRow[sequence];
    }

    public int rowCount(int sequence) {
        return rowCount[sequence];
    }

    /** A heap copy of row {@code i}, for tests and logprob bookkeeping. */
    public float[] copyRow(int i) {
        return row(i).toArray(ValueLayout.JAVA_FLOAT);
    }
}
