package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.sluice.scheduler.FinishReason;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stream chunks written as bytes are exactly what Jackson writes for the chunk's tree. */
class ChunkBytesTest {

    private static final ObjectNode ENVELOPE = Responses.envelope("cmpl-\"quoted\" \\ id", "text_completion", 1764460800L,
            "models/ünïcode-\u0007-model");

    /** The chunk as OpenAI shapes it, built as a tree and serialized by Jackson. */
    private static String expected(int choice, String field, JsonNode value, ObjectNode logprobs, FinishReason finish,
                                   boolean includeUsage) {
        ObjectNode chunk = ENVELOPE.deepCopy();
        ObjectNode c = chunk.putArray("choices").addObject();
        c.put("index", choice);
        c.set(field, value);
        if (logprobs == null) {
            c.putNull("logprobs");
        } else {
            c.set("logprobs", logprobs);
        }
        c.put("finish_reason", Responses.finishReason(finish));
        if (includeUsage) {
            chunk.putNull("usage");
        }
        return new String(Responder.bytes(chunk), StandardCharsets.UTF_8);
    }

    private static String actual(ChunkBytes chunks, int choice, String field, JsonNode value, ObjectNode logprobs,
                                 FinishReason finish) {
        return new String(chunks.chunk(choice, field, value, logprobs, finish), StandardCharsets.UTF_8);
    }

    private static List<String> texts() {
        List<String> texts = new ArrayList<>(List.of("", "Hello", " world", "\"", "\\", "a\nb\tc\rd\be\ff", "\u0000\u001f\u007f",
                "</script>", "ü", "日本語", "🦙 emoji", "\u2028\u2029", "mixed \"\\\n🦙\u0001"));
        Random random = new Random(7);
        for (int i = 0; i < 500; i++) {
            StringBuilder s = new StringBuilder();
            int length = random.nextInt(12);
            for (int j = 0; j < length; j++) {
                switch (random.nextInt(4)) {
                    case 0 -> s.append((char) random.nextInt(0x80));
                    case 1 -> s.append((char) (0x80 + random.nextInt(0xD800 - 0x80)));
                    case 2 -> s.appendCodePoint(0x10000 + random.nextInt(0x10FFFF - 0x10000));
                    default -> s.append((char) (0xE000 + random.nextInt(0x2000)));
                }
            }
            texts.add(s.toString());
        }
        return texts;
    }

    @Test
    void completionTextChunksMatchJacksonByteForByte() {
        for (boolean usage : new boolean[] {false, true}) {
            ChunkBytes chunks = new ChunkBytes(ENVELOPE.deepCopy(), usage);
            for (String text : texts()) {
                for (FinishReason finish : new FinishReason[] {null, FinishReason.STOP, FinishReason.LENGTH}) {
                    TextNode value = TextNode.valueOf(text);
                    assertEquals(expected(3, "text", value, null, finish, usage), actual(chunks, 3, "text", value, null, finish),
                            () -> "text " + text.codePoints().mapToObj(Integer::toHexString).toList());
                }
            }
        }
    }

    @Test
    void chatDeltasLogprobsAndOtherValuesMatchJackson() {
        ChunkBytes chunks = new ChunkBytes(ENVELOPE.deepCopy(), false);
        for (String text : texts()) {
            ObjectNode delta = Json.MAPPER.createObjectNode().put("content", text);
            assertEquals(expected(0, "delta", delta, null, null, false), actual(chunks, 0, "delta", delta, null, null));
        }
        ObjectNode role = Json.MAPPER.createObjectNode().put("role", "assistant").put("content", "");
        ObjectNode empty = Json.MAPPER.createObjectNode();
        ObjectNode nullContent = Json.MAPPER.createObjectNode().putNull("content");
        ObjectNode logprobs = Json.MAPPER.createObjectNode();
        logprobs.putArray("content").addObject().put("token", "hi").put("logprob", -0.25).putArray("bytes").add(104).add(105);
        for (JsonNode value : List.of(role, empty, nullContent)) {
            for (ObjectNode lp : new ObjectNode[] {null, logprobs}) {
                for (FinishReason finish : FinishReason.values()) {
                    assertEquals(expected(12, "delta", value, lp, finish, false), actual(chunks, 12, "delta", value, lp, finish));
                }
            }
        }
    }

    @Test
    void textBeyondTheBasicPlaneIsLeftToJackson() {
        assertTrue(ChunkBytes.hasSurrogate("a\uD83E"));
        assertTrue(ChunkBytes.hasSurrogate("\uDD99b"));
        assertTrue(ChunkBytes.hasSurrogate("🦙"));
        assertFalse(ChunkBytes.hasSurrogate("日本語 ü \uFFFD"));
        assertFalse(ChunkBytes.hasSurrogate(""));
        ChunkBytes chunks = new ChunkBytes(ENVELOPE.deepCopy(), false);
        String text = "ok \uD83E";
        String viaJackson;
        try {
            viaJackson = expected(0, "text", TextNode.valueOf(text), null, null, false);
        } catch (RuntimeException e) {
            viaJackson = e.getClass().getName();
        }
        String ours;
        try {
            ours = actual(chunks, 0, "text", TextNode.valueOf(text), null, null);
        } catch (RuntimeException e) {
            ours = e.getClass().getName();
        }
        assertEquals(viaJackson, ours);
    }

    @Test
    void oneWriterServesAStreamsChunksInTurn() {
        ChunkBytes chunks = new ChunkBytes(ENVELOPE.deepCopy(), false);
        String first = actual(chunks, 0, "text", TextNode.valueOf("a long first chunk ".repeat(40)), null, null);
        String second = actual(chunks, 0, "text", TextNode.valueOf("b"), null, FinishReason.STOP);
        assertEquals(expected(0, "text", TextNode.valueOf("b"), null, FinishReason.STOP, false), second);
        assertTrue(first.length() > second.length());
    }
}
