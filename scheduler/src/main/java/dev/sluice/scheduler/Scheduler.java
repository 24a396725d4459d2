package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.KvCacheManager;

import java.util.ArrayList;
import java.util.List;

/**
 * Continuous batching: decides, one step at a time, which sequences run and how many tokens each
 * computes, under a token budget and a sequence cap.
 *
 * <p>Each step, in order:
 * <ol>
 *   <li>Running sequences get their share ({@link RunningPass} pass 1), preempting others when
 *       the pool cannot hold their next tokens ({@link Preemption}).</li>
 *   <li>If nothing was preempted, swapped sequences come back ({@link Preemption#swapIn}).</li>
 *   <li>Then waiting requests are admitted with their prompts chunked into the remaining budget
 *       ({@link WaitingAdmission}).</li>
 *   <li>Whatever budget is left goes to the sequences step 1 held back for fairness
 *       ({@link RunningPass} pass 2).</li>
 * </ol>
 * While client requests are present, background work gets these passes of its own afterwards,
 * within {@link BackgroundPolicy}'s allowance. So a request with {@code n = 128} uses the whole
 * engine when alone, yet a request arriving next to it is admitted at the next step.
 *
 * <p>Never touches tensors: the engine executes the swaps, copies and forward pass a
 * {@link SchedulerStep} describes. Engine-thread only.
 */
public final class Scheduler {

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final SwapSpace swap;
    private final SequenceQueues queues = new SequenceQueues();
    private final PlannedStep plan = new PlannedStep();
    private final Preemption preemption;
    private final RunningPass runningPass;
    private final WaitingAdmission admission;
    private final BackgroundPolicy background;
    private long nextOrder;

    public Scheduler(SchedulerConfig config, KvCacheManager kv) {
        this.config = config;
        this.background = new BackgroundPolicy(config.backgroundSlack());
        this.kv = kv;
        this.swap = new SwapSpace(config.swapBlocks());
        this.preemption = new Preemption(kv, swap, queues, plan);
        this.runningPass = new RunningPass(config, kv, queues, plan, preemption);
        this.admission = new WaitingAdmission(config, kv, queues, plan, preemption);
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
        RequestFit.check(request, config, kv);
    }

    /** Queues a validated request. */
    public void add(Request request) {
        request.order = nextOrder++;
        Sequence first = request.sequences().getFirst();
        first.status = SequenceStatus.WAITING;
        queues.waiting.add(first);
    }

    /** Plans the next step; an empty step means nothing can run now. */
    public SchedulerStep schedule() {
        plan.begin(config.maxBatchedTokens(), config.maxSequences());
        queues.sortRunning();
        // Background work gets its own pass after the foreground's, within BackgroundPolicy's allowance.
        boolean present = BackgroundPolicy.foregroundPresent(queues.running, queues.waiting, queues.swapped);
        long now = System.nanoTime();
        PassLane lane = background.sharing(present, now) ? PassLane.FOREGROUND : PassLane.ALL;
        runningPass.begin();
        boolean deferred = runningPass.shares(lane);
        if (!plan.preempted()) {
            preemption.swapIn(lane);
        }
        if (!plan.preempted() && !preemption.swappedWaiting(lane)) {
            admission.admit(lane);
        }
        // Pass 2: what is left of the step goes to the sequences pass 1 deferred, in order.
        if (deferred) {
            runningPass.deferred(lane);
        }
        if (lane == PassLane.FOREGROUND) {
            runBackground(now);
        }
        runningPass.end();
        plan.step.orderDecodesFirst();
        return plan.step;
    }

    /**
     * Background work while foreground work is present: a pass over running, swapped and waiting
     * background sequences with the step's budget cut to {@link BackgroundPolicy}'s allowance.
     */
    private void runBackground(long now) {
        StepBudget budget = plan.budget;
        boolean wanted = BackgroundPolicy.hasBackgroundWork(queues.running, queues.waiting, queues.swapped);
        int allowance = background.allowance(true, plan.prefillsForeground(), config.maxBatchedTokens() - budget.tokens, now);
        int before = plan.step.sequences().size();
        if (wanted && allowance > 0) {
            int held = budget.tokens - Math.min(budget.tokens, allowance);
            budget.tokens -= held;
            if (runningPass.shares(PassLane.BACKGROUND)) {
                runningPass.deferred(PassLane.BACKGROUND);
            }
            if (!plan.preempted()) {
                preemption.swapIn(PassLane.BACKGROUND);
            }
            if (!plan.preempted() && queues.swapped.isEmpty()) {
                admission.admit(PassLane.BACKGROUND);
            }
            budget.tokens += held;
        }
        background.record(wanted, plan.step.sequences().size() > before);
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
            queues.addRunning(sibling);
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
        queues.remove(seq);
        kv.cacheTail(seq.blocks(), seq.tokenArray(), seq.computed(), seq.request().cacheSalt());
        kv.release(seq.blocks());
        if (seq.swapSlots != null) {
            swap.release(seq.swapSlots);
            seq.swapSlots = null;
        }
        seq.status = SequenceStatus.FINISHED;
        seq.finishReason = reason;
        if (!BackgroundPolicy.isBackground(seq)) {
            background.foregroundFinished(System.nanoTime());
        }
    }

    /** The step {@link #schedule()} planned last (possibly half-planned, if it failed). */
    public SchedulerStep lastStep() {
        return plan.step;
    }

    public boolean hasWork() {
        return !queues.isEmpty();
    }

    public int runningCount() {
        return queues.running.size();
    }

    public int waitingCount() {
        return queues.waiting.size();
    }

    public long preemptions() {
        return preemption.count();
    }

    /** Every unfinished sequence (for draining and for tests). */
    public List<Sequence> unfinished() {
        return queues.all();
    }
}
