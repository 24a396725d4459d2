package dev.sluice.bindings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The CPUs this process may actually compute on, and the compute thread count that follows.
 *
 * <p>Why it matters: ggml's threads meet at a spinning barrier after every graph node (about a
 * thousand per decode step), so a step runs at the pace of its slowest thread. A thread more than
 * the CPUs we get is parked by the kernel for a whole time slice at a time, and every barrier
 * waits for it: one thread too many turns a 10 ms step into seconds. So the default is the
 * smallest of
 * <ul>
 *   <li>the CPUs in this thread's affinity mask ({@code taskset}, a cpuset cgroup),</li>
 *   <li>the physical cores among them (SMT siblings share execution units; ggml's matmuls gain
 *       nothing from the second one of a pair),</li>
 *   <li>the whole CPUs a CFS bandwidth quota pays for (cgroup v2 {@code cpu.max}, v1
 *       {@code cpu.cfs_quota_us}), rounded down: a thread that outruns the quota is throttled, and
 *       the JVM's own threads (HTTP, GC, JIT) are billed to the same quota,</li>
 *   <li>the JDK's {@link Runtime#availableProcessors()} (affinity and a container's limit, or
 *       {@code -XX:ActiveProcessorCount} when set).</li>
 * </ul>
 * Linux files only; elsewhere, or where they are missing, the JDK's count stands.
 *
 * @param allowedCpus   CPUs in the affinity mask
 * @param allowedList   the mask as Linux prints it, e.g. {@code 0-3,8}
 * @param physicalCores cores with at least one allowed CPU
 * @param quotaCpus     the tightest CFS quota along this process's cgroup path, in CPUs; 0: none
 * @param jdkCpus       {@link Runtime#availableProcessors()}
 */
public record CpuAllowance(int allowedCpus, String allowedList, int physicalCores, double quotaCpus, int jdkCpus) {

    /** What this process is allowed now. */
    public static CpuAllowance detect() {
        return detect(Path.of("/proc"), Path.of("/sys"), Runtime.getRuntime().availableProcessors());
    }

    /** As {@link #detect()}, reading {@code proc} and {@code sys} as if mounted there (tests). */
    static CpuAllowance detect(Path proc, Path sys, int jdkCpus) {
        String list = null;
        BitSet allowed = null;
        String status = read(proc.resolve("thread-self/status"));
        if (status == null) {
            status = read(proc.resolve("self/status"));
        }
        if (status != null) {
            for (String line : status.split("\n")) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    list = line.substring(line.indexOf(':') + 1).strip();
                    allowed = parseCpuList(list);
                }
            }
        }
        if (allowed == null || allowed.isEmpty()) {
            allowed = new BitSet();
            allowed.set(0, jdkCpus);
            list = jdkCpus == 1 ? "0" : "0-" + (jdkCpus - 1);
        }
        int cores = physicalCores(allowed, sys, read(proc.resolve("cpuinfo")));
        double quota = quotaCpus(read(proc.resolve("self/cgroup")), sys.resolve("fs/cgroup"));
        return new CpuAllowance(allowed.cardinality(), list, cores, quota, jdkCpus);
    }

    /** The default compute thread count: the smallest of the limits above, at least 1. */
    public int defaultThreads() {
        int threads = Math.min(Math.min(allowedCpus, physicalCores), jdkCpus);
        if (quotaCpus > 0) {
            threads = Math.min(threads, (int) Math.floor(quotaCpus));
        }
        return Math.max(1, threads);
    }

    /** For the log: what limited the count, e.g. "CPUs 0-1 allowed, 2 physical cores, no CPU quota". */
    public String describe() {
        return String.format(Locale.ROOT, "CPUs %s allowed, %d physical core%s among them, %s%s", allowedList,
                physicalCores, physicalCores == 1 ? "" : "s",
                quotaCpus > 0 ? String.format(Locale.ROOT, "a cgroup CPU quota of %.2f CPUs", quotaCpus) : "no CPU quota",
                jdkCpus < allowedCpus ? ", the JDK sees " + jdkCpus : "");
    }

    /** Linux's CPU list format: {@code 0-3,8,10-11}; null when it is not one. */
    static BitSet parseCpuList(String text) {
        BitSet cpus = new BitSet();
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            for (String part : text.strip().split(",")) {
                int dash = part.indexOf('-');
                int from = Integer.parseInt(part.substring(0, dash < 0 ? part.length() : dash).strip());
                int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1).strip());
                if (from < 0 || to < from) {
                    return null;
                }
                cpus.set(from, to + 1);
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return cpus;
    }

    /**
     * Cores with at least one allowed CPU: distinct SMT sibling sets from sysfs topology, else
     * distinct (physical id, core id) pairs from cpuinfo, else one core per CPU.
     */
    static int physicalCores(BitSet allowed, Path sys, String cpuinfo) {
        Set<String> cores = new HashSet<>();
        for (int cpu = allowed.nextSetBit(0); cpu >= 0; cpu = allowed.nextSetBit(cpu + 1)) {
            String siblings = read(sys.resolve("devices/system/cpu/cpu" + cpu + "/topology/thread_siblings_list"));
            if (siblings == null) {
                cores.clear();
                break;
            }
            cores.add(siblings.strip());
        }
        if (cores.isEmpty() && cpuinfo != null) {
            int processor = -1;
            String physicalId = "0";
            for (String line : cpuinfo.split("\n")) {
                String value = line.indexOf(':') < 0 ? "" : line.substring(line.indexOf(':') + 1).strip();
                if (line.startsWith("processor")) {
                    processor = parseInt(value);
                    physicalId = "0";
                } else if (line.startsWith("physical id")) {
                    physicalId = value;
                } else if (line.startsWith("core id") && processor >= 0 && allowed.get(processor)) {
                    cores.add(physicalId + "/" + value);
                }
            }
        }
        return cores.isEmpty() ? allowed.cardinality() : Math.min(cores.size(), allowed.cardinality());
    }

    /**
     * The tightest CFS bandwidth limit on this process's cgroup or any ancestor, in CPUs; 0 for
     * none. {@code selfCgroup} is /proc/self/cgroup; the hierarchies are looked for where systemd
     * and container runtimes mount them. Inside a cgroup namespace the path is "/" and the mount
     * is the container's own group; without one, the walk up still reaches the mount's root.
     */
    static double quotaCpus(String selfCgroup, Path cgroupRoot) {
        if (selfCgroup == null) {
            return 0;
        }
        double tightest = 0;
        for (String line : selfCgroup.split("\n")) {
            String[] parts = line.strip().split(":", 3);
            if (parts.length != 3) {
                continue;
            }
            if (parts[0].equals("0") && parts[1].isEmpty()) {
                tightest = tighter(tightest, walk(parts[2], cgroupRoot, true));
            } else if (List.of(parts[1].split(",")).contains("cpu")) {
                for (String mount : List.of("cpu,cpuacct", "cpu", "cpuacct,cpu")) {
                    tightest = tighter(tightest, walk(parts[2], cgroupRoot.resolve(mount), false));
                }
            }
        }
        return tightest;
    }

    private static double walk(String cgroupPath, Path mount, boolean v2) {
        double tightest = 0;
        Path relative = Path.of(cgroupPath.startsWith("/") ? cgroupPath.substring(1) : cgroupPath);
        for (Path p = relative; ; p = p.getParent()) {
            Path dir = p == null || p.toString().isEmpty() ? mount : mount.resolve(p);
            tightest = tighter(tightest, v2 ? cpuMax(read(dir.resolve("cpu.max")))
                    : cfsQuota(read(dir.resolve("cpu.cfs_quota_us")), read(dir.resolve("cpu.cfs_period_us"))));
            if (p == null || p.toString().isEmpty()) {
                return tightest;
            }
        }
    }

    /** cgroup v2 {@code cpu.max}: "QUOTA PERIOD" or "max PERIOD"; 0 for no limit. */
    static double cpuMax(String text) {
        if (text == null) {
            return 0;
        }
        String[] parts = text.strip().split("\\s+");
        if (parts.length < 1 || parts[0].equals("max")) {
            return 0;
        }
        long quota = parseLong(parts[0]);
        long period = parts.length > 1 ? parseLong(parts[1]) : 100_000;
        return quota > 0 && period > 0 ? (double) quota / period : 0;
    }

    /** cgroup v1: {@code cpu.cfs_quota_us} (-1 for none) over {@code cpu.cfs_period_us}. */
    static double cfsQuota(String quotaText, String periodText) {
        if (quotaText == null || periodText == null) {
            return 0;
        }
        long quota = parseLong(quotaText.strip());
        long period = parseLong(periodText.strip());
        return quota > 0 && period > 0 ? (double) quota / period : 0;
    }

    private static double tighter(double a, double b) {
        if (a <= 0) {
            return b;
        }
        return b <= 0 ? a : Math.min(a, b);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static int parseInt(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long parseLong(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
