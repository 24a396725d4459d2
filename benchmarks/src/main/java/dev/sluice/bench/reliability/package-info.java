/**
 * {@code bin/reliability}: long-run reliability checks of a Sluice server that this suite starts
 * itself. Hostile-input fuzzing, a streaming soak with client disconnects (KV leaks, RSS growth),
 * slow readers, a KV pool far too small for its load, SIGTERM during streaming, and the busy-host
 * contention figures of {@code bin/contention} when it exists. It measures and reports, one
 * PASS/FAIL per property, into a dated Markdown file under {@code benchmarks/results/}.
 */
package dev.sluice.bench.reliability;
