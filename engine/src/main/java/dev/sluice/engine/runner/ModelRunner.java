package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GraphAllocator;
import dev.sluice.bindings.ggml.NodeProfiler;
import dev.sluice.bindings.ggml.OpTimes;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.ModelConfig;
import dev.sluice.engine.model.ModelWeights;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Turns a {@link Batch} into logits: plans the step's attention ({@link AttentionPlan}, pure
 * Java), builds one ggml graph for the whole step ({@link StepGraph}: every sequence, prefill
 * chunks and decode tokens together; reused while the step's shapes repeat), writes its inputs
 * ({@link StepInputs}), computes it on the backend, and returns logits only for the tokens that
 * asked for them, in batch order, and hidden states for the tokens that asked for those
 * ({@link #hiddenStates()}, for embeddings).
 *
 * <p>Makes no policy decisions: what runs is the caller's. Engine-thread only.
 */
public final class ModelRunner implements AutoCloseable {

    private final ModelWeights weights;
    private final ModelConfig config;
    private final KvCache cache;
    private final Backend backend;
    private final GraphAllocator allocator;
    private final StepInputs inputs;
    private final ComputeThreads computeThreads;
    private GgmlContext stepContext;
    private StepGraph lastGraph;
    private int[] lastSignature;
    private StepTimings lastTimings;
    private final HiddenStates.Readback hiddenReadback = new HiddenStates.Readback();
    private HiddenStates lastHidden;
    private boolean closed;
    private CascadeMode cascade = CascadeMode.fromSystemProperty();
    private NodeProfiler nodeProfiler; // only while profiling
    private OpTimes profile;

    public ModelRunner(ModelWeights weights, KvCache cache, Backend backend) {
        this(weights, cache, backend, false);
    }

    /**
     * @param adaptiveThreads compute each step on fewer of the backend's threads while the host is
     *                        too busy to run them all (see {@link ThreadGovernor}); off, every
     *                        step uses the backend's thread count
     */
    public ModelRunner(ModelWeights weights, KvCache cache, Backend backend, boolean adaptiveThreads) {
        this(weights, cache, backend, !backend.isCpu(), adaptiveThreads);
    }

    /**
     * @param stagedInputs write inputs through host staging buffers, as a non-CPU backend needs;
     *                     on the CPU only to test that path where no GPU is present
     */
    ModelRunner(ModelWeights weights, KvCache cache, Backend backend, boolean stagedInputs, boolean adaptiveThreads) {
        if (!backend.isCpu() && !stagedInputs) {
            throw new IllegalArgumentException("a non-CPU backend needs staged inputs");
        }
        this.weights = weights;
        this.config = weights.config();
        this.cache = cache;
        this.backend = backend;
        this.allocator = GraphAllocator.forBackend(backend);
        this.inputs = new StepInputs(stagedInputs);
        this.computeThreads = ComputeThreads.of(backend, adaptiveThreads);
        if (!backend.isCpu() && cascade == CascadeMode.AUTO) {
            // measured and checked on the CPU only; elsewhere it runs when forced
            cascade = CascadeMode.OFF;
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** Runs one step. The returned logits are valid until the next call. */
    public Logits forward(Batch batch) {
        checkOpen();
        if (batch.sequenceCount() == 0) {
            throw new IllegalArgumentException("empty batch");
        }
        validate(batch);
        // Rows are read in place only from an F16 cache: quantized rows must be dequantized by a gather.
        AttentionPlan plan = AttentionPlan.of(batch, cache.blockSize(), cache.type() == KvCache.CacheType.F16, cache.slots(),
                cascade);

        long t0 = System.nanoTime();
        int[] signature = plan.signature();
        StepGraph g;
        long t1;
        long t2;
        if (lastGraph != null && Arrays.equals(signature, lastSignature)) {
            // Same shapes as the last step: its graph and allocation still hold; only inputs change.
            g = lastGraph;
            t1 = System.nanoTime();
            t2 = t1;
        } else {
            if (stepContext != null) {
                stepContext.close();
            }
            // MatrixAttention works around ggml's CPU flash-attention kernel; measured on the CPU only.
            boolean matrixAttention = backend.isCpu();
            // The graph holds as many nodes as the context holds tensors: every node is one of the
            // context's tensors, so the node array cannot overflow (ggml aborts the process on that);
            // a plan that outgrows the estimate runs out of tensor room, which throws instead.
            int tensors = StepGraph.nodes(config, plan, matrixAttention, cache.transposedValues()) + 16;
            stepContext = GgmlContext.create(tensors, tensors);
            g = StepGraph.build(stepContext, plan, weights, cache, tensors, matrixAttention);
            t1 = System.nanoTime();
            allocator.allocate(g.graph());
            t2 = System.nanoTime();
            lastGraph = g;
            lastSignature = signature;
        }
        inputs.write(batch, plan, g, cache.blockSize(), config.kvDim(), cache.blocks());
        long t3 = System.nanoTime();
        int threads;
        if (profile == null) {
            threads = computeThreads.compute(g.graph(), batch.tokenCount());
        } else {
            computeThreads.beforeCompute();
            threads = computeThreads.threads();
            nodeProfiler.compute(backend, g.graph(), profile);
            long end = System.nanoTime();
            computeThreads.afterCompute(end, end - t3);
        }
        long t4 = System.nanoTime();
        lastTimings = new StepTimings(t1 - t0, t2 - t1, t3 - t2, t4 - t3, g.graph().nodeCount(), plan.groups().size(), threads,
                plan.cascadeGroups(), plan.gatheredRows(), AttentionPlan.contextRows(batch),
                profile == null ? computeThreads.lastSegments() : 1);

        MemorySegment data = MemorySegment.NULL;
        if (g.logits() == null) {
            // Only hidden-state rows (embeddings) in this step: no logits at all.
        } else if (backend.isCpu()) {
            data = g.logits().hostData();
        } else {
            data = inputs.logitsBuffer(g.logits().bytes());
            g.logits().read(data, 0);
        }
        lastHidden = g.hidden() == null ? HiddenStates.none(plan.outputs())
                : new HiddenStates(hiddenReadback.read(g.hidden(), backend.isCpu()), config.embeddingLength(), plan.outputs());
        return new Logits(data, config.vocabSize(), plan.outputs().logitRows(), plan.firstRow(), plan.rowCount());
    }

    /**
     * The hidden states the last {@link #forward} returned for the rows that asked for them
     * ({@link Batch#hidden}); valid until the next call.
     */
    public HiddenStates hiddenStates() {
        return lastHidden;
    }

    /** Forces shared-prefix attention on or off (tests, benchmarks); the default is {@code -Dsluice.cascade}, else AUTO. */
    public void cascade(CascadeMode mode) {
        this.cascade = java.util.Objects.requireNonNull(mode);
    }

    /** Tests: computes every step in {@code segments} segments of its graph (0: only long steps, as in service). */
    void forceSegments(int segments) {
        computeThreads.forceSegments(segments);
    }

    /**
     * Computes the following steps node by node, adding each node's time to {@code times} by kind
     * of op; null computes whole graphs again. For benchmarks: a profiled step is slower than a
     * real one by a graph dispatch per node.
     */
    public void profile(OpTimes times) {
        checkOpen();
        if (times != null && nodeProfiler == null) {
            nodeProfiler = new NodeProfiler();
        }
        this.profile = times;
    }

    /** Where the last step's time went (null before the first step). */
    public StepTimings lastTimings() {
        return lastTimings;
    }

    private void validate(Batch batch) {
        int blockSize = cache.blockSize();
        for (int s = 0; s < batch.sequenceCount(); s++) {
            int context = batch.contextLength(s);
            int[] table = batch.blockTable(s);
            int blocks = batch.blockCount(s);
            if (blocks > table.length || (long) blocks * blockSize < context) {
                throw new IllegalArgumentException("sequence " + s + ": " + blocks + " blocks of " + blockSize
                        + " cannot hold " + context + " positions");
            }
            for (int i = 0; i < blocks; i++) {
                if (table[i] < 0 || table[i] >= cache.blocks()) {
                    throw new IllegalArgumentException("sequence " + s + ": block " + table[i] + " is outside the cache");
                }
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("ModelRunner is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        computeThreads.close();
        if (stepContext != null) {
            stepContext.close();
        }
        allocator.close();
        inputs.close();
        hiddenReadback.close();
        if (nodeProfiler != null) {
            nodeProfiler.close();
        }
    }
}
