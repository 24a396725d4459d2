package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.engine.sampling.PromptLogprob;
import dev.sluice.engine.sampling.TokenLogprob;
import dev.sluice.engine.text.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A prompt's scored tokens in the two shapes clients read them: the legacy completions
 * {@code logprobs} object of an echoed prompt (OpenAI's and vLLM's {@code echo} with
 * {@code logprobs}: the first token's logprob and alternatives {@code null}), and vLLM's
 * {@code prompt_logprobs} (per position {@code null} or a map from token id to
 * {@code {logprob, rank, decoded_token}}: the prompt's own token, then the alternatives).
 */
final class PromptLogprobsJson {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private PromptLogprobsJson() {
    }

    /**
     * The echoed prompt's {@code logprobs} object: {@code prompt} with {@code scored} (positions
     * 1 on) and {@code top} alternatives each; offsets count the tokens' rendered text from 0.
     */
    static ObjectNode echoed(Tokenizer tokenizer, int[] prompt, List<PromptLogprob> scored, int top, boolean idNames) {
        ObjectNode o = F.objectNode();
        ArrayNode tokens = o.putArray("tokens");
        ArrayNode logprobs = o.putArray("token_logprobs");
        ArrayNode alternatives = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        int offset = 0;
        for (int p = 0; p < prompt.length; p++) {
            tokens.add(name(tokenizer, prompt[p], idNames));
            PromptLogprob s = p >= 1 && p - 1 < scored.size() ? scored.get(p - 1) : null;
            if (s == null) {
                logprobs.addNull();
                alternatives.addNull();
            } else {
                logprobs.add(clamp(s.logprob()));
                ObjectNode alts = alternatives.addObject();
                for (int i = 0; i < Math.min(top, s.top().size()); i++) {
                    TokenLogprob alt = s.top().get(i);
                    alts.put(name(tokenizer, alt.token(), idNames), clamp(alt.logprob()));
                }
            }
            offsets.add(offset);
            // Offsets follow the text the tokens render as (a BOS renders as nothing).
            offset += new String(tokenizer.piece(prompt[p]), StandardCharsets.UTF_8).length();
        }
        return o;
    }

    /** Appends {@code generated} (a completions {@code logprobs} object) to {@code prompt}'s arrays. */
    static ObjectNode append(ObjectNode prompt, ObjectNode generated) {
        for (String field : List.of("tokens", "token_logprobs", "top_logprobs", "text_offset")) {
            ((ArrayNode) prompt.get(field)).addAll((ArrayNode) generated.get(field));
        }
        return prompt;
    }

    /** vLLM's {@code prompt_logprobs}: {@code null}, then per prompt token its map. */
    static ArrayNode vllm(Tokenizer tokenizer, int[] prompt, List<PromptLogprob> scored, int top) {
        ArrayNode out = F.arrayNode();
        out.addNull();
        for (int p = 1; p < prompt.length; p++) {
            if (p - 1 >= scored.size()) {
                out.addNull();
                continue;
            }
            PromptLogprob s = scored.get(p - 1);
            ObjectNode entry = out.addObject();
            entry.set(Integer.toString(s.token()), vllmEntry(tokenizer, s.token(), s.logprob(), s.rank()));
            for (int i = 0; i < Math.min(top, s.top().size()); i++) {
                TokenLogprob alt = s.top().get(i);
                if (alt.token() != s.token()) {
                    entry.set(Integer.toString(alt.token()), vllmEntry(tokenizer, alt.token(), alt.logprob(), i + 1));
                }
            }
        }
        return out;
    }

    private static ObjectNode vllmEntry(Tokenizer tokenizer, int token, float logprob, int rank) {
        ObjectNode o = F.objectNode();
        o.put("logprob", clamp(logprob));
        o.put("rank", rank);
        o.put("decoded_token", new String(Responses.tokenBytes(tokenizer, token), StandardCharsets.UTF_8));
        return o;
    }

    private static String name(Tokenizer tokenizer, int token, boolean idNames) {
        return idNames ? "token_id:" + token : new String(Responses.tokenBytes(tokenizer, token), StandardCharsets.UTF_8);
    }

    /** As the sampled tokens' logprobs: -infinity (a masked logit) goes out as -9999, JSON has no infinities. */
    private static float clamp(float logprob) {
        return Float.isFinite(logprob) ? logprob : -9999f;
    }
}
