package dev.sluice.engine.step;

import dev.sluice.engine.sampling.PromptLogprob;
import dev.sluice.engine.sampling.SampledToken;

import java.util.Arrays;
import java.util.List;

/**
 * What one step produced: for every entry of the {@link StepPlan} that sampled, one result per
 * sample: the token, its log-probabilities when the sequence asked for them, or the error that
 * kept the sequence from getting one (a grammar with no way forward). Reused by its executor;
 * read it before the next step.
 */
public final class StepResult {

    private int[] firstSample = new int[16];
    private int[] tokens = new int[16];
    private SampledToken[] logprobs = new SampledToken[16];
    private String[] errors = new String[16];
    private int size;
    private long forwardNanos;
    private long samplingNanos;
    private float[][] embeddings = new float[16][];
    private int[] promptFrom = new int[16];
    private List<PromptLogprob>[] promptLogprobs = newLists(16);
    private long kvRowsGathered;
    private long kvRowsAttended;

    /** Sizes the result for {@code plan}; every sample starts without a token. */
    public void reset(StepPlan plan) {
        int entries = plan.entries();
        if (firstSample.length < entries + 1) {
            firstSample = new int[entries + 1];
        }
        size = 0;
        for (int e = 0; e < entries; e++) {
            firstSample[e] = size;
            size += plan.samples(e);
        }
        firstSample[entries] = size;
        if (tokens.length < size) {
            tokens = new int[size];
            logprobs = new SampledToken[size];
            errors = new String[size];
        }
        Arrays.fill(tokens, 0, size, -1);
        Arrays.fill(logprobs, 0, size, null);
        Arrays.fill(errors, 0, size, null);
        if (embeddings.length < entries) {
            embeddings = new float[entries][];
            promptFrom = new int[entries];
            promptLogprobs = newLists(entries);
        }
        Arrays.fill(embeddings, 0, entries, null);
        Arrays.fill(promptLogprobs, 0, entries, null);
    }

    @SuppressWarnings("unchecked")
    private static List<PromptLogprob>[] newLists(int n) {
        return (List<PromptLogprob>[]) new List<?>[n];
    }

    /** Entry {@code entry}'s pooled embedding (its prompt's last chunk ran). */
    public void setEmbedding(int entry, float[] embedding) {
        embeddings[entry] = embedding;
    }

    /** The entry's pooled embedding, not normalised, or null. */
    public float[] embedding(int entry) {
        return embeddings[entry];
    }

    /** The log-probabilities of the entry's prompt tokens at positions {@code from, from + 1, …}. */
    public void setPromptLogprobs(int entry, int from, List<PromptLogprob> logprobs) {
        promptFrom[entry] = from;
        promptLogprobs[entry] = logprobs;
    }

    /** The entry's scored prompt tokens, or null; the first is at {@link #promptLogprobsFrom}. */
    public List<PromptLogprob> promptLogprobs(int entry) {
        return promptLogprobs[entry];
    }

    /** The prompt position of the first of {@link #promptLogprobs}. */
    public int promptLogprobsFrom(int entry) {
        return promptFrom[entry];
    }

    /** Records how long the step's forward pass and its sampling took. */
    public void setTimings(long forwardNanos, long samplingNanos) {
        this.forwardNanos = forwardNanos;
        this.samplingNanos = samplingNanos;
    }

    /**
     * Records the step's KV rows per layer: those its attention gathered into logical order and
     * those its sequences attend to (see {@code StepTimings}).
     */
    public void setKvRows(long gathered, long attended) {
        this.kvRowsGathered = gathered;
        this.kvRowsAttended = attended;
    }

    public long kvRowsGathered() {
        return kvRowsGathered;
    }

    public long kvRowsAttended() {
        return kvRowsAttended;
    }

    /** The forward pass (block moves, graph, compute) in nanoseconds. */
    public long forwardNanos() {
        return forwardNanos;
    }

    /** Sampling every sequence's tokens (forks included) in nanoseconds. */
    public long samplingNanos() {
        return samplingNanos;
    }

    public void setToken(int entry, int sample, SampledToken sampled, boolean withLogprobs) {
        int i = firstSample[entry] + sample;
        tokens[i] = sampled.token();
        logprobs[i] = withLogprobs ? sampled : null;
    }

    public void setError(int entry, int sample, String message) {
        errors[firstSample[entry] + sample] = message;
    }

    /** The token sampled, or -1 if none ({@link #error} says why). */
    public int token(int entry, int sample) {
        return tokens[firstSample[entry] + sample];
    }

    /** The token with its log-probabilities, or null when the sequence did not ask for them. */
    public SampledToken logprobs(int entry, int sample) {
        return logprobs[firstSample[entry] + sample];
    }

    /** Why no token was sampled, or null. */
    public String error(int entry, int sample) {
        return errors[firstSample[entry] + sample];
    }
}
