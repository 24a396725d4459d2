package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.step.ModelExecutor;
import dev.sluice.engine.step.StepPlan;
import dev.sluice.engine.step.StepResult;
import dev.sluice.scheduler.kv.BlockCopies;
import dev.sluice.scheduler.metrics.EngineMetrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Carries out one scheduled step: turns the {@link SchedulerStep} into the engine's
 * {@link StepPlan}, has the {@link ModelExecutor} run it, then applies each sampled token: appended
 * to its sequence, checked against the stop conditions, and handed to the {@link OutputProcessor}.
 * At a request's fork point the step samples all its choices at once and the scheduler creates
 * the sibling sequences for them. Engine-thread only.
 */
final class StepExecution {

    private final Scheduler scheduler;
    private final ActiveRequests requests;
    private final OutputProcessor output;
    private final EngineMetrics metrics;
    private final int maxModelLength;
    private final StepPlan plan = new StepPlan();
    private final PrefillCompletion prefillOutputs;
    private ModelExecutor executor;

    StepExecution(Scheduler scheduler, ActiveRequests requests, OutputProcessor output, EngineMetrics metrics) {
        this.scheduler = scheduler;
        this.requests = requests;
        this.output = output;
        this.metrics = metrics;
        this.maxModelLength = scheduler.config().maxModelLength();
        this.prefillOutputs = new PrefillCompletion(requests);
    }

    void executor(ModelExecutor executor) {
        this.executor = executor;
    }

    /** Runs {@code step}; a failure of the step itself throws (its requests are the caller's to fail). */
    void run(SchedulerStep step) {
        long start = System.nanoTime();
        List<Sequence> sequences = step.sequences();
        buildPlan(step, sequences);
        StepResult result = executor.execute(plan);
        scheduler.observe(step.tokenCount(), System.nanoTime() - start);
        scheduler.complete(step);
        attribute(step, sequences, System.nanoTime() - start);

        long now = System.nanoTime();
        prefillOutputs.take(plan, result, sequences);
        for (int e = 0; e < sequences.size(); e++) {
            int samples = plan.samples(e);
            if (samples == 0) {
                continue;
            }
            Sequence seq = sequences.get(e);
            if (seq.isFinished()) {
                for (int k = 1; k < samples; k++) {
                    executor.endSequence(seq.id() + k); // forked for choices that will not exist
                }
                continue;
            }
            List<Sequence> targets = samples == 1 ? List.of(seq) : withSiblings(seq);
            for (int k = 0; k < targets.size(); k++) {
                String error = result.error(e, k);
                if (error != null) {
                    requests.abort(seq.request(), FinishReason.ERROR, "sampling failed: " + error);
                    break;
                }
                Sequence target = targets.get(k);
                if (!target.isFinished()) {
                    accept(target, result.token(e, k), result.logprobs(e, k), now);
                }
            }
        }
        metrics.stepTime.record((System.nanoTime() - start) / 1e9);
        metrics.forwardNanos.add(result.forwardNanos());
        metrics.samplingNanos.add(result.samplingNanos());
        metrics.kvRowsGathered.add(result.kvRowsGathered());
        metrics.kvRowsAttended.add(result.kvRowsAttended());
        metrics.stepTokens.record(step.tokenCount());
        metrics.stepSequences.record(sequences.size());
    }

    /** Shares the step's time among its requests by the tokens each computed in it. */
    private static void attribute(SchedulerStep step, List<Sequence> sequences, long stepNanos) {
        int total = step.tokenCount();
        if (total <= 0) {
            return;
        }
        for (int i = 0; i < sequences.size(); i++) {
            sequences.get(i).request().addComputeNanos(stepNanos * step.newTokens(i) / total);
        }
    }

    private void buildPlan(SchedulerStep step, List<Sequence> sequences) {
        plan.clear();
        int[] swapOut = step.swapOuts();
        for (int i = 0; i < swapOut.length; i += 2) {
            plan.swapOut(swapOut[i], swapOut[i + 1]);
        }
        int[] swapIn = step.swapIns();
        for (int i = 0; i < swapIn.length; i += 2) {
            plan.swapIn(swapIn[i], swapIn[i + 1]);
        }
        BlockCopies copies = step.copies();
        for (int i = 0; i < copies.size(); i++) {
            plan.copy(copies.source(i), copies.target(i));
        }
        int blockSize = scheduler.kvCache().blockSize();
        for (int i = 0; i < sequences.size(); i++) {
            Sequence seq = sequences.get(i);
            int count = step.newTokens(i);
            int end = seq.computed() + count;
            Request request = seq.request();
            int samples = end < seq.length() || request.prefillOnly() ? 0 : isForkPoint(seq) ? request.n() : 1;
            int entry = plan.add(seq.id(), seq.tokenArray(), seq.computed(), count, seq.computed(), seq.blocks().ids(),
                    (end + blockSize - 1) / blockSize, samples);
            PromptOutputs asked = request.promptOutputs();
            boolean logprobs = PromptOutputs.owedLogits(seq);
            if (asked.embed() || logprobs) {
                plan.prefillOutputs(entry, asked.embed(), logprobs ? asked.logprobs() : -1, request.promptLength(),
                        end >= request.promptLength());
            }
        }
    }

    /** The end of the prompt of a request with several choices, not forked yet. */
    private static boolean isForkPoint(Sequence seq) {
        Request request = seq.request();
        return request.n() > 1 && request.sequences().size() == 1 && seq.index() == 0
                && seq.length() == request.promptLength();
    }

    private List<Sequence> withSiblings(Sequence seq) {
        List<Sequence> targets = new ArrayList<>(seq.request().n());
        targets.add(seq);
        targets.addAll(scheduler.fork(seq));
        return targets;
    }

    /** Appends a sampled token to its sequence and ends the sequence if a stop condition says so. */
    private void accept(Sequence seq, int token, SampledToken logprobs, long now) {
        Request request = seq.request();
        scheduler.append(seq, token);
        metrics.generationTokens.increment();
        if (seq.firstTokenNanos == 0) {
            seq.firstTokenNanos = now;
            if (firstTokenOfRequest(request, seq)) {
                metrics.timeToFirstToken.record((now - request.arrivalNanos()) / 1e9);
            }
        } else {
            metrics.interTokenLatency.record((now - seq.lastTokenNanos) / 1e9);
        }
        seq.lastTokenNanos = now;

        boolean endOfGeneration = !request.stop().ignoreEos() && output.isEndOfGeneration(token);
        if (endOfGeneration || request.stop().isStopToken(token)) {
            requests.finish(seq, FinishReason.STOP);
        } else if (output.append(seq, token, logprobs)) {
            requests.finish(seq, FinishReason.STOP);
        } else if (seq.outputLength() >= request.stop().maxTokens() || seq.length() >= maxModelLength) {
            requests.finish(seq, FinishReason.LENGTH);
        }
    }

    private static boolean firstTokenOfRequest(Request request, Sequence seq) {
        for (Sequence other : request.sequences()) {
            if (other != seq && other.firstTokenNanos != 0) {
                return false;
            }
        }
        return true;
    }
}
