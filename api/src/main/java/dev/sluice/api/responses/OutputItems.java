package dev.sluice.api.responses;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.openai.Json;
import dev.sluice.api.openai.Responses;
import dev.sluice.api.tools.ToolCallParser;
import dev.sluice.api.tools.ToolSession;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a reply's text, as it is generated, into a response's {@code output} items: text into
 * {@code message} items with one {@code output_text} part, and, when the request offered tools
 * (not {@code none}), the calls the {@link ToolCallParser} finds into {@code function_call}
 * items. Each step is reported to an {@link EventSink} as the Responses stream event it is, so a
 * streamed and a non-streamed response are built by the same code and cannot differ.
 */
final class OutputItems implements ToolCallParser.Sink {

    /** Receives stream events: their type and fields (the stream adds {@code type} and {@code sequence_number}). */
    interface EventSink {
        void event(String type, ObjectNode fields);

        EventSink NONE = (type, fields) -> { };
    }

    private final ToolCallParser parser;
    private final int maxCalls;
    private final EventSink events;
    private final List<ObjectNode> items = new ArrayList<>();
    private ObjectNode message; // the open message item
    private StringBuilder text;
    private ObjectNode call; // the open function_call item
    private StringBuilder arguments;
    private boolean skipping; // a call past maxCalls: dropped, as chat drops it

    OutputItems(ToolSession tools, EventSink events) {
        this.parser = tools != null && tools.parses() ? tools.newParser() : null;
        this.maxCalls = tools == null ? 0 : tools.maxCalls();
        this.events = events;
    }

    /** More generated text. */
    void feed(String delta) {
        if (parser == null) {
            content(delta);
        } else {
            parser.feed(delta, this);
        }
    }

    /** The reply ended: closes the open item with {@code status}; a reply with no output at all is one empty message. */
    List<ObjectNode> finish(String status) {
        if (parser != null) {
            parser.finish(this);
        }
        closeMessage(status);
        closeCall(status);
        if (items.isEmpty()) {
            openMessage();
            closeMessage(status);
        }
        return items;
    }

    /** The items so far (for a snapshot while it runs). */
    List<ObjectNode> items() {
        return items;
    }

    @Override
    public void content(String delta) {
        if (delta.isEmpty()) {
            return;
        }
        closeCall("completed");
        if (message == null) {
            openMessage();
        }
        text.append(delta);
        ObjectNode e = at(message);
        e.put("content_index", 0);
        e.put("delta", delta);
        e.putArray("logprobs");
        events.event("response.output_text.delta", e);
    }

    @Override
    public void callStart(int index, String id, String name) {
        closeMessage("completed");
        closeCall("completed");
        skipping = index >= maxCalls;
        if (skipping) {
            return;
        }
        call = Json.MAPPER.createObjectNode();
        call.put("id", Responses.newId("fc_"));
        call.put("type", "function_call");
        call.put("status", "in_progress");
        call.put("arguments", "");
        call.put("call_id", id);
        call.put("name", name);
        arguments = new StringBuilder();
        items.add(call);
        added(call);
    }

    @Override
    public void arguments(int index, String fragment) {
        if (skipping || call == null || fragment.isEmpty()) {
            return;
        }
        arguments.append(fragment);
        ObjectNode e = at(call);
        e.put("delta", fragment);
        events.event("response.function_call_arguments.delta", e);
    }

    private void openMessage() {
        message = Json.MAPPER.createObjectNode();
        message.put("id", Responses.newId("msg_"));
        message.put("type", "message");
        message.put("status", "in_progress");
        message.putArray("content");
        message.put("role", "assistant");
        text = new StringBuilder();
        items.add(message);
        added(message);
        ObjectNode e = at(message);
        e.put("content_index", 0);
        e.set("part", part(""));
        events.event("response.content_part.added", e);
    }

    private void closeMessage(String status) {
        if (message == null) {
            return;
        }
        String all = text.toString();
        ObjectNode e = at(message);
        e.put("content_index", 0);
        e.put("text", all);
        e.putArray("logprobs");
        events.event("response.output_text.done", e);
        e = at(message);
        e.put("content_index", 0);
        e.set("part", part(all));
        events.event("response.content_part.done", e);
        message.put("status", status);
        message.withArray("content").add(part(all));
        done(message);
        message = null;
    }

    private void closeCall(String status) {
        if (call == null) {
            return;
        }
        String all = arguments.toString();
        ObjectNode e = at(call);
        e.put("name", call.get("name").textValue());
        e.put("arguments", all);
        events.event("response.function_call_arguments.done", e);
        call.put("arguments", all);
        call.put("status", status);
        done(call);
        call = null;
    }

    private static ObjectNode part(String text) {
        ObjectNode part = Json.MAPPER.createObjectNode();
        part.put("type", "output_text");
        part.putArray("annotations");
        part.putArray("logprobs");
        part.put("text", text);
        return part;
    }

    private void added(ObjectNode item) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("output_index", items.indexOf(item));
        e.set("item", item.deepCopy());
        events.event("response.output_item.added", e);
    }

    private void done(ObjectNode item) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("output_index", items.indexOf(item));
        e.set("item", item.deepCopy());
        events.event("response.output_item.done", e);
    }

    /** The fields that place an event: its item and output index. */
    private ObjectNode at(ObjectNode item) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("item_id", item.get("id").textValue());
        e.put("output_index", items.indexOf(item));
        return e;
    }
}
