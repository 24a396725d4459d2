package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.tools.ToolRequest;
import dev.sluice.api.tools.ToolSession;
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
        ToolSession tools = ToolSession.of(ToolRequest.parse(json), engine.chatTemplate());
        SamplingOptions options = ToolConstraint.apply(chat.options(), tools);
        String prompt;
        try {
            prompt = engine.chatTemplate().render(chat.messages(), tools.templateTools(), true);
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
        int maxTokens = chat.maxTokens().orElse(Math.max(1, Math.min(rest, endpoints.limits().defaultMaxTokens(options))));
        return new Prepared(List.of(tokens), options, maxTokens, chat.stream(), chat.includeUsage(), List.of(""),
                "messages", tools);
    }

    @Override
    public ChoiceFormat format(Submission submission, Tokenizer tokenizer, Prepared prepared) {
        ChatFormat chat = new ChatFormat(submission, tokenizer);
        return prepared.tools() != null && prepared.tools().parses()
                ? new ToolChatFormat(chat, submission, tokenizer, prepared.tools()) : chat;
    }
}
