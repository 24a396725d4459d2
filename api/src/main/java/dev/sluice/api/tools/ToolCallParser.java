package dev.sluice.api.tools;

/**
 * Splits a model's output into text and tool calls as it is generated, for one choice. Text goes
 * out as soon as it cannot be the start of a call; a call goes out as its name (once the name is
 * complete and its arguments have begun), then its arguments as they grow. Markup never reaches
 * the text: a possible start of a marker ({@code <tool_}) is held until it is one or is not.
 *
 * <p>Every decision depends only on the text so far, so feeding the output in any pieces gives
 * the same text and calls as feeding it whole (the tests try every split point). A region that
 * turns out not to be a call (a marker followed by something that is not a call object) is text
 * after all, marker included; a call whose arguments stop being JSON ends where they stop.
 *
 * <p>Whitespace that ends the text is held until more text follows, and dropped before a call and
 * at the end of a reply with calls: OpenAI sends no text around calls but what the model meant.
 *
 * <p>This class finds the regions in the text and handles what is around them; a
 * {@link CallRegion} scans the calls inside one.
 */
public final class ToolCallParser {

    /** Receives what the parser finds, in order. */
    public interface Sink {
        void content(String text);

        /** A new call: its number in the reply (0, 1, …), id and function name. */
        void callStart(int index, String id, String name);

        /** More of a call's arguments (JSON text). */
        void arguments(int index, String fragment);
    }

    private final ToolFormat format;
    private final StringBuilder pending = new StringBuilder();
    private boolean atStart = true;
    private CallRegion region;
    private int calls; // in regions that ended; an open region counts its own

    public ToolCallParser(ToolFormat format) {
        this.format = format;
    }

    /** Calls found so far. */
    public int calls() {
        return region != null ? region.calls() : calls;
    }

    public void feed(String text, Sink sink) {
        if (text.isEmpty()) {
            return;
        }
        (region == null ? pending : region.buf).append(text);
        drain(sink, false);
    }

    /** The output ended: releases what was held (a partial marker, an unfinished region that is not a call). */
    public void finish(Sink sink) {
        drain(sink, true);
        if (pending.isEmpty()) {
            return;
        }
        String rest = pending.toString();
        pending.setLength(0);
        if (calls() > 0) {
            rest = rest.stripTrailing();
        }
        if (!rest.isEmpty()) {
            sink.content(rest);
        }
    }

    private void drain(Sink sink, boolean finishing) {
        while (true) {
            if (region == null) {
                if (!scanText(sink)) {
                    return;
                }
            } else if (!scanRegion(sink, finishing)) {
                return;
            }
        }
    }

    /** In text: releases what cannot start a call; returns true when a region began. */
    private boolean scanText(Sink sink) {
        String s = pending.toString();
        if (atStart && format.bareJson()) {
            int k = JsonScan.skipWhitespace(s, 0);
            if (k == s.length()) {
                return false; // only whitespace yet
            }
            switch (bareStart(s, k)) {
                case 1 -> {
                    enter(sink, s, 0, k, "", null);
                    return true;
                }
                case 0 -> {
                    return false;
                }
                default -> atStart = false;
            }
        }
        int best = -1;
        String trigger = null;
        for (String t : format.triggers()) {
            int i = s.indexOf(t);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
                trigger = t;
            }
        }
        if (trigger != null) {
            int textEnd = trimEnd(s, best);
            enter(sink, s, textEnd, best + trigger.length(), trigger, format.closer(trigger));
            return true;
        }
        int hold = 0;
        for (String t : format.triggers()) {
            for (int n = Math.min(t.length() - 1, s.length()); n > hold; n--) {
                if (s.endsWith(t.substring(0, n))) {
                    hold = n;
                    break;
                }
            }
        }
        int release = trimEnd(s, s.length() - hold);
        if (release > 0) {
            sink.content(s.substring(0, release));
            pending.delete(0, release);
            atStart = false;
        }
        return false;
    }

    /** Starts a region: text before {@code textEnd} goes out, whitespace up to the marker is held. */
    private void enter(Sink sink, String s, int textEnd, int bodyStart, String trigger, String closer) {
        if (textEnd > 0) {
            sink.content(s.substring(0, textEnd));
            atStart = false;
        }
        int markerStart = bodyStart - trigger.length();
        region = new CallRegion(format, s.substring(textEnd, markerStart), trigger, closer, calls);
        region.buf.append(s, bodyStart, s.length());
        pending.setLength(0);
    }

    /** Advances the region; returns true when it ended (the loop goes on in text). */
    private boolean scanRegion(Sink sink, boolean finishing) {
        int at = region.scan(sink, finishing);
        calls = region.calls();
        return switch (at) {
            case CallRegion.MORE -> false;
            case CallRegion.NOT_CALLS -> fail(sink);
            default -> end(at);
        };
    }

    /** The region held calls and ends at {@code at}: what follows is text again. */
    private boolean end(int at) {
        String rest = region.buf.substring(Math.min(at, region.buf.length()));
        region = null;
        atStart = false;
        pending.setLength(0);
        pending.append(rest);
        return true;
    }

    /** The region is not a call after all: it is text, its marker and the whitespace before it included. */
    private boolean fail(Sink sink) {
        CallRegion r = region;
        region = null;
        atStart = false;
        String marker = r.heldWhitespace + r.trigger;
        if (!marker.isEmpty()) {
            sink.content(marker);
        }
        pending.setLength(0);
        pending.append(r.buf);
        return true;
    }

    /**
     * 1: {@code s} at {@code k} opens a JSON call ({@code {"name"}, or for Mistral a list of them,
     * {@code [{"name"}); 0: it may yet; -1: it does not.
     */
    private int bareStart(String s, int k) {
        if (format == ToolFormat.MISTRAL && s.charAt(k) == '[') {
            k = JsonScan.skipWhitespace(s, k + 1);
            if (k == s.length()) {
                return 0;
            }
        }
        if (s.charAt(k) != '{') {
            return -1;
        }
        int i = JsonScan.skipWhitespace(s, k + 1);
        String key = "\"name\"";
        for (int j = 0; j < key.length(); j++) {
            if (i + j >= s.length()) {
                return 0;
            }
            if (s.charAt(i + j) != key.charAt(j)) {
                return -1;
            }
        }
        return 1;
    }

    /** {@code end} moved back over whitespace. */
    private static int trimEnd(String s, int end) {
        while (end > 0 && JsonScan.isWhitespace(s.charAt(end - 1))) {
            end--;
        }
        return end;
    }
}
