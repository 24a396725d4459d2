package dev.sluice.api.openai;

/**
 * What one {@code POST /v1/embeddings} may ask for.
 *
 * @param maxInputs      inputs per request ({@code --max-embedding-inputs}; OpenAI's is 2048)
 * @param maxTotalTokens tokens in all of a request's inputs ({@code --max-embedding-tokens}; OpenAI's is 300 000)
 */
public record EmbeddingLimits(int maxInputs, long maxTotalTokens) {

    public static final EmbeddingLimits DEFAULT = new EmbeddingLimits(2048, 300_000);

    public EmbeddingLimits {
        if (maxInputs < 1 || maxTotalTokens < 1) {
            throw new IllegalArgumentException("embedding limits must be positive: " + maxInputs + ", " + maxTotalTokens);
        }
    }
}
