package dev.sluice.api.tools;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every format's calls, text around them, and what is not a call; each case is also fed in two
 * pieces at every split point and one character at a time, and must come out the same, with no
 * markup in the text at any moment.
 */
class ToolCallParserTest {

    private static final String WEATHER = "{\"city\": \"Paris\", \"unit\": \"celsius\"}";

    /** The reply, its calls as name(arguments), and the text (null for none). */
    private static void check(ToolFormat format, String raw, String content, String... calls) {
        Result whole = Result.of(format, List.of(raw));
        assertEquals(content, whole.content(), "content of " + raw);
        assertEquals(List.of(calls), whole.calls, "calls of " + raw);
        for (int split = 0; split <= raw.length(); split++) {
            Result pieces = Result.of(format, List.of(raw.substring(0, split), raw.substring(split)));
            assertEquals(whole.content(), pieces.content(), "content split at " + split + " of " + raw);
            assertEquals(whole.calls, pieces.calls, "calls split at " + split + " of " + raw);
        }
        List<String> chars = new ArrayList<>();
        raw.codePoints().forEach(c -> chars.add(Character.toString(c)));
        Result single = Result.of(format, chars);
        assertEquals(whole.content(), single.content(), "content char by char of " + raw);
        assertEquals(whole.calls, single.calls, "calls char by char of " + raw);
        assertEquals(whole.announced, single.announced);
    }

    /** What a stream would assemble: text, calls as name(arguments), and no call announced without a name. */
    private static final class Result implements ToolCallParser.Sink {
        final StringBuilder text = new StringBuilder();
        final List<String> names = new ArrayList<>();
        final List<StringBuilder> args = new ArrayList<>();
        final List<String> calls = new ArrayList<>();
        int announced;

        static Result of(ToolFormat format, List<String> pieces) {
            Result r = new Result();
            ToolCallParser parser = new ToolCallParser(format);
            for (String piece : pieces) {
                parser.feed(piece, r);
            }
            parser.finish(r);
            for (int i = 0; i < r.names.size(); i++) {
                r.calls.add(r.names.get(i) + "(" + r.args.get(i) + ")");
            }
            return r;
        }

        String content() {
            return text.isEmpty() && !names.isEmpty() ? null : text.toString();
        }

        @Override
        public void content(String t) {
            assertFalse(t.isEmpty());
            // Text only grows, so the assembled text equal to the whole reply's means no piece of
            // markup went out early in any split.
            text.append(t);
        }

        @Override
        public void callStart(int index, String id, String name) {
            assertEquals(names.size(), index);
            assertTrue(id.startsWith("call_") || id.length() == 9, id);
            names.add(name);
            args.add(new StringBuilder());
            announced++;
        }

        @Override
        public void arguments(int index, String fragment) {
            args.get(index).append(fragment);
        }
    }

    @Test
    void hermesCallsWithTextBefore() {
        check(ToolFormat.HERMES, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + WEATHER + "}\n</tool_call>",
                null, "get_weather(" + WEATHER + ")");
        check(ToolFormat.HERMES, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + WEATHER
                + "}\n</tool_call>\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 40}}\n</tool_call>",
                "Let me check.", "get_weather(" + WEATHER + ")", "add({\"a\": 2, \"b\": 40})");
    }

    @Test
    void hermesArgumentsMayComeFirstOrAsAString() {
        check(ToolFormat.HERMES, "<tool_call>{\"arguments\": {\"a\": 1}, \"name\": \"f\"}</tool_call>", null, "f({\"a\": 1})");
        check(ToolFormat.HERMES, "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": \\\"x}\\\"}\"}</tool_call>",
                null, "f({\"a\": \"x}\"})");
        check(ToolFormat.HERMES, "<tool_call>{\"name\": \"now\"}</tool_call>", null, "now({})");
    }

    @Test
    void textThatOnlyLooksLikeACallIsText() {
        check(ToolFormat.HERMES, "Use <tool_ca to call.", "Use <tool_ca to call.");
        check(ToolFormat.HERMES, "a <tool_call> tag is how I call", "a <tool_call> tag is how I call");
        check(ToolFormat.HERMES, "<tool_call>{\"x\": 1}</tool_call>", "<tool_call>{\"x\": 1}</tool_call>");
        check(ToolFormat.HERMES, "ends with a partial <tool_", "ends with a partial <tool_");
        check(ToolFormat.HERMES, "plain\ntext  \n", "plain\ntext  \n");
        check(ToolFormat.HERMES, "{\"name\": \"f\", \"arguments\": {}}", "{\"name\": \"f\", \"arguments\": {}}");
    }

