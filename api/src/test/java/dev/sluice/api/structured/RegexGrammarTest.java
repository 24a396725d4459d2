package dev.sluice.api.structured;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The regex translator against {@code java.util.regex} as the oracle: strings sampled under each
 * grammar all match the regex in full, and over random strings built from the regex's own
 * characters (plus a few others) the grammar accepts exactly what Java matches.
 */
class RegexGrammarTest {

    private static final List<String> REGEXES = List.of(
            "abc", "a|b|cd", "[a-c]{2}-\\d{2}", "x*y+z?", "(ab)+", "(?:ab|cd){1,3}", "[^a-c]{1,3}", "\\w+@\\w+\\.com",
            "a.c", "[0-9]{3,}", "(a|b)*c", "colou?r", "\\d{1,2}:\\d{2}", "[A-Fa-f0-9]{2,4}", "\\s?x\\S", "a{2}b{0,2}",
            "(x|y)(z|w)?", "[\\]\\-a]+", "\\.\\*\\+\\?", "(?<name>ab)c", "[-a]b", "a+?b*?", "\\u0041\\x42",
            "^start", "end$", "^(yes|no)$", "[äöü]+ß?", "(a(b(c)?)?)?", "\\(\\d{3}\\) \\d{3}-\\d{4}", "[a-z]{1,2}[0-9]?");

    private static GrammarHarness harness;

    @BeforeAll
    static void load() {
        harness = new GrammarHarness();
    }

    @AfterAll
    static void unload() {
        harness.close();
    }

    @Test
    void sampledStringsMatchAndTheGrammarAgreesWithJavaOnRandomStrings() {
        Random random = new Random(42);
        List<String> failures = new ArrayList<>();
        int positives = 0;
        int checked = 0;
        for (String regex : REGEXES) {
            String grammar = RegexGrammar.compile(regex);
            assertTrue(harness.parses(grammar), regex + "\n" + grammar);
            Pattern java = Pattern.compile(regex);
            for (int seed = 0; seed < 4; seed++) {
                String text = harness.generate(grammar, seed, 40);
                if (text != null) {
                    positives++;
                    if (!java.matcher(text).matches()) {
                        failures.add(regex + ": sampled '" + text + "' does not match");
                    }
                }
            }
            String alphabet = alphabet(regex);
            for (int i = 0; i < 40; i++) {
                StringBuilder s = new StringBuilder();
                int length = random.nextInt(7);
                for (int j = 0; j < length; j++) {
                    s.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0,
                            random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
                }
                checked++;
                boolean expected = java.matcher(s).matches();
                if (harness.accepts(grammar, s.toString()) != expected) {
                    failures.add(regex + ": '" + s + "' " + (expected ? "matches but the grammar rejects it"
                            : "does not match but the grammar accepts it"));
                }
            }
        }
        assertEquals(List.of(), failures, String.join("\n", failures));
        assertTrue(positives >= REGEXES.size() * 2, "only " + positives + " sampled strings");
        assertTrue(checked > 1000);
    }

    /** The regex's literal characters, digits and a few others, so random strings sometimes match. */
    private static String alphabet(String regex) {
        StringBuilder out = new StringBuilder("0129 -xyz");
        regex.codePoints().filter(c -> Character.isLetterOrDigit(c) || " -@.:()*+?_ß".indexOf(c) >= 0)
                .forEach(out::appendCodePoint);
        return out.toString();
    }

    @Test
    void unsupportedConstructsAreRefusedNotApproximated() {
        for (String regex : List.of("(a)\\1", "a(?=b)", "a(?!b)", "(?<=a)b", "\\bword\\b", "(?i)abc", "a^b", "a$b", "\\p{L}")) {
            UnsupportedSchemaException e = assertThrows(UnsupportedSchemaException.class, () -> RegexGrammar.compile(regex), regex);
            assertEquals("regex", e.keyword());
        }
        for (String regex : List.of("(ab", "ab)", "[ab", "a{3,2}", "*a", "\\")) {
            assertThrows(InvalidSchemaException.class, () -> RegexGrammar.compile(regex), regex);
        }
    }

    @Test
    void hugeCountsAreBoundedWithoutLosingThem() {
        // a count above llama.cpp's 2000 is split, not silently made unbounded
        String grammar = RegexGrammar.compile("a{2500}");
        assertTrue(harness.parses(grammar), grammar);
        assertTrue(harness.accepts(grammar, "a".repeat(2500)));
        assertTrue(!harness.accepts(grammar, "a".repeat(2499)) && !harness.accepts(grammar, "a".repeat(2501)));
        // a nested count references its rule, so it stays linear; the total of all counts is bounded
        assertTrue(harness.parses(RegexGrammar.compile("(a{1000}){1000}")));
        assertThrows(UnsupportedSchemaException.class, () -> RegexGrammar.compile("a{30000}"));
    }
}
