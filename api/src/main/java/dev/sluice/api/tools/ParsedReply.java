package dev.sluice.api.tools;

import java.util.ArrayList;
import java.util.List;

/** A whole reply as {@link ToolCallParser} splits it: its text and its calls. */
public final class ParsedReply implements ToolCallParser.Sink {

    /** One call, its arguments as the JSON text the model wrote. */
    public record Call(String id, String name, String arguments) {
    }

    private final StringBuilder content = new StringBuilder();
    private final List<String> ids = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final List<StringBuilder> arguments = new ArrayList<>();

    /** Parses a whole reply. */
    public static ParsedReply parse(ToolFormat format, String text) {
        ParsedReply reply = new ParsedReply();
        ToolCallParser parser = new ToolCallParser(format);
        parser.feed(text, reply);
        parser.finish(reply);
        return reply;
    }

    @Override
    public void content(String text) {
        content.append(text);
    }

    @Override
    public void callStart(int index, String id, String name) {
        ids.add(id);
        names.add(name);
        arguments.add(new StringBuilder());
    }

    @Override
    public void arguments(int index, String fragment) {
        arguments.get(index).append(fragment);
    }

    /** The text; null when the reply is calls only (as OpenAI answers). */
    public String content() {
        return content.isEmpty() && !ids.isEmpty() ? null : content.toString();
    }

    public List<Call> calls() {
        List<Call> out = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            out.add(new Call(ids.get(i), names.get(i), arguments.get(i).toString()));
        }
        return out;
    }
}
