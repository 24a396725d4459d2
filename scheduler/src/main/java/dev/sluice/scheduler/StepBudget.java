package dev.sluice.scheduler;

/** What is left of one step's token and sequence budgets while the scheduler fills it. */
final class StepBudget {

    int tokens;
    int sequences;
    /** Rows whose whole logits the step may still return (prompt log-probabilities): vocabulary-wide rows cost memory. */
    int logitRows;

    void reset(int tokens, int sequences) {
        this.tokens = tokens;
        this.sequences = sequences;
        this.logitRows = Scheduler.ALL_ROW_LOGITS_PER_STEP;
    }

    boolean open() {
        return tokens > 0 && sequences > 0;
    }

    void take(int count) {
        tokens -= count;
        sequences--;
    }
}
