package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.engine.Engine;
import dev.sluice.engine.chat.ChatTemplateException;
import dev.sluice.engine.text.Tokenizer;
import io.helidon.http.Status;

import java.util.List;

/** {@code POST /v1/chat/completions}: messages through the model version's chat template. */
final class ChatEndpoint implements GenerationEndpoint.Kind {

    @Override
    public String idPrefix() {
        return "chatcmpl-";
    }

    @Override
    public Prepared prepare(Json json, Engine engine, Endpoints endpoints) {
        Tokenizer tokenizer = engine.tokenizer();
        ChatRequest chat = ChatRequest.parse(json, tokenizer.vocabSize(), endpoints.limits());
        String prompt;
        try {
            prompt = engine.chatTemplate().render(chat.messages(), true);
        } catch (ChatTemplateException e) {
            throw switch (e.reason()) {
                case REJECTED, LIMIT -> ApiException.invalid("messages", e.getMessage());
                case UNSUPPORTED -> new ApiException(Status.INTERNAL_SERVER_ERROR_500, "server_error",
                        "The model's chat template cannot be rendered: " + e.getMessage(), null, null);
            };
        }
        RequestLimits.requireFits(tokenizer.texts(), prompt, engine.maxModelLength(), "messages");
        int[] tokens = tokenizer.encode(prompt, true, true);
        int rest = engine.maxModelLength() - tokens.length;
        if (rest < 1) {
            throw ApiException.invalid("messages", "This model's maximum context length is " + engine.maxModelLength()
                    + " tokens. However, your messages resulted in " + tokens.length
                    + " tokens. Please reduce the length of the messages.", "context_length_exceeded");
        }
        // Without max_tokens, the rest of the context, as far as --max-response-tokens allows.
        int maxTokens = chat.maxTokens().orElse(Math.max(1, Math.min(rest, endpoints.limits().defaultMaxTokens(chat.options()))));
        return new Prepared(List.of(tokens), chat.options(), maxTokens, chat.stream(), chat.includeUsage(), List.of(""),
                "messages");
    }

    @Override
    public ChoiceFormat format(Submission submission, Tokenizer tokenizer, Prepared prepared) {
        return new ChatFormat(submission, tokenizer);
    }
}
