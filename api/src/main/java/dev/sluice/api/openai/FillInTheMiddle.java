package dev.sluice.api.openai;

import dev.sluice.api.http.ApiException;
import dev.sluice.engine.text.Tokenizer;

/**
 * Completions' {@code suffix}: a fill-in-the-middle prompt for models whose vocabulary has FIM
 * tokens (Qwen2.5-Coder's {@code <|fim_prefix|>}, CodeLlama's {@code <PRE>}, …), laid out as
 * llama-server's {@code /infill} lays out a single file in its default prefix-suffix-middle order:
 * {@code [BOS] <fim_pre> prompt <fim_suf> suffix <fim_mid>}, BOS only where the model adds one,
 * prompt and suffix tokenized as text (special-token markup in them stays text). Unlike
 * {@code /infill}, no repository or file-name placeholders are added and nothing is cut to fit a
 * batch: a prompt too long for the context is a 400 as for any completion.
 */
final class FillInTheMiddle {

    private FillInTheMiddle() {
    }

    /** The prompt's tokens around {@code suffix}; {@code prefix} is the prompt as text or, if null, {@code prefixTokens}. */
    static int[] prompt(Tokenizer tokenizer, String prefix, int[] prefixTokens, String suffix, int maxModelLength) {
        int[] fim = tokenizer.fimTokens();
        if (fim[0] == Tokenizer.NO_TOKEN || fim[1] == Tokenizer.NO_TOKEN || fim[2] == Tokenizer.NO_TOKEN) {
            throw ApiException.invalid("suffix", "suffix (fill-in-the-middle) needs a model whose vocabulary has "
                    + "fill-in-the-middle prefix, suffix and middle tokens; this model's has none.");
        }
        RequestLimits.requireFits(tokenizer.texts(), suffix, maxModelLength, "suffix");
        int[] pre = prefix != null ? tokenizer.encode(prefix, false, false) : prefixTokens;
        int[] suf = tokenizer.encode(suffix, false, false);
        boolean bos = tokenizer.addsBos() && tokenizer.bos() != Tokenizer.NO_TOKEN;
        int[] out = new int[(bos ? 1 : 0) + 3 + pre.length + suf.length];
        int i = 0;
        if (bos) {
            out[i++] = tokenizer.bos();
        }
        out[i++] = fim[0];
        System.arraycopy(pre, 0, out, i, pre.length);
        i += pre.length;
        out[i++] = fim[1];
        System.arraycopy(suf, 0, out, i, suf.length);
        i += suf.length;
        out[i] = fim[2];
        return out;
    }
}
