package dev.sluice.engine.text;

import java.util.List;

/**
 * A request's stop strings, compiled once: each string with its Knuth–Morris–Pratt failure table.
 * Immutable, so every sequence of a request (all {@code n} choices) shares one instance and only
 * keeps its own match state ({@link StopStringMatcher}); the tables cost O(total length) once per
 * request, not once per choice.
 */
public final class StopStrings {

    /** No stop strings. */
    public static final StopStrings NONE = new StopStrings(List.of());

    final String[] stops;
    /** Per stop string, the KMP failure function: longest proper border of each prefix. */
    final int[][] borders;
    private final int totalChars;

    /** @param stops  the stop strings; empty strings and duplicates are ignored */
    public StopStrings(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).distinct().toArray(String[]::new);
        this.borders = new int[this.stops.length][];
        int total = 0;
        for (int i = 0; i < this.stops.length; i++) {
            borders[i] = borders(this.stops[i]);
            total += this.stops[i].length();
        }
        this.totalChars = total;
    }

    public boolean isEmpty() {
        return stops.length == 0;
    }

    public int count() {
        return stops.length;
    }

    /** The sum of the stop strings' lengths: what the tables cost, in ints. */
    public int totalChars() {
        return totalChars;
    }

    /** A fresh matcher over these strings, for one sequence. */
    public StopStringMatcher matcher() {
        return new StopStringMatcher(this);
    }

    /** {@code result[i]}: length of the longest proper prefix of {@code s[0..i]} that is also its suffix. */
    private static int[] borders(String s) {
        int[] result = new int[s.length()];
        int k = 0;
        for (int i = 1; i < s.length(); i++) {
            while (k > 0 && s.charAt(i) != s.charAt(k)) {
                k = result[k - 1];
            }
            if (s.charAt(i) == s.charAt(k)) {
                k++;
            }
            result[i] = k;
        }
        return result;
    }
}
