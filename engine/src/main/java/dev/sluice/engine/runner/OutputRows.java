package dev.sluice.engine.runner;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Which of a step's graph rows come out of it, and in what order: first the rows that produce
 * logits (batch order: a sampling sequence's last token, or every token of a sequence that asked
 * for its prompt's log-probabilities), then the rows that return their final hidden state
 * (batch order: the tokens embedding sequences pool). Only these rows go through the last
 * layer's MLP; the logits rows also go through the output head. Pure Java.
 *
 * @param logitRows   rows with logits (at least one when there are no hidden rows, so the graph keeps a shape)
 * @param firstRow    per batch sequence, its first logits row
 * @param rowCount    per batch sequence, its logits rows (0, 1, or all its new tokens)
 * @param hiddenRows  rows with hidden states, after the logits rows
 * @param firstHidden per batch sequence, its first hidden row, counted from the first hidden row
 * @param hiddenCount per batch sequence, its hidden rows
 * @param hiddenFrom  per batch sequence, which of its new tokens is its first hidden row
 */
record OutputRows(int logitRows, int[] firstRow, int[] rowCount, int hiddenRows, int[] firstHidden,
                  int[] hiddenCount, int[] hiddenFrom) {

    /** Every output row: logits, then hidden states. */
    int total() {
        return logitRows + hiddenRows;
    }

    static OutputRows of(Batch batch) {
        int sequences = batch.sequenceCount();
        int[] firstRow = new int[sequences];
        int[] rowCount = new int[sequences];
        int[] firstHidden = new int[sequences];
        int[] hiddenCount = new int[sequences];
        int[] hiddenFrom = new int[sequences];
        int rows = 0;
        int hidden = 0;
        for (int s = 0; s < sequences; s++) {
            int count = batch.tokenCount(s);
            rowCount[s] = switch (batch.logits(s)) {
                case NONE -> 0;
                case LAST -> 1;
                case ALL -> count;
            };
            firstRow[s] = rows;
            rows += rowCount[s];
            hiddenCount[s] = switch (batch.hidden(s)) {
                case NONE -> 0;
                case FIRST, LAST -> 1;
                case ALL -> count;
            };
            hiddenFrom[s] = batch.hidden(s) == Batch.Hidden.LAST ? count - 1 : 0;
            firstHidden[s] = hidden;
            hidden += hiddenCount[s];
        }
        if (rows == 0 && hidden == 0) {
            // A step of only intermediate prefill chunks: compute one row anyway so the graph
            // keeps a single shape; nobody reads it.
            rowCount[sequences - 1] = 1;
            firstRow[sequences - 1] = 0;
            rows = 1;
        }
        return new OutputRows(rows, firstRow, rowCount, hidden, firstHidden, hiddenCount, hiddenFrom);
    }

    /** Writes the graph row of every output row, in output order; {@code graphRow} per batch sequence. */
    void write(MemorySegment out, Batch batch, int[] graphRow) {
        int row = 0;
        for (int s = 0; s < batch.sequenceCount(); s++) {
            // A sequence's logits rows are its last rowCount tokens (one: the last; all: from the first).
            int first = graphRow[s] + batch.tokenCount(s) - rowCount[s];
            for (int i = 0; i < rowCount[s]; i++) {
                out.setAtIndex(ValueLayout.JAVA_INT, row++, first + i);
            }
        }
        for (int s = 0; s < batch.sequenceCount(); s++) {
            for (int i = 0; i < hiddenCount[s]; i++) {
                out.setAtIndex(ValueLayout.JAVA_INT, row++, graphRow[s] + hiddenFrom[s] + i);
            }
        }
    }
}
