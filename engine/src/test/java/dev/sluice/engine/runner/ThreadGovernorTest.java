package dev.sluice.engine.runner;

import dev.sluice.engine.runner.ThreadGovernor.Change;
import dev.sluice.engine.runner.ThreadGovernor.Reason;
import dev.sluice.engine.runner.ThreadGovernor.Settings;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The governor fed synthetic steps on a synthetic clock: no timing of this machine enters. */
class ThreadGovernorTest {

    private static final long MS = 1_000_000L;
    private static final long S = 1_000 * MS;

    /** Windows of 50 ms or 16 steps; holds of 1 s doubling to 8 s; probes need 0.75 free CPUs, else look again in 250 ms. */
    private static final Settings SETTINGS = new Settings(0.25, 50 * MS, 16, S, 8 * S, 0.75, 250 * MS);

    /** Feeds steps of 10 ms at the governor's count, each waiting {@code waitShare} of it, from time {@code now}. */
    private static final class Driver {
        final ThreadGovernor governor;
        long now;
        final List<Change> changes = new ArrayList<>();

        Driver(int maxThreads) {
            governor = new ThreadGovernor(maxThreads, SETTINGS);
        }

        /** Runs {@code steps} steps of {@code stepMs} each; returns the changes they caused. */
        List<Change> run(int steps, long stepMs, double waitShare) {
            List<Change> caused = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                now += stepMs * MS;
                Change c = governor.onStep(now, governor.threads(), stepMs * MS, (long) (waitShare * stepMs * MS));
                if (c != null) {
                    caused.add(c);
                    changes.add(c);
                }
            }
            return caused;
        }

        /** Steps of 10 ms waiting {@code waitShare} until one changes the count (within ten minutes). */
        Change untilChange(double waitShare) {
            for (int i = 0; i < 60_000; i++) {
                List<Change> caused = run(1, 10, waitShare);
                if (!caused.isEmpty()) {
                    return caused.getFirst();
                }
            }
            throw new AssertionError("no change in ten minutes of steps");
        }

