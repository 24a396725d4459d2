package dev.sluice.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time and run-queue wait of every thread of a process, summed from
 * {@code /proc/PID/task/TID/schedstat} ("on-CPU ns, waiting-to-run ns, timeslices"). The wait is
 * what a busy host costs a server directly: time its threads were ready but parked. Threads that
 * exit between two readings drop out of the difference, so it is a lower bound.
 */
record SchedStat(long cpuNanos, long waitNanos, int threads) {

    static final SchedStat NONE = new SchedStat(0, 0, 0);

    /** The process's threads now; {@link #NONE} when the process is gone or pid is 0. */
    static SchedStat of(long pid) {
        if (pid <= 0) {
            return NONE;
        }
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        long cpu = 0;
        long wait = 0;
        int threads = 0;
        try (Stream<Path> list = Files.list(tasks)) {
            for (Path task : (Iterable<Path>) list::iterator) {
                try {
                    long[] fields = parse(Files.readString(task.resolve("schedstat")));
                    cpu += fields[0];
                    wait += fields[1];
                    threads++;
                } catch (IOException | IllegalArgumentException e) {
                    // the thread exited while we listed them
                }
            }
        } catch (IOException e) {
            return NONE;
        }
        return new SchedStat(cpu, wait, threads);
    }

    /** {on-CPU ns, run-queue wait ns} of one schedstat line. */
    static long[] parse(String line) {
        String[] parts = line.strip().split("\\s+");
        if (parts.length < 2) {
            throw new IllegalArgumentException("not a schedstat line: '" + line.strip() + "'");
        }
        try {
            return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a schedstat line: '" + line.strip() + "'", e);
        }
    }

    /** What happened between {@code earlier} and this reading. */
    SchedStat since(SchedStat earlier) {
        return new SchedStat(Math.max(0, cpuNanos - earlier.cpuNanos), Math.max(0, waitNanos - earlier.waitNanos), threads);
    }
}
