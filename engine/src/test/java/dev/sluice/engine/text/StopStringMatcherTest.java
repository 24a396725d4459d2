package dev.sluice.engine.text;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopStringMatcherTest {

    @Test
    void stopSpanningTwoDeltas() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("STOP"));
        assertEquals(new StopStringMatcher.Result("Hello ", false), matcher.offer("Hello ST"));
        assertEquals(new StopStringMatcher.Result("", true), matcher.offer("OP and more"));
        assertEquals(Optional.of("STOP"), matcher.matchedStop());
        assertEquals("", matcher.flush());
    }

    @Test
    void stopSpanningThreeDeltas() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("</answer>"));
        assertEquals(new StopStringMatcher.Result("42", false), matcher.offer("42</"));
        assertEquals(new StopStringMatcher.Result("", false), matcher.offer("ans"));
        assertEquals(new StopStringMatcher.Result("", true), matcher.offer("wer>\n"));
    }

    @Test
    void partialMatchThatIsNoStopIsReleased() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("###"));
        assertEquals(new StopStringMatcher.Result("Title ", false), matcher.offer("Title ##"));
        assertEquals(new StopStringMatcher.Result("## Section", false), matcher.offer(" Section"));
        assertEquals(Optional.empty(), matcher.matchedStop());
    }

    @Test
    void heldTextComesOutAtFlush() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("<|end|>"));
        assertEquals(new StopStringMatcher.Result("done", false), matcher.offer("done<|en"));
        assertEquals("<|en", matcher.flush());
        assertEquals("", matcher.flush());
    }

    @Test
    void stopAtTheVeryStart() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("\n\n"));
        assertEquals(new StopStringMatcher.Result("", true), matcher.offer("\n\nanything"));
        assertEquals(new StopStringMatcher.Result("", true), matcher.offer("more"));
        assertEquals("", matcher.flush());
    }

    @Test
    void stopInsideOneDelta() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("END"));
        assertEquals(new StopStringMatcher.Result("ab", true), matcher.offer("abENDcd"));
    }

    @Test
    void overlappingStopStrings() {
        // "bc" completes before "abcd" could: the sequence stops there.
        StopStringMatcher first = new StopStringMatcher(List.of("abcd", "bc"));
        assertEquals(new StopStringMatcher.Result("x", false), first.offer("xab"));
        assertEquals(new StopStringMatcher.Result("a", true), first.offer("cd"));
        assertEquals(Optional.of("bc"), first.matchedStop());

        // Both complete at the same character: the longer one, which starts earlier, wins.
        StopStringMatcher same = new StopStringMatcher(List.of("c", "abc"));
        assertEquals(new StopStringMatcher.Result("x", true), same.offer("xabc"));
        assertEquals(Optional.of("abc"), same.matchedStop());

        // A stop string that is a border of itself ("aab" after "aaab") needs the KMP fallback.
        StopStringMatcher border = new StopStringMatcher(List.of("aab"));
        assertEquals(new StopStringMatcher.Result("", false), border.offer("aa"));
        assertEquals(new StopStringMatcher.Result("a", true), border.offer("ab"));
    }

    @Test
    void holdsOnlyWhatCouldStillMatch() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("xyz", "yq"));
        // "xy" could become "xyz"; "y" alone could become "yq": hold the longer prefix.
        assertEquals(new StopStringMatcher.Result("a", false), matcher.offer("axy"));
        assertEquals(new StopStringMatcher.Result("xy!", false), matcher.offer("!"));
    }

    @Test
    void noStopStringsPassTextThrough() {
        StopStringMatcher matcher = new StopStringMatcher(List.of("", ""));
        assertEquals(new StopStringMatcher.Result("anything", false), matcher.offer("anything"));
        assertEquals("", matcher.flush());
    }

    @Test
    void agreesWithANaiveReferenceOnRandomText() {
        Random random = new Random(20240611);
        for (int round = 0; round < 20_000; round++) {
            List<String> stops = new ArrayList<>();
            int stopCount = 1 + random.nextInt(4);
            for (int i = 0; i < stopCount; i++) {
                stops.add(randomString(random, 1 + random.nextInt(5)));
            }
            String text = randomString(random, random.nextInt(40));
            StopStringMatcher.Result expected = reference(text, stops);

            StopStringMatcher matcher = new StopStringMatcher(stops);
            StringBuilder released = new StringBuilder();
            boolean stopped = false;
            int at = 0;
            while (at < text.length()) {
                int end = Math.min(text.length(), at + random.nextInt(6));
                StopStringMatcher.Result result = matcher.offer(text.substring(at, end));
                released.append(result.text());
                String context = "stops " + stops + ", text " + text + ", released " + released;
                assertTrue(expected.text().startsWith(released.toString()), context);
                assertFalse(stopped && !result.text().isEmpty(), context);
                stopped |= result.stopped();
                at = end;
            }
            released.append(matcher.flush());
            assertEquals(expected, new StopStringMatcher.Result(released.toString(), stopped), "stops " + stops + ", text " + text);
            assertEquals(stopped, matcher.matchedStop().isPresent());
        }
    }

    /** The text up to the stop string that completes first (the longest of those completing together). */
    private static StopStringMatcher.Result reference(String text, List<String> stops) {
        for (int end = 1; end <= text.length(); end++) {
            String seen = text.substring(0, end);
            String best = null;
            for (String stop : stops) {
                if (seen.endsWith(stop) && (best == null || stop.length() > best.length())) {
                    best = stop;
                }
            }
            if (best != null) {
                return new StopStringMatcher.Result(seen.substring(0, end - best.length()), true);
            }
        }
        return new StopStringMatcher.Result(text, false);
    }

    private static String randomString(Random random, int length) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append("abc".charAt(random.nextInt(3)));
        }
        return s.toString();
    }
}
