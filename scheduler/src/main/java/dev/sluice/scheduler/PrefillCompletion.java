package dev.sluice.scheduler;

import dev.sluice.engine.step.StepPlan;
import dev.sluice.engine.step.StepResult;

import java.util.List;

/**
 * The scheduler's side of prefill-only outputs, after a step: each entry's pooled embedding and
 * scored prompt tokens go to its request's {@link PromptOutputs}, and a prefill-only sequence
 * (an embedding, or {@code max_tokens} 0) whose prompt has now run ends: its blocks go back at
 * once (their full blocks stay in the prefix cache). Engine-thread only.
 */
final class PrefillCompletion {

    private final ActiveRequests requests;

    PrefillCompletion(ActiveRequests requests) {
        this.requests = requests;
    }

    void take(StepPlan plan, StepResult result, List<Sequence> sequences) {
        for (int e = 0; e < sequences.size(); e++) {
            Sequence seq = sequences.get(e);
            Request request = seq.request();
            if (seq.isFinished() || !(request.prefillOnly() || plan.prefill().embed(e)
                    || plan.prefill().promptLogprobs(e) >= 0)) {
                continue;
            }
            PromptOutputs outputs = request.promptOutputs();
            if (result.promptLogprobs(e) != null) {
                outputs.addLogprobs(result.promptLogprobsFrom(e), result.promptLogprobs(e));
            }
            if (result.embedding(e) != null) {
                outputs.setEmbedding(result.embedding(e));
            }
            if (request.prefillOnly() && seq.computed() >= request.promptLength()) {
                if (outputs.embed() && outputs.embeddingResult() == null) {
                    requests.abort(request, FinishReason.ERROR, "the engine returned no embedding");
                } else {
                    // Nothing to generate: "length", as OpenAI and vLLM report max_tokens 0.
                    requests.finish(seq, outputs.embed() ? FinishReason.STOP : FinishReason.LENGTH);
                }
            }
        }
    }
}
