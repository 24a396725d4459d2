package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaSampler;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * A grammar that waits for a trigger: the output is free text until it contains one of the
 * trigger strings, and from the trigger on (the trigger itself included) it must match the
 * grammar. {@code tool_choice: "auto"} uses it: the model may answer in prose, but once it writes
 * {@code <tool_call>} the call is held to the tools' schemas.
 *
 * <p>A trigger the vocabulary has as one control token (Mistral's {@code [TOOL_CALLS]}) shows
 * no text in the output, so that token triggers by its id, and the grammar starts past the
 * trigger's text.
 *
 * <p>The token that completes a trigger may carry text past it (or start it mid-token). That text
 * has to be what the grammar allows after the trigger; llama.cpp's lazy grammar sampler replays it
 * into the grammar and aborts the process when it is not. Here a token is checked before it is
 * chosen ({@link #admits}): its trigger text onwards is fed byte by byte to a fresh grammar, and a
 * token the grammar would refuse is not drawn. The grammar starts when the token is accepted
 * ({@link #accept}). Engine-thread only; owns the grammar it starts.
 */
final class LazyGrammar {

    private final byte[][] triggers;
    /** Control tokens that spell a trigger ({@code [TOOL_CALLS]} in Mistral's vocabularies): they show no text, so they trigger by id. */
    private final java.util.Map<Integer, byte[]> triggerTokens = new java.util.HashMap<>();
    private final String gbnf;
    private final String root;
    private final SamplingWorkspace workspace;
    /** The last output bytes, fewer than the longest trigger: where a trigger completed by the next token starts. */
    private byte[] tail = new byte[0];
    private final int keep;

    LazyGrammar(List<String> triggers, String gbnf, String root, SamplingWorkspace workspace) {
        this.triggers = triggers.stream().map(t -> t.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
        this.gbnf = gbnf;
        this.root = root;
        this.workspace = workspace;
        this.keep = Arrays.stream(this.triggers).mapToInt(t -> t.length).max().orElse(1) - 1;
        for (int i = 0; i < triggers.size(); i++) {
            int[] ids = workspace.vocab().tokenize(triggers.get(i), false, true);
            if (ids.length == 1 && workspace.piece(ids[0]).length == 0) {
                triggerTokens.put(ids[0], this.triggers[i]);
            }
        }
    }

    /** Whether {@code token} may come next: it completes no trigger, or the grammar allows its text from the trigger on. */
    boolean admits(int token) {
        byte[] start = triggered(token);
        if (start == null) {
            return true;
        }
        GrammarConstraint probe = startGrammar(start);
        if (probe == null) {
            return false;
        }
        probe.close();
        return true;
    }

    /**
     * Records the output's next token; if it completes a trigger, returns the grammar that
     * applies from now on, already past the token's text (the caller owns it).
     *
     * @throws IllegalArgumentException if the token completes a trigger the grammar does not allow
     */
    GrammarConstraint accept(int token) {
        byte[] start = triggered(token);
        if (start == null) {
            byte[] piece = workspace.piece(token);
            byte[] joined = concat(tail, piece);
            tail = Arrays.copyOfRange(joined, Math.max(0, joined.length - keep), joined.length);
            return null;
        }
        GrammarConstraint grammar = startGrammar(start);
        if (grammar == null) {
            throw new IllegalArgumentException("token " + token + " completes a grammar trigger with text the grammar "
                    + "does not allow");
        }
        return grammar;
    }

    /** The text from a trigger on, if {@code token} completes one (the earliest that ends in it); else null. */
    private byte[] triggered(int token) {
        byte[] special = triggerTokens.get(token);
        if (special != null) {
            return special; // the grammar reads the control token as its text, which the output does not show
        }
        byte[] text = concat(tail, workspace.piece(token));
        int best = -1;
        for (byte[] trigger : triggers) {
            int at = indexOf(text, trigger, Math.max(0, tail.length - trigger.length + 1));
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best < 0 ? null : Arrays.copyOfRange(text, best, text.length);
    }

    /**
     * A new grammar fed {@code text} one byte at a time (through the vocabulary's one-byte tokens,
     * as the grammar matches bytes whatever the tokens), or null if it does not allow it.
     */
    private GrammarConstraint startGrammar(byte[] text) {
        GrammarConstraint grammar = new GrammarConstraint(LlamaSampler.grammar(workspace.vocab(), gbnf, root), workspace);
        FirstBytes bytes = workspace.firstBytes();
        for (byte b : text) {
            int token = bytes.representative[b & 0xFF];
            if (token < 0 || !grammar.allows(token)) {
                grammar.close();
                return null;
            }
            grammar.accept(token);
        }
        return grammar;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static int indexOf(byte[] text, byte[] pattern, int from) {
        outer:
        for (int i = from; i + pattern.length <= text.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (text[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
