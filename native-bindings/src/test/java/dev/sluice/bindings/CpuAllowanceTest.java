package dev.sluice.bindings;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuAllowanceTest {

    @TempDir
    Path root;

    private Path write(String relative, String content) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    /** A 4-core, 8-thread machine whose sibling of CPU n is n + 4, as x86 numbers them. */
    private void smtTopology() throws IOException {
        for (int cpu = 0; cpu < 8; cpu++) {
            write("sys/devices/system/cpu/cpu" + cpu + "/topology/thread_siblings_list", (cpu % 4) + "," + (cpu % 4 + 4) + "\n");
        }
    }

    @Test
    void cpuListsParseAsLinuxPrintsThem() {
        BitSet cpus = CpuAllowance.parseCpuList("0-3,8,10-11\n");
        assertEquals(7, cpus.cardinality());
        assertTrue(cpus.get(8) && cpus.get(11) && !cpus.get(9));
        assertNull(CpuAllowance.parseCpuList("3-1"));
        assertNull(CpuAllowance.parseCpuList("x"));
        assertNull(CpuAllowance.parseCpuList(""));
    }

    @Test
    void quotasReadFromCgroupV2AndV1() {
        assertEquals(1.5, CpuAllowance.cpuMax("150000 100000\n"), 1e-12);
        assertEquals(0, CpuAllowance.cpuMax("max 100000\n"));
        assertEquals(2, CpuAllowance.cfsQuota("200000\n", "100000\n"), 1e-12);
        assertEquals(0, CpuAllowance.cfsQuota("-1\n", "100000\n"));
        assertEquals(0, CpuAllowance.cfsQuota(null, "100000"));
    }

    @Test
    void anUnlimitedMachineGetsOneThreadPerPhysicalCore() throws IOException {
        smtTopology();
        write("proc/thread-self/status", "Name:\tjava\nCpus_allowed_list:\t0-7\n");
        write("proc/self/cgroup", "0::/user.slice\n");
        write("sys/fs/cgroup/user.slice/cpu.max", "max 100000\n");
        CpuAllowance a = CpuAllowance.detect(root.resolve("proc"), root.resolve("sys"), 8);
        assertEquals(new CpuAllowance(8, "0-7", 4, 0, 8), a);
        assertEquals(4, a.defaultThreads());
        assertEquals("CPUs 0-7 allowed, 4 physical cores among them, no CPU quota", a.describe());
    }

    @Test
    void anAffinityMaskCountsOnlyTheCoresItTouches() throws IOException {
        smtTopology();
        // taskset -c 0,4,1: two siblings of core 0, and core 1
        write("proc/thread-self/status", "Cpus_allowed_list:\t0-1,4\n");
        CpuAllowance a = CpuAllowance.detect(root.resolve("proc"), root.resolve("sys"), 3);
        assertEquals(3, a.allowedCpus());
        assertEquals(2, a.physicalCores());
        assertEquals(2, a.defaultThreads());
    }

    @Test
    void theTightestQuotaOnTheCgroupPathRoundsDown() throws IOException {
        smtTopology();
        write("proc/thread-self/status", "Cpus_allowed_list:\t0-7\n");
        write("proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
        write("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
        write("sys/fs/cgroup/kubepods/pod1/cpu.max", "250000 100000\n");
        write("sys/fs/cgroup/kubepods/cpu.max", "600000 100000\n");
        CpuAllowance a = CpuAllowance.detect(root.resolve("proc"), root.resolve("sys"), 3);
        assertEquals(2.5, a.quotaCpus(), 1e-12);
        assertEquals(2, a.defaultThreads());
        assertTrue(a.describe().contains("a cgroup CPU quota of 2.50 CPUs"), a.describe());
    }

    @Test
    void aQuotaBelowOneCpuStillComputesOnOneThread() throws IOException {
        write("proc/self/status", "Cpus_allowed_list:\t0-3\n"); // no thread-self: an old kernel
        write("proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n1:memory:/docker/abc\n");
        write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "50000\n");
        write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
        CpuAllowance a = CpuAllowance.detect(root.resolve("proc"), root.resolve("sys"), 1);
        assertEquals(0.5, a.quotaCpus(), 1e-12);
        assertEquals(4, a.physicalCores(), "no topology, no cpuinfo: one core per CPU");
        assertEquals(1, a.defaultThreads());
    }

    @Test
    void cpuinfoStandsInForMissingSysfsTopology() throws IOException {
        write("proc/thread-self/status", "Cpus_allowed_list:\t0-3\n");
        write("proc/cpuinfo", """
                processor\t: 0
                physical id\t: 0
                core id\t\t: 0

                processor\t: 1
                physical id\t: 0
                core id\t\t: 1

                processor\t: 2
                physical id\t: 0
                core id\t\t: 0

                processor\t: 3
                physical id\t: 0
                core id\t\t: 1
                """);
        CpuAllowance a = CpuAllowance.detect(root.resolve("proc"), root.resolve("sys"), 4);
        assertEquals(2, a.physicalCores());
        assertEquals(2, a.defaultThreads());
    }

    @Test
    void withoutProcTheJdkCountStands() {
        CpuAllowance a = CpuAllowance.detect(root.resolve("nothing"), root.resolve("nothing"), 6);
        assertEquals(6, a.allowedCpus());
        assertEquals(6, a.defaultThreads());
    }

    @Test
    void thisMachineGetsAtLeastOneThreadAndNoMoreThanTheJdkSees() {
        CpuAllowance a = CpuAllowance.detect();
        assertTrue(a.defaultThreads() >= 1 && a.defaultThreads() <= Runtime.getRuntime().availableProcessors(), a.toString());
    }
}
