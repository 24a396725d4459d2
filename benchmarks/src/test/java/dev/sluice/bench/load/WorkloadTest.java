package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkloadTest {

    private static List<RequestShape> shapes(Workload workload, long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        List<RequestShape> shapes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            shapes.add(workload.next(random));
        }
        return shapes;
    }

    @Test
    void everyWorkloadIsDeterministicFromTheSeed() {
        for (Workload workload : Workloads.ALL) {
            assertEquals(shapes(workload, 7, 200), shapes(workload, 7, 200), workload.name());
            assertNotEquals(shapes(workload, 7, 200), shapes(workload, 8, 200), workload.name());
        }
    }

    @Test
    void chatLikeVariesWithinItsRanges() {
        List<RequestShape> shapes = shapes(new ChatLikeWorkload(), 1, 2000);
        assertRange(shapes.stream().mapToInt(RequestShape::promptTokens).toArray(), 128, 1024);
        assertRange(shapes.stream().mapToInt(RequestShape::outputTokens).toArray(), 64, 256);
        assertTrue(shapes.stream().allMatch(s -> s.systemPrefix().tokens() == 0));
    }

    @Test
    void sharedPrefixSharesOneThousandTokenPrefixAndVariesTheTail() {
        List<RequestShape> shapes = shapes(new SharedPrefixWorkload(), 1, 2000);
        assertEquals(1, shapes.stream().map(RequestShape::systemPrefix).distinct().count());
        assertEquals(1000, shapes.getFirst().systemPrefix().tokens());
        assertEquals(shapes.getFirst().systemPrefix(), shapes(new SharedPrefixWorkload(), 99, 1).getFirst().systemPrefix(),
                "the prefix does not depend on the seed");
        assertRange(shapes.stream().mapToInt(s -> s.user().tokens()).toArray(), 20, 60);
        assertRange(shapes.stream().mapToInt(RequestShape::outputTokens).toArray(), 64, 128);
        assertEquals(2000, shapes.stream().map(s -> s.user().seed()).distinct().count(), "distinct tails");
    }

    @Test
    void mixedIsMostlyChatLikeWithAboutFivePercentLongPrompts() {
        List<RequestShape> shapes = shapes(new MixedWorkload(), 1, 4000);
        long longOnes = shapes.stream().filter(s -> s.promptTokens() == 4000).count();
        assertTrue(longOnes > 4000 * 0.03 && longOnes < 4000 * 0.07, longOnes + " long prompts of 4000");
        assertRange(shapes.stream().filter(s -> s.promptTokens() != 4000).mapToInt(RequestShape::promptTokens).toArray(),
                128, 1024);
        assertRange(shapes.stream().mapToInt(RequestShape::outputTokens).toArray(), 64, 256);
    }

    @Test
    void singleIsFixedLengthAndOneAtATime() {
        Workload single = new SingleWorkload();
        assertTrue(single.singleStream());
        assertTrue(shapes(single, 3, 50).stream().allMatch(s -> s.promptTokens() == 128 && s.outputTokens() == 128));
        assertEquals(List.of("single"), Workloads.ALL.stream().filter(Workload::singleStream).map(Workload::name).toList());
    }

    @Test
    void tokenIdsAreExactInLengthInRangeAndSharedPrefixesRenderIdentically() {
        PromptRenderer renderer = new PromptRenderer(PromptFormat.IDS, 1000, 1100);
        List<RequestShape> shapes = shapes(new SharedPrefixWorkload(), 5, 20);
        Prompt.Tokens a = (Prompt.Tokens) renderer.render(shapes.get(0));
        Prompt.Tokens b = (Prompt.Tokens) renderer.render(shapes.get(1));
        assertEquals(shapes.get(0).promptTokens(), a.all().length);
        assertArrayEquals(a.systemIds(), b.systemIds());
        assertTrue(!Arrays.equals(a.userIds(), b.userIds()));
        Set<Integer> seen = new HashSet<>();
        for (RequestShape shape : shapes) {
            for (int id : ((Prompt.Tokens) renderer.render(shape)).all()) {
                assertTrue(id >= 1000 && id < 1100, "id " + id);
                seen.add(id);
            }
        }
        assertTrue(seen.size() > 90, "the whole range is used: " + seen.size());
        assertArrayEquals(a.all(), ((Prompt.Tokens) renderer.render(shapes.get(0))).all(), "rendering is deterministic");
    }

    @Test
    void textHasOneWordPerPlannedToken() {
        PromptRenderer renderer = new PromptRenderer(PromptFormat.TEXT, 1000, 20000);
        RequestShape shape = shapes(new SharedPrefixWorkload(), 5, 1).getFirst();
        Prompt.Text text = (Prompt.Text) renderer.render(shape);
        assertEquals(1000, text.system().split(" ").length);
        assertEquals(shape.user().tokens(), text.user().split(" ").length);
        assertEquals(shape.promptTokens(), text.plannedTokens());
        assertEquals(text, renderer.render(shape));
    }

    @Test
    void workloadsAreFoundByName() throws UsageException {
        for (Workload workload : Workloads.ALL) {
            assertEquals(workload, Workloads.byName(workload.name()));
        }
        UsageException e = assertThrows(UsageException.class, () -> Workloads.byName("nope"));
        assertTrue(e.getMessage().contains("chat-like, shared-prefix, mixed, single"), e.getMessage());
    }

    /** All values lie in [min, max], and they reach within 2% of the range of both ends. */
    private static void assertRange(int[] values, int min, int max) {
        int smallest = Arrays.stream(values).min().orElseThrow();
        int largest = Arrays.stream(values).max().orElseThrow();
        int slack = (max - min) / 50;
        assertTrue(smallest >= min && smallest <= min + slack, "smallest " + smallest + " for [" + min + ", " + max + "]");
        assertTrue(largest <= max && largest >= max - slack, "largest " + largest + " for [" + min + ", " + max + "]");
    }
}
