package dev.sluice.bench.load;

/**
 * One measured request, as written to the results file. Times are milliseconds; {@code startMs}
 * is when it was sent, from the start of its level. Following {@code vllm bench serve}: TTFT runs
 * from sending to the first chunk with generated text, the ITLs are the gaps between such chunks
 * (a chunk carrying several tokens is one gap), and TPOT is {@code (e2e - ttft) / (outputTokens - 1)}
 * (0 below two tokens). E2E runs to the end of the stream ({@code [DONE]}).
 *
 * @param httpStatus     0 when no response came
 * @param error          null on success
 * @param promptTokens   {@code usage.prompt_tokens}, else the planned prompt length
 * @param outputTokens   {@code usage.completion_tokens}, else the number of content chunks
 * @param usageReported  whether the server sent a usage chunk
 * @param chunks         chunks that carried generated text
 */
record RequestSample(
        int index,
        double startMs,
        boolean success,
        int httpStatus,
        String error,
        int promptTokens,
        int outputTokens,
        boolean usageReported,
        int chunks,
        double ttftMs,
        double tpotMs,
        double e2eMs,
        double[] itlMs) {
}
