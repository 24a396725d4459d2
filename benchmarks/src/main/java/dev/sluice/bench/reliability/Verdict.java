package dev.sluice.bench.reliability;

/** A criterion's outcome in the report. */
public enum Verdict {
    PASS, FAIL, INFO, NOT_RUN;

    public static Verdict of(boolean pass) {
        return pass ? PASS : FAIL;
    }

    public String label() {
        return switch (this) {
            case PASS -> "PASS";
            case FAIL -> "**FAIL**";
            case INFO -> "info";
            case NOT_RUN -> "not run";
        };
    }
}
