package dev.sluice.engine.runner;

import java.util.Locale;

/**
 * Whether decode sequences that share a run of full KV blocks attend to it once for all of them
 * ({@link CascadeAttention}): {@code AUTO} when {@link CascadeGrouping}'s cost model says it
 * pays, {@code ON} whenever a group shares at least one full block, {@code OFF} never. The
 * default comes from the system property {@code sluice.cascade} ({@code auto}, {@code on},
 * {@code off}) and is {@code auto}: the engine step is up to 2× faster with it over a 1000-token
 * prefix, and served (once requests arriving together share one prefill of their prefix) the
 * shared-prefix workload gains 1.06–1.12× (benchmarks/results/2026-11-29-cascade.md).
 */
public enum CascadeMode {
    AUTO, ON, OFF;

    /** The system property that sets the default. */
    public static final String PROPERTY = "sluice.cascade";

    /** The mode the system property names, {@code AUTO} when it is unset. */
    public static CascadeMode fromSystemProperty() {
        String value = System.getProperty(PROPERTY, "auto").trim().toUpperCase(Locale.ROOT);
        try {
            return valueOf(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + " must be auto, on or off, not '"
                    + System.getProperty(PROPERTY) + "'", e);
        }
    }
}
