package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SampledToken;

import java.util.List;

/**
 * What one sequence produced since the consumer last looked: new text, the token ids behind it,
 * their log-probabilities (when asked for), and the finish reason once it has stopped.
 */
public record SequenceDelta(int index, String text, int[] tokens, List<SampledToken> logprobs, FinishReason finishReason) {

    public boolean isFinished() {
        return finishReason != null;
    }
}
