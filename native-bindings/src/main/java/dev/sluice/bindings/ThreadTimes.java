package dev.sluice.bindings;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * How long some threads of this process have run, and how long they have waited in a run queue:
 * ready to run, but the kernel gave their CPU to another task. Linux keeps both per thread in
 * {@code /proc/self/task/TID/schedstat} ("on-CPU ns, run-queue wait ns, timeslices"); a busy host
 * shows up there directly, whatever kind of load or limit makes it busy.
 *
 * <p>The files stay open and are re-read with a positioned read and parsed in place: a few
 * microseconds per thread, cheap enough to read around every engine step. Where the files do not
 * exist (not Linux, a kernel without {@code CONFIG_SCHED_INFO}), {@link #available()} is false and
 * every figure reads 0. Not thread-safe.
 */
public final class ThreadTimes implements AutoCloseable {

    private static final Path TASKS = Path.of("/proc/self/task");

    private final long[] threadIds;
    private final FileChannel[] files;
    private final ByteBuffer buffer = ByteBuffer.allocate(128);

    private ThreadTimes(long[] threadIds, FileChannel[] files) {
        this.threadIds = threadIds;
        this.files = files;
    }

    /** Opens the threads' schedstat files; unavailable as a whole if any of them cannot be opened. */
    public static ThreadTimes open(long... threadIds) {
        FileChannel[] files = new FileChannel[threadIds.length];
        try {
            for (int i = 0; i < threadIds.length; i++) {
                files[i] = FileChannel.open(TASKS.resolve(Long.toString(threadIds[i])).resolve("schedstat"),
                        StandardOpenOption.READ);
            }
            return new ThreadTimes(threadIds.clone(), files);
        } catch (IOException | RuntimeException e) {
            closeAll(files);
            return new ThreadTimes(threadIds.clone(), null);
        }
    }

    public boolean available() {
        return files != null;
    }

    public long[] threadIds() {
        return threadIds.clone();
    }

    /** Run-queue wait of the first {@code count} threads since they started, summed, in nanoseconds. */
    public long waitNanos(int count) {
        return sum(count, 1);
    }

    /** Time on a CPU of the first {@code count} threads since they started, summed, in nanoseconds. */
    public long cpuNanos(int count) {
        return sum(count, 0);
    }

    private long sum(int count, int field) {
        if (files == null) {
            return 0;
        }
        long total = 0;
        for (int i = 0; i < Math.min(count, files.length); i++) {
            try {
                buffer.clear();
                int n = files[i].read(buffer, 0);
                total += n <= 0 ? 0 : parseField(buffer.array(), n, field);
            } catch (IOException | RuntimeException e) {
                // the thread is gone: it runs and waits no more
            }
        }
        return total;
    }

    /** Field {@code field} (0: on-CPU, 1: wait) of a schedstat line, parsed without garbage; 0 when it is not one. */
    static long parseField(byte[] line, int length, int field) {
        int i = 0;
        for (int f = 0; ; f++) {
            long value = 0;
            int start = i;
            for (; i < length && line[i] >= '0' && line[i] <= '9'; i++) {
                value = value * 10 + (line[i] - '0');
            }
            if (i == start) {
                return 0;
            }
            if (f == field) {
                return value;
            }
            if (i >= length || line[i] != ' ') {
                return 0;
            }
            while (i < length && line[i] == ' ') {
                i++;
            }
        }
    }

    /** The kernel's id of the calling thread (its {@code /proc/thread-self}); -1 where unknown. */
    public static long currentThreadId() {
        try {
            // "/proc/thread-self" links to "PID/task/TID"
            Path target = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            return Long.parseLong(target.getFileName().toString());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The ids of this process's threads now, ascending; empty where unknown. */
    public static long[] processThreadIds() {
        try (Stream<Path> tasks = Files.list(TASKS)) {
            return tasks.map(p -> p.getFileName().toString()).filter(s -> s.chars().allMatch(Character::isDigit))
                    .mapToLong(Long::parseLong).sorted().toArray();
        } catch (IOException | RuntimeException e) {
            return new long[0];
        }
    }

    /**
     * The threads in {@code after} but not in {@code before} whose name is {@code name}: the
     * threads a native call started (they inherit their creator's name). Ascending, which is their
     * order of creation unless the kernel's ids wrapped around in between.
     */
    public static long[] startedBetween(long[] before, long[] after, String name) {
        List<Long> started = new ArrayList<>();
        for (long tid : after) {
            if (Arrays.binarySearch(before, tid) < 0 && (name == null || name.equals(threadName(tid)))) {
                started.add(tid);
            }
        }
        return started.stream().mapToLong(Long::longValue).toArray();
    }

    /** The kernel's name of a thread of this process ({@code comm}); null where unknown. */
    public static String threadName(long tid) {
        try {
            return Files.readString(TASKS.resolve(Long.toString(tid)).resolve("comm")).strip();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public void close() {
        closeAll(files);
    }

    private static void closeAll(FileChannel[] files) {
        if (files == null) {
            return;
        }
        for (FileChannel f : files) {
            if (f != null) {
                try {
                    f.close();
                } catch (IOException ignored) {
                    // nothing to release
                }
            }
        }
    }
}
