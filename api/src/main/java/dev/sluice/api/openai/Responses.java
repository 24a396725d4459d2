package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.sampling.TokenLogprob;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.FinishReason;
import dev.sluice.scheduler.RequestUsage;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;

/** OpenAI's response objects and stream chunks, field for field. */
public final class Responses {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    /** JSON has no -Infinity; vLLM reports this instead. */
    private static final float MIN_LOGPROB = -9999f;

    private Responses() {
    }

    /** {@code chatcmpl-…} / {@code cmpl-…} style ids. */
    public static String newId(String prefix) {
        char[] out = new char[24];
        for (int i = 0; i < out.length; i++) {
            out[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return prefix + new String(out);
    }

    public static ObjectNode envelope(String id, String object, long created, String model) {
        ObjectNode o = F.objectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        return o;
    }

    public static ObjectNode usage(int prompt, int completion, int cached) {
        ObjectNode u = F.objectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", cached);
        return u;
    }

    /** Sums per-prompt usages (several prompts in one completions request). */
    public static ObjectNode usage(List<RequestUsage> usages) {
        int prompt = 0;
        int completion = 0;
        int cached = 0;
        for (RequestUsage u : usages) {
            prompt += u.promptTokens();
            completion += u.completionTokens();
            cached += u.cachedPromptTokens();
        }
        return usage(prompt, completion, cached);
    }

    public static String finishReason(FinishReason reason) {
        return reason == null ? null : reason.openAiName();
    }

    /** A token as text for logprobs: its bytes, or its special-token text when it renders as nothing. */
    public static byte[] tokenBytes(Tokenizer tokenizer, int token) {
        byte[] piece = tokenizer.piece(token);
        return piece.length > 0 ? piece : tokenizer.tokenText(token).getBytes(StandardCharsets.UTF_8);
    }

    private static float clamp(float logprob) {
        return Float.isFinite(logprob) ? logprob : MIN_LOGPROB;
    }

    /** A token as logprobs name it: its text, or {@code token_id:<id>} with {@code idNames}. */
    private static String tokenName(byte[] bytes, int token, boolean idNames) {
        return idNames ? "token_id:" + token : new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * Chat's {@code logprobs.content} entries for some sampled tokens; {@code idNames} names them
     * {@code token_id:<id>} (their {@code bytes} stay the token's own).
     */
    public static ArrayNode chatLogprobContent(Tokenizer tokenizer, List<SampledToken> tokens, boolean idNames) {
        ArrayNode content = F.arrayNode();
        for (SampledToken t : tokens) {
            ObjectNode entry = chatLogprob(tokenizer, t.token(), t.logprob(), idNames);
            ArrayNode top = entry.putArray("top_logprobs");
            for (TokenLogprob alt : t.topLogprobs()) {
                top.add(chatLogprob(tokenizer, alt.token(), alt.logprob(), idNames));
            }
            content.add(entry);
        }
        return content;
    }

    private static ObjectNode chatLogprob(Tokenizer tokenizer, int token, float logprob, boolean idNames) {
        byte[] bytes = tokenBytes(tokenizer, token);
        ObjectNode o = F.objectNode();
        o.put("token", tokenName(bytes, token, idNames));
        o.put("logprob", clamp(logprob));
        ArrayNode b = o.putArray("bytes");
        for (byte x : bytes) {
            b.add(x & 0xff);
        }
        return o;
    }

    /**
     * Completions' {@code logprobs} object; {@code textOffset} is where the first token's text
     * starts in the choice's text; {@code idNames} names tokens {@code token_id:<id>}.
     */
    public static ObjectNode completionLogprobs(Tokenizer tokenizer, List<SampledToken> tokens, int textOffset,
                                                boolean idNames) {
        ObjectNode o = F.objectNode();
        ArrayNode strings = o.putArray("tokens");
        ArrayNode logprobs = o.putArray("token_logprobs");
        ArrayNode top = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        int offset = textOffset;
        for (SampledToken t : tokens) {
            byte[] bytes = tokenBytes(tokenizer, t.token());
            String text = new String(bytes, StandardCharsets.UTF_8);
            strings.add(tokenName(bytes, t.token(), idNames));
            logprobs.add(clamp(t.logprob()));
            ObjectNode alternatives = F.objectNode();
            for (TokenLogprob alt : t.topLogprobs()) {
                alternatives.put(tokenName(tokenBytes(tokenizer, alt.token()), alt.token(), idNames), clamp(alt.logprob()));
            }
            top.add(alternatives);
            offsets.add(offset);
            offset += text.length();
        }
        return o;
    }

    public static ObjectNode error(String message, String type, String param, String code) {
        ObjectNode o = F.objectNode();
        ObjectNode e = o.putObject("error");
        e.put("message", message);
        e.put("type", type);
        if (param == null) {
            e.putNull("param");
        } else {
            e.put("param", param);
        }
        if (code == null) {
            e.putNull("code");
        } else {
            e.put("code", code);
        }
        return o;
    }
}
