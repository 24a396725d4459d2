package dev.sluice.scheduler;

/** What is left of one step's token and sequence budgets while the scheduler fills it. */
final class StepBudget {

    /**
     * Prompt rows per step that return their whole logits row (prompt log-probabilities): each
     * costs a vocabulary of floats (0.6 MB at 152 K tokens), so a long prompt's are spread over
     * steps, like chunked prefill.
     */
    static final int ALL_ROW_LOGITS_PER_STEP = 256;

    int tokens;
    int sequences;
    /** Rows whose whole logits the step may still return (prompt log-probabilities): vocabulary-wide rows cost memory. */
    int logitRows;

    void reset(int tokens, int sequences) {
        this.tokens = tokens;
        this.sequences = sequences;
        this.logitRows = ALL_ROW_LOGITS_PER_STEP;
    }

    boolean open() {
        return tokens > 0 && sequences > 0;
    }

    void take(int count) {
        tokens -= count;
        sequences--;
    }
}
