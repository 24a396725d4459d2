package dev.sluice.bench.reliability;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpWireTest {

    private static InputStream in(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void readsAHeadAndAChunkedBody() throws IOException {
        InputStream in = in("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
                + "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
        HttpWire.Head head = HttpWire.readHead(in);
        assertEquals(200, head.status());
        assertEquals("b", head.header("x-a"));
        assertTrue(head.chunked());
        assertEquals("hello world", new String(HttpWire.body(head, in, false).readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void readsAContentLengthBodyAndNothingMore() throws IOException {
        InputStream in = in("HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nabcdef");
        HttpWire.Head head = HttpWire.readHead(in);
        assertEquals(400, head.status());
        assertEquals("abc", new String(HttpWire.body(head, in, false).readAllBytes(), StandardCharsets.UTF_8));
        InputStream headOnly = in("HTTP/1.1 200 OK\nContent-Length: 10\n\n");
        HttpWire.Head h = HttpWire.readHead(headOnly);
        assertEquals(0, HttpWire.body(h, headOnly, true).readAllBytes().length);
    }

    @Test
    void tellsAClosedConnectionFromGarbage() {
        assertThrows(EOFException.class, () -> HttpWire.readHead(in("")));
        assertThrows(HttpWire.MalformedResponseException.class, () -> HttpWire.readHead(in("SSH-2.0-x\r\n\r\n")));
        assertThrows(HttpWire.MalformedResponseException.class, () -> HttpWire.readHead(in("HTTP/1.1 200 OK\r\nX: y")));
        assertThrows(IOException.class, () -> {
            InputStream in = in("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            HttpWire.body(HttpWire.readHead(in), in, false).readAllBytes();
        });
    }

    @Test
    void buildsRequestsWithExactLengths() {
        String request = new String(HttpWire.post("/v1/completions", "{\"a\":1}"), StandardCharsets.ISO_8859_1);
        assertTrue(request.startsWith("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 7\r\n"));
        assertTrue(request.endsWith("Connection: close\r\n\r\n{\"a\":1}"));
        String get = new String(HttpWire.request("GET", "/health", null, null), StandardCharsets.ISO_8859_1);
        assertTrue(!get.contains("Content-Length") && !get.contains("Content-Type"));
    }

    /** A one-connection server on a local port that runs {@code handler} and then closes. */
    private static InetSocketAddress serve(ServerSocket server, SocketHandler handler) {
        Thread.ofVirtual().start(() -> {
            try (Socket s = server.accept()) {
                handler.handle(s);
            } catch (IOException | InterruptedException e) {
                // the test sees what the client saw
            }
        });
        return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    interface SocketHandler {
        void handle(Socket socket) throws IOException, InterruptedException;
    }

    @Test
    void exchangesReportResponsesClosesAndSilence() throws IOException {
        try (ServerSocket server = new ServerSocket(0)) {
            String error = "{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,\"code\":null}}";
            InetSocketAddress address = serve(server, s -> {
                s.getInputStream().readNBytes(10);
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 400 Bad Request\r\nContent-Length: " + error.length() + "\r\n\r\n" + error)
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            });
            RawExchange.Result r = RawExchange.exchange(address, HttpWire.post("/x", "{}"), FuzzCase.Send.NORMAL, Duration.ofSeconds(30));
            assertEquals(RawExchange.Ending.RESPONSE, r.ending());
            assertEquals(ResponseClass.ERROR_4XX_OPENAI, ResponseClass.of(r));

            address = serve(server, s -> s.getInputStream().readNBytes(5));
            r = RawExchange.exchange(address, HttpWire.post("/x", "{}"), FuzzCase.Send.NORMAL, Duration.ofSeconds(30));
            assertEquals(ResponseClass.CLOSED, ResponseClass.of(r));

            address = serve(server, s -> Thread.sleep(5_000));
            r = RawExchange.exchange(address, HttpWire.raw("GET /"), FuzzCase.Send.HOLD, Duration.ofMillis(300));
            assertEquals(ResponseClass.NO_RESPONSE, ResponseClass.of(r));
        }
    }
}
