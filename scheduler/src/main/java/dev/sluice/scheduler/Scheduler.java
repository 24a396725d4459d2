package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;

/**
 * Continuous batching: decides, one step at a time, which sequences run and how many tokens each
 * computes, under a token budget and a sequence cap.
 *
 * <p>Each step: running sequences first (their decode token, or the next chunk of a prompt being
 * prefilled), in priority then arrival order; if the pool cannot hold a running sequence's next
 * tokens, the lowest-priority, most recently arrived running sequence is preempted — swapped to
 * host memory when the swap space has room, else freed to be recomputed later (its prefix may
 * still be in the cache). Then, if nothing was preempted, swapped sequences come back, and then
 * waiting requests are admitted with their prompts chunked into the remaining budget (chunked
 * prefill), so long prompts share steps with decodes instead of stalling them.
 *
 * <p>Never touches tensors: the engine executes the swaps, copies and forward pass a
 * {@link SchedulerStep} describes. Engine-thread only.
 */
public final class Scheduler {

    private static final Comparator<Sequence> ORDER = Comparator
            .comparingInt((Sequence s) -> s.request().priority())
            .thenComparingLong(s -> s.request().order)
            .thenComparingInt(Sequence::index);

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final BlockPool pool;
    private final SwapSpace swap;
    private final int admissionWatermark;
    private final List<Sequence> running = new ArrayList<>();
    private final TreeSet<Sequence> waiting = new TreeSet<>(ORDER);
    private final List<Sequence> swapped = new ArrayList<>();
    private final SchedulerStep step = new SchedulerStep();
    /** Set when {@link #running} gained members out of order; sorting every step costs more than checking. */
    private boolean runningUnsorted;
    private long nextOrder;
    private long preemptions;

    public Scheduler(SchedulerConfig config, KvCacheManager kv) {
        this.config = config;
        this.kv = kv;
        this.pool = kv.pool();
        this.swap = new SwapSpace(config.swapBlocks());
        // Keep a few blocks free when admitting, so new arrivals do not force immediate preemptions.
        this.admissionWatermark = Math.max(1, pool.size() / 100);
    }

    public SchedulerConfig config() {
        return config;
    }

    public KvCacheManager kvCache() {
        return kv;
    }

    /**
     * Refuses, before any work, a request that could never complete: longer than the model's
     * context, or needing more KV blocks than the whole pool.
     */
    public void validate(Request request) {
        int prompt = request.promptLength();
        int maxTokens = request.stop().maxTokens();
        long total = (long) prompt + maxTokens;
        if (total > config.maxModelLength()) {
            throw new RequestRejectedException("This model's maximum context length is " + config.maxModelLength()
                    + " tokens. However, you requested " + total + " tokens (" + prompt + " in the prompt, "
                    + maxTokens + " in the completion). Please reduce the length of the prompt or completion.");
        }
        long blocks = kv.blocksFor(prompt) + (long) request.n() * (kv.blocksFor(maxTokens) + 1);
        if (request.n() == 1) {
            blocks = kv.blocksFor((int) total);
        }
        if (blocks > pool.size()) {
            throw new RequestRejectedException("The request needs up to " + blocks * kv.blockSize()
                    + " tokens of KV cache (" + prompt + " prompt tokens, " + maxTokens + " completion tokens, n="
                    + request.n() + ") but the server's KV cache holds " + (long) pool.size() * kv.blockSize()
                    + " tokens. Reduce max_tokens, n or the prompt.");
        }
    }

    /** Queues a validated request. */
    public void add(Request request) {
        request.order = nextOrder++;
        Sequence first = request.sequences().getFirst();
        first.status = SequenceStatus.WAITING;
        waiting.add(first);
    }

