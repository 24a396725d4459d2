package dev.sluice.api.openai;

/**
 * What a completions request asks about its prompt's own tokens: their logprobs in the
 * {@code logprobs} object before the generated ones ({@code echo} with {@code logprobs}: OpenAI's
 * legacy completions, lm-evaluation-harness's loglikelihood), and vLLM's {@code prompt_logprobs}.
 *
 * @param echoTop        alternatives per prompt token in the echoed {@code logprobs}, or -1 for none
 * @param promptLogprobs vLLM's {@code prompt_logprobs}: alternatives per prompt token, or -1 for none
 */
record PromptScoring(int echoTop, int promptLogprobs) {

    static final PromptScoring NONE = new PromptScoring(-1, -1);

    /** What the engine computes: enough alternatives for both, or -1 when neither is asked. */
    int engineTop() {
        return Math.max(echoTop, promptLogprobs);
    }

    boolean echoes() {
        return echoTop >= 0;
    }
}
