package dev.sluice.bindings.llama;

import dev.sluice.bindings.NativeException;
import dev.sluice.bindings.NativeStrings;
import dev.sluice.bindings.SystemInfo;
import dev.sluice.bindings.ggml.CpuThreadpool;
import dev.sluice.bindings.ggml.NodeProfiler;
import dev.sluice.bindings.ggml.OpTimes;
import dev.sluice.bindings.raw.ggml_backend_sched_eval_callback;
import dev.sluice.bindings.raw.llama_context_params;
import dev.sluice.bindings.raw.llama_cpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A libllama inference context: llama.cpp's own KV cache and {@code llama_decode}. Sluice serves
 * with its own engine; this is the oracle its tests and benchmarks compare against.
 *
 * <p>Not thread-safe. Closed by {@link #close()} or when its model closes; any use after that
 * throws {@link IllegalStateException}.
 */
public final class LlamaContext implements AutoCloseable {

    /** {@code enum llama_flash_attn_type}. */
    public enum FlashAttention {
        AUTO(-1), OFF(0), ON(1);

        final int nativeValue;

        FlashAttention(int nativeValue) {
            this.nativeValue = nativeValue;
        }
    }

    /**
     * {@code enum llama_pooling_type}: how an embeddings context pools a sequence's token states
     * ({@link #embeddings(int)}).
     */
    public enum Pooling {
        NONE(0), MEAN(1), CLS(2), LAST(3);

        final int nativeValue;

        Pooling(int nativeValue) {
            this.nativeValue = nativeValue;
        }
    }

    /**
     * @param contextLength  KV cache size in tokens, shared by all sequences
     * @param batchSize      most tokens one {@link #decode} may carry
     * @param maxSequences   distinct sequence ids a batch may use
     * @param threads        CPU threads for decoding
     * @param embeddings     null for a generating context; else an embeddings context
     *                       ({@code embeddings = true}) with this pooling
     */
    public record Options(int contextLength, int batchSize, int maxSequences, int threads, FlashAttention flashAttention,
                          Pooling embeddings) {
        public Options {
            if (contextLength <= 0 || batchSize <= 0 || maxSequences <= 0 || threads <= 0) {
                throw new IllegalArgumentException("context options must be positive: " + this);
            }
        }

        public static Options defaults(int contextLength) {
            return new Options(contextLength, Math.min(contextLength, 2048), 1, SystemInfo.physicalCores(), FlashAttention.AUTO,
                    null);
        }

        public Options withMaxSequences(int n) {
            return new Options(contextLength, batchSize, n, threads, flashAttention, embeddings);
        }

        public Options withThreads(int n) {
            return new Options(contextLength, batchSize, maxSequences, n, flashAttention, embeddings);
        }

        public Options withFlashAttention(FlashAttention mode) {
            return new Options(contextLength, batchSize, maxSequences, threads, mode, embeddings);
        }

        /** An embeddings context pooling with {@code pooling}. */
        public Options withEmbeddings(Pooling pooling) {
            return new Options(contextLength, batchSize, maxSequences, threads, flashAttention, pooling);
        }
    }

    private final LlamaModel model;
    private final Options options;
    private final int vocabSize;
    private MemorySegment context;
    private CpuThreadpool threadpool;
    private Arena callbacks; // the profile's upcall stub, when profiled; lives as long as the context

    private LlamaContext(LlamaModel model, Options options, MemorySegment context, CpuThreadpool threadpool) {
        this.model = model;
        this.options = options;
        this.context = context;
        this.threadpool = threadpool;
        this.vocabSize = model.vocab().size();
    }

    public static LlamaContext create(LlamaModel model, Options options) {
        return create(model, options, null);
    }

    /**
     * A context whose decodes are profiled node by node into {@code profile} (null: not profiled):
     * llama.cpp's scheduler asks an eval callback before each node and, told yes, computes the
     * nodes up to it, waits, and calls back; the time between the two calls is the node's. The
     * counterpart of {@link dev.sluice.bindings.ggml.NodeProfiler} for Sluice's graphs, with the
     * same one dispatch per node. The callback runs on the thread that decodes.
     */
    public static LlamaContext create(LlamaModel model, Options options, OpTimes profile) {
        if (model.isVocabOnly()) {
            throw new IllegalArgumentException("model " + model.path() + " was loaded vocabulary-only; it cannot decode");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = llama_cpp.llama_context_default_params(arena);
            llama_context_params.n_ctx(params, options.contextLength());
            llama_context_params.n_batch(params, options.batchSize());
            llama_context_params.n_ubatch(params, options.batchSize());
            llama_context_params.n_seq_max(params, options.maxSequences());
            llama_context_params.n_threads(params, options.threads());
            llama_context_params.n_threads_batch(params, options.threads());
            llama_context_params.flash_attn_type(params, options.flashAttention().nativeValue);
            llama_context_params.no_perf(params, true);
            if (options.embeddings() != null) {
                llama_context_params.embeddings(params, true);
                llama_context_params.pooling_type(params, options.embeddings().nativeValue);
            }
            Arena callbacks = profile == null ? null : Arena.ofShared();
            if (profile != null) {
                llama_context_params.cb_eval(params, ggml_backend_sched_eval_callback.allocate(new NodeTimes(profile), callbacks));
            }
            MemorySegment context = llama_cpp.llama_init_from_model(model.pointer(), params);
            if (context.equals(MemorySegment.NULL)) {
                if (callbacks != null) {
                    callbacks.close();
                }
                throw new NativeException("llama_init_from_model failed for " + model.path() + " with " + options);
            }
            // A persistent pool of sleeping workers, as Sluice's backend has and llama-server
            // attaches its own: without one, a build without OpenMP starts and joins the threads
            // for every graph.
            CpuThreadpool pool;
            try {
                pool = CpuThreadpool.start(options.threads());
            } catch (RuntimeException e) {
                llama_cpp.llama_free(context);
                if (callbacks != null) {
                    callbacks.close();
                }
                throw e;
            }
            llama_cpp.llama_attach_threadpool(context, pool.pointer(), pool.pointer());
            LlamaContext created = new LlamaContext(model, options, context, pool);
            created.callbacks = callbacks;
            model.register(created);
            return created;
        }
    }

    public Options options() {
        return options;
    }

    public LlamaModel model() {
        return model;
    }

    /** Runs the batch through the model, appending its tokens to llama.cpp's KV cache. */
    public void decode(LlamaBatch batch) {
        int status = llama_cpp.llama_decode(pointer(), batch.struct());
        if (status != 0) {
            throw new NativeException("llama_decode returned " + status + switch (status) {
                case 1 -> " (no KV slot for the batch: context too small)";
                case 2 -> " (aborted)";
                case -1 -> " (invalid batch)";
                default -> "";
            });
        }
    }

    /** A copy of the logits of the {@code i}-th token of the last batch (it must have asked for logits). */
    public float[] logits(int i) {
        return logitsView(i).toArray(ValueLayout.JAVA_FLOAT);
    }

    /** The logits of the {@code i}-th token of the last batch, in place: valid until the next decode. */
    public MemorySegment logitsView(int i) {
        MemorySegment row = llama_cpp.llama_get_logits_ith(pointer(), i);
        if (row.equals(MemorySegment.NULL)) {
            throw new NativeException("no logits for batch index " + i + " (did the batch request them?)");
        }
        return row.reinterpret(vocabSize * Float.BYTES);
    }

    /**
     * A copy of sequence {@code sequenceId}'s pooled embedding after the last decode
     * ({@code llama_get_embeddings_seq}: not normalised); an embeddings context only.
     */
    public float[] embeddings(int sequenceId) {
        if (options.embeddings() == null) {
            throw new IllegalStateException("not an embeddings context");
        }
        MemorySegment row = llama_cpp.llama_get_embeddings_seq(pointer(), sequenceId);
        if (row.equals(MemorySegment.NULL)) {
            throw new NativeException("no pooled embedding for sequence " + sequenceId);
        }
        int width = model.embeddingLength();
        return row.reinterpret((long) width * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Empties llama.cpp's KV cache: the next decode starts every sequence afresh. */
    public void clearMemory() {
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(pointer()), true);
    }

    /** Forgets one sequence's cached tokens. */
    public void removeSequence(int sequenceId) {
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(pointer()), sequenceId, -1, -1);
    }

    /** Forgets a sequence's cached tokens from position {@code from} on (to re-run a step in benchmarks). */
    public void removeSequencePositions(int sequenceId, int from) {
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(pointer()), sequenceId, from, -1);
    }

    public int vocabSize() {
        return vocabSize;
    }

    private MemorySegment pointer() {
        if (context == null || !model.isOpen()) {
            throw new IllegalStateException("LlamaContext is closed");
        }
        return context;
    }

    @Override
    public void close() {
        if (context == null) {
            return;
        }
        llama_cpp.llama_free(context);
        context = null;
        threadpool.close();
        threadpool = null;
        if (callbacks != null) {
            callbacks.close(); // after llama_free: nothing can call the stub any more
            callbacks = null;
        }
        model.unregister(this);
    }

    /** The eval callback of a profiled context: yes to every node, then its time by kind of op. */
    private static final class NodeTimes implements ggml_backend_sched_eval_callback.Function {

        private final OpTimes profile;
        private long start;

        NodeTimes(OpTimes profile) {
            this.profile = profile;
        }

        @Override
        public boolean apply(MemorySegment tensor, boolean ask, MemorySegment userData) {
            if (ask) {
                start = System.nanoTime();
                return true;
            }
            long nanos = System.nanoTime() - start;
            String op = NativeStrings.read(llama_cpp.ggml_op_desc(tensor));
            if (!NodeProfiler.computesNothing(op)) {
                profile.add(op, nanos);
            }
            return true; // go on computing
        }
    }
}
