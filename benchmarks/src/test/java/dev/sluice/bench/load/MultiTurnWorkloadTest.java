package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MultiTurnWorkloadTest {

    private final PromptRenderer renderer = new PromptRenderer(PromptFormat.IDS, 1000, 20000);

    @Test
    void everyTurnOfAConversationStartsWithItsHistoryAndSharesItsSessionKey() {
        Map<String, int[]> longestBySession = new HashMap<>();
        Set<Long> conversations = new HashSet<>();
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 500; i++) {
            RequestShape shape = new MultiTurnWorkload().next(random);
            conversations.add(shape.systemPrefix().seed());
            Prompt.Tokens prompt = (Prompt.Tokens) renderer.render(shape);
            String key = OpenAiClient.sessionKey(prompt);
            int[] history = prompt.systemIds();
            int[] other = longestBySession.merge(key, history, (a, b) -> a.length >= b.length ? a : b);
            int shorter = Math.min(history.length, other.length);
            assertArrayEquals(Arrays.copyOf(other, shorter), Arrays.copyOf(history, shorter),
                    "two turns with one session key share the shorter one's history");
            assertTrue(history.length >= MultiTurnWorkload.FIRST_HISTORY
                    && history.length <= MultiTurnWorkload.FIRST_HISTORY + MultiTurnWorkload.PER_TURN * (MultiTurnWorkload.TURNS - 1));
        }
        assertEquals(MultiTurnWorkload.CONVERSATIONS, conversations.size());
        assertEquals(MultiTurnWorkload.CONVERSATIONS, longestBySession.size(), "one session key per conversation");
    }

    @Test
    void aPromptWithoutPrefixHasNoSession() {
        assertEquals("none", OpenAiClient.sessionKey(new Prompt.Tokens(new int[0], new int[] {5, 6})));
    }
}
