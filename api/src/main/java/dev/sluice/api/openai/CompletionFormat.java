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
 * with {@code text_offset}s into that text.
 */
final class CompletionFormat implements ChoiceFormat {

    private final Submission submission;
    private final Tokenizer tokenizer;
    private final List<String> echoes;
    /** Per choice, how much text it has streamed: where its next token's text starts. */
    private final int[] offsets;

    /** @param echoes per prompt, the text to put before its choices' output ("" without echo) */
    CompletionFormat(Submission submission, Tokenizer tokenizer, List<String> echoes) {
        this.submission = submission;
        this.tokenizer = tokenizer;
        this.echoes = echoes;
        this.offsets = new int[submission.choices()];
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
        for (int c = 0; c < submission.choices(); c++) {
            String echo = echo(c);
            if (!echo.isEmpty()) {
                sink.chunk(c, "text", TextNode.valueOf(echo), null, null);
                offsets[c] = echo.length();
            }
        }
    }

    @Override
    public void delta(ChunkSink sink, int choice, SequenceDelta d) {
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
        sink.chunk(choice, "text", TextNode.valueOf(""), null, reason);
    }

    @Override
    public ObjectNode choice(int c, String text, List<SampledToken> logprobs, FinishReason reason) {
        String echo = echo(c);
        ObjectNode choice = Json.MAPPER.createObjectNode();
        choice.put("index", c);
        choice.put("text", echo + text);
        if (submission.logprobs()) {
            choice.set("logprobs", Responses.completionLogprobs(tokenizer, logprobs, echo.length(), submission.tokenIdNames()));
        } else {
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", Responses.finishReason(reason));
        return choice;
    }
}
