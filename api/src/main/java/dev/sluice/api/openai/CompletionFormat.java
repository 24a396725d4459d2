package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.FinishReason;
import dev.sluice.scheduler.SequenceDelta;

import java.util.List;

/**
 * Completions' choices: {@code text} (after the echoed prompt when {@code echo} is on), logprobs
 * with {@code text_offset}s into that text: the echoed prompt's own tokens first when asked
 * ({@code echo} with {@code logprobs}), and vLLM's {@code prompt_logprobs}.
 */
final class CompletionFormat implements ChoiceFormat {

    private final Submission submission;
    private final Tokenizer tokenizer;
    private final List<String> echoes;
    private final PromptScoring scoring;
    /** Per choice, how much text it has streamed: where its next token's text starts. */
    private final int[] offsets;
    /** Per choice, whether its echo went out (with prompt logprobs it waits until the prompt has run). */
    private final boolean[] echoed;

    /** @param echoes per prompt, the text to put before its choices' output ("" without echo) */
    CompletionFormat(Submission submission, Tokenizer tokenizer, List<String> echoes) {
        this(submission, tokenizer, echoes, PromptScoring.NONE);
    }

    /** @param scoring what the request asked of its prompt's tokens (echoed logprobs, {@code prompt_logprobs}) */
    CompletionFormat(Submission submission, Tokenizer tokenizer, List<String> echoes, PromptScoring scoring) {
        this.submission = submission;
        this.tokenizer = tokenizer;
        this.echoes = echoes;
        this.scoring = scoring;
        this.offsets = new int[submission.choices()];
        this.echoed = new boolean[submission.choices()];
    }

    @Override
    public String object() {
        return "text_completion";
    }

    @Override
    public String chunkObject() {
        return "text_completion";
    }

    private String echo(int choice) {
        return echoes.get(submission.promptOf(choice));
    }

    @Override
    public void begin(ChunkSink sink) {
        if (scoring.echoes()) {
            return; // each echo goes out with its prompt's logprobs, once the prompt has run
        }
        for (int c = 0; c < submission.choices(); c++) {
            echo(sink, c);
        }
    }

    private void echo(ChunkSink sink, int c) {
        if (echoed[c]) {
            return;
        }
        echoed[c] = true;
        String echo = echo(c);
        if (!echo.isEmpty()) {
            sink.chunk(c, "text", TextNode.valueOf(echo), scoring.echoes() ? promptLogprobs(c) : null, null);
            offsets[c] = echo.length();
        }
    }

    /** The echoed prompt's logprobs object (its request has run its prompt: it has output or finished). */
    private ObjectNode promptLogprobs(int c) {
        int prompt = submission.promptOf(c);
        return PromptLogprobsJson.echoed(tokenizer, submission.promptTokens(prompt), submission.promptLogprobs(prompt),
                scoring.echoTop(), submission.tokenIdNames());
    }

    @Override
    public void delta(ChunkSink sink, int choice, SequenceDelta d) {
        echo(sink, choice);
        if (d.text().isEmpty() && !(submission.logprobs() && d.tokens().length > 0)) {
            return;
        }
        ObjectNode logprobs = submission.logprobs()
                ? Responses.completionLogprobs(tokenizer, d.logprobs(), offsets[choice], submission.tokenIdNames())
                : null;
        sink.chunk(choice, "text", TextNode.valueOf(d.text()), logprobs, null);
        offsets[choice] += d.text().length();
    }

    @Override
    public void finish(ChunkSink sink, int choice, FinishReason reason) {
        echo(sink, choice);
        sink.chunk(choice, "text", TextNode.valueOf(""), null, reason);
    }

    @Override
    public ObjectNode choice(int c, String text, List<SampledToken> logprobs, FinishReason reason) {
        String echo = echo(c);
        ObjectNode choice = Json.MAPPER.createObjectNode();
        choice.put("index", c);
        choice.put("text", echo + text);
        if (submission.logprobs()) {
            ObjectNode generated = Responses.completionLogprobs(tokenizer, logprobs, echo.length(), submission.tokenIdNames());
            choice.set("logprobs", scoring.echoes() ? PromptLogprobsJson.append(promptLogprobs(c), generated) : generated);
        } else {
            choice.putNull("logprobs");
        }
        if (scoring.promptLogprobs() >= 0) {
            int prompt = submission.promptOf(c);
            choice.set("prompt_logprobs", PromptLogprobsJson.vllm(tokenizer, submission.promptTokens(prompt),
                    submission.promptLogprobs(prompt), scoring.promptLogprobs()));
        }
        choice.put("finish_reason", Responses.finishReason(reason));
        return choice;
    }
}
