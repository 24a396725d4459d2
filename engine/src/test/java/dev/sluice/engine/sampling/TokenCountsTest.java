package dev.sluice.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TokenCountsTest {

    @Test
    void countsLikeAMapInFirstSeenOrderAcrossGrowth() {
        Random random = new Random(7);
        TokenCounts counts = new TokenCounts();
        Map<Integer, Integer> expected = new LinkedHashMap<>();
        for (int i = 0; i < 20_000; i++) {
            // Skewed ids: many repeats, plus ids that collide in small tables.
            int token = random.nextBoolean() ? random.nextInt(50) : random.nextInt(152_000) * 64;
            counts.add(token);
            expected.merge(token, 1, Integer::sum);
        }
        Map<Integer, Integer> actual = new LinkedHashMap<>();
        for (int i = 0; i < counts.size(); i++) {
            actual.put(counts.token(i), counts.count(i));
        }
        assertEquals(expected.size(), counts.size());
        assertEquals(expected, actual);
        assertEquals(expected.keySet().stream().toList(), actual.keySet().stream().toList());
    }
}
