package dev.sluice.scheduler;

/** What is left of one step's token and sequence budgets while the scheduler fills it. */
final class StepBudget {

    int tokens;
    int sequences;

    void reset(int tokens, int sequences) {
        this.tokens = tokens;
        this.sequences = sequences;
    }

    boolean open() {
        return tokens > 0 && sequences > 0;
    }

    void take(int count) {
        tokens -= count;
        sequences--;
    }
}
