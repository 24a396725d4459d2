package dev.sluice.engine.runner;

import dev.sluice.bindings.llama.LlamaReference;

import java.util.ArrayList;
import java.util.List;

/**
 * Test helper: runs greedy decoding of several sequences through a {@link ModelRunner}, each with
 * its own block table, the way an engine loop would (prefill chunks, then one token per step).
 */
final class GreedyDriver {

    /** One sequence: its prompt, its blocks, and what it has produced. */
    static final class Sequence {
        final int[] prompt;
        final int[] blockTable;
        final int prefillChunk;
        final int startStep;
        final List<Integer> generated = new ArrayList<>();
        int prefilled;

        Sequence(int[] prompt, int[] blockTable, int prefillChunk, int startStep) {
            this.prompt = prompt;
            this.blockTable = blockTable;
            this.prefillChunk = prefillChunk;
            this.startStep = startStep;
        }

        int[] generatedTokens() {
            return generated.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    private GreedyDriver() {
    }

    /**
     * Steps until every sequence has {@code count} tokens. Each step batches, in order: decode tokens
     * of sequences past their prompt, then one prefill chunk of each sequence still prefilling.
     */
    static void run(ModelRunner runner, int blockSize, List<Sequence> sequences, int count) {
        Batch batch = new Batch();
        for (int step = 0; sequences.stream().anyMatch(s -> s.generated.size() < count); step++) {
            batch.clear();
            List<Sequence> inBatch = new ArrayList<>();
            for (Sequence s : sequences) {
                if (s.prefilled == s.prompt.length && s.generated.size() < count) {
                    int pos = s.prompt.length + s.generated.size() - 1;
                    batch.addToken(s.generated.getLast(), pos, s.blockTable, pos / blockSize + 1);
                    inBatch.add(s);
                }
            }
            for (Sequence s : sequences) {
                if (step >= s.startStep && s.prefilled < s.prompt.length) {
                    int n = Math.min(s.prefillChunk, s.prompt.length - s.prefilled);
                    boolean last = s.prefilled + n == s.prompt.length;
                    batch.add(s.prompt, s.prefilled, n, s.prefilled, s.blockTable,
                            (s.prefilled + n + blockSize - 1) / blockSize, last ? Batch.Logits.LAST : Batch.Logits.NONE);
                    inBatch.add(s);
                }
            }
            if (inBatch.isEmpty()) {
                continue;
            }
            Logits logits = runner.forward(batch);
            for (int i = 0; i < inBatch.size(); i++) {
                Sequence s = inBatch.get(i);
                if (s.prefilled < s.prompt.length) {
                    s.prefilled += Math.min(s.prefillChunk, s.prompt.length - s.prefilled);
                    if (s.prefilled < s.prompt.length) {
                        continue;
                    }
                }
                s.generated.add(LlamaReference.argmax(logits.row(logits.firstRowOf(i) + logits.rowCount(i) - 1)
                        .toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)));
            }
        }
    }
}
