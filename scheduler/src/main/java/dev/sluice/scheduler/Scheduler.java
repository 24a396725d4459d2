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
 * <p>Each step, in order:
 * <ol>
 *   <li>Running sequences (their decode token, or the next chunk of a prompt being prefilled), in
 *       priority then arrival order, each request up to its share of the step's sequences
 *       ({@link SchedulerConfig#requestSequenceCap()}); while requests wait, a prompt chunk takes at
 *       most its share of the tokens. If the pool cannot hold a sequence's next tokens, another
 *       running sequence is preempted: first one whose client is not reading its stream, else
 *       the lowest-priority, most recently arrived — swapped to host memory when the swap space
 *       has room, else freed to be recomputed later (its prefix may still be in the cache).</li>
 *   <li>If nothing was preempted, swapped sequences come back.</li>
 *   <li>Then waiting requests are admitted with their prompts chunked into the remaining budget
 *       (chunked prefill), so long prompts share steps with decodes instead of stalling them.</li>
 *   <li>Whatever budget is left goes to the sequences step 1 held back for fairness.</li>
 * </ol>
 * So a request with {@code n = 128} uses the whole engine when alone, yet a request arriving
 * next to it is admitted at the next step.
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
    private final StepBudget budget = new StepBudget();
    /** The running list as the step began: preemption changes {@link #running} while passes walk it. */
    private final List<Sequence> snapshot = new ArrayList<>();
    private long stepNumber;
    /** Set when {@link #running} gained members out of order; sorting every step costs more than checking. */
    private boolean runningUnsorted;
    private long nextOrder;
    private long preemptions;
    private final BackgroundPolicy background = new BackgroundPolicy();
    /** Whether the step being planned computes part of a foreground prompt. */
    private boolean prefillsForeground;

    /** Which sequences a scheduling pass considers. */
    private enum Lane {
        ALL, FOREGROUND, BACKGROUND;

        boolean admits(Sequence seq) {
            return this == ALL || (this == BACKGROUND) == BackgroundPolicy.isBackground(seq);
        }
    }

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
        if (request.prefillOnly() && request.n() > 1) {
            throw new RequestRejectedException("A request that generates nothing has one result: n must be 1.");
        }
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
        stepNumber++;
        budget.reset(config.maxBatchedTokens(), config.maxSequences());
        prefillsForeground = false;

        if (runningUnsorted) {
            running.sort(ORDER);
            runningUnsorted = false;
        }
        // Background work gets its own pass after the foreground's, within BackgroundPolicy's allowance.
        Lane lane = background.sharing(BackgroundPolicy.foregroundPresent(running, waiting, swapped), System.nanoTime())
                ? Lane.FOREGROUND : Lane.ALL;
        snapshot.clear();
        snapshot.addAll(running);
        boolean deferred = runRunning(lane);
        if (step.preemptions == 0) {
            swapIn(lane);
        }
        if (step.preemptions == 0 && !swappedIn(lane)) {
            admitWaiting(lane);
        }
        // Pass 2: what is left of the step goes to the sequences pass 1 deferred, in order.
        if (deferred) {
            runDeferred(lane);
        }
        if (lane == Lane.FOREGROUND) {
            runBackground();
        }
        snapshot.clear();
        step.orderDecodesFirst();
        return step;
    }

    /**
     * Pass 1: every running request of {@code lane} gets up to its share of the step before any
     * request gets more, so one request's many choices cannot starve the others (or what waits
     * behind them). Returns whether a sequence was deferred for pass 2.
     */
    private boolean runRunning(Lane lane) {
        int sequenceCap = config.requestSequenceCap();
        boolean deferred = false;
        for (int i = 0; i < snapshot.size() && budget.open(); i++) {
            Sequence seq = snapshot.get(i);
            if (seq.status != SequenceStatus.RUNNING || seq.scheduledStep == stepNumber || !lane.admits(seq)
                    || seq.request().stream().isBackedUp()) {
                continue;
            }
            if (seq.request().scheduledIn(stepNumber) >= sequenceCap) {
                deferred = true;
                continue;
            }
            int count = seq.pending() > 1 && !waiting.isEmpty() ? Math.min(seq.pending(), config.requestTokenCap())
                    : seq.pending();
            run(seq, count);
        }
        return deferred;
    }

    private void runDeferred(Lane lane) {
        for (int i = 0; i < snapshot.size() && budget.open(); i++) {
            Sequence seq = snapshot.get(i);
            if (seq.status == SequenceStatus.RUNNING && seq.scheduledStep != stepNumber && lane.admits(seq)
                    && !seq.request().stream().isBackedUp()) {
                run(seq, seq.pending());
            }
        }
    }

    /** Swapped sequences of {@code lane} come back, in order, while the pool has room for them. */
    private void swapIn(Lane lane) {
        swapped.sort(ORDER);
        for (Iterator<Sequence> it = swapped.iterator(); it.hasNext() && budget.open(); ) {
            Sequence seq = it.next();
            if (!lane.admits(seq)) {
                continue;
            }
            int slots = seq.swapSlots.length;
            int extra = Math.max(0, kv.blocksFor(seq.computed() + seq.pending()) - slots);
            if (slots + extra > pool.freeCount()) {
                break;
            }
            it.remove();
            swapIn(seq);
            int count = Math.max(1, logitRowsCap(seq, Math.min(seq.pending(), budget.tokens)));
            if (!kv.reserve(seq.blocks(), seq.computed(), count, step.copies)) {
                throw new IllegalStateException("checked capacity vanished for " + seq);
            }
            add(seq, count);
        }
    }

    /** Whether a swapped sequence of {@code lane} still waits to come back (it goes before new arrivals). */
    private boolean swappedIn(Lane lane) {
        for (Sequence seq : swapped) {
            if (lane.admits(seq)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Background work while foreground work is present: a pass over running, swapped and waiting
     * background sequences with the step's budget cut to {@link BackgroundPolicy}'s allowance.
     */
    private void runBackground() {
        boolean wanted = BackgroundPolicy.hasBackgroundWork(running, waiting, swapped);
        int allowance = background.allowance(true, prefillsForeground, config.maxBatchedTokens() - budget.tokens);
        int before = step.sequences().size();
        if (wanted && allowance > 0) {
            int held = budget.tokens - Math.min(budget.tokens, allowance);
            budget.tokens -= held;
            if (runRunning(Lane.BACKGROUND)) {
                runDeferred(Lane.BACKGROUND);
            }
            if (step.preemptions == 0) {
                swapIn(Lane.BACKGROUND);
            }
            if (step.preemptions == 0 && swapped.isEmpty()) {
                admitWaiting(Lane.BACKGROUND);
            }
            budget.tokens += held;
        }
        background.record(wanted, step.sequences().size() > before);
    }

    /** Admits waiting requests of {@code lane}, oldest (then highest priority) first, with their prompts chunked. */
    private void admitWaiting(Lane lane) {
        // Walked with higher() rather than an iterator: making room may put preempted sequences back in the queue.
        for (Sequence seq = waiting.isEmpty() ? null : waiting.first(), next; seq != null && budget.open(); seq = next) {
            next = waiting.higher(seq);
            if (!lane.admits(seq) || seq.request().stream().isBackedUp()) {
                continue;
            }
            if (seq.blocks().size() == 0 && config.prefixCaching() && !seq.request().promptOutputs().needsEveryRow()
                    && SharedPrefixWait.holds(seq, running, kv.blockSize())) {
                continue; // another prompt is computing the prefix they share: take it from the cache
            }
            if (seq.blocks().size() == 0) {
                // A prompt whose every row returns something (embeddings, prompt logprobs) computes
                // them all; its blocks still enter the prefix cache for others.
                int cached = seq.request().promptOutputs().needsEveryRow() ? 0
                        : kv.acquireCachedPrefix(seq.blocks(), seq.tokenArray(), seq.length(), seq.request().cacheSalt());
                seq.resetComputed(cached);
                if (seq.cachedPromptTokens < 0) {
                    seq.cachedPromptTokens = Math.min(cached, seq.request().promptLength());
                }
            }
            // While others wait behind it, one prompt takes at most its share of the step's tokens.
            int limit = waiting.size() > 1 ? Math.min(budget.tokens, config.requestTokenCap()) : budget.tokens;
            int count = logitRowsCap(seq, Math.min(seq.pending(), limit));
            if (count <= 0) {
                continue;
            }
            boolean room = hasRoom(seq, count) || lane == Lane.FOREGROUND && makeRoom(seq, count);
            if (!room || !kv.reserve(seq.blocks(), seq.computed(), count, step.copies)) {
                kv.release(seq.blocks()); // do not hold cached blocks while waiting
                seq.resetComputed(0);
                break;
            }
            waiting.remove(seq);
            seq.status = SequenceStatus.RUNNING;
            running.add(seq);
            runningUnsorted = true;
            add(seq, count);
        }
    }

    private boolean hasRoom(Sequence seq, int count) {
        return kv.blocksNeeded(seq.blocks(), seq.computed(), count) + admissionWatermark <= pool.freeCount()
                || running.isEmpty();
    }

    /**
     * A foreground request does not wait for KV that background work holds: background sequences
     * not in this step are preempted, the last admitted first, until the request fits or none is left.
     */
    private boolean makeRoom(Sequence seq, int count) {
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence victim = running.get(i);
            if (!BackgroundPolicy.isBackground(victim) || victim.scheduledStep == stepNumber) {
                continue;
            }
            preempt(victim);
            if (hasRoom(seq, count)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Schedules {@code count} tokens of a running sequence, preempting others while the pool
     * cannot hold them; if nothing else can give way, the sequence itself is preempted.
     */
    private void run(Sequence seq, int count) {
        count = logitRowsCap(seq, Math.min(count, budget.tokens));
        if (count <= 0) {
            return;
        }
        while (!kv.reserve(seq.blocks(), seq.computed(), count, step.copies)) {
            Sequence victim = victimFor(seq);
            if (victim == null) {
                preempt(seq);
                return;
            }
            preempt(victim);
        }
        add(seq, count);
    }

    /** {@code count} within what is left of the step's whole-logits rows, for a prompt that returns its logprobs. */
    private int logitRowsCap(Sequence seq, int count) {
        return PromptOutputs.owedLogits(seq) ? Math.min(count, Math.max(0, budget.logitRows)) : count;
    }

    private void add(Sequence seq, int count) {
        if (PromptOutputs.owedLogits(seq)) {
            budget.logitRows -= count;
        }
        step.add(seq, count);
        if (count > 1 && !BackgroundPolicy.isBackground(seq)) {
            prefillsForeground = true;
        }
        seq.scheduledStep = stepNumber;
        seq.request().countScheduled(stepNumber);
        budget.take(count);
    }

    /**
     * Who gives up its blocks for {@code seq}: a running sequence not already in this step, and
     * among those first one whose client is not reading (its stream is backed up, so it is paused
     * anyway), else the lowest-priority, most recently arrived one.
     */
    private Sequence victimFor(Sequence seq) {
        Sequence fallback = null;
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence candidate = running.get(i);
            if (candidate == seq || candidate.scheduledStep == stepNumber) {
                continue;
            }
            if (candidate.request().stream().isBackedUp()) {
                return candidate;
            }
            if (fallback == null) {
                fallback = candidate;
            }
        }
        return fallback;
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

    /** Records how long the engine took for a step of {@code tokens} tokens (background work's cost model). */
    public void observe(int tokens, long nanos) {
        background.observe(tokens, nanos);
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
        kv.cacheTail(seq.blocks(), seq.tokenArray(), seq.computed(), seq.request().cacheSalt());
        kv.release(seq.blocks());
        if (seq.swapSlots != null) {
            swap.release(seq.swapSlots);
            seq.swapSlots = null;
        }
        seq.status = SequenceStatus.FINISHED;
        seq.finishReason = reason;
    }

    /** The step {@link #schedule()} planned last (possibly half-planned, if it failed). */
    public SchedulerStep lastStep() {
        return step;
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
        if (swap.swapOut(victim, step, kv)) {
            victim.status = SequenceStatus.SWAPPED;
            swapped.add(victim);
        } else {
            kv.cacheTail(victim.blocks(), victim.tokenArray(), victim.computed(), victim.request().cacheSalt());
            kv.release(victim.blocks());
            victim.resetComputed(0);
            victim.status = SequenceStatus.WAITING;
            waiting.add(victim);
        }
    }

    private void swapIn(Sequence seq) {
        swap.swapIn(seq, step, kv, pool);
        seq.status = SequenceStatus.RUNNING;
        running.add(seq);
        runningUnsorted = true;
    }
}