    /** Plans the next step; an empty step means nothing can run now. */
    public SchedulerStep schedule() {
        step.clear();
        int tokenBudget = config.maxBatchedTokens();
        int sequenceBudget = config.maxSequences();

        if (runningUnsorted) {
            running.sort(ORDER);
            runningUnsorted = false;
        }
        for (int i = 0; i < running.size() && tokenBudget > 0 && sequenceBudget > 0; i++) {
            Sequence seq = running.get(i);
            if (seq.request().stream().isBackedUp()) {
                continue;
            }
            int count = Math.min(seq.pending(), tokenBudget);
            boolean fits = true;
            while (!kv.reserve(seq.blocks(), seq.computed(), count, step.copies)) {
                Sequence victim = running.size() - 1 > i ? running.get(running.size() - 1) : null;
                if (victim == null) {
                    preempt(seq);
                    i--;
                    fits = false;
                    break;
                }
                preempt(victim);
            }
            if (fits) {
                step.add(seq, count);
                tokenBudget -= count;
                sequenceBudget--;
            }
        }

        if (step.preemptions == 0) {
            swapped.sort(ORDER);
            for (Iterator<Sequence> it = swapped.iterator(); it.hasNext() && tokenBudget > 0 && sequenceBudget > 0; ) {
                Sequence seq = it.next();
                int slots = seq.swapSlots.length;
                int extra = Math.max(0, kv.blocksFor(seq.computed() + seq.pending()) - slots);
                if (slots + extra > pool.freeCount()) {
                    break;
                }
                it.remove();
                swapIn(seq);
                int count = Math.min(seq.pending(), tokenBudget);
                if (!kv.reserve(seq.blocks(), seq.computed(), count, step.copies)) {
                    throw new IllegalStateException("checked capacity vanished for " + seq);
                }
                step.add(seq, count);
                tokenBudget -= count;
                sequenceBudget--;
            }
        }

        if (step.preemptions == 0 && swapped.isEmpty()) {
            for (Iterator<Sequence> it = waiting.iterator(); it.hasNext() && tokenBudget > 0 && sequenceBudget > 0; ) {
                Sequence seq = it.next();
                if (seq.request().stream().isBackedUp()) {
                    continue;
                }
                if (seq.blocks().size() == 0) {
                    int cached = kv.acquireCachedPrefix(seq.blocks(), seq.tokenArray(), seq.length(),
                            seq.request().cacheSalt());
                    seq.resetComputed(cached);
                    if (seq.cachedPromptTokens < 0) {
                        seq.cachedPromptTokens = Math.min(cached, seq.request().promptLength());
                    }
                }
                int count = Math.min(seq.pending(), tokenBudget);
                boolean room = kv.blocksNeeded(seq.blocks(), seq.computed(), count) + admissionWatermark <= pool.freeCount()
                        || running.isEmpty();
                if (!room || !kv.reserve(seq.blocks(), seq.computed(), count, step.copies)) {
                    kv.release(seq.blocks()); // do not hold cached blocks while waiting
                    seq.resetComputed(0);
                    break;
                }
                it.remove();
                seq.status = SequenceStatus.RUNNING;
                running.add(seq);
                runningUnsorted = true;
                step.add(seq, count);
                tokenBudget -= count;
                sequenceBudget--;
            }
        }
        step.orderDecodesFirst();
        return step;
    }

    /**
     * Records that the engine ran {@code step}: each sequence's new tokens are now computed and
     * its newly filled blocks enter the prefix cache. Sequences with nothing pending then need a
     * sampled token.
     */
    public void complete(SchedulerStep step) {
        List<Sequence> sequences = step.sequences();
        for (int i = 0; i < sequences.size(); i++) {
            Sequence seq = sequences.get(i);
            if (seq.isFinished()) {
                continue;
            }
            seq.advance(step.newTokens(i));
            kv.cacheFullBlocks(seq.blocks(), seq.tokenArray(), seq.computed(), seq.request().cacheSalt());
        }
    }

