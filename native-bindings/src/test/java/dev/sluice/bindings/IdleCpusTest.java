package dev.sluice.bindings;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class IdleCpusTest {

    private static final String STAT = """
            cpu  1000 50 300 9000 20 0 10 0 0 0
            cpu0 400 20 100 4000 10 0 5 0 0 0
            cpu1 600 30 200 5000 10 0 5 0 0 0
            intr 12345 0 0
            ctxt 999
            """;

    @Test
    void sumsNiceIdleAndIowaitOfTheChosenCpus() {
        BitSet one = new BitSet();
        one.set(1);
        assertEquals(30 + 5000 + 10, IdleCpus.parse(STAT, one));
        assertEquals(50 + 9000 + 20, IdleCpus.parse(STAT, null), "every cpuN line, not the aggregate twice");
        BitSet none = new BitSet();
        none.set(7);
        assertEquals(-1, IdleCpus.parse(STAT, none));
    }

    @Test
    void sumsTheBusyFieldsButNotIdleIowaitOrSteal() {
        String stat = """
                cpu0 400 20 100 4000 10 7 5 3 0 0
                cpu1 600 30 200 5000 10 1 2 9 0 0
                """;
        BitSet zero = new BitSet();
        zero.set(0);
        assertEquals(400 + 20 + 100 + 7 + 5, IdleCpus.parseBusy(stat, zero));
        assertEquals(400 + 20 + 100 + 7 + 5 + 600 + 30 + 200 + 1 + 2, IdleCpus.parseBusy(stat, null));
    }

    @Test
    void readsThisMachine() {
        assumeTrue(Files.isReadable(Path.of("/proc/stat")), "no /proc/stat");
        try (IdleCpus idle = IdleCpus.open(IdleCpus.allowedCpus())) {
            long first = idle.freeNanos();
            assertTrue(first >= 0);
            assertTrue(idle.freeNanos() >= first);
            long busy = idle.busyNanos();
            assertTrue(busy > 0, "this test runs, so some CPU was busy since boot");
            assertTrue(idle.busyNanos() >= busy);
        }
    }
}
