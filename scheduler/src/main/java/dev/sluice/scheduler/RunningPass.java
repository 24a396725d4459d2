package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.KvCacheManager;

import java.util.ArrayList;
import java.util.List;

/**
 * The step's share for sequences already running: their decode token, or the next chunk of a
 * prompt being prefilled, in priority then arrival order. Pass 1 gives each request up to its
 * share of the step's sequences ({@link SchedulerConfig#requestSequenceCap()}) before any request
 * gets more, so one request's many choices cannot starve the others (or what waits behind them);
 * while requests wait, a long prompt's chunk takes at most its share of the tokens
 * ({@link SchedulerConfig#promptChunkCap}), and never more than one chunk
 * ({@link SchedulerConfig#maxPromptChunk}). Pass 2 gives what is left of the step to the
 * sequences pass 1 held back. A sequence whose client is not reading is skipped. When the pool
 * cannot hold a sequence's next tokens, {@link Preemption} makes room. Engine-thread only.
 */
final class RunningPass {

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final SequenceQueues queues;
    private final PlannedStep plan;
    private final Preemption preemption;
    /** The running list as the step began: preemption changes it while the passes walk it. */
    private final List<Sequence> snapshot = new ArrayList<>();

    RunningPass(SchedulerConfig config, KvCacheManager kv, SequenceQueues queues, PlannedStep plan,
            Preemption preemption) {
        this.config = config;
        this.kv = kv;
        this.queues = queues;
        this.plan = plan;
        this.preemption = preemption;
    }

    /** Takes the running list the step's passes walk. */
    void begin() {
        snapshot.clear();
        snapshot.addAll(queues.running);
    }

    void end() {
        snapshot.clear();
    }

    /** Pass 1 over the sequences of {@code lane}; returns whether a sequence was held back for pass 2. */
    boolean shares(PassLane lane) {
        int sequenceCap = config.requestSequenceCap();
        StepBudget budget = plan.budget;
        boolean deferred = false;
        for (int i = 0; i < snapshot.size() && budget.open(); i++) {
            Sequence seq = snapshot.get(i);
            if (seq.status != SequenceStatus.RUNNING || plan.contains(seq) || !lane.admits(seq)
                    || seq.request().stream().isBackedUp()) {
                continue;
            }
            if (seq.request().scheduledIn(plan.number()) >= sequenceCap) {
                deferred = true;
                continue;
            }
            int count = seq.pending() > 1 && !queues.waiting.isEmpty()
                    ? config.promptChunkCap(seq.pending()) : seq.pending();
            run(seq, count);
        }
        return deferred;
    }

    /** Pass 2: what is left of the step goes to the sequences of {@code lane} pass 1 held back, in order. */
    void deferred(PassLane lane) {
        StepBudget budget = plan.budget;
        for (int i = 0; i < snapshot.size() && budget.open(); i++) {
            Sequence seq = snapshot.get(i);
            if (seq.status == SequenceStatus.RUNNING && !plan.contains(seq) && lane.admits(seq)
                    && !seq.request().stream().isBackedUp()) {
                run(seq, seq.pending());
            }
        }
    }

    /**
     * Schedules {@code count} tokens of a running sequence, preempting others while the pool
     * cannot hold them; if nothing else can give way, the sequence itself is preempted.
     */
    private void run(Sequence seq, int count) {
        count = plan.logitRowsCap(seq, Math.min(Math.min(count, config.maxPromptChunk()), plan.budget.tokens));
        if (count <= 0) {
            return;
        }
        while (!kv.reserve(seq.blocks(), seq.computed(), count, plan.step.copies)) {
            Sequence victim = preemption.victimFor(seq);
            if (victim == null) {
                preemption.preempt(seq);
                return;
            }
            preemption.preempt(victim);
        }
        plan.add(seq, count);
    }
}
