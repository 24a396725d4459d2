package dev.sluice.bindings;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ThreadTimesTest {

    private static long field(String line, int field) {
        byte[] bytes = line.getBytes(StandardCharsets.US_ASCII);
        return ThreadTimes.parseField(bytes, bytes.length, field);
    }

    @Test
    void onCpuTimeAndWaitAreTheFirstTwoFields() {
        assertEquals(123456789, field("123456789 42 17\n", 0));
        assertEquals(42, field("123456789 42 17\n", 1));
        assertEquals(987654321012L, field("5 987654321012 3\n", 1));
        assertEquals(0, field("123\n", 1));
        assertEquals(0, field("", 0));
        assertEquals(0, field("x 12 3", 1));
    }

    @Test
    void aThreadStartedInBetweenIsFound() throws InterruptedException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "no /proc");
        long[] before = ThreadTimes.processThreadIds();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        long[] id = new long[1];
        Thread t = Thread.ofPlatform().start(() -> {
            id[0] = ThreadTimes.currentThreadId();
            started.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        started.await();
        long[] after = ThreadTimes.processThreadIds();
        done.countDown();
        t.join();
        assertTrue(id[0] > 0);
        assertTrue(Arrays.stream(ThreadTimes.startedBetween(before, after, null)).anyMatch(x -> x == id[0]));
        assertEquals(0, ThreadTimes.startedBetween(after, after, null).length);
        assertArrayEquals(new long[0], ThreadTimes.startedBetween(before, after, "no thread is called this"));
    }

    @Test
    void readsThisThreadsWaitOverAndOver() {
        long self = ThreadTimes.currentThreadId();
        assumeTrue(self > 0 && Files.exists(Path.of("/proc/thread-self/schedstat")), "no per-thread schedstat");
        try (ThreadTimes waits = ThreadTimes.open(self)) {
            assertTrue(waits.available());
            long first = waits.waitNanos(1);
            long second = waits.waitNanos(1);
            assertTrue(first >= 0 && second >= first, first + " then " + second);
            long cpu = waits.cpuNanos(1);
            for (long spin = System.nanoTime(); System.nanoTime() - spin < 20_000_000L; ) {
                Thread.onSpinWait(); // run 20 ms
            }
            assertTrue(waits.cpuNanos(1) > cpu, "this thread ran");
            assertEquals(0, waits.waitNanos(0));
        }
    }

    @Test
    void aMissingThreadMakesItUnavailable() {
        try (ThreadTimes waits = ThreadTimes.open(Long.MAX_VALUE)) {
            assertFalse(waits.available());
            assertEquals(0, waits.waitNanos(1));
            assertEquals(0, waits.cpuNanos(1));
        }
    }
}
