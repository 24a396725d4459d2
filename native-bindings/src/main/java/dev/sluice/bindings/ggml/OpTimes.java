package dev.sluice.bindings.ggml;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compute time per kind of ggml operation ({@code ggml_op_desc}: {@code MUL_MAT},
 * {@code FLASH_ATTN_EXT}, unary and GLU ops by their own names), summed over the nodes a
 * node-by-node profile timed: what a graph's compute time is made of. Filled by
 * {@link NodeProfiler} for Sluice's graphs and by a profiled {@code LlamaContext} for llama.cpp's.
 * Not thread-safe: one thread computes and records.
 */
public final class OpTimes {

    /** One kind of op: its summed nanoseconds and how many nodes were timed. */
    public record Entry(long nanos, long nodes) {
    }

    private final Map<String, long[]> byOp = new TreeMap<>();

    /** Adds one timed node of kind {@code op}. */
    public void add(String op, long nanos) {
        long[] entry = byOp.computeIfAbsent(op, k -> new long[2]);
        entry[0] += nanos;
        entry[1]++;
    }

    /** Every kind of op timed so far, most time first. */
    public Map<String, Entry> entries() {
        Map<String, Entry> out = new LinkedHashMap<>();
        byOp.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]))
                .forEach(e -> out.put(e.getKey(), new Entry(e.getValue()[0], e.getValue()[1])));
        return Collections.unmodifiableMap(out);
    }

    /** The summed time of every node timed so far. */
    public long totalNanos() {
        return byOp.values().stream().mapToLong(e -> e[0]).sum();
    }

    public void clear() {
        byOp.clear();
    }
}
