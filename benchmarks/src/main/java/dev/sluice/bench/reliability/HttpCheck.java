package dev.sluice.bench.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Small well-formed requests to a server: health, metrics, and a normal generation that proves it still serves. */
public final class HttpCheck {

    /** A status and body; status -1 when no complete response came. */
    public record Reply(int status, String body, double millis, String note) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final InetSocketAddress address;

    public HttpCheck(InetSocketAddress address) {
        this.address = address;
    }

    public Reply get(String path) {
        return send(HttpWire.request("GET", path, null, null), Duration.ofSeconds(10));
    }

    public int status(String path) {
        return get(path).status();
    }

    public Reply post(String path, String json, Duration timeout) {
        return send(HttpWire.post(path, json), timeout);
    }

    private Reply send(byte[] request, Duration timeout) {
        RawExchange.Result r = RawExchange.exchange(address, request, FuzzCase.Send.NORMAL, timeout);
        int status = r.ending() == RawExchange.Ending.RESPONSE ? r.status() : -1;
        return new Reply(status, new String(r.body(), StandardCharsets.UTF_8), r.millis(),
                r.ending() == RawExchange.Ending.RESPONSE ? "" : r.ending() + (r.note().isEmpty() ? "" : ": " + r.note()));
    }

    /**
     * A small chat request (2 tokens, non-streaming) that must come back 200 with a choice: how
     * the suite tells a living engine from a dead one. Null when it did; else what went wrong.
     */
    public String normalRequestProblem(Duration timeout) {
        Reply reply = post(Bodies.CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],\"max_tokens\":2}", timeout);
        if (reply.status() != 200) {
            return reply.status() < 0 ? "no response (" + reply.note() + ")" : "HTTP " + reply.status() + ": "
                    + HttpWire.abbreviate(reply.body().strip(), 160);
        }
        try {
            JsonNode choice = JSON.readTree(reply.body()).path("choices").path(0);
            return choice.has("finish_reason") ? null : "200 without a choice: " + HttpWire.abbreviate(reply.body(), 160);
        } catch (IOException e) {
            return "200 with a body that is not JSON";
        }
    }
}
