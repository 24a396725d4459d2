package dev.sluice.api.responses;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.http.SseWriter;
import dev.sluice.api.openai.Json;

import java.io.UncheckedIOException;

/**
 * The Responses API's stream: each event an {@code event: <type>} line and its data with
 * {@code type} and a {@code sequence_number} that counts from 0, as OpenAI sends them (no
 * {@code [DONE]} at the end: the terminal event ends it).
 */
final class EventStream implements OutputItems.EventSink {

    private final SseWriter sse;
    private int sequence;

    EventStream(SseWriter sse) {
        this.sse = sse;
    }

    @Override
    public void event(String type, ObjectNode fields) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("type", type);
        e.put("sequence_number", sequence++);
        e.setAll(fields);
        try {
            sse.event(type, Json.MAPPER.writeValueAsBytes(e));
        } catch (JsonProcessingException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** An event that carries the whole response ({@code response.created}, {@code response.completed}, …). */
    void response(String type, ObjectNode response) {
        ObjectNode fields = Json.MAPPER.createObjectNode();
        fields.set("response", response);
        event(type, fields);
    }

    void keepAlive() {
        sse.keepAlive();
    }
}
