package dev.sluice.api.openai;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.sluice.scheduler.FinishReason;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The stream chunks of one response as JSON bytes, the same bytes Jackson writes for the chunk's
 * {@link ObjectNode} ({@code {"id":…,"object":…,"created":…,"model":…,"choices":[{"index":…,
 * <field>:…,"logprobs":…,"finish_reason":…}]}}, then {@code "usage":null} when the stream
 * reports usage), written without building that tree: the envelope is serialized once per stream,
 * and a token's text is escaped straight into the chunk.
 *
 * <p>Why: one chunk per token per stream, on a handler thread that shares the CPUs with the
 * engine's compute threads; building and serializing a tree per token was a third of that
 * thread's CPU time in a profile of one stream (JFR, 2026-11-30). Values other than text and a
 * chat {@code {"content": text}} delta (role chunks, tool calls, logprobs objects) are
 * serialized by Jackson as before, and so is text with characters beyond the Basic Multilingual
 * Plane (emoji): Jackson escapes those as surrogate pairs ({@code \uD83E\uDD99}) where the
 * string encoder would write UTF-8, and clients keep getting the same bytes.
 */
final class ChunkBytes {

    private static final byte[] CHOICE_TAIL_NULLS = ",\"logprobs\":null,\"finish_reason\":null}]".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LOGPROBS = ",\"logprobs\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FINISH = ",\"finish_reason\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTENT = "{\"content\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USAGE_NULL = ",\"usage\":null}".getBytes(StandardCharsets.US_ASCII);

    private final byte[] head; // the envelope's JSON without its closing brace, then ,"choices":[{"index":
    private final boolean includeUsage;
    private final Buffer out = new Buffer();

    ChunkBytes(ObjectNode envelope, boolean includeUsage) {
        byte[] json = Responder.bytes(envelope);
        byte[] choices = ",\"choices\":[{\"index\":".getBytes(StandardCharsets.US_ASCII);
        this.head = Arrays.copyOf(json, json.length - 1 + choices.length);
        System.arraycopy(choices, 0, head, json.length - 1, choices.length);
        this.includeUsage = includeUsage;
    }

    /** One chunk with one choice: its {@code field} (chat's {@code delta}, completions' {@code text}) and the rest. */
    byte[] chunk(int choice, String field, JsonNode value, ObjectNode logprobs, FinishReason finish) {
        out.reset();
        out.writeBytes(head);
        out.ascii(Integer.toString(choice));
        out.write(',');
        quote(field);
        out.write(':');
        value(value);
        String reason = Responses.finishReason(finish);
        if (logprobs == null && reason == null) {
            out.writeBytes(CHOICE_TAIL_NULLS);
        } else {
            out.writeBytes(LOGPROBS);
            out.writeBytes(logprobs == null ? NULL : Responder.bytes(logprobs));
            out.writeBytes(FINISH);
            if (reason == null) {
                out.writeBytes(NULL);
            } else {
                quote(reason);
            }
            out.write('}');
            out.write(']');
        }
        if (includeUsage) {
            out.writeBytes(USAGE_NULL);
        } else {
            out.write('}');
        }
        return out.toByteArray();
    }

    private void value(JsonNode value) {
        if (value instanceof TextNode text && !hasSurrogate(text.textValue())) {
            quote(text.textValue());
            return;
        }
        if (value instanceof ObjectNode object && object.size() == 1 && object.get("content") instanceof TextNode text
                && !hasSurrogate(text.textValue())) {
            out.writeBytes(CONTENT);
            quote(text.textValue());
            out.write('}');
            return;
        }
        out.writeBytes(Responder.bytes(value));
    }

    private void quote(String text) {
        out.write('"');
        out.writeBytes(JsonStringEncoder.getInstance().quoteAsUTF8(text));
        out.write('"');
    }

    /** Whether {@code text} has a character outside the Basic Multilingual Plane (or half of one). */
    static boolean hasSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isSurrogate(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** A byte buffer reused from chunk to chunk (one stream's chunks are written by one thread). */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(256);
        }

        void ascii(String s) {
            for (int i = 0; i < s.length(); i++) {
                write(s.charAt(i));
            }
        }
    }
}
