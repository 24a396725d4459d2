package dev.sluice.scheduler;

/**
 * The step being planned: the {@link SchedulerStep} the passes fill, what is left of its budget,
 * and which sequences are already in it. Engine-thread only.
 */
final class PlannedStep {

    final SchedulerStep step = new SchedulerStep();
    final StepBudget budget = new StepBudget();
    private long number;
    /** Whether the step computes part of a foreground prompt, or its last token (background work then stays out of it). */
    private boolean prefillsForeground;

    /** Starts planning the next step with {@code tokens} tokens and {@code sequences} sequences to give out. */
    void begin(int tokens, int sequences) {
        step.clear();
        number++;
        budget.reset(tokens, sequences);
        prefillsForeground = false;
    }

    long number() {
        return number;
    }

    /** Whether {@code seq} already has tokens in this step. */
    boolean contains(Sequence seq) {
        return seq.scheduledStep == number;
    }

    boolean preempted() {
        return step.preemptions > 0;
    }

    boolean prefillsForeground() {
        return prefillsForeground;
    }

    /** {@code count} within what is left of the step's whole-logits rows, for a prompt that returns its logprobs. */
    int logitRowsCap(Sequence seq, int count) {
        return PromptOutputs.owedLogits(seq) ? Math.min(count, Math.max(0, budget.logitRows)) : count;
    }

    /** Puts {@code count} tokens of {@code seq} (their KV already reserved) in the step. */
    void add(Sequence seq, int count) {
        if (PromptOutputs.owedLogits(seq)) {
            budget.logitRows -= count;
        }
        step.add(seq, count);
        // A prompt whose cached prefix leaves one token to compute still gets its first token here.
        if (!BackgroundPolicy.isBackground(seq) && (count > 1 || seq.outputLength() == 0)) {
            prefillsForeground = true;
        }
        seq.scheduledStep = number;
        seq.request().countScheduled(number);
        budget.take(count);
    }
}