        void idle(long nanos) {
            now += nanos;
        }
    }

    @Test
    void anIdleHostKeepsEveryThread() {
        Driver d = new Driver(2);
        assertEquals(List.of(), d.run(10_000, 10, 0.01));
        assertEquals(2, d.governor.threads());
    }

    @Test
    void aStarvedWindowHalvesTheThreads() {
        Driver d = new Driver(8);
        List<Change> changes = d.run(5, 10, 0.6); // one 50 ms window
        assertEquals(List.of(new Change(Reason.STARVED, 8, 4, 0.6, 5, S)), changes);
        assertEquals(4, d.governor.threads());
        d.run(5, 10, 0.6);
        assertEquals(2, d.governor.threads());
        d.run(5, 10, 0.6);
        d.run(5, 10, 0.6);
        assertEquals(1, d.governor.threads(), "never fewer than one");
    }

    @Test
    void aWaitNoOtherProcessCausedCostsNoThreads() {
        Settings gated = new Settings(0.25, 50 * MS, 16, S, 8 * S, 0.75, 250 * MS, 0.25);
        ThreadGovernor governor = new ThreadGovernor(2, gated);
        long now = 0;
        double[] others = {0.1};
        for (int i = 0; i < 50; i++) { // ten starved windows while others take a tenth of a CPU
            now += 10 * MS;
            assertNull(governor.onStep(now, governor.threads(), 10 * MS, 6 * MS, () -> 0, () -> others[0]));
        }
        assertEquals(2, governor.threads(), "our own threads' or a client's waits: one thread would only be slower");
        others[0] = 1.0; // a busy loop arrives
        Change change = null;
        for (int i = 0; i < 5 && change == null; i++) {
            now += 10 * MS;
            change = governor.onStep(now, governor.threads(), 10 * MS, 6 * MS, () -> 0, () -> others[0]);
        }
        assertEquals(Reason.STARVED, change.reason());
        assertEquals(1, governor.threads());

        ThreadGovernor unknown = new ThreadGovernor(2, gated);
        Change withoutFigure = null;
        for (int i = 0; i < 5; i++) {
            withoutFigure = unknown.onStep((i + 1) * 10 * MS, 2, 10 * MS, 6 * MS, () -> 0, () -> Double.NaN);
        }
        assertEquals(Reason.STARVED, withoutFigure.reason(), "where the kernel does not say, a starved window halves as before");
    }

    @Test
    void oneVerySlowStepIsAWindowOfItsOwn() {
        Driver d = new Driver(2);
        List<Change> changes = d.run(1, 900, 0.9);
        assertEquals(1, changes.size());
        assertEquals(Reason.STARVED, changes.getFirst().reason());
        assertEquals(1, changes.getFirst().windowSteps());
        assertEquals(1, d.governor.threads());
    }

    @Test
    void shortStepsAreJudgedInWindowsOfSixteen() {
        Driver d = new Driver(2);
        assertEquals(List.of(), d.run(15, 1, 0.9));
        assertEquals(2, d.governor.threads(), "15 steps of 1 ms are not a window yet");
        assertEquals(Reason.STARVED, d.run(1, 1, 0.9).getFirst().reason());
    }

    @Test
    void waitAtTheThresholdIsNotStarvation() {
        Driver d = new Driver(2);
        assertEquals(List.of(), d.run(100, 10, 0.25));
    }

    @Test
    void afterTheHoldACalmHostGetsItsThreadsBack() {
        Driver d = new Driver(2);
        d.run(5, 10, 0.6);
        assertEquals(1, d.governor.threads());
        // Calm at one thread, but the hold (1 s) has not passed: no probe yet.
        assertEquals(List.of(), d.run(90, 10, 0.0));
        assertEquals(1, d.governor.threads());
        List<Change> probe = d.run(10, 10, 0.0);
        assertEquals(Reason.PROBE, probe.getFirst().reason());
        assertEquals(2, d.governor.threads());
        List<Change> recovered = d.run(5, 10, 0.02);
        assertEquals(List.of(new Change(Reason.RECOVERED, 1, 2, 0.02, 5, 0)), recovered);
        assertEquals(List.of(), d.run(1000, 10, 0.02), "settled at the maximum: no more probes");
    }

    @Test
    void failedProbesBackOffExponentiallyToTheMaximumHold() {
        Driver d = new Driver(2);
        d.run(5, 10, 0.6); // drop to 1 at t = 50 ms; probe due at 1.05 s
        List<Long> probeTimes = new ArrayList<>();
        List<Long> holds = new ArrayList<>();
        for (int i = 0; i < 60_000 && holds.size() < 6; i++) {
            // One thread waits 10% (the host is busy but one thread fits); two would wait 60%.
            List<Change> changes = d.run(1, 10, d.governor.threads() == 1 ? 0.1 : 0.6);
            for (Change c : changes) {
                if (c.reason() == Reason.PROBE) {
                    probeTimes.add(d.now);
                } else {
                    assertEquals(Reason.PROBE_FAILED, c.reason());
                    assertEquals(2, c.from());
                    assertEquals(1, c.to());
                    holds.add(c.holdNanos());
                }
            }
        }
        assertEquals(List.of(2 * S, 4 * S, 8 * S, 8 * S, 8 * S, 8 * S), holds);
        // Each probe comes one hold after the failure before it (give or take the 50 ms window).
        for (int i = 1; i < probeTimes.size(); i++) {
            long gap = probeTimes.get(i) - probeTimes.get(i - 1);
            long expected = holds.get(i - 1);
            assertEquals(expected, gap, 100 * MS, "gap before probe " + i);
        }
    }

    @Test
    void aSuccessfulProbeResetsTheHoldAndProbingGoesOnUpward() {
        Driver d = new Driver(4);
        assertEquals(new Change(Reason.STARVED, 4, 2, 0.6, 5, S), d.untilChange(0.6));
        assertEquals(new Change(Reason.STARVED, 2, 1, 0.6, 5, S), d.untilChange(0.6));
        // Two failed probes: the hold grows to 4 s.
        assertEquals(Reason.PROBE, d.untilChange(0.0).reason());
        assertEquals(new Change(Reason.PROBE_FAILED, 2, 1, 0.6, 5, 2 * S), d.untilChange(0.6));
        assertEquals(Reason.PROBE, d.untilChange(0.0).reason());
        assertEquals(new Change(Reason.PROBE_FAILED, 2, 1, 0.6, 5, 4 * S), d.untilChange(0.6));
        // The load goes: the next probe holds, the hold starts over, and probing goes on upward.
        long before = d.now;
        assertEquals(new Change(Reason.PROBE, 1, 2, 0.0, 5, 0), d.untilChange(0.0));
        assertEquals(4 * S, d.now - before, 50 * MS);
        assertEquals(new Change(Reason.RECOVERED, 1, 2, 0.0, 5, S), d.untilChange(0.0));
        before = d.now;
        assertEquals(new Change(Reason.PROBE, 2, 3, 0.0, 5, 0), d.untilChange(0.0));
        assertEquals(S, d.now - before, 50 * MS);
        assertEquals(new Change(Reason.RECOVERED, 2, 3, 0.0, 5, S), d.untilChange(0.0));
        assertEquals(new Change(Reason.PROBE, 3, 4, 0.0, 5, 0), d.untilChange(0.0));
        assertEquals(new Change(Reason.RECOVERED, 3, 4, 0.0, 5, 0), d.untilChange(0.0));
        assertEquals(List.of(), d.run(10_000, 10, 0.0));
    }

    @Test
    void aHostWithoutIdleCpusIsNotProbedAtAll() {
        ThreadGovernor g = new ThreadGovernor(2, SETTINGS);
        long now = 0;
        int[] asked = {0};
        double[] spare = {0.1}; // the other CPU is someone else's
        List<Change> changes = new ArrayList<>();
        List<Long> askedAt = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) { // 30 s of 10 ms steps
            now += 10 * MS;
            double share = g.threads() == 1 ? 0.1 : 0.6;
            long t = now;
            Change c = g.onStep(now, g.threads(), 10 * MS, (long) (share * 10 * MS), () -> {
                asked[0]++;
                askedAt.add(t);
                return spare[0];
            });
            if (c != null) {
                changes.add(c);
            }
        }
        assertEquals(1, changes.size(), "only the first drop: " + changes);
        assertEquals(Reason.STARVED, changes.getFirst().reason());
        assertEquals(1, g.threads());
        // Asked first when the hold ran out (1 s after the drop at 50 ms), then every 250 ms or so.
        assertEquals(1050 * MS, askedAt.getFirst(), 50 * MS);
        for (int i = 1; i < askedAt.size(); i++) {
            long gap = askedAt.get(i) - askedAt.get(i - 1);
            assertTrue(gap >= 250 * MS && gap <= 300 * MS, "gap " + gap);
        }
        // The load goes: the next look finds a free CPU and probes.
        spare[0] = 1.2;
        Change probe = null;
        for (int i = 0; i < 100 && probe == null; i++) {
            now += 10 * MS;
            probe = g.onStep(now, g.threads(), 10 * MS, 0, () -> spare[0]);
        }
        assertEquals(Reason.PROBE, probe.reason());
        assertEquals(2, g.threads());
    }

    @Test
    void aStarvedSingleThreadProbesNothing() {
        Driver d = new Driver(2);
        d.run(5, 10, 0.6);
        assertEquals(List.of(), d.run(1000, 10, 0.5), "every window starved at one thread: no probe");
        assertEquals(1, d.governor.threads());
        assertEquals(Reason.PROBE, d.run(5, 10, 0.0).getFirst().reason(), "the first calm window probes, the hold long past");
    }

    @Test
    void idleTimeBetweenRequestsCountsTowardTheHold() {
        Driver d = new Driver(2);
        d.run(5, 10, 0.6);
        d.idle(60 * S);
        assertEquals(Reason.PROBE, d.run(5, 10, 0.0).getFirst().reason());
    }

    @Test
    void aStepAtAnotherThreadCountIsIgnored() {
        ThreadGovernor g = new ThreadGovernor(2, SETTINGS);
        assertNull(g.onStep(S, 1, S, S));
        assertEquals(2, g.threads());
        assertEquals(Reason.STARVED, g.onStep(2 * S, 2, S, S).reason());
    }

    @Test
    void oneThreadAtMostNeverChanges() {
        Driver d = new Driver(1);
        assertEquals(List.of(), d.run(1000, 10, 0.9));
        assertEquals(List.of(), d.run(1000, 10, 0.0));
    }

    @Test
    void settingsAndCountsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new ThreadGovernor(0, SETTINGS));
        assertThrows(IllegalArgumentException.class, () -> new Settings(0, MS, 1, S, S, 0.5, MS));
        assertThrows(IllegalArgumentException.class, () -> new Settings(0.2, MS, 1, 2 * S, S, 0.5, MS));
        assertThrows(IllegalArgumentException.class, () -> new Settings(0.2, MS, 1, S, S, -1, MS));
        assertEquals(0.5, Settings.defaults().starvedShare());
    }
}
