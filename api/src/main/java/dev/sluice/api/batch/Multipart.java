package dev.sluice.api.batch;

import dev.sluice.api.http.ApiException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code multipart/form-data} body (RFC 7578), read as a stream: the {@code file} part goes
 * straight to a temporary file (forced to disk) and counts against the file limit, every other
 * part is a small text field. Memory stays at one buffer whatever the upload's size.
 */
final class Multipart {

    /** The parts of one upload; {@code file} is null when the body had no {@code file} part. */
    record Upload(Map<String, String> fields, Path file, String filename, long bytes) {
    }

    /** Called before each read of the body (the connection guard's watch on stalled uploads). */
    interface ReadWatch {
        void reading();
    }

    private static final Pattern BOUNDARY = Pattern.compile("(?i)boundary=(?:\"([^\"]+)\"|([^;\\s]+))");
    private static final Pattern NAME = Pattern.compile("(?i);\\s*name=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile("(?i);\\s*filename=\"([^\"]*)\"");
    private static final int MAX_FIELD_BYTES = 64 * 1024;
    private static final int MAX_HEADER_BYTES = 16 * 1024;
    private static final int MAX_PARTS = 32;

    private final InputStream in;
    private final ReadWatch watch;
    private final byte[] buf = new byte[64 * 1024];
    private int pos;
    private int lim;

    private Multipart(InputStream in, ReadWatch watch) {
        this.in = in;
        this.watch = watch;
    }

    /** The boundary of a {@code multipart/form-data} content type, or null when it is not one. */
    static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            return null;
        }
        Matcher m = BOUNDARY.matcher(contentType);
        return m.find() ? (m.group(1) != null ? m.group(1) : m.group(2)) : null;
    }

    /**
     * Reads the whole body. The file part lands in a temporary file in {@code tmpDir} (the caller
     * owns it); a file over {@code maxFileBytes} is a 413, a malformed body a 400.
     */
    static Upload read(InputStream in, String boundary, Path tmpDir, long maxFileBytes, ReadWatch watch) throws IOException {
        Multipart m = new Multipart(in, watch);
        byte[] delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        // The first delimiter has no CRLF before it: pretend there was one.
        m.buf[0] = '\r';
        m.buf[1] = '\n';
        m.lim = 2;
        m.skipTo(delimiter);
        Map<String, String> fields = new HashMap<>();
        Path file = null;
        String filename = null;
        long bytes = 0;
        try {
            for (int parts = 0; ; parts++) {
                if (m.afterDelimiterIsEnd()) {
                    break;
                }
                if (parts >= MAX_PARTS) {
                    throw malformed("it has more than " + MAX_PARTS + " parts");
                }
                String headers = m.headers();
                Matcher name = NAME.matcher(headers);
                if (!name.find()) {
                    throw malformed("a part has no Content-Disposition name");
                }
                if (name.group(1).equals("file")) {
                    if (file != null) {
                        throw ApiException.invalid("file", "Only one file may be uploaded per request.");
                    }
                    Matcher fn = FILENAME.matcher(headers);
                    filename = fn.find() ? fn.group(1) : "upload";
                    file = Files.createTempFile(tmpDir, "upload-", ".tmp");
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
                         OutputStream out = Channels.newOutputStream(channel)) {
                        bytes = m.copyTo(delimiter, out, maxFileBytes, true);
                        out.flush();
                        channel.force(true);
                    }
                } else {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    m.copyTo(delimiter, out, MAX_FIELD_BYTES, false);
                    fields.put(name.group(1), out.toString(StandardCharsets.UTF_8));
                }
            }
            return new Upload(fields, file, filename, bytes);
        } catch (IOException | RuntimeException e) {
            if (file != null) {
                Files.deleteIfExists(file);
            }
            throw e;
        }
    }

    /** After a delimiter: {@code --} ends the body, CRLF starts a part. */
    private boolean afterDelimiterIsEnd() throws IOException {
        require(2);
        if (buf[pos] == '-' && buf[pos + 1] == '-') {
            pos += 2;
            return true;
        }
        // RFC 2046 allows transport padding (spaces, tabs) before the CRLF.
        while (true) {
            require(1);
            if (buf[pos] == ' ' || buf[pos] == '\t') {
                pos++;
            } else {
                break;
            }
        }
        require(2);
        if (buf[pos] != '\r' || buf[pos + 1] != '\n') {
            throw malformed("a boundary is not followed by CRLF");
        }
        pos += 2;
        return false;
    }

    private String headers() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        copyTo("\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), out, MAX_HEADER_BYTES, false);
        return out.toString(StandardCharsets.UTF_8);
    }

    private void skipTo(byte[] delimiter) throws IOException {
        copyTo(delimiter, OutputStream.nullOutputStream(), Long.MAX_VALUE, false);
    }

    /**
     * Copies bytes up to the next {@code delimiter} to {@code out} and consumes the delimiter;
     * returns how many were copied. Past {@code max}: a 413 for the file, else a 400.
     */
    private long copyTo(byte[] delimiter, OutputStream out, long max, boolean isFile) throws IOException {
        long copied = 0;
        while (true) {
            int found = indexOf(delimiter);
            int end = found >= 0 ? found : Math.max(pos, lim - delimiter.length + 1);
            copied += end - pos;
            if (copied > max) {
                throw isFile ? new ApiException(io.helidon.http.Status.REQUEST_ENTITY_TOO_LARGE_413, "invalid_request_error",
                        "The file is larger than the server's limit of " + max + " bytes (--max-file-bytes).", "file",
                        "file_too_large") : malformed("a part or its headers are too long");
            }
            out.write(buf, pos, end - pos);
            pos = end;
            if (found >= 0) {
                pos += delimiter.length;
                return copied;
            }
            if (!fill()) {
                throw malformed("it ends before its closing boundary");
            }
        }
    }

    private int indexOf(byte[] d) {
        byte first = d[0];
        for (int i = pos, last = lim - d.length; i <= last; i++) {
            if (buf[i] != first) {
                continue;
            }
            int j = 1;
            while (j < d.length && buf[i + j] == d[j]) {
                j++;
            }
            if (j == d.length) {
                return i;
            }
        }
        return -1;
    }

    private void require(int n) throws IOException {
        while (lim - pos < n) {
            if (!fill()) {
                throw malformed("it ends before its closing boundary");
            }
        }
    }

    /** Moves what is unread to the front and reads more; false at the end of the body. */
    private boolean fill() throws IOException {
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        if (lim == buf.length) {
            throw malformed("a boundary is longer than the read buffer");
        }
        watch.reading();
        int n = in.read(buf, lim, buf.length - lim);
        if (n <= 0) {
            return false;
        }
        lim += n;
        return true;
    }

    private static ApiException malformed(String why) {
        return ApiException.invalid(null, "The multipart/form-data body could not be read: " + why + ".");
    }
}
