package dev.sluice.bindings;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;

/**
 * How much of some CPUs was free for us: the idle, iowait and nice times of their lines in
 * {@code /proc/stat}, summed. The difference of two readings over the wall time between them is
 * how many of those CPUs nobody wanted in that time, or only {@code nice}d processes, which give
 * way to ours (when the kernel ranks them against us at all: not across autogroups or cgroups,
 * where a thread started on such a CPU still has to share it). It tells whether one more compute
 * thread would find a CPU of its own.
 *
 * <p>{@code /proc/stat} counts in USER_HZ ticks (100 per second on Linux, whatever the kernel's
 * own tick), so readings a second apart are precise to about 1%. The file stays open and is
 * re-read with a positioned read. Where it cannot be read, {@link #available()} is false.
 * Not thread-safe.
 */
public final class IdleCpus implements AutoCloseable {

    private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ = 100

    private final BitSet cpus;
    private final FileChannel file;
    private ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);

    private IdleCpus(BitSet cpus, FileChannel file) {
        this.cpus = cpus;
        this.file = file;
    }

    /** Watches the CPUs in {@code cpus}, e.g. this process's affinity mask; null for every CPU. */
    public static IdleCpus open(BitSet cpus) {
        try {
            return new IdleCpus(cpus, FileChannel.open(Path.of("/proc/stat"), StandardOpenOption.READ));
        } catch (IOException | RuntimeException e) {
            return new IdleCpus(cpus, null);
        }
    }

    /** The CPUs in this thread's affinity mask ({@code /proc/thread-self/status}); null where unknown. */
    public static BitSet allowedCpus() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/thread-self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return CpuAllowance.parseCpuList(line.substring(line.indexOf(':') + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return null;
    }

    public boolean available() {
        return file != null;
    }

    /** The watched CPUs' idle, iowait and nice time since boot, in nanoseconds; -1 when unavailable. */
    public long freeNanos() {
        String stat = read();
        return stat == null ? -1 : ticksToNanos(parse(stat, cpus));
    }

    /**
     * The watched CPUs' time running anything (user, nice, system, irq, softirq: not idle, iowait
     * or steal) since boot, in nanoseconds; -1 when unavailable. Less this process's CPU time, the
     * difference of two readings is what other processes took of these CPUs in between, niced or not.
     */
    public long busyNanos() {
        String stat = read();
        return stat == null ? -1 : ticksToNanos(parseBusy(stat, cpus));
    }

    private static long ticksToNanos(long ticks) {
        return ticks < 0 ? -1 : ticks * NANOS_PER_TICK;
    }

    private String read() {
        if (file == null) {
            return null;
        }
        try {
            buffer.clear();
            int n;
            while ((n = file.read(buffer, 0)) == buffer.capacity()) {
                buffer = ByteBuffer.allocate(buffer.capacity() * 2); // a machine of many CPUs
            }
            return n <= 0 ? null : new String(buffer.array(), 0, n, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Nice, idle and iowait ticks of the {@code cpuN} lines whose N is in {@code cpus} (every
     * {@code cpuN} line when null); -1 when there is no such line.
     */
    static long parse(String stat, BitSet cpus) {
        return sum(stat, cpus, 2, 4, 5); // cpuN user nice system idle iowait irq softirq steal ...
    }

    /** User, nice, system, irq and softirq ticks of the chosen {@code cpuN} lines; -1 when there is none. */
    static long parseBusy(String stat, BitSet cpus) {
        return sum(stat, cpus, 1, 2, 3, 6, 7);
    }

    private static long sum(String stat, BitSet cpus, int... fields) {
        long ticks = 0;
        boolean found = false;
        for (String line : stat.split("\n")) {
            if (!line.startsWith("cpu") || line.length() < 4 || !Character.isDigit(line.charAt(3))) {
                continue; // the aggregate "cpu " line and the rest of the file
            }
            String[] f = line.split("\\s+");
            if (f.length < 8) {
                continue;
            }
            int cpu = Integer.parseInt(f[0].substring(3));
            if (cpus == null || cpus.get(cpu)) {
                for (int field : fields) {
                    ticks += Long.parseLong(f[field]);
                }
                found = true;
            }
        }
        return found ? ticks : -1;
    }

    @Override
    public void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // nothing to release
            }
        }
    }
}
