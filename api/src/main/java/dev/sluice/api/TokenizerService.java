package dev.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.ApiException;
import dev.sluice.api.http.Bodies;
import dev.sluice.api.http.ConnectionGuard;
import dev.sluice.api.http.ErrorHandlers;
import dev.sluice.api.models.ModelVersion;
import dev.sluice.api.models.Router;
import dev.sluice.api.openai.ChatRequest;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.RequestLimits;
import dev.sluice.engine.Engine;
import dev.sluice.engine.chat.ChatMessage;
import dev.sluice.engine.chat.ChatTemplateException;
import dev.sluice.engine.text.Tokenizer;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.List;

/**
 * vLLM's {@code POST /tokenize} and {@code POST /detokenize}, with the tokenizer (and chat
 * template) of the version the body's {@code model} resolves to, named in
 * {@code X-Sluice-Model-Version}.
 */
final class TokenizerService implements HttpService {

    private final Router router;
    private final long maxBodyBytes;
    private final ConnectionGuard guard;

    TokenizerService(Router router, long maxBodyBytes, ConnectionGuard guard) {
        this.router = router;
        this.maxBodyBytes = maxBodyBytes;
        this.guard = guard;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/tokenize", this::tokenize)
                .post("/detokenize", this::detokenize)
                .any("/tokenize", ErrorHandlers.methodNotAllowed("POST"))
                .any("/detokenize", ErrorHandlers.methodNotAllowed("POST"));
    }

    private Engine engine(ServerRequest req, ServerResponse res, Json json) {
        ModelVersion version = router.resolve(json.string("model").orElse(null), null,
                name -> req.headers().first(HeaderNames.create(name)).orElse(null)).primary();
        Engine engine = version.ready().engine();
        res.header("X-Sluice-Model-Version", version.version());
        return engine;
    }

    private void tokenize(ServerRequest req, ServerResponse res) {
        Json json = Bodies.json(req, maxBodyBytes, guard);
        Engine engine = engine(req, res, json);
        Tokenizer tokenizer = engine.tokenizer();
        boolean addSpecial = json.bool("add_special_tokens").orElse(true);
        int[] tokens;
        if (json.has("messages")) {
            List<ChatMessage> messages = ChatRequest.messages(json);
            String prompt;
            try {
                prompt = engine.chatTemplate().render(messages, json.bool("add_generation_prompt").orElse(true));
            } catch (ChatTemplateException e) {
                throw ApiException.invalid("messages", e.getMessage());
            }
            RequestLimits.requireFits(tokenizer.texts(), prompt, engine.maxModelLength(), "messages");
            tokens = tokenizer.encode(prompt, addSpecial, true);
        } else {
            String prompt = json.string("prompt").orElseThrow(
                    () -> ApiException.invalid("prompt", "Missing required parameter: 'prompt' (or 'messages')."));
            RequestLimits.requireFits(tokenizer.texts(), prompt, engine.maxModelLength(), "prompt");
            tokens = tokenizer.encode(prompt, addSpecial, false);
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("count", tokens.length);
        body.put("max_model_len", engine.maxModelLength());
        ArrayNode ids = body.putArray("tokens");
        for (int t : tokens) {
            ids.add(t);
        }
        if (json.bool("return_token_strs").orElse(false)) {
            ArrayNode strs = body.putArray("token_strs");
            for (int t : tokens) {
                strs.add(tokenizer.tokenText(t));
            }
        }
        send(res, body);
    }

    private void detokenize(ServerRequest req, ServerResponse res) {
        Json json = Bodies.json(req, maxBodyBytes, guard);
        Tokenizer tokenizer = engine(req, res, json).tokenizer();
        JsonNode node = json.get("tokens");
        if (node == null || !node.isArray()) {
            throw ApiException.invalid("tokens", "Missing required parameter: 'tokens' (an array of token ids).");
        }
        int[] tokens = new int[node.size()];
        for (int i = 0; i < tokens.length; i++) {
            JsonNode t = node.get(i);
            if (!t.isIntegralNumber() || t.longValue() < 0 || t.longValue() >= tokenizer.vocabSize()) {
                throw ApiException.invalid("tokens", "Token id " + t.asText() + " is out of vocabulary (0 to "
                        + (tokenizer.vocabSize() - 1) + ").");
            }
            tokens[i] = t.intValue();
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("prompt", tokenizer.decode(tokens, true));
        send(res, body);
    }

    private static void send(ServerResponse res, ObjectNode body) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        try {
            res.send(Json.MAPPER.writeValueAsBytes(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
