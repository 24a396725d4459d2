package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.scheduler.FinishReason;
import dev.sluice.scheduler.SequenceDelta;

import java.util.List;

/**
 * How one endpoint shapes its choices: chat's {@code message}/{@code delta} or completions'
 * {@code text}, each with its logprobs format. The {@link Responder} does the rest, the same for
 * both: one stream, or one body.
 */
interface ChoiceFormat {

    /** {@code chat.completion} or {@code text_completion}. */
    String object();

    /** The object of a streamed chunk: {@code chat.completion.chunk} or {@code text_completion}. */
    String chunkObject();

    /** What a stream sends before any output: chat's role chunks, completions' echoed prompts. */
    void begin(ChunkSink sink);

    /** One chunk for a choice's new output, or nothing when it carries nothing to send. */
    void delta(ChunkSink sink, int choice, SequenceDelta delta);

    /** A choice's last chunk: its finish reason with an empty delta or text. */
    void finish(ChunkSink sink, int choice, FinishReason reason);

    /** One choice of a non-streaming response. */
    ObjectNode choice(int choice, String text, List<SampledToken> logprobs, FinishReason reason);

    /** Where a format writes a chunk: one choice's {@code delta} (chat) or {@code text} (completions). */
    interface ChunkSink {
        void chunk(int choice, String field, com.fasterxml.jackson.databind.JsonNode value, ObjectNode logprobs,
                   FinishReason finish);
    }
}
