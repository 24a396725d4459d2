package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.BlockPool;
import dev.sluice.scheduler.kv.KvCacheManager;

/**
 * Admission of waiting requests into a step, oldest (then highest priority) first, with their
 * prompts chunked into what is left of the step's budget (chunked prefill), so long prompts share
 * steps with decodes instead of stalling them. A prompt starts from the longest prefix the cache
 * holds, or waits for another prompt computing the prefix they share ({@link SharedPrefixWait}).
 * Admission keeps a few blocks free, so new arrivals do not force immediate preemptions; a
 * foreground request takes the KV that background work holds. Engine-thread only.
 */
final class WaitingAdmission {

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final BlockPool pool;
    private final SequenceQueues queues;
    private final PlannedStep plan;
    private final Preemption preemption;
    private final int watermark;

    WaitingAdmission(SchedulerConfig config, KvCacheManager kv, SequenceQueues queues, PlannedStep plan,
            Preemption preemption) {
        this.config = config;
        this.kv = kv;
        this.pool = kv.pool();
        this.queues = queues;
        this.plan = plan;
        this.preemption = preemption;
        // Keep a few blocks free when admitting, so new arrivals do not force immediate preemptions.
        this.watermark = Math.max(1, pool.size() / 100);
    }

    /** Admits waiting requests of {@code lane}, oldest (then highest priority) first, with their prompts chunked. */
    void admit(PassLane lane) {
        StepBudget budget = plan.budget;
        // Walked with higher() rather than an iterator: making room may put preempted sequences back in the queue.
        for (Sequence seq = queues.waiting.isEmpty() ? null : queues.waiting.first(), next;
                seq != null && budget.open(); seq = next) {
            next = queues.waiting.higher(seq);
            if (!lane.admits(seq) || seq.request().stream().isBackedUp()) {
                continue;
            }
            if (seq.blocks().size() == 0 && config.prefixCaching() && !seq.request().promptOutputs().needsEveryRow()
                    && SharedPrefixWait.holds(seq, queues.running, kv.blockSize())) {
                continue; // another prompt is computing the prefix they share: take it from the cache
            }
            boolean acquired = false;
            if (seq.blocks().size() == 0) {
                // A prompt whose every row returns something (embeddings, prompt logprobs) computes
                // them all; its blocks still enter the prefix cache for others.
                int cached = seq.request().promptOutputs().needsEveryRow() ? 0
                        : kv.acquireCachedPrefix(seq.blocks(), seq.tokenArray(), seq.length(), seq.request().cacheSalt());
                seq.resetComputed(cached);
                acquired = cached > 0;
                if (seq.cachedPromptTokens < 0) {
                    seq.cachedPromptTokens = Math.min(cached, seq.request().promptLength());
                }
            }
            // While others wait behind it, one long prompt takes at most its share of the step's
            // tokens; and never more than one chunk.
            int limit = queues.waiting.size() > 1 ? Math.min(budget.tokens, config.promptChunkCap(seq.pending()))
                    : Math.min(budget.tokens, config.maxPromptChunk());
            int count = plan.logitRowsCap(seq, Math.min(seq.pending(), limit));
            if (count <= 0) {
                continue;
            }
            boolean room = hasRoom(seq, count) || lane == PassLane.FOREGROUND && makeRoom(seq, count);
            if (room && acquired && queues.running.isEmpty() && queues.waiting.size() == 1 && queues.swapped.isEmpty()) {
                // Alone on the engine: its cached prefix is read in place from then on, not gathered
                // per step. (Nothing swapped either: a swap-in this step could take a block the copy
                // still has to read, and the engine runs swap-ins before copies.)
                kv.relocateCachedPrefix(seq.blocks(), seq.length() + outputRoom(seq), plan.step.copies);
            }
            kv.expect(seq.blocks(), seq.length() + outputRoom(seq)); // where its first block goes, and what it claims
            if (!room || !kv.reserve(seq.blocks(), seq.computed(), count, plan.step.copies)) {
                kv.release(seq.blocks()); // do not hold cached blocks while waiting
                seq.resetComputed(0);
                break;
            }
            queues.waiting.remove(seq);
            seq.status = SequenceStatus.RUNNING;
            queues.addRunning(seq);
            plan.add(seq, count);
        }
    }

    /**
     * Tokens of output a sequence is given room for after its prompt, at most: a relocated
     * prefix's run holds them, and a new sequence's first block is placed where they fit and
     * claims the blocks they need ({@code KvCacheManager.expect}). Its decoding then grows in
     * place even where the blocks after the run cache what a request freed just now (which
     * {@code allocateAfter} leaves be, as a follow-up turn may hit them): with room for the
     * prompt only, 42-56% of a shared-prefix run's KV rows were gathered once the pool had been
     * cut up by earlier moves. Blocks not filled go back when the sequence finishes; a sequence
     * that outgrows its room goes on in place when the next block is free, else in a new run.
     */
    static final int OUTPUT_ROOM = 256;

    private static int outputRoom(Sequence seq) {
        int generated = seq.length() - seq.request().promptLength();
        return Math.clamp(seq.request().stop().maxTokens() - (long) generated, 0, OUTPUT_ROOM);
    }

    private boolean hasRoom(Sequence seq, int count) {
        return kv.blocksNeeded(seq.blocks(), seq.computed(), count) + watermark <= pool.freeCount()
                || queues.running.isEmpty();
    }

    /**
     * A foreground request does not wait for KV that background work holds: background sequences
     * not in this step are preempted, the last admitted first, until the request fits or none is left.
     */
    private boolean makeRoom(Sequence seq, int count) {
        for (int i = queues.running.size() - 1; i >= 0; i--) {
            Sequence victim = queues.running.get(i);
            if (!BackgroundPolicy.isBackground(victim) || plan.contains(victim)) {
                continue;
            }
            preemption.preempt(victim);
            if (hasRoom(seq, count)) {
                return true;
            }
        }
        return false;
    }
}
