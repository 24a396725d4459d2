package dev.sluice.bench.reliability;

import java.util.List;

/**
 * What one phase found: its criteria for the summary table and its own Markdown section body.
 *
 * @param title   e.g. "Fuzz: malformed and hostile requests"
 * @param setup   how the server was started and the load was shaped, one line
 * @param details Markdown, the phase's figures and lists
 */
public record PhaseResult(String phase, String title, String setup, List<Criterion> criteria, String details) {

    public boolean failed() {
        return criteria.stream().anyMatch(c -> c.verdict() == Verdict.FAIL);
    }

    /** A phase that could not run (its server did not start, say): one failing criterion says why. */
    public static PhaseResult broken(String phase, String title, String why) {
        return new PhaseResult(phase, title, "", List.of(new Criterion("phase ran", why, Verdict.FAIL)), "");
    }
}
