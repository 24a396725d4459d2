package dev.sluice.engine.kv;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvCacheBudgetTest {

    @Test
    void parsesSizesAndFractions() {
        assertEquals(512L << 20, KvCacheBudget.parse("512MiB").resolve(0));
        assertEquals(2L << 30, KvCacheBudget.parse("2g").resolve(0));
        assertEquals(3L << 29, KvCacheBudget.parse("1.5GB").resolve(0));
        assertEquals(1000, KvCacheBudget.parse("1000").resolve(0));
        assertEquals(250, KvCacheBudget.parse("0.25").resolve(1000));
        assertEquals(250, KvCacheBudget.parse(".25").resolve(1000));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> KvCacheBudget.parse("lots"));
        assertThrows(IllegalArgumentException.class, () -> KvCacheBudget.parse("1.5"), "a size without a unit");
        assertThrows(IllegalArgumentException.class, () -> KvCacheBudget.parse("0"));
        assertThrows(IllegalArgumentException.class, () -> KvCacheBudget.parse("-5m"));
        assertThrows(IllegalArgumentException.class, () -> KvCacheBudget.ofFreeMemory(1.5));
    }

    @Test
    void knowsHowMuchMemoryIsFree() {
        assertTrue(KvCacheBudget.availableHostMemory() > 0);
    }
}
