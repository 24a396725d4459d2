package dev.sluice.api.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.api.tools.ParsedReply;
import dev.sluice.api.tools.ToolCallParser;
import dev.sluice.api.tools.ToolSession;
import dev.sluice.engine.sampling.SampledToken;
import dev.sluice.engine.text.Tokenizer;
import dev.sluice.scheduler.FinishReason;
import dev.sluice.scheduler.SequenceDelta;

import java.util.ArrayList;
import java.util.List;

/**
 * Chat's choices when the reply is read for tool calls: {@code message.tool_calls} in a body, and
 * in a stream OpenAI's shape, {@code delta.tool_calls[i]} with {@code index}, {@code id},
 * {@code type} and {@code function.name} (arguments {@code ""}) first, then
 * {@code function.arguments} fragments; text before a call streams as {@code content}. The
 * finish reason of a choice with calls is {@code tool_calls} where the model stopped by itself.
 * A request with the legacy {@code functions} gets {@code function_call} (its first call) instead;
 * one that allows one call ({@link ToolSession#maxCalls}) gets the first.
 */
final class ToolChatFormat implements ChoiceFormat {

    private final ChatFormat chat;
    private final Submission submission;
    private final Tokenizer tokenizer;
    private final ToolSession tools;
    private final ToolCallParser[] parsers;
    private final List<List<SampledToken>> heldLogprobs;

    ToolChatFormat(ChatFormat chat, Submission submission, Tokenizer tokenizer, ToolSession tools) {
        this.chat = chat;
        this.submission = submission;
        this.tokenizer = tokenizer;
        this.tools = tools;
        this.parsers = new ToolCallParser[submission.choices()];
        this.heldLogprobs = new ArrayList<>();
        for (int c = 0; c < parsers.length; c++) {
            parsers[c] = tools.newParser();
            heldLogprobs.add(new ArrayList<>());
        }
    }

    @Override
    public String object() {
        return chat.object();
    }

    @Override
    public String chunkObject() {
        return chat.chunkObject();
    }

    @Override
    public void begin(ChunkSink sink) {
        chat.begin(sink);
    }

    @Override
    public void delta(ChunkSink sink, int choice, SequenceDelta d) {
        if (submission.logprobs()) {
            heldLogprobs.get(choice).addAll(d.logprobs());
        }
        Deltas deltas = new Deltas();
        parsers[choice].feed(d.text(), deltas);
        send(sink, choice, deltas, null);
    }

    @Override
    public void finish(ChunkSink sink, int choice, FinishReason reason) {
        Deltas deltas = new Deltas();
        parsers[choice].finish(deltas);
        send(sink, choice, deltas, null);
        send(sink, choice, new Deltas(), finishReason(reason, parsers[choice].calls() > 0));
    }

    /** One chunk per delta; the logprobs of tokens seen so far ride on the first (markup's tokens have no delta of their own). */
    private void send(ChunkSink sink, int choice, Deltas deltas, FinishReason finish) {
        deltas.flush();
        if (finish != null && deltas.out.isEmpty()) {
            deltas.out.add(Json.MAPPER.createObjectNode());
        }
        for (ObjectNode delta : deltas.out) {
            ObjectNode logprobs = null;
            List<SampledToken> held = heldLogprobs.get(choice);
            if (submission.logprobs() && !held.isEmpty()) {
                logprobs = Json.MAPPER.createObjectNode();
                logprobs.set("content", Responses.chatLogprobContent(tokenizer, held, submission.tokenIdNames()));
                held.clear();
            }
            sink.chunk(choice, "delta", delta, logprobs, finish);
        }
    }

    private FinishReason finishReason(FinishReason reason, boolean called) {
        if (!called || reason != FinishReason.STOP) {
            return reason;
        }
        return tools.legacy() ? FinishReason.FUNCTION_CALL : FinishReason.TOOL_CALLS;
    }

    @Override
    public ObjectNode choice(int c, String text, List<SampledToken> logprobs, FinishReason reason) {
        ParsedReply reply = ParsedReply.parse(tools.format(), text);
        List<ParsedReply.Call> calls = reply.calls();
        if (calls.size() > tools.maxCalls()) {
            calls = calls.subList(0, tools.maxCalls());
        }
        ObjectNode choice = chat.choice(c, reply.content() == null ? "" : reply.content(), logprobs,
                finishReason(reason, !calls.isEmpty()));
        ObjectNode message = (ObjectNode) choice.get("message");
        if (reply.content() == null) {
            message.putNull("content");
        }
        if (calls.isEmpty()) {
            return choice;
        }
        if (tools.legacy()) {
            ObjectNode call = message.putObject("function_call");
            call.put("name", calls.getFirst().name());
            call.put("arguments", calls.getFirst().arguments());
        } else {
            ArrayNode array = message.putArray("tool_calls");
            for (ParsedReply.Call call : calls) {
                ObjectNode o = array.addObject();
                o.put("id", call.id());
                o.put("type", "function");
                ObjectNode function = o.putObject("function");
                function.put("name", call.name());
                function.put("arguments", call.arguments());
            }
        }
        return choice;
    }

    /** The stream deltas one piece of output makes: text, a call's start, its arguments (consecutive fragments merged). */
    private final class Deltas implements ToolCallParser.Sink {
        final List<ObjectNode> out = new ArrayList<>();
        private int lastArgumentsCall = -1;
        private StringBuilder lastArguments;
        private ObjectNode lastArgumentsNode;

        @Override
        public void content(String text) {
            flush();
            ObjectNode delta = Json.MAPPER.createObjectNode();
            delta.put("content", text);
            out.add(delta);
        }

        @Override
        public void callStart(int index, String id, String name) {
            flush();
            if (index >= tools.maxCalls()) {
                return; // parallel_tool_calls false, or function_call: one call
            }
            ObjectNode delta = Json.MAPPER.createObjectNode();
            if (tools.legacy()) {
                ObjectNode call = delta.putObject("function_call");
                call.put("name", name);
                call.put("arguments", "");
            } else {
                ObjectNode call = delta.putArray("tool_calls").addObject();
                call.put("index", index);
                call.put("id", id);
                call.put("type", "function");
                ObjectNode function = call.putObject("function");
                function.put("name", name);
                function.put("arguments", "");
            }
            out.add(delta);
        }

        @Override
        public void arguments(int index, String fragment) {
            if (index >= tools.maxCalls()) {
                return;
            }
            if (lastArgumentsCall == index && lastArguments != null) {
                lastArguments.append(fragment);
                return;
            }
            flush();
            lastArgumentsCall = index;
            lastArguments = new StringBuilder(fragment);
            lastArgumentsNode = Json.MAPPER.createObjectNode();
            out.add(lastArgumentsNode);
        }

        /** Writes the merged arguments into their delta once no more can join it. */
        private void flush() {
            if (lastArguments == null) {
                return;
            }
            if (tools.legacy()) {
                lastArgumentsNode.putObject("function_call").put("arguments", lastArguments.toString());
            } else {
                ObjectNode call = lastArgumentsNode.putArray("tool_calls").addObject();
                call.put("index", lastArgumentsCall);
                call.putObject("function").put("arguments", lastArguments.toString());
            }
            lastArguments = null;
            lastArgumentsCall = -1;
        }
    }
}
