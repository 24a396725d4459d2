package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.Bodies;
import dev.sluice.engine.Engine;
import dev.sluice.engine.chat.ChatTemplateException;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.EngineService;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.List;

/** {@code POST /v1/chat/completions}: messages through the model's chat template, then one submission. */
final class ChatEndpoint implements Handler {

    private final Endpoints endpoints;

    ChatEndpoint(Endpoints endpoints) {
        this.endpoints = endpoints;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) throws InterruptedException {
        EngineService service = endpoints.served().ready();
        Engine engine = service.engine();
        Tokenizer tokenizer = engine.tokenizer();
        ChatRequest chat = ChatRequest.parse(Bodies.json(req, endpoints.maxBodyBytes(), endpoints.guard()),
                tokenizer.vocabSize(), endpoints.limits());
        endpoints.served().requireModel(chat.model());
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
        try (Submission submission = Submission.submit(service, endpoints.admission(), endpoints.limits(), List.of(tokens),
                chat.options(), maxTokens, endpoints.requestTimeout(), "messages")) {
            ChatFormat format = new ChatFormat(submission, tokenizer);
            Responder.Envelope envelope = Responder.Envelope.create("chatcmpl-", endpoints.served().id());
            if (chat.stream()) {
                Responder.stream(req, res, endpoints.guard(), submission, format, envelope, chat.includeUsage());
            } else {
                Responder.respond(req, res, endpoints.guard(), submission, format, envelope);
            }
        }
    }
}
