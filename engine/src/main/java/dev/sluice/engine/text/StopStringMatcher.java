package dev.sluice.engine.text;

import java.util.List;
import java.util.Optional;

/**
 * Finds the request's stop strings (OpenAI {@code stop}) in a sequence's streamed text.
 *
 * <p>Text that might be the start of a stop string is held back until the next deltas show whether
 * it is; nothing from the first stop string on is ever released. The sequence stops at the stop
 * string that is completed first; when several complete at the same character, at the longest
 * (the one that starts earliest). The result does not depend on how the text is split into deltas.
 *
 * <p>Each stop string keeps a Knuth–Morris–Pratt state (how much of it the text currently ends
 * with), so a delta costs O(delta length × number of stop strings) amortized, plus copying at most
 * the longest stop string's length of held text. The failure tables live in the shared
 * {@link StopStrings}; this object holds only one int per stop string and the held text. Not
 * thread-safe: one instance per sequence.
 */
public final class StopStringMatcher {

    /** What {@link #offer} releases. */
    public record Result(String text, boolean stopped) {
        private static final Result NOTHING = new Result("", false);
        private static final Result STOPPED = new Result("", true);
    }

    private final String[] stops;
    private final int[][] borders;
    /** Per stop string, the length of its longest prefix the text seen so far ends with. */
    private final int[] matched;
    /** Text not yet released: always a suffix of the text seen, as long as the longest partial match. */
    private final StringBuilder held = new StringBuilder();
    private String stoppedAt;

    /** @param stops  the stop strings; empty strings are ignored */
    public StopStringMatcher(List<String> stops) {
        this(new StopStrings(stops));
    }

    /** A matcher over compiled stop strings (shared by a request's sequences). */
    public StopStringMatcher(StopStrings compiled) {
        this.stops = compiled.stops;
        this.borders = compiled.borders;
        this.matched = new int[stops.length];
    }

    /** Adds the next text delta; returns the text safe to release now and whether a stop string matched. */
    public Result offer(String delta) {
        if (stoppedAt != null) {
            return Result.STOPPED;
        }
        if (stops.length == 0) {
            return delta.isEmpty() ? Result.NOTHING : new Result(delta, false);
        }
        int base = held.length();
        held.append(delta);
        for (int i = 0; i < delta.length(); i++) {
            char c = delta.charAt(i);
            int completed = -1;
            for (int s = 0; s < stops.length; s++) {
                if (advance(s, c) == stops[s].length()
                        && (completed < 0 || stops[s].length() > stops[completed].length())) {
                    completed = s;
                }
            }
            if (completed >= 0) {
                stoppedAt = stops[completed];
                int end = base + i + 1 - stoppedAt.length();
                String text = held.substring(0, end);
                held.setLength(0);
                return new Result(text, true);
            }
        }
        int keep = 0;
        for (int m : matched) {
            keep = Math.max(keep, m);
        }
        int release = held.length() - keep;
        if (release == 0) {
            return Result.NOTHING;
        }
        String text = held.substring(0, release);
        held.delete(0, release);
        return new Result(text, false);
    }

    /** Ends the sequence: releases text held as a possible start of a stop string ("" after a stop). */
    public String flush() {
        String text = held.toString();
        held.setLength(0);
        return text;
    }

    /** The stop string that ended the sequence, if one did. */
    public Optional<String> matchedStop() {
        return Optional.ofNullable(stoppedAt);
    }

    private int advance(int s, char c) {
        String stop = stops[s];
        int q = matched[s]; // below stop.length(): the first completed stop string ends the sequence
        while (q > 0 && stop.charAt(q) != c) {
            q = borders[s][q - 1];
        }
        if (stop.charAt(q) == c) {
            q++;
        }
        matched[s] = q;
        return q;
    }
}
