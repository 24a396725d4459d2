package dev.sluice.engine.runner;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.ggml.GgmlContext;
import dev.sluice.bindings.ggml.GgmlType;
import dev.sluice.bindings.ggml.Graph;
import dev.sluice.bindings.ggml.GraphAllocator;
import dev.sluice.bindings.ggml.RopeParams;
import dev.sluice.bindings.ggml.Tensor;
import dev.sluice.engine.kv.KvCache;
import dev.sluice.engine.model.LayerWeights;
import dev.sluice.engine.model.ModelConfig;
import dev.sluice.engine.model.ModelWeights;
import dev.sluice.engine.model.RopeScaling;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Turns a {@link Batch} into logits: builds one ggml graph for the whole step (every sequence,
 * prefill chunks and decode tokens together), writes the new K/V rows into the paged
 * {@link KvCache} at their slots, attends each sequence over exactly its own blocks, and
 * computes logits only for the tokens that asked for them.
 *
 * <p>Attention per layer: the new K/V rows are scattered into the pools with {@code set_rows};
 * then, per attention group, the group's K/V rows are gathered in logical order through the
 * block tables ({@code get_rows}) and fed to {@code flash_attn_ext} with a causal mask. A group
 * is either one sequence's prefill chunk (T tokens × its context) or a set of decode sequences
 * (one token each, contexts padded to the group's longest with masked slots), batched as FA
 * streams. Decode sequences are sorted by context length and split where padding would cost
 * more than another group does, so one long context does not pad every other to its length.
 * The graph's rows follow that order; the logits come back in the batch's order.
 *
 * <p>Makes no policy decisions: what runs is the caller's. Engine-thread only.
 */
public final class ModelRunner implements AutoCloseable {

    /** In-place attention lengths are padded to this many positions so decode steps reuse a graph. */
    private static final int REUSE_PADDING = 32;
    /**
     * What one more attention group costs, in gathered positions: ~16 graph nodes per layer of
     * fixed overhead against ~2 µs per position gathered and attended (smollm2-135m, 2 threads).
     */
    private static final int GROUP_COST_POSITIONS = 512;
    private static final short F16_NEG_INF = (short) 0xFC00;

    private final ModelWeights weights;
    private final ModelConfig config;
    private final KvCache cache;
    private final Backend backend;
    private final GraphAllocator allocator;
    private final RopeParams rope;
    private final float attentionScale;
    private final AttentionInputs attentionInputs;
    private final ComputeThreads computeThreads;
    // Shared, not confined: the runner is built on a loader thread and used on the engine thread.
    private final Arena staging = Arena.ofShared();
    private MemorySegment stagingBuffer = MemorySegment.NULL;
    private MemorySegment negInfRow = MemorySegment.NULL;
    private GgmlContext stepContext;
    private StepGraph lastGraph;
    private int[] lastSignature;
    private StepTimings lastTimings;
    private boolean closed;

    /** The element type K and V are handed to flash attention in. */
    public enum AttentionInputs {
        /** As llama.cpp does: logits identical to {@code llama_decode}'s. */
        F16,
        /** CPU only: skips converting the gathered rows back to F16; differs in the last bits. */
        F32
    }

    public ModelRunner(ModelWeights weights, KvCache cache, Backend backend) {
        this(weights, cache, backend, AttentionInputs.F16);
    }

    public ModelRunner(ModelWeights weights, KvCache cache, Backend backend, AttentionInputs attentionInputs) {
        this(weights, cache, backend, attentionInputs, false);
    }

    /**
     * @param adaptiveThreads compute each step on fewer of the backend's threads while the host is
     *                        too busy to run them all (see {@link ThreadGovernor}); off, every
     *                        step uses the backend's thread count
     */
    public ModelRunner(ModelWeights weights, KvCache cache, Backend backend, AttentionInputs attentionInputs,
                       boolean adaptiveThreads) {
        this.attentionInputs = attentionInputs;
        this.weights = weights;
        this.config = weights.config();
        this.cache = cache;
        this.backend = backend;
        this.allocator = GraphAllocator.forBackend(backend);
        RopeScaling scaling = config.ropeScaling();
        this.rope = new RopeParams(config.ropeDims(), config.architecture().ropeMode(), scaling.originalContext(),
                config.ropeFreqBase(), scaling.freqScale(), scaling.type() == RopeScaling.Type.YARN ? 1f : 0f,
                scaling.attnFactor(), 32f, 1f);
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
        this.computeThreads = ComputeThreads.of(backend, adaptiveThreads);
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
        Plan plan = Plan.of(batch, cache.blockSize(), cache.type() == KvCache.CacheType.F16, cache.slots());

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
            int nodes = 64 + config.layers() * (48 + 16 * plan.groups.size());
            stepContext = GgmlContext.create(nodes + 16, nodes);
            g = build(stepContext, plan, nodes);
            t1 = System.nanoTime();
            allocator.allocate(g.graph);
            t2 = System.nanoTime();
            lastGraph = g;
            lastSignature = signature;
        }
        writeInputs(batch, plan, g);
        computeThreads.beforeCompute();
        int threads = computeThreads.threads();
        long t3 = System.nanoTime();
        backend.compute(g.graph);
        long t4 = System.nanoTime();
        computeThreads.afterCompute(t4, t4 - t3);
        lastTimings = new StepTimings(t1 - t0, t2 - t1, t3 - t2, t4 - t3, g.graph.nodeCount(), plan.groups.size(), threads);

        MemorySegment data;
        if (backend.isCpu()) {
            data = g.logits.hostData();
        } else {
            data = staging(g.logits.bytes());
            g.logits.read(data, 0);
        }
        return new Logits(data, config.vocabSize(), plan.outputRows, plan.firstRow, plan.rowCount);
    }

    /** Where the last step's time went (null before the first step). */
    public StepTimings lastTimings() {
        return lastTimings;
    }

    /** The graph's compute buffer: how much scratch memory steps of this shape need. */
    public long computeBufferBytes() {
        return allocator.bufferBytes();
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

    /** Tensors of one step's graph that inputs are written to or outputs read from. */
    private record StepGraph(Graph graph, Tensor tokens, Tensor positions, Tensor slots, Tensor outputRows,
                             Tensor[] gatherRows, Tensor[] masks, Tensor logits) {
    }

    private StepGraph build(GgmlContext ctx, Plan plan, int maxNodes) {
        int n = plan.tokens;
        Tensor tokens = ctx.newTensor(GgmlType.I32, n).asInput();
        Tensor positions = ctx.newTensor(GgmlType.I32, n).asInput();
        Tensor slots = ctx.newTensor(GgmlType.I64, n).asInput();
        Tensor outputRows = ctx.newTensor(GgmlType.I32, plan.outputRows).asInput();
        int groups = plan.groups.size();
        Tensor[] gatherRows = new Tensor[groups];
        Tensor[] masks = new Tensor[groups];
        for (int i = 0; i < groups; i++) {
            Group group = plan.groups.get(i);
            if (!group.inPlace()) {
                gatherRows[i] = ctx.newTensor(GgmlType.I32, (long) group.kvLength * group.streams()).asInput();
            }
            masks[i] = ctx.newTensor(GgmlType.F16, group.kvLength, group.tokensPerStream, 1, group.streams()).asInput();
        }

        int hd = config.headDim();
        float eps = config.rmsEps();
        Tensor x = ctx.getRows(weights.tokenEmbedding(), tokens);
        for (int layer = 0; layer < config.layers(); layer++) {
            LayerWeights w = weights.layer(layer);
            Tensor h = ctx.mul(ctx.rmsNorm(x, eps), w.attnNorm());

            Tensor q = ctx.reshape(addBias(ctx, ctx.mulMat(w.wq(), h), w.bq()), hd, config.heads(), n);
            Tensor k = ctx.reshape(addBias(ctx, ctx.mulMat(w.wk(), h), w.bk()), hd, config.kvHeads(), n);
            Tensor v = addBias(ctx, ctx.mulMat(w.wv(), h), w.bv());
            if (config.architecture().qkNorm()) {
                q = ctx.mul(ctx.rmsNorm(q, eps), w.qNorm());
                k = ctx.mul(ctx.rmsNorm(k, eps), w.kNorm());
            }
            q = ctx.rope(q, positions, weights.ropeFreqs(), rope);
            k = ctx.rope(k, positions, weights.ropeFreqs(), rope);

            // Scatter this step's K/V into the paged pools; attention reads the pools through the
            // set_rows results, so every read is ordered after the write.
            Tensor kPool = ctx.setRows(cache.keys(layer), ctx.reshape(k, config.kvDim(), n), slots);
            Tensor vPool = ctx.setRows(cache.values(layer), v, slots);

            List<Tensor> outputs = new ArrayList<>(groups);
            for (int i = 0; i < groups; i++) {
                outputs.add(attend(ctx, plan.groups.get(i), q, kPool, vPool, gatherRows[i], masks[i]));
            }
            Tensor attention = concatInOrder(ctx, outputs);
            Tensor o = addBias(ctx, ctx.mulMat(w.wo(), attention), w.attnOutputBias());
            if (layer == config.layers() - 1) {
                // Only rows that need logits go through the last MLP and the output head.
                o = ctx.getRows(o, outputRows);
                x = ctx.getRows(x, outputRows);
            }
            x = ctx.add(o, x);

            Tensor f = ctx.mul(ctx.rmsNorm(x, eps), w.ffnNorm());
            f = ctx.mulMat(w.ffnDown(), ctx.swigluSplit(ctx.mulMat(w.ffnGate(), f), ctx.mulMat(w.ffnUp(), f)));
            x = ctx.add(f, x);
        }
        x = ctx.mul(ctx.rmsNorm(x, eps), weights.outputNorm());
        Tensor logits = addBias(ctx, ctx.mulMat(weights.output(), x), weights.outputBias()).asOutput();
        Graph graph = ctx.newGraph(maxNodes).expand(logits);
        return new StepGraph(graph, tokens, positions, slots, outputRows, gatherRows, masks, logits);
    }

    /** One group's attention output, [heads * headDim, streams * tokensPerStream]. */
    private Tensor attend(GgmlContext ctx, Group group, Tensor q, Tensor kPool, Tensor vPool,
                          Tensor gatherRows, Tensor mask) {
        int hd = config.headDim();
        int t = group.tokensPerStream;
        int s = group.streams();
        int l = group.kvLength;
        // q: [hd, heads, tokens] -> this group's rows as [hd, T, heads, S]
        Tensor qg = ctx.permute(ctx.view4d(q, hd, config.heads(), t, s,
                q.nb(1), q.nb(2), q.nb(2) * t, q.nb(2) * group.firstToken), 0, 2, 1, 3);
        Tensor kg = group.inPlace() ? sliceKv(ctx, kPool, group.firstSlot, l) : gatherKv(ctx, kPool, gatherRows, l, s);
        Tensor vg = group.inPlace() ? sliceKv(ctx, vPool, group.firstSlot, l) : gatherKv(ctx, vPool, gatherRows, l, s);
        Tensor out = ctx.flashAttention(qg, kg, vg, mask, attentionScale); // [hd, heads, T, S]
        return ctx.reshape(out, (long) hd * config.heads(), (long) t * s);
    }

    /**
     * One sequence's rows read in place from an F16 pool: slots [first, first + L) as
     * [hd, L, kvHeads, 1]. No copy at all, and exactly the layout llama.cpp's attention reads.
     */
    private Tensor sliceKv(GgmlContext ctx, Tensor pool, int firstSlot, int kvLength) {
        long rowBytes = pool.nb(1);
        long headBytes = pool.nb(0) * config.headDim();
        return ctx.view4d(pool, config.headDim(), kvLength, config.kvHeads(), 1,
                rowBytes, headBytes, rowBytes * kvLength, rowBytes * firstSlot);
    }

    /** Gathers [kvDim, L*S] rows in logical order and lays them out as [hd, L, kvHeads, S]. */
    private Tensor gatherKv(GgmlContext ctx, Tensor pool, Tensor rows, int kvLength, int streams) {
        Tensor gathered;
        if (pool.type() == GgmlType.F16 && attentionInputs == AttentionInputs.F16) {
            // get_rows converts F16 rows to F32, and attention wants F16: read the rows as pairs of
            // F16 packed in I32 instead, which get_rows copies as they are. One pass, 2 bytes per
            // element each way, and exactly the values llama.cpp's attention reads.
            gathered = ctx.reinterpret(ctx.getRows(ctx.reinterpret(pool, GgmlType.I32), rows), GgmlType.F16);
        } else {
            gathered = ctx.getRows(pool, rows); // F32 (dequantized for a Q8_0 cache)
            if (attentionInputs == AttentionInputs.F16 || !backend.isCpu()) {
                gathered = ctx.cast(gathered, GgmlType.F16); // non-CPU kernels require F16
            }
        }
        return ctx.permute(ctx.reshape(gathered, config.headDim(), config.kvHeads(), kvLength, streams), 0, 2, 1, 3);
    }

    /** Joins the groups' outputs along the token dimension, pairwise, so each row is copied log(n) times. */
    private static Tensor concatInOrder(GgmlContext ctx, List<Tensor> parts) {
        List<Tensor> level = parts;
        while (level.size() > 1) {
            List<Tensor> next = new ArrayList<>((level.size() + 1) / 2);
            for (int i = 0; i + 1 < level.size(); i += 2) {
                next.add(ctx.concat(level.get(i), level.get(i + 1), 1));
            }
            if (level.size() % 2 == 1) {
                next.add(level.getLast());
            }
            level = next;
        }
        return level.getFirst();
    }

    private static Tensor addBias(GgmlContext ctx, Tensor x, Tensor bias) {
        return bias == null ? x : ctx.add(x, bias);
    }

    private void writeInputs(Batch batch, Plan plan, StepGraph g) {
        int n = plan.tokens;
        int blockSize = cache.blockSize();
        MemorySegment tokens = input(g.tokens);
        MemorySegment positions = input(g.positions);
        MemorySegment slots = input(g.slots);
        for (int s = 0; s < batch.sequenceCount(); s++) {
            int start = batch.tokenStart(s);
            int row = plan.graphRow[s];
            int[] table = batch.blockTable(s);
            for (int i = 0; i < batch.tokenCount(s); i++) {
                int pos = batch.startPosition(s) + i;
                tokens.setAtIndex(ValueLayout.JAVA_INT, row + i, batch.token(start + i));
                positions.setAtIndex(ValueLayout.JAVA_INT, row + i, pos);
                slots.setAtIndex(ValueLayout.JAVA_LONG, row + i, (long) table[pos / blockSize] * blockSize + pos % blockSize);
            }
        }
        commit(g.tokens, tokens);
        commit(g.positions, positions);
        commit(g.slots, slots);

        MemorySegment outputs = input(g.outputRows);
        for (int s = 0, row = 0; s < batch.sequenceCount(); s++) {
            for (int i = 0; i < plan.rowCount[s]; i++) {
                int firstOutput = plan.graphRow[s] + batch.tokenCount(s) - plan.rowCount[s];
                outputs.setAtIndex(ValueLayout.JAVA_INT, row++, firstOutput + i);
            }
        }
        commit(g.outputRows, outputs);

        for (int i = 0; i < plan.groups.size(); i++) {
            Group group = plan.groups.get(i);
            writeGroup(batch, group, g.gatherRows[i], g.masks[i], blockSize);
        }
        if (n != batch.tokenCount()) {
            throw new IllegalStateException("plan and batch disagree");
        }
    }

    private void writeGroup(Batch batch, Group group, Tensor gatherTensor, Tensor maskTensor, int blockSize) {
        int l = group.kvLength;
        MemorySegment rows = group.inPlace() ? null : input(gatherTensor);
        MemorySegment mask = input(maskTensor);
        MemorySegment negInf = negInfRow(l);
        long rowBytes = (long) l * Short.BYTES;
        for (int stream = 0; stream < group.streams(); stream++) {
            int s = group.members[stream];
            int[] table = batch.blockTable(s);
            int context = batch.contextLength(s);
            int firstSlot = table[0] * blockSize;
            long base = (long) stream * l;
            for (int j = 0; rows != null && j < l; j++) {
                // Padding positions gather the sequence's own first row: finite data, masked out.
                int slot = j < context ? table[j / blockSize] * blockSize + j % blockSize : firstSlot;
                rows.setAtIndex(ValueLayout.JAVA_INT, base + j, slot);
            }
            for (int t = 0; t < group.tokensPerStream; t++) {
                int visible = batch.startPosition(s) + t + 1; // causal: positions 0 … pos
                long offset = ((long) stream * group.tokensPerStream + t) * rowBytes;
                mask.asSlice(offset, (long) visible * Short.BYTES).fill((byte) 0);
                MemorySegment.copy(negInf, 0, mask, offset + (long) visible * Short.BYTES, rowBytes - (long) visible * Short.BYTES);
            }
        }
        if (rows != null) {
            commit(gatherTensor, rows);
        }
        commit(maskTensor, mask);
    }

    /** Where to write a tensor's input: its own memory on the CPU, a staging copy elsewhere. */
    private MemorySegment input(Tensor tensor) {
        return backend.isCpu() ? tensor.hostData() : staging(tensor.bytes()).asSlice(0, tensor.bytes());
    }

    private void commit(Tensor tensor, MemorySegment data) {
        if (!backend.isCpu()) {
            tensor.write(data, 0);
        }
    }

    private MemorySegment staging(long bytes) {
        if (stagingBuffer.byteSize() < bytes) {
            stagingBuffer = staging.allocate(Math.max(bytes, stagingBuffer.byteSize() * 2), 64);
        }
        return stagingBuffer;
    }

    private MemorySegment negInfRow(int length) {
        if (negInfRow.byteSize() < (long) length * Short.BYTES) {
            negInfRow = staging.allocate((long) Math.max(length, 1024) * Short.BYTES, 64);
            for (long i = 0; i < negInfRow.byteSize() / Short.BYTES; i++) {
                negInfRow.setAtIndex(ValueLayout.JAVA_SHORT, i, F16_NEG_INF);
            }
        }
        return negInfRow;
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
        staging.close();
    }

    /**
     * Sequences attended together: S streams of T tokens over L cached positions each, whose
     * tokens are graph rows [firstToken, firstToken + S*T), stream by stream.
     * {@code firstSlot} is set (≥ 0) when the group is one sequence whose blocks are physically
     * consecutive: its K/V rows are then one slice of the pool, read in place without a gather.
     */
    private record Group(int[] members, int tokensPerStream, int kvLength, int firstToken, int firstSlot) {

        int streams() {
            return members.length;
        }

        boolean inPlace() {
            return firstSlot >= 0;
        }
    }

    /**
     * How a batch splits into attention groups, where each sequence's tokens sit in the graph
     * ({@code graphRow}), and which rows produce logits, in batch order ({@code firstRow}).
     */
    private record Plan(int tokens, List<Group> groups, int outputRows, int[] firstRow, int[] rowCount, int[] graphRow) {

        static Plan of(Batch batch, int blockSize, boolean inPlaceAllowed, int poolSlots) {
            int sequences = batch.sequenceCount();
            int[] firstRow = new int[sequences];
            int[] rowCount = new int[sequences];
            int rows = 0;
            for (int s = 0; s < sequences; s++) {
                rowCount[s] = switch (batch.logits(s)) {
                    case NONE -> 0;
                    case LAST -> 1;
                    case ALL -> batch.tokenCount(s);
                };
                firstRow[s] = rows;
                rows += rowCount[s];
            }
            if (rows == 0) {
                // A step of only intermediate prefill chunks: compute one row anyway so the graph
                // keeps a single shape; nobody reads it.
                rowCount[sequences - 1] = 1;
                firstRow[sequences - 1] = 0;
                rows = 1;
            }
            // Decode sequences run together: one gather and one batched attention per group (one
            // attention op per sequence over in-place views costs more in per-op overhead than the
            // gather saves, measured at 8 and 32 sequences). A group of one sequence whose blocks are
            // consecutive reads its rows in place.
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
                    for (int[] members : splitByLength(batch, first, s)) {
                        int longest = 0;
                        for (int m : members) {
                            longest = Math.max(longest, batch.contextLength(m));
                        }
                        for (int i = 0; i < members.length; i++) {
                            graphRow[members[i]] = row + i;
                        }
                        int slot = members.length == 1 && inPlaceAllowed ? contiguousFirstSlot(batch, members[0], blockSize) : -1;
                        groups.add(new Group(members, 1, slot >= 0 ? paddedLength(longest, slot, poolSlots) : longest, row, slot));
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
            return new Plan(batch.tokenCount(), List.copyOf(groups), rows, firstRow, rowCount, graphRow);
        }

        /**
         * Decode sequences [from, to) sorted by context length and split into groups that
         * minimise the positions gathered and attended, padding included, plus
         * {@link #GROUP_COST_POSITIONS} per group (an O(n²) partition over at most a few hundred).
         */
        private static List<int[]> splitByLength(Batch batch, int from, int to) {
            int n = to - from;
            if (n == 1) {
                return List.of(new int[] {from});
            }
            Integer[] sorted = new Integer[n];
            for (int i = 0; i < n; i++) {
                sorted[i] = from + i;
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

        /**
         * Attention length of an in-place group: the context rounded up to {@link #REUSE_PADDING}
         * positions (masked, and skipped by the kernel) so consecutive decode steps keep one graph
         * shape, within the pool's end.
         */
        private static int paddedLength(int context, int firstSlot, int poolSlots) {
            int padded = (context + REUSE_PADDING - 1) / REUSE_PADDING * REUSE_PADDING;
            return Math.max(context, Math.min(padded, poolSlots - firstSlot));
        }

        /** Group shapes and input sizes: two steps with equal signatures can share one graph. */
        int[] signature() {
            int[] sig = new int[3 + groups.size() * 5];
            sig[0] = tokens;
            sig[1] = outputRows;
            sig[2] = groups.size();
            for (int i = 0; i < groups.size(); i++) {
                Group g = groups.get(i);
                int at = 3 + i * 5;
                sig[at] = g.streams();
                sig[at + 1] = g.tokensPerStream();
                sig[at + 2] = g.kvLength();
                sig[at + 3] = g.firstToken();
                sig[at + 4] = g.firstSlot();
            }
            return sig;
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
}
