package dev.sluice.scheduler;

import dev.sluice.engine.sampling.PromptLogprob;

import java.util.ArrayList;
import java.util.List;

/**
 * What a request asks of its prompt besides generation, and what the engine returned for it: the
 * prompt's pooled embedding (an embedding request: prefill only, nothing sampled), or the
 * log-probability of each prompt token after the first (completions' {@code echo} with
 * {@code logprobs}, vLLM's {@code prompt_logprobs}). Set on the handler thread before submission,
 * filled on the engine thread; read by the handler once the request is done (the stream's lock
 * orders the writes before that read).
 */
public final class PromptOutputs {

    /** Nothing asked: the usual request. */
    static final PromptOutputs NONE = new PromptOutputs(false, -1);

    private final boolean embed;
    private final int logprobs;
    private volatile float[] embedding;
    private final List<PromptLogprob> scored = new ArrayList<>();

    private PromptOutputs(boolean embed, int logprobs) {
        this.embed = embed;
        this.logprobs = logprobs;
    }

    /** The prompt's pooled embedding, not normalised (the model's pooling decides how). */
    public static PromptOutputs embedding() {
        return new PromptOutputs(true, -1);
    }

    /** Each prompt token's log-probability with {@code top} alternatives ({@code 0 ≤ top ≤ 20}). */
    public static PromptOutputs logprobs(int top) {
        if (top < 0) {
            throw new IllegalArgumentException("prompt logprobs must be at least 0: " + top);
        }
        return new PromptOutputs(false, top);
    }

    public boolean embed() {
        return embed;
    }

    /** Alternatives per prompt token, or -1 when none are asked for. */
    public int logprobs() {
        return logprobs;
    }

    boolean any() {
        return embed || logprobs >= 0;
    }

    /** Whether the prompt's rows must all be computed (no prefix-cache hits skip them). */
    boolean needsEveryRow() {
        return any();
    }

    /** Whether the sequence's next tokens return whole logits rows: its prompt's logprobs are still owed. */
    static boolean owedLogits(Sequence seq) {
        Request request = seq.request();
        PromptOutputs outputs = request.promptOutputs();
        return outputs.logprobs >= 0 && seq.computed() < request.promptLength()
                && !outputs.logprobsComplete(request.promptLength());
    }

    /** The embedding, once the engine returned it (else null). */
    public float[] embeddingResult() {
        return embedding;
    }

    void setEmbedding(float[] value) {
        embedding = value;
    }

    /**
     * Takes scored prompt tokens at positions {@code from, from + 1, …}; positions already taken
     * (a prompt recomputed after a preemption) are skipped.
     */
    synchronized void addLogprobs(int from, List<PromptLogprob> values) {
        for (int i = 0; i < values.size(); i++) {
            if (from + i == scored.size() + 1) {
                scored.add(values.get(i));
            }
        }
    }

    /** Whether every prompt token after the first has been scored, of a prompt of {@code length}. */
    synchronized boolean logprobsComplete(int length) {
        return scored.size() >= length - 1;
    }

    /** The scored prompt tokens so far: position 1 first (position 0 has no distribution). */
    public synchronized List<PromptLogprob> logprobsResult() {
        return List.copyOf(scored);
    }
}
