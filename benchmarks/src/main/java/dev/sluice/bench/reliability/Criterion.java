package dev.sluice.bench.reliability;

/**
 * One checked property: what it is, what was measured, and the verdict.
 *
 * @param name     e.g. "0 5xx for malformed input"
 * @param measured e.g. "0 of 1000"
 */
public record Criterion(String name, String measured, Verdict verdict) {

    public static Criterion check(String name, boolean pass, String measured) {
        return new Criterion(name, measured, Verdict.of(pass));
    }

    public static Criterion info(String name, String measured) {
        return new Criterion(name, measured, Verdict.INFO);
    }
}
