package dev.sluice.api.tools;

/**
 * One marked (or bare JSON) region of calls in a reply, scanned as it grows: the call objects
 * after the marker (for Mistral a list of them; several per {@code <tool_call>} block; Llama's
 * separated by {@code ;}), each announced once its name is complete and its arguments have begun,
 * then its arguments as they grow. {@link ToolCallParser} finds regions in the text and decides
 * what follows one; this class decides where a region ends, or that it is not calls after all.
 */
final class CallRegion {

    /** {@link #scan}: the region needs more text. */
    static final int MORE = -1;
    /** {@link #scan}: the region is not calls: text after all, its marker included. */
    static final int NOT_CALLS = -2;

    private enum Phase { START, BEFORE_OBJECT, IN_OBJECT, AFTER_OBJECT, SKIP_TO_CLOSE }

    final String heldWhitespace; // dropped before the region; text again if the region is not calls
    final String trigger;        // "" for a bare JSON reply
    final StringBuilder buf = new StringBuilder();
    private final String closer;
    private final ToolFormat format;
    private Phase phase = Phase.START;
    private boolean list;
    private int pos;
    private int objectStart;
    private int objects;
    private boolean announced;
    private int callIndex;
    private int nextCall;
    private int argsSent;
    private boolean stringArgsSent;
    private int argsStart;
    private ContainerCursor argsCursor; // the announced call's unfinished object/array arguments

    /** {@code firstCall}: the number in the reply of the region's first call (the calls before it). */
    CallRegion(ToolFormat format, String heldWhitespace, String trigger, String closer, int firstCall) {
        this.format = format;
        this.heldWhitespace = heldWhitespace;
        this.trigger = trigger;
        this.closer = closer;
        this.nextCall = firstCall;
    }

    /** The number the next call found will have: the calls in the reply so far. */
    int calls() {
        return nextCall;
    }

    /**
     * Advances over {@link #buf}, sending what it finds; returns {@link #MORE}, {@link #NOT_CALLS},
     * or where in {@link #buf} the region ended (what follows is text again).
     */
    int scan(ToolCallParser.Sink sink, boolean finishing) {
        StringBuilder b = buf;
        while (true) {
            switch (phase) {
                case START -> {
                    int i = JsonScan.skipWhitespace(b, pos);
                    if (i == b.length()) {
                        return finishing ? NOT_CALLS : MORE;
                    }
                    if (format == ToolFormat.MISTRAL && b.charAt(i) == '[') {
                        list = true;
                        i++;
                    }
                    pos = i;
                    phase = Phase.BEFORE_OBJECT;
                }
                case BEFORE_OBJECT -> {
                    int i = JsonScan.skipWhitespace(b, pos);
                    if (i == b.length()) {
                        return !finishing ? MORE : objects == 0 ? NOT_CALLS : i;
                    }
                    if (b.charAt(i) == '{') {
                        objectStart = i;
                        phase = Phase.IN_OBJECT;
                    } else if (objects == 0 && !(list && b.charAt(i) == ']')) {
                        return NOT_CALLS;
                    } else {
                        return list && b.charAt(i) == ']' ? i + 1 : i;
                    }
                }
                case IN_OBJECT -> {
                    if (argsCursor != null && argsCursor.advance(b) == JsonScan.INCOMPLETE && !finishing) {
                        // Still inside the arguments: all the new text is theirs. (Once they end, or the
                        // reply does, the whole object is scanned again below, once.)
                        int from = argsStart + argsSent;
                        if (b.length() > from) {
                            sink.arguments(callIndex, b.substring(from));
                            argsSent = b.length() - argsStart;
                        }
                        return MORE;
                    }
                    CallScan scan = CallScan.scan(b, objectStart);
                    if (scan.invalid()) {
                        return objects == 0 ? NOT_CALLS : objectStart;
                    }
                    if (!announced && scan.committed()) {
                        announced = true;
                        callIndex = nextCall++;
                        argsSent = 0;
                        stringArgsSent = false;
                        sink.callStart(callIndex, format.newCallId(), scan.name());
                    }
                    if (announced) {
                        sendArguments(sink, scan);
                        if (argsCursor == null && !scan.complete() && scan.argsStart() >= 0 && scan.argsEnd() < 0
                                && !scan.argsString() && "{[".indexOf(b.charAt(scan.argsStart())) >= 0) {
                            argsStart = scan.argsStart();
                            argsCursor = new ContainerCursor(scan.argsStart());
                        }
                    }
                    if (!scan.complete()) {
                        if (!finishing) {
                            return MORE;
                        }
                        return announced ? b.length() : (objects == 0 ? NOT_CALLS : objectStart);
                    }
                    if (!announced) {
                        // A complete object without a name (or with one only after its arguments, not a call).
                        return objects == 0 ? NOT_CALLS : objectStart;
                    }
                    if (scan.argsStart() < 0) {
                        sink.arguments(callIndex, "{}");
                    }
                    announced = false;
                    argsCursor = null;
                    objects++;
                    pos = scan.end();
                    phase = Phase.AFTER_OBJECT;
                }
                case AFTER_OBJECT -> {
                    int i = JsonScan.skipWhitespace(b, pos);
                    if (i == b.length()) {
                        return finishing ? i : MORE;
                    }
                    char c = b.charAt(i);
                    if (list) {
                        if (c == ',') {
                            pos = i + 1;
                            phase = Phase.BEFORE_OBJECT;
                        } else {
                            return c == ']' ? i + 1 : i;
                        }
                    } else if (closer == null) {
                        if (c == ';') {
                            pos = i + 1;
                            phase = Phase.BEFORE_OBJECT;
                        } else {
                            return i;
                        }
                    } else if (c == '{') {
                        pos = i; // several objects in one block
                        phase = Phase.BEFORE_OBJECT;
                    } else {
                        pos = i;
                        phase = Phase.SKIP_TO_CLOSE;
                    }
                }
                case SKIP_TO_CLOSE -> {
                    int close = b.indexOf(closer, pos);
                    if (close >= 0) {
                        return close + closer.length();
                    }
                    return finishing ? b.length() : MORE;
                }
            }
        }
    }

    private void sendArguments(ToolCallParser.Sink sink, CallScan scan) {
        if (scan.argsStart() < 0) {
            return;
        }
        if (scan.argsString()) {
            if (scan.argsEnd() >= 0 && !stringArgsSent) {
                stringArgsSent = true;
                int end = scan.argsEnd();
                boolean closed = end - scan.argsStart() >= 2 && buf.charAt(end - 1) == '"';
                String text = closed ? JsonScan.decode(buf, scan.argsStart(), end) : buf.substring(scan.argsStart() + 1, end);
                if (!text.isEmpty()) {
                    sink.arguments(callIndex, text);
                }
            }
            return;
        }
        int upTo = scan.argsEnd() >= 0 ? scan.argsEnd() : buf.length();
        int from = scan.argsStart() + argsSent;
        if (upTo > from) {
            sink.arguments(callIndex, buf.substring(from, upTo));
            argsSent = upTo - scan.argsStart();
        }
    }
}
