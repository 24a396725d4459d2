package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * Every live sequence's {@link Sampler}, by sequence id, sharing one {@link SamplingWorkspace}.
 * Engine-thread only; {@link #close()} frees the samplers and the workspace.
 */
public final class Samplers implements AutoCloseable {

    private final SamplingWorkspace workspace;
    private final Map<Long, Sampler> byId = new HashMap<>();

    public Samplers(SamplingWorkspace workspace) {
        this.workspace = workspace;
    }

    /**
     * Creates sequence {@code id}'s sampler and records its prompt.
     *
     * @throws IllegalArgumentException for parameters no sampler can take
     */
    public void start(long id, SamplingParams params, int[] prompt) {
        Sampler sampler = new Sampler(params, workspace);
        try {
            sampler.acceptPrompt(prompt);
        } catch (RuntimeException e) {
            sampler.close();
            throw e;
        }
        replace(id, sampler);
    }

    /** Gives sequence {@code child} a fork of {@code parent}'s sampler for choice {@code index}. */
    public void fork(long parent, long child, int index) {
        replace(child, get(parent).fork(index));
    }

    public boolean has(long id) {
        return byId.containsKey(id);
    }

    /** Samples sequence {@code id}'s next token from {@code row} and records it as accepted. */
    public SampledToken sample(long id, MemorySegment row) {
        Sampler sampler = get(id);
        SampledToken sampled = sampler.sample(row);
        sampler.accept(sampled.token());
        return sampled;
    }

    /** Whether sequence {@code id} reports log-probabilities. */
    public boolean logprobs(long id) {
        return get(id).logprobs();
    }

    /** Drops sequence {@code id}'s sampler; unknown ids are ignored. */
    public void end(long id) {
        Sampler sampler = byId.remove(id);
        if (sampler != null) {
            sampler.close();
        }
    }

    /** Live samplers (for tests and leak checks). */
    public int size() {
        return byId.size();
    }

    private Sampler get(long id) {
        Sampler sampler = byId.get(id);
        if (sampler == null) {
            throw new IllegalStateException("no sampler for sequence " + id);
        }
        return sampler;
    }

    private void replace(long id, Sampler sampler) {
        Sampler old = byId.put(id, sampler);
        if (old != null) {
            old.close();
        }
    }

    @Override
    public void close() {
        byId.values().forEach(Sampler::close);
        byId.clear();
        workspace.close();
    }
}
