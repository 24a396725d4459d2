package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class SchedStatTest {

    @Test
    void parsesOnCpuAndWaitingNanos() {
        assertArrayEquals(new long[] {123456789, 42}, SchedStat.parse("123456789 42 17\n"));
        assertThrows(IllegalArgumentException.class, () -> SchedStat.parse("12"));
        assertThrows(IllegalArgumentException.class, () -> SchedStat.parse("a b c"));
    }

    @Test
    void differencesNeverGoNegative() {
        SchedStat d = new SchedStat(10, 5, 3).since(new SchedStat(4, 7, 4));
        assertEquals(new SchedStat(6, 0, 3), d);
    }

    @Test
    void readsThisProcessAndNothingForNoPid() {
        assertEquals(SchedStat.NONE, SchedStat.of(0));
        assumeTrue(Files.exists(Path.of("/proc/self/schedstat")), "this kernel keeps no schedstat");
        SchedStat self = SchedStat.of(ProcessHandle.current().pid());
        assertTrue(self.threads() >= 1 && self.cpuNanos() > 0, self.toString());
    }
}
