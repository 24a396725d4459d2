package dev.sluice.scheduler;

import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.text.StopStringMatcher;
import dev.sluice.engine.text.StreamingDetokenizer;
import dev.sluice.engine.text.TokenTexts;

/**
 * Turns each sequence's sampled tokens into the text its client sees: detokenizes (holding back
 * an unfinished UTF-8 character), looks for the request's stop strings (holding back a partial
 * match), and delivers text, token ids and logprobs to the request's {@link RequestStream}.
 * Pure Java over {@link TokenTexts}: no native call per token.
 *
 * <p>It runs on the engine thread, between steps. Measured on the served demo model it costs a
 * few microseconds per token against milliseconds per step, so a thread of its own would save
 * nothing a step could notice and cost a hand-off per token.
 */
final class OutputProcessor {

    /** One sequence's text state. */
    static final class Text {
        private final StreamingDetokenizer detokenizer;
        private final StopStringMatcher stops;

        private Text(TokenTexts texts, Request request) {
            this.detokenizer = new StreamingDetokenizer(texts);
            this.stops = request.stop().stopStrings().matcher();
        }
    }

    private final TokenTexts texts;

    OutputProcessor(TokenTexts texts) {
        this.texts = texts;
    }

    /** Whether {@code token} ends generation (EOS, EOT, …) for this vocabulary. */
    boolean isEndOfGeneration(int token) {
        return texts.isEndOfGeneration(token);
    }

    /**
     * Delivers one token of {@code seq}: its text (what is safe to release) with its id and,
     * when asked, its logprobs. Returns true when a stop string completed: the sequence stops.
     */
    boolean append(Sequence seq, int token, SampledToken logprobs) {
        Text text = text(seq);
        StopStringMatcher.Result result = text.stops.offer(text.detokenizer.append(token));
        seq.request().stream().emit(seq.index(), result.text(), token, logprobs);
        return result.stopped();
    }

    /** The sequence ended on its own: releases what was held back (an unfinished character, a partial stop string). */
    void flush(Sequence seq) {
        Text text = seq.text;
        if (text != null) {
            String tail = text.stops.offer(text.detokenizer.flush()).text() + text.stops.flush();
            seq.request().stream().emitText(seq.index(), tail);
        }
        seq.text = null;
    }

    /** The sequence ended without a say (cancelled, failed): what was held back is dropped. */
    void drop(Sequence seq) {
        seq.text = null;
    }

    private Text text(Sequence seq) {
        if (seq.text == null) {
            seq.text = new Text(texts, seq.request());
        }
        return seq.text;
    }
}
