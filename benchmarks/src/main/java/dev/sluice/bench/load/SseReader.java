package dev.sluice.bench.load;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads server-sent events from a byte stream as the HTML spec defines them: lines end in CRLF,
 * LF or CR (a CRLF split across two reads is still one line end); {@code data:} lines accumulate
 * and a blank line dispatches them, joined by LF; lines starting with a colon are comments; other
 * fields ({@code event:}, {@code id:}, {@code retry:}) are ignored, as OpenAI streams do not use
 * them. One non-standard field is kept: llama-server reports a failure mid-stream as an
 * {@code error:} line, which marks the event as an error. Lines are decoded as UTF-8 only once
 * complete, so a character split across reads is kept whole. Not thread-safe: one reader per
 * response.
 */
public final class SseReader {

    /** One dispatched event: its data, and whether it came in {@code error:} lines. */
    public record Event(String data, boolean error) {
    }

    private final InputStream in;
    private final byte[] buffer = new byte[8192];
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private boolean error;
    private int position;
    private int limit;
    private boolean afterCr;
    private boolean firstLine = true;

    public SseReader(InputStream in) {
        this.in = in;
    }

    /**
     * The next event, or null at the end of the stream. Blocks until a whole event
     * has arrived. An event cut off by the end of the stream is returned rather than dropped: a
     * server that closes right after its last {@code data:} line still sent it.
     */
    public Event next() throws IOException {
        String text;
        while ((text = readLine()) != null) {
            if (text.isEmpty()) {
                if (hasData) {
                    return takeData();
                }
            } else {
                field(text);
            }
        }
        return hasData ? takeData() : null;
    }

    private void field(String text) {
        if (text.startsWith(":")) {
            return; // a comment, e.g. a keep-alive
        }
        int colon = text.indexOf(':');
        String name = colon < 0 ? text : text.substring(0, colon);
        if (name.equals("error")) {
            error = true;
        } else if (!name.equals("data")) {
            return;
        }
        String value = colon < 0 ? "" : text.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        if (hasData) {
            data.append('\n');
        }
        data.append(value);
        hasData = true;
    }

    private Event takeData() {
        Event event = new Event(data.toString(), error);
        data.setLength(0);
        hasData = false;
        error = false;
        return event;
    }

    /** The next line without its terminator, or null at the end of the stream with nothing pending. */
    private String readLine() throws IOException {
        while (true) {
            if (position == limit) {
                limit = in.read(buffer);
                position = 0;
                if (limit <= 0) {
                    limit = 0;
                    return line.size() > 0 ? takeLine() : null;
                }
            }
            if (afterCr) {
                afterCr = false;
                if (buffer[position] == '\n') {
                    position++; // the LF of a CRLF whose CR ended the previous line
                    continue;
                }
            }
            int start = position;
            while (position < limit && buffer[position] != '\r' && buffer[position] != '\n') {
                position++;
            }
            line.write(buffer, start, position - start);
            if (position < limit) {
                afterCr = buffer[position++] == '\r';
                return takeLine();
            }
        }
    }

    private String takeLine() {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (firstLine) {
            firstLine = false;
            if (text.startsWith("\uFEFF")) {
                text = text.substring(1); // the spec lets a stream open with a byte order mark
            }
        }
        return text;
    }
}