    @Test
    void aCallCutShortKeepsWhatItHas() {
        // max_tokens ends the reply inside the arguments: the call stands with the arguments so far.
        check(ToolFormat.HERMES, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Pa",
                null, "get_weather({\"city\": \"Pa)");
        // ...and before the name was complete, it is not a call: text.
        check(ToolFormat.HERMES, "<tool_call>\n{\"name\": \"get_we", "<tool_call>\n{\"name\": \"get_we");
    }

    @Test
    void llama3BareJsonAndPythonTag() {
        check(ToolFormat.LLAMA3, "{\"name\": \"get_weather\", \"parameters\": " + WEATHER + "}", null,
                "get_weather(" + WEATHER + ")");
        check(ToolFormat.LLAMA3, "  \n{\"name\": \"f\", \"parameters\": {\"q\": [1, {\"r\": \"]}\"}]}}", null,
                "f({\"q\": [1, {\"r\": \"]}\"}]})");
        check(ToolFormat.LLAMA3, "<|python_tag|>{\"name\": \"f\", \"parameters\": {}}", null, "f({})");
        check(ToolFormat.LLAMA3, "{\"temperature\": 21} is the JSON", "{\"temperature\": 21} is the JSON");
        check(ToolFormat.LLAMA3, "The answer is {\"name\": \"x\"}.", "The answer is {\"name\": \"x\"}.");
    }

    @Test
    void mistralList() {
        check(ToolFormat.MISTRAL, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": " + WEATHER
                        + ", \"id\": \"abc123DEF\"}, {\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 40}}]",
                null, "get_weather(" + WEATHER + ")", "add({\"a\": 2, \"b\": 40})");
        check(ToolFormat.MISTRAL, "Sure. [TOOL_CALLS] [{\"name\": \"f\", \"arguments\": {}}]", "Sure.", "f({})");
        check(ToolFormat.MISTRAL, "[TOOL_CALLS]no call", "[TOOL_CALLS]no call");
        // The marker is a control token the text leaves out: the bare list at the start is calls too.
        check(ToolFormat.MISTRAL, "[{\"name\": \"f\", \"arguments\": {\"a\": [1]}}, {\"name\": \"g\", \"arguments\": {}}]",
                null, "f({\"a\": [1]})", "g({})");
        check(ToolFormat.MISTRAL, "[1, 2] is a list", "[1, 2] is a list");
    }

    @Test
    void genericTakesBothShapes() {
        check(ToolFormat.GENERIC, "{\"name\": \"f\", \"arguments\": {\"a\": 1}}", null, "f({\"a\": 1})");
        check(ToolFormat.GENERIC, "Calling.<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}}</tool_call> Done.",
                "Calling. Done.", "f({\"a\": 1})");
    }

    @Test
    void argumentsThatStopBeingJsonEndTheCall() {
        check(ToolFormat.HERMES, "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1]}</tool_call>", null, "f({\"a\": 1)");
        // A raw line break inside a string is not JSON: the call ends before it.
        check(ToolFormat.HERMES, "<tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"a\nb\"}}</tool_call>", null,
                "f({\"s\": \"a)");
    }

    @Test
    void quotesBackslashesAndBracketsInsideArgumentStrings() {
        String args = "{\"s\": \"a\\\"}\\\\\", \"t\": [1, {\"u\": \"[{\"}], \"v\": \"\\u007d\"}";
        check(ToolFormat.HERMES, "<tool_call>{\"name\": \"f\", \"arguments\": " + args + "}</tool_call>", null, "f(" + args + ")");
        check(ToolFormat.LLAMA3, "{\"name\": \"f\", \"parameters\": " + args + "}", null, "f(" + args + ")");
    }

    @Test
    void streamsTheNameFirstThenTheArguments() {
        List<String> events = new ArrayList<>();
        ToolCallParser parser = new ToolCallParser(ToolFormat.HERMES);
        ToolCallParser.Sink sink = new ToolCallParser.Sink() {
            @Override
            public void content(String text) {
                events.add("text:" + text);
            }

            @Override
            public void callStart(int index, String id, String name) {
                events.add("call:" + index + ":" + name);
            }

            @Override
            public void arguments(int index, String fragment) {
                events.add("args:" + index + ":" + fragment);
            }
        };
        for (String piece : List.of("Hi", " <tool", "_call>{\"name\": \"f\"", ", \"arguments\": {\"a\"", ": 1}}</tool_call>")) {
            parser.feed(piece, sink);
        }
        parser.finish(sink);
        assertEquals(List.of("text:Hi", "call:0:f", "args:0:{\"a\"", "args:0:: 1}"), events);
        assertEquals(1, parser.calls());
        assertNull(ParsedReply.parse(ToolFormat.HERMES, "<tool_call>{\"name\": \"f\"}</tool_call>").content());
    }
}
