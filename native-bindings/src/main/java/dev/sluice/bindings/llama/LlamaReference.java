package dev.sluice.bindings.llama;

import java.nio.file.Path;

/**
 * The correctness oracle: llama.cpp's own loader and {@code llama_decode} on a GGUF file. Sluice's
 * engine must produce the same logits and the same greedy tokens; tests and benchmarks use this
 * class to check it. It is never the serving path.
 *
 * <p>Owns its model and context; not thread-safe.
 */
public final class LlamaReference implements AutoCloseable {

    private final LlamaModel model;
    private final LlamaContext context;

    private LlamaReference(LlamaModel model, LlamaContext context) {
        this.model = model;
        this.context = context;
    }

    public static LlamaReference open(Path gguf, LlamaContext.Options options) {
        return open(gguf, LlamaModel.Options.CPU, options);
    }

    /** With the model loaded as {@code modelOptions} say (e.g. its layers offloaded to a GPU). */
    public static LlamaReference open(Path gguf, LlamaModel.Options modelOptions, LlamaContext.Options options) {
        LlamaModel model = LlamaModel.load(gguf, modelOptions);
        try {
            return new LlamaReference(model, LlamaContext.create(model, options));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public static LlamaReference open(Path gguf, int contextLength) {
        return open(gguf, LlamaContext.Options.defaults(contextLength));
    }

    public LlamaModel model() {
        return model;
    }

    public LlamaContext context() {
        return context;
    }

    public LlamaVocab vocab() {
        return model.vocab();
    }

    /** Tokenizes as a prompt: BOS as the model asks, special tokens parsed. */
    public int[] tokenize(String text) {
        return vocab().tokenize(text, true, true);
    }

    /** Logits of every position of {@code tokens}, decoded from an empty cache as sequence 0. */
    public float[][] promptLogits(int[] tokens) {
        context.clearMemory();
        float[][] logits = new float[tokens.length][];
        int batchSize = context.options().batchSize();
        try (LlamaBatch batch = new LlamaBatch(batchSize)) {
            for (int start = 0; start < tokens.length; start += batchSize) {
                int end = Math.min(tokens.length, start + batchSize);
                batch.clear();
                for (int i = start; i < end; i++) {
                    batch.add(tokens[i], i, 0, true);
                }
                context.decode(batch);
                for (int i = start; i < end; i++) {
                    logits[i] = context.logits(i - start);
                }
            }
        }
        return logits;
    }

    /**
     * The pooled embedding of {@code tokens} (one decode, from an empty cache, as sequence 0:
     * {@code llama_get_embeddings_seq}, not normalised). The context must be an embeddings
     * context ({@link LlamaContext.Options#withEmbeddings}) whose batch holds every token.
     */
    public float[] embedding(int[] tokens) {
        context.clearMemory();
        if (tokens.length > context.options().batchSize()) {
            throw new IllegalArgumentException(tokens.length + " tokens do not fit one batch of " + context.options().batchSize());
        }
        try (LlamaBatch batch = new LlamaBatch(tokens.length)) {
            for (int i = 0; i < tokens.length; i++) {
                batch.add(tokens[i], i, 0, true);
            }
            context.decode(batch);
        }
        return context.embeddings(0);
    }

    /** Logits after the last token of {@code tokens}, decoded from an empty cache. */
    public float[] lastLogits(int[] tokens) {
        context.clearMemory();
        return prefill(tokens);
    }

    /**
     * Greedy continuation: decodes the prompt from an empty cache, then {@code count} times takes the
     * highest logit (the lowest id on ties) and feeds it back.
     *
     * @param stopAtEndOfGeneration stop early at an end-of-generation token (it is included)
     */
    public int[] greedy(int[] prompt, int count, boolean stopAtEndOfGeneration) {
        context.clearMemory();
        float[] logits = prefill(prompt);
        int[] out = new int[count];
        int produced = 0;
        try (LlamaBatch batch = new LlamaBatch(1)) {
            while (produced < count) {
                int next = argmax(logits);
                out[produced++] = next;
                if (produced == count || (stopAtEndOfGeneration && vocab().isEndOfGeneration(next))) {
                    break;
                }
                batch.clear();
                batch.add(next, prompt.length + produced - 1, 0, true);
                context.decode(batch);
                logits = context.logits(0);
            }
        }
        return produced == count ? out : java.util.Arrays.copyOf(out, produced);
    }

    /**
     * Greedy continuations of several prompts decoded together, the way a server batches them:
     * every prompt in one pass (prompt {@code s} is sequence {@code s}), then {@code count - 1}
     * steps that each decode one token of every sequence. This is what a batch of Sluice's must
     * match token for token: ggml multiplies a batch of rows with another kernel than a single row
     * (llamafile's tinyBLAS on AVX-512 sums in another order), so a random-weight model's
     * near-tied logits may pick differently alone than in a batch, in llama.cpp as in Sluice.
     * The context needs {@code prompts.size()} sequences, each with room for its prompt and output.
     *
     * @return the {@code count} tokens of each prompt, in the order of {@code prompts}
     */
    public int[][] greedyTogether(java.util.List<int[]> prompts, int count) {
        int n = prompts.size();
        LlamaContext.Options options = context.options();
        int room = options.contextLength() / options.maxSequences(); // per sequence, as llama.cpp splits it
        int total = 0;
        for (int[] prompt : prompts) {
            if (prompt.length == 0 || prompt.length + count > room) {
                throw new IllegalArgumentException("a prompt of " + prompt.length + " tokens and " + count
                        + " more do not fit a sequence's " + room + " positions");
            }
            total += prompt.length;
        }
        if (n > options.maxSequences() || total > options.batchSize()) {
            throw new IllegalArgumentException(n + " prompts of " + total + " tokens in all need a context of "
                    + n + " sequences and a batch of " + total + ", not " + options);
        }
        context.clearMemory();
        int[][] out = new int[n][count];
        try (LlamaBatch batch = new LlamaBatch(total)) {
            int[] lastRow = new int[n];
            for (int s = 0; s < n; s++) {
                int[] prompt = prompts.get(s);
                for (int i = 0; i < prompt.length; i++) {
                    lastRow[s] = batch.add(prompt[i], i, s, i == prompt.length - 1);
                }
            }
            for (int produced = 0; ; ) {
                context.decode(batch);
                for (int s = 0; s < n; s++) {
                    out[s][produced] = argmax(context.logits(lastRow[s]));
                }
                if (++produced == count) {
                    return out;
                }
                batch.clear();
                for (int s = 0; s < n; s++) {
                    lastRow[s] = batch.add(out[s][produced - 1], prompts.get(s).length + produced - 1, s, true);
                }
            }
        }
    }

    private float[] prefill(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        int batchSize = context.options().batchSize();
        float[] last = null;
        try (LlamaBatch batch = new LlamaBatch(batchSize)) {
            for (int start = 0; start < tokens.length; start += batchSize) {
                int end = Math.min(tokens.length, start + batchSize);
                batch.clear();
                for (int i = start; i < end; i++) {
                    batch.add(tokens[i], i, 0, i == tokens.length - 1);
                }
                context.decode(batch);
            }
            last = context.logits(-1);
        }
        return last;
    }

    /** Index of the largest value, the first one on ties (what a greedy sampler picks). */
    public static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public void close() {
        model.close(); // closes the context too
    }
}
