package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SseReaderTest {

    /** Every event's data, read from the text delivered {@code bytesPerRead} bytes at a time. */
    private static List<String> events(String text, int bytesPerRead) throws IOException {
        SseReader reader = new SseReader(new Trickle(text.getBytes(StandardCharsets.UTF_8), bytesPerRead));
        List<String> events = new ArrayList<>();
        SseReader.Event event;
        while ((event = reader.next()) != null) {
            events.add(event.error() ? "error " + event.data() : event.data());
        }
        return events;
    }

    private static void assertEvents(String text, String... expected) throws IOException {
        for (int bytesPerRead : new int[] {1, 2, 3, 7, 8192}) {
            assertEquals(List.of(expected), events(text, bytesPerRead), "reading " + bytesPerRead + " byte(s) at a time");
        }
    }

    @Test
    void readsDataEventsAndDone() throws IOException {
        assertEvents("data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n", "{\"a\":1}", "{\"a\":2}", "[DONE]");
    }

    @Test
    void acceptsCrlfCrAndLfLineEndsEvenWhenACrlfIsSplitAcrossReads() throws IOException {
        assertEvents("data: one\r\n\r\ndata: two\r\rdata: three\n\n", "one", "two", "three");
        // A CR at the end of one read and its LF at the start of the next must not end the event.
        assertEvents("data: a\r\ndata: b\r\n\r\n", "a\nb");
    }

    @Test
    void skipsCommentsAndOtherFieldsAndBlankLinesWithoutData() throws IOException {
        assertEvents(": keep-alive\n\n\n\nevent: message\nid: 7\nretry: 100\ndata: x\n\n: bye\n\n", "x");
    }

    @Test
    void joinsMultiLineDataAndKeepsAllButOneLeadingSpace() throws IOException {
        assertEvents("data: first\ndata:second\ndata:  indented\n\n", "first\nsecond\n indented");
        assertEvents("data\n\ndata:\n\n", "", "");
    }

    @Test
    void keepsMultiByteCharactersSplitAcrossReads() throws IOException {
        assertEvents("data: {\"text\":\"héllo → 世界 🙂\"}\n\n", "{\"text\":\"héllo → 世界 🙂\"}");
    }

    @Test
    void marksLlamaServersErrorLinesAsErrorEvents() throws IOException {
        assertEvents("data: a\n\nerror: {\"message\":\"boom\"}\n\ndata: b\n\n", "a", "error {\"message\":\"boom\"}", "b");
    }

    @Test
    void dropsALeadingByteOrderMark() throws IOException {
        assertEvents("\uFEFFdata: x\n\n", "x");
    }

    @Test
    void returnsAnEventCutOffByTheEndOfTheStream() throws IOException {
        assertEvents("data: a\n\ndata: last", "a", "last");
        assertEvents("");
    }

    /** Hands out its bytes a few at a time, as a network stream does. */
    private static final class Trickle extends InputStream {

        private final ByteArrayInputStream bytes;
        private final int perRead;

        Trickle(byte[] bytes, int perRead) {
            this.bytes = new ByteArrayInputStream(bytes);
            this.perRead = perRead;
        }

        @Override
        public int read() {
            return bytes.read();
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            return bytes.read(buffer, offset, Math.min(length, perRead));
        }
    }
}
