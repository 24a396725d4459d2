package dev.sluice.bench.reliability;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 at the byte level: building requests exactly as given (so they can be wrong on
 * purpose) and reading a response's head and body, chunked or not.
 */
public final class HttpWire {

    /** A response's status line and headers (names lower-cased; a repeated header keeps its last value). */
    public record Head(int status, Map<String, String> headers) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public boolean chunked() {
            String te = header("transfer-encoding");
            return te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
        }

        /** Content-Length, or -1 when absent or unreadable. */
        public long contentLength() {
            String value = header("content-length");
            try {
                return value == null ? -1 : Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }

    /** The response head was not HTTP. */
    public static final class MalformedResponseException extends IOException {
        MalformedResponseException(String message) {
            super(message);
        }
    }

    static final int MAX_HEAD_BYTES = 64 * 1024;

    private HttpWire() {
    }

    /** A well-formed request with a body: {@code Content-Length} set, {@code Connection: close}. */
    public static byte[] post(String path, String contentType, byte[] body, String... extraHeaders) {
        return request("POST", path, contentType, body, extraHeaders);
    }

    public static byte[] post(String path, String json) {
        return post(path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    /** Any method; a null content type leaves the header out; a null body sends none and no Content-Length. */
    public static byte[] request(String method, String path, String contentType, byte[] body, String... extraHeaders) {
        StringBuilder head = new StringBuilder();
        head.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        head.append("Host: 127.0.0.1\r\n");
        if (contentType != null) {
            head.append("Content-Type: ").append(contentType).append("\r\n");
        }
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        for (String header : extraHeaders) {
            head.append(header).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        return concat(head.toString().getBytes(StandardCharsets.ISO_8859_1), body == null ? new byte[0] : body);
    }

    /** Raw text as bytes, with no line ending added (for hand-written heads). */
    public static byte[] raw(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    public static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }

    /**
     * Reads a response head, skipping any 1xx interim responses. Throws {@link EOFException} when
     * the stream ends before the first byte, and {@link MalformedResponseException} when the bytes
     * are not an HTTP/1.x status line and headers.
     */
    public static Head readHead(InputStream in) throws IOException {
        while (true) {
            String statusLine = readLine(in, true);
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new MalformedResponseException("not an HTTP status line: " + abbreviate(statusLine, 80));
            }
            int status;
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new MalformedResponseException("bad status code: " + abbreviate(statusLine, 80));
            }
            Map<String, String> headers = new LinkedHashMap<>();
            int total = statusLine.length();
            String line;
            while (!(line = readLine(in, false)).isEmpty()) {
                total += line.length();
                if (total > MAX_HEAD_BYTES) {
                    throw new MalformedResponseException("response head over " + MAX_HEAD_BYTES + " bytes");
                }
                int colon = line.indexOf(':');
                if (colon > 0) {
                    headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
                }
            }
            if (status >= 200 || status < 100) {
                return new Head(status, headers);
            }
        }
    }

    /** One line without its CRLF / LF; at the end of the stream, EOF for the first line of a head. */
    private static String readLine(InputStream in, boolean first) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                break;
            }
            if (line.size() >= MAX_HEAD_BYTES) {
                throw new MalformedResponseException("response line over " + MAX_HEAD_BYTES + " bytes");
            }
            line.write(b);
        }
        if (b == -1 && (first || line.size() > 0)) {
            if (first && line.size() == 0) {
                throw new EOFException("connection closed before a response");
            }
            throw new MalformedResponseException("connection closed inside the response head");
        }
        String text = line.toString(StandardCharsets.ISO_8859_1);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
    }

    /** The response body's stream for a head: de-chunked, bounded by Content-Length, or up to the close. */
    public static InputStream body(Head head, InputStream in, boolean headRequest) {
        if (headRequest || head.status() == 204 || head.status() == 304) {
            return InputStream.nullInputStream();
        }
        if (head.chunked()) {
            return new ChunkedInputStream(in);
        }
        long length = head.contentLength();
        return length >= 0 ? new BoundedInputStream(in, length) : in;
    }

    static String abbreviate(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max) + "...";
    }

    /** {@code Transfer-Encoding: chunked}, decoded; trailers are skipped. */
    static final class ChunkedInputStream extends InputStream {
        private final InputStream in;
        private long remaining;
        private boolean done;

        ChunkedInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n <= 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (done) {
                return -1;
            }
            if (remaining == 0) {
                String sizeLine = readLine(in, false);
                int semicolon = sizeLine.indexOf(';');
                String hex = (semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).strip();
                try {
                    remaining = Long.parseLong(hex, 16);
                } catch (NumberFormatException e) {
                    throw new MalformedResponseException("bad chunk size: " + abbreviate(sizeLine, 40));
                }
                if (remaining == 0) {
                    while (!readLine(in, false).isEmpty()) {
                        // trailers
                    }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(buffer, offset, (int) Math.min(length, remaining));
            if (n < 0) {
                throw new EOFException("connection closed inside a chunk");
            }
            remaining -= n;
            if (remaining == 0) {
                readLine(in, false); // the CRLF after the chunk's data
            }
            return n;
        }
    }

    private static final class BoundedInputStream extends InputStream {
        private final InputStream in;
        private long remaining;

        BoundedInputStream(InputStream in, long length) {
            this.in = in;
            this.remaining = length;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed " + remaining + " bytes before the end of the body");
            }
            remaining--;
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = in.read(buffer, offset, (int) Math.min(length, remaining));
            if (n < 0) {
                throw new EOFException("connection closed " + remaining + " bytes before the end of the body");
            }
            remaining -= n;
            return n;
        }
    }
}
