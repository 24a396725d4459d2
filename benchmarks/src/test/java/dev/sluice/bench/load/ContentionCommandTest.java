package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContentionCommandTest {

    @Test
    void measureReadsTargetsInOrderWithTheirPids() throws UsageException {
        ContentionCommand c = ContentionCommand.parse(new String[] {"measure", "--load", "loop2",
                "--targets", "sluice=http://127.0.0.1:18090/,llama-server=http://127.0.0.1:18091",
                "--pids", "llama-server=42", "--requests", "7", "--out", "x.json"});
        ContentionCommand.Measure m = assertInstanceOf(ContentionCommand.Measure.class, c);
        assertEquals("loop2", m.load());
        assertEquals(List.of(
                new ContentionCommand.Target("sluice", URI.create("http://127.0.0.1:18090"), 0),
                new ContentionCommand.Target("llama-server", URI.create("http://127.0.0.1:18091"), 42)), m.targets());
        assertEquals(7, m.requests());
        assertEquals(5, m.minRequests());
        assertEquals(2, m.warmup());
        assertEquals(8, m.maxTokens());
        assertEquals(90, m.maxSeconds());
        assertEquals(Path.of("x.json"), m.out());
    }

    @Test
    void minRequestsNeverExceedRequests() throws UsageException {
        ContentionCommand.Measure m = (ContentionCommand.Measure) ContentionCommand.parse(new String[] {"measure",
                "--load", "idle", "--targets", "a=http://h:1", "--requests", "3", "--out", "o"});
        assertEquals(3, m.minRequests());
    }

    @Test
    void measureRejectsWhatItCannotUse() {
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"measure", "--targets", "a=http://h:1", "--out", "o"}),
                "no --load");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"measure", "--load", "idle",
                "--targets", "a", "--out", "o"}), "not NAME=URL");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"measure", "--load", "idle",
                "--targets", "a=http://h:1,a=http://h:2", "--out", "o"}), "a name twice");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"measure", "--load", "idle",
                "--targets", "a=nonsense", "--out", "o"}), "not an http URL");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"measure", "--load", "idle",
                "--targets", "a=http://h:1", "--pids", "b=3", "--out", "o"}), "a pid for no target");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"measure", "--load", "idle",
                "--targets", "a=http://h:1", "--pids", "a=x", "--out", "o"}), "a pid that is no number");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"measure", "--load", "idle",
                "--targets", "a=http://h:1", "--requests", "0", "--out", "o"}), "no requests");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"bench"}), "unknown subcommand");
    }

    @Test
    void reportReadsLoadsServersAndPairs() throws UsageException {
        ContentionCommand.Report r = (ContentionCommand.Report) ContentionCommand.parse(new String[] {"report",
                "--raw", "raw", "--loads", "idle,loop2,compile", "--servers", "sluice,sluice:1,llama-server",
                "--pairs", "sluice/llama-server,sluice:1/llama-server", "--out", "r.md"});
        assertEquals(List.of("idle", "loop2", "compile"), r.loads());
        assertEquals(List.of("sluice", "sluice:1", "llama-server"), r.servers());
        assertEquals("idle", r.baseline());
        assertEquals(List.of(new ContentionCommand.Pair("sluice", "llama-server"),
                new ContentionCommand.Pair("sluice:1", "llama-server")), r.pairs());
        assertNull(r.context());
        assertEquals(Path.of("raw"), r.rawDir());
    }

    @Test
    void reportRejectsABaselineOrPairItDoesNotHave() {
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"report", "--raw", "r",
                "--loads", "loop2", "--servers", "a", "--out", "o"}), "idle is not among the loads");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"report", "--raw", "r",
                "--loads", "idle", "--servers", "a,b", "--pairs", "a/c", "--out", "o"}), "c is no server");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"report", "--raw", "r",
                "--loads", "idle,,x", "--servers", "a", "--out", "o"}), "an empty load");
        assertThrows(UsageException.class, () -> ContentionCommand.parse(new String[] {"report", "--raw", "r",
                "--loads", "idle,idle", "--servers", "a", "--out", "o"}), "a repeated load");
    }

    @Test
    void helpNamesBothSubcommands() throws UsageException {
        ContentionCommand.Help h = assertInstanceOf(ContentionCommand.Help.class, ContentionCommand.parse(new String[0]));
        assertTrue(h.text().contains("--max-seconds") && h.text().contains("--pairs"), h.text());
        assertInstanceOf(ContentionCommand.Help.class, ContentionCommand.parse(new String[] {"measure", "--help"}));
    }
}
