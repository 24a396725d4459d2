package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;

import java.util.Iterator;

/**
 * Taking KV blocks back from running sequences, and giving them back. When the pool cannot hold a
 * sequence's next tokens, another running sequence not already in the step gives way: first one
 * whose client is not reading its stream, else the lowest-priority, most recently arrived. It is
 * swapped to host memory when the swap space has room, else freed to be recomputed later (its
 * prefix may still be in the cache). Swapped sequences come back, in order, in a step that
 * preempted nothing. Engine-thread only.
 */
final class Preemption {

    private final KvCacheManager kv;
    private final BlockPool pool;
    private final SwapSpace swap;
    private final SequenceQueues queues;
    private final PlannedStep plan;
    private long count;

    Preemption(KvCacheManager kv, SwapSpace swap, SequenceQueues queues, PlannedStep plan) {
        this.kv = kv;
        this.pool = kv.pool();
        this.swap = swap;
        this.queues = queues;
        this.plan = plan;
    }

    /** Preemptions since the scheduler started. */
    long count() {
        return count;
    }

    /**
     * Who gives up its blocks for {@code seq}: a running sequence not already in this step, and
     * among those first one whose client is not reading (its stream is backed up, so it is paused
     * anyway), else the lowest-priority, most recently arrived one. Null when none can.
     */
    Sequence victimFor(Sequence seq) {
        Sequence fallback = null;
        for (int i = queues.running.size() - 1; i >= 0; i--) {
            Sequence candidate = queues.running.get(i);
            if (candidate == seq || plan.contains(candidate)) {
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

    /** Takes {@code victim}'s blocks: to swap slots if there is room, else back to waiting for recomputation. */
    void preempt(Sequence victim) {
        plan.step.preemptions++;
        count++;
        queues.running.remove(victim);
        if (swap.swapOut(victim, plan.step, kv)) {
            victim.status = SequenceStatus.SWAPPED;
            queues.swapped.add(victim);
        } else {
            kv.cacheTail(victim.blocks(), victim.tokenArray(), victim.computed(), victim.request().cacheSalt());
            kv.release(victim.blocks());
            victim.resetComputed(0);
            victim.status = SequenceStatus.WAITING;
            queues.waiting.add(victim);
        }
    }

    /** Swapped sequences of {@code lane} come back, in order, while the pool has room for them. */
    void swapIn(PassLane lane) {
        StepBudget budget = plan.budget;
        queues.swapped.sort(SequenceQueues.ORDER);
        for (Iterator<Sequence> it = queues.swapped.iterator(); it.hasNext() && budget.open(); ) {
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
            swap.swapIn(seq, plan.step, kv, pool);
            seq.status = SequenceStatus.RUNNING;
            queues.addRunning(seq);
            int count = Math.max(1, plan.logitRowsCap(seq, Math.min(seq.pending(), budget.tokens)));
            if (!kv.reserve(seq.blocks(), seq.computed(), count, plan.step.copies)) {
                throw new IllegalStateException("checked capacity vanished for " + seq);
            }
            plan.add(seq, count);
        }
    }

    /** Whether a swapped sequence of {@code lane} still waits to come back (it goes before new arrivals). */
    boolean swappedWaiting(PassLane lane) {
        for (Sequence seq : queues.swapped) {
            if (lane.admits(seq)) {
                return true;
            }
        }
        return false;
    }
}
