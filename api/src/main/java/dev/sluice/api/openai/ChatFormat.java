package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.FinishReason;
import dev.sluice.scheduler.SequenceDelta;

import java.util.List;

/** Chat's choices: {@code message} in a body, {@code delta} in a stream, logprobs as {@code content}. */
final class ChatFormat implements ChoiceFormat {

    private final Submission submission;
    private final Tokenizer tokenizer;

    ChatFormat(Submission submission, Tokenizer tokenizer) {
        this.submission = submission;
        this.tokenizer = tokenizer;
    }

    @Override
    public String object() {
        return "chat.completion";
    }

    @Override
    public String chunkObject() {
        return "chat.completion.chunk";
    }

    @Override
    public void begin(ChunkSink sink) {
        for (int c = 0; c < submission.choices(); c++) {
            ObjectNode delta = Json.MAPPER.createObjectNode();
            delta.put("role", "assistant");
            delta.put("content", "");
            sink.chunk(c, "delta", delta, null, null);
        }
    }

    @Override
    public void delta(ChunkSink sink, int choice, SequenceDelta d) {
        if (d.text().isEmpty() && !(submission.logprobs() && d.tokens().length > 0)) {
            return;
        }
        ObjectNode delta = Json.MAPPER.createObjectNode();
        delta.put("content", d.text());
        ObjectNode logprobs = null;
        if (submission.logprobs()) {
            logprobs = Json.MAPPER.createObjectNode();
            logprobs.set("content", Responses.chatLogprobContent(tokenizer, d.logprobs(), submission.tokenIdNames()));
        }
        sink.chunk(choice, "delta", delta, logprobs, null);
    }

    @Override
    public void finish(ChunkSink sink, int choice, FinishReason reason) {
        sink.chunk(choice, "delta", Json.MAPPER.createObjectNode(), null, reason);
    }

    @Override
    public ObjectNode choice(int c, String text, List<SampledToken> logprobs, FinishReason reason) {
        ObjectNode choice = Json.MAPPER.createObjectNode();
        choice.put("index", c);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", text);
        if (submission.logprobs()) {
            choice.putObject("logprobs").set("content",
                    Responses.chatLogprobContent(tokenizer, logprobs, submission.tokenIdNames()));
        } else {
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", Responses.finishReason(reason));
        return choice;
    }
}