    /**
     * For {@code n > 1}: once the first sequence has computed the prompt, creates its {@code n - 1}
     * siblings sharing its blocks. Returns them (empty if already forked or {@code n == 1}).
     */
    public List<Sequence> fork(Sequence parent) {
        Request request = parent.request();
        if (request.n() == 1 || request.sequences().size() > 1) {
            return List.of();
        }
        if (parent.computed() != request.promptLength() || parent.length() != request.promptLength()) {
            throw new IllegalStateException("fork before the prompt is computed: " + parent);
        }
        List<Sequence> siblings = new ArrayList<>(request.n() - 1);
        for (int i = 1; i < request.n(); i++) {
            Sequence sibling = parent.fork(i);
            kv.fork(parent.blocks(), sibling.blocks());
            request.addSequence(sibling);
            running.add(sibling);
            runningUnsorted = true;
            siblings.add(sibling);
        }
        return siblings;
    }

    /** Appends a sampled token; it is computed in a later step. */
    public void append(Sequence seq, int token) {
        seq.append(token);
    }

    /** Ends a sequence, returning its blocks and swap slots. */
    public void finish(Sequence seq, FinishReason reason) {
        if (seq.isFinished()) {
            return;
        }
        switch (seq.status) {
            case RUNNING -> running.remove(seq);
            case WAITING -> waiting.remove(seq);
            case SWAPPED -> swapped.remove(seq);
            default -> { }
        }
        kv.release(seq.blocks());
        if (seq.swapSlots != null) {
            swap.release(seq.swapSlots);
            seq.swapSlots = null;
        }
        seq.status = SequenceStatus.FINISHED;
        seq.finishReason = reason;
    }

    /** Ends every sequence of a request. */
    public void abort(Request request, FinishReason reason) {
        for (Sequence seq : request.sequences()) {
            finish(seq, reason);
        }
    }

    public boolean hasWork() {
        return !running.isEmpty() || !waiting.isEmpty() || !swapped.isEmpty();
    }

    public int runningCount() {
        return running.size();
    }

    public int waitingCount() {
        return waiting.size();
    }

    public int swappedCount() {
        return swapped.size();
    }

    public long preemptions() {
        return preemptions;
    }

    /** Every unfinished sequence (for draining and for tests). */
    public List<Sequence> unfinished() {
        List<Sequence> all = new ArrayList<>(running);
        all.addAll(waiting);
        all.addAll(swapped);
        return all;
    }

    private void preempt(Sequence victim) {
        step.preemptions++;
        preemptions++;
        running.remove(victim);
        int blocks = victim.blocks().size();
        int[] slots = blocks > 0 ? swap.allocate(blocks) : null;
        if (slots != null) {
            int[] pairs = new int[step.swapOut.length + 2 * blocks];
            System.arraycopy(step.swapOut, 0, pairs, 0, step.swapOut.length);
            for (int b = 0; b < blocks; b++) {
                pairs[step.swapOut.length + 2 * b] = victim.blocks().get(b).id();
                pairs[step.swapOut.length + 2 * b + 1] = slots[b];
            }
            step.swapOut = pairs;
            kv.release(victim.blocks());
            victim.swapSlots = slots;
            victim.status = SequenceStatus.SWAPPED;
            swapped.add(victim);
        } else {
            kv.release(victim.blocks());
            victim.resetComputed(0);
            victim.status = SequenceStatus.WAITING;
            waiting.add(victim);
        }
    }

    private void swapIn(Sequence seq) {
        int[] slots = seq.swapSlots;
        List<dev.sluice.scheduler.kv.KvBlock> blocks = pool.allocate(slots.length);
        int[] pairs = new int[step.swapIn.length + 2 * slots.length];
        System.arraycopy(step.swapIn, 0, pairs, 0, step.swapIn.length);
        for (int b = 0; b < slots.length; b++) {
            pairs[step.swapIn.length + 2 * b] = slots[b];
            pairs[step.swapIn.length + 2 * b + 1] = blocks.get(b).id();
        }
        step.swapIn = pairs;
        kv.adopt(seq.blocks(), blocks);
        swap.release(slots); // safe: no step swaps out and in at once (swap-ins need no preemption)
        seq.swapSlots = null;
        seq.status = SequenceStatus.RUNNING;
        running.add(seq);
        runningUnsorted = true;
    }
}
