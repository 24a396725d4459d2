package dev.sluice.bench.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FuzzGeneratorTest {

    private static final List<FuzzCase> THOUSAND = FuzzGenerator.generate(1, 1000);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void makesTheCountAskedForWithDistinctCasesAndIdsInOrder() {
        assertEquals(1000, THOUSAND.size());
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < THOUSAND.size(); i++) {
            assertEquals(i, THOUSAND.get(i).id());
            assertTrue(keys.add(THOUSAND.get(i).key()), "duplicate case " + THOUSAND.get(i).summary());
        }
        assertEquals(3000, FuzzGenerator.generate(1, 3000).stream().map(FuzzCase::key).distinct().count());
    }

    @Test
    void isDeterministicForASeedAndDiffersAcrossSeeds() {
        List<FuzzCase> again = FuzzGenerator.generate(1, 1000);
        for (int i = 0; i < THOUSAND.size(); i++) {
            FuzzCase a = THOUSAND.get(i);
            FuzzCase b = again.get(i);
            assertEquals(a.summary(), b.summary());
            assertEquals(a.key(), b.key());
            assertEquals(a.expect(), b.expect());
            assertEquals(a.send(), b.send());
            if (!a.heavy()) {
                assertArrayEquals(a.request().get(), b.request().get());
            }
        }
        List<String> other = FuzzGenerator.generate(2, 1000).stream().map(FuzzCase::key).toList();
        assertNotEquals(THOUSAND.stream().map(FuzzCase::key).toList(), other);
        // Past the systematic cases, the random variations differ by seed too.
        List<String> tail1 = FuzzGenerator.generate(1, 1600).subList(1500, 1600).stream().map(FuzzCase::key).toList();
        List<String> tail2 = FuzzGenerator.generate(2, 1600).subList(1500, 1600).stream().map(FuzzCase::key).toList();
        assertNotEquals(tail1, tail2);
    }

    @Test
    void coversEveryCategoryEvenInAShortRun() {
        for (int count : new int[] {Category.values().length, 150, 1000}) {
            Set<Category> seen = EnumSet.noneOf(Category.class);
            FuzzGenerator.generate(7, count).forEach(c -> seen.add(c.category()));
            assertEquals(EnumSet.allOf(Category.class), seen, "with " + count + " cases");
        }
    }

    @Test
    void givesEveryDocumentedFieldAWrongTypeAndEveryNumberAnOutOfRangeValue() {
        for (Fields.Field field : Fields.ALL) {
            assertTrue(THOUSAND.stream().anyMatch(c -> c.category() == Category.WRONG_TYPE
                    && c.summary().contains(": " + field.name() + " = ")), "no wrong type for " + field.name());
        }
        for (Fields.Field field : Fields.numeric()) {
            assertTrue(THOUSAND.stream().anyMatch(c -> c.category() == Category.OUT_OF_RANGE && c.expect() == Expect.REJECT
                    && c.summary().contains(": " + field.name() + " = ")), "no out-of-range value for " + field.name());
            assertTrue(THOUSAND.stream().anyMatch(c -> c.category() == Category.NON_FINITE
                    && c.summary().contains(": " + field.name() + " = ")), "no non-finite value for " + field.name());
        }
    }

    @Test
    void includesTheHardeningIssuesHostileCases() {
        List<String> summaries = THOUSAND.stream().map(FuzzCase::summary).toList();
        for (String needle : List.of("16 stop strings of ~900 KB", "n 128, logprobs 20, max_tokens 200", "POST /tokenize: unknown model",
                "8 MB unknown model name", "top_p 0", "seed 2^64", "priority 2^31", "slowloris", "truncated headers",
                "Content-Length 'abc'", "body of 100000 '['")) {
            assertTrue(summaries.stream().anyMatch(s -> s.contains(needle)), "missing: " + needle);
        }
    }

    /** Type, range and role cases must be valid JSON, or they would test the parser instead. */
    @Test
    void fieldLevelCasesAreWellFormedJsonObjects() throws IOException {
        Set<Category> wellFormed = EnumSet.of(Category.WRONG_TYPE, Category.OUT_OF_RANGE, Category.FIELD_VALUES,
                Category.UNKNOWN_ROLE, Category.DUPLICATE_KEYS);
        int checked = 0;
        for (FuzzCase c : THOUSAND) {
            if (!wellFormed.contains(c.category()) || c.heavy()) {
                continue;
            }
            JsonNode body = JSON.readTree(body(c.request().get()));
            assertTrue(body.isObject(), c.summary());
            checked++;
        }
        assertTrue(checked > 300, "checked " + checked);
    }

    @Test
    void requestsCarryTheirMethodAndAnExactContentLength() {
        for (FuzzCase c : THOUSAND) {
            if (c.heavy() || c.category() == Category.RAW_SOCKET) {
                continue;
            }
            byte[] request = c.request().get();
            String head = head(request);
            assertTrue(head.matches("(?s)[A-Z]+ \\S+ HTTP/1\\.1\r\n.*"), c.summary());
            String length = head.lines().filter(l -> l.startsWith("Content-Length: ")).findFirst().orElse(null);
            if (length != null) {
                assertEquals(Integer.parseInt(length.substring(16).strip()), body(request).length, c.summary());
            }
        }
    }

    @Test
    void unfinishedRequestsAreHeldAndExpectedToBeCutOff() {
        List<FuzzCase> held = THOUSAND.stream().filter(c -> c.send().hold()).toList();
        assertFalse(held.isEmpty());
        assertTrue(held.stream().allMatch(c -> c.expect() == Expect.CUT_OFF && !c.heavy()));
        assertTrue(held.stream().anyMatch(c -> c.send().slow()));
    }

    @Test
    void rangeExpectationsFollowTheFieldsRanges() {
        Fields.Field topP = field("top_p");
        Fields.Field maxTokens = field("max_tokens");
        Fields.Field temperature = field("temperature");
        Fields.Field seed = field("seed");
        assertEquals(Expect.ACCEPT_OR_REJECT, FuzzGenerator.rangeExpect(topP, "0"), "0 is greedy");
        assertEquals(Expect.REJECT, FuzzGenerator.rangeExpect(topP, "-0.001"));
        assertEquals(Expect.ACCEPT_OR_REJECT, FuzzGenerator.rangeExpect(topP, "1"));
        assertEquals(Expect.REJECT, FuzzGenerator.rangeExpect(maxTokens, "0"));
        assertEquals(Expect.REJECT, FuzzGenerator.rangeExpect(maxTokens, "1.5"));
        assertEquals(Expect.ACCEPT_OR_REJECT, FuzzGenerator.rangeExpect(maxTokens, "4.0"));
        assertEquals(Expect.REJECT, FuzzGenerator.rangeExpect(maxTokens, "2147483648"));
        assertEquals(Expect.ACCEPT_OR_REJECT, FuzzGenerator.rangeExpect(temperature, "-0"));
        assertEquals(Expect.REJECT, FuzzGenerator.rangeExpect(temperature, "1e400"));
        assertEquals(Expect.ACCEPT_OR_REJECT, FuzzGenerator.rangeExpect(seed, "9223372036854775807"));
        assertEquals(Expect.REJECT, FuzzGenerator.rangeExpect(seed, "9223372036854775808"));
        assertEquals(Expect.REJECT, FuzzGenerator.rangeExpect(seed, "1" + "0".repeat(400)));
    }

    private static Fields.Field field(String name) {
        return Fields.ALL.stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    private static String head(byte[] request) {
        String text = new String(request, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        return end < 0 ? text : text.substring(0, end + 2);
    }

    private static byte[] body(byte[] request) {
        String text = new String(request, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        return Arrays.copyOfRange(request, end + 4, request.length);
    }
}
