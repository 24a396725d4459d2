package dev.sluice.scheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one thread that computes on a device: it drives every {@link EngineLoop} attached to it (a
 * served model version each), one step at a time, so two models never run graphs on the same
 * cores at once (two ggml thread pools on two cores is the contention collapse the hardening work
 * measured). Loops with work take turns, one step each: a step batches all of its model's running
 * requests, so equal turns give every request on the device the same token rate, and compute
 * goes to each model in proportion to its demand (its steps are as big as its batch). A model
 * with nothing to do gets no turns; one that wakes up joins the rotation without a burst.
 *
 * <p>All native state of the attached engines is touched on this thread alone. Attaching and
 * detaching are requests other threads make; the lane carries them out between steps.
 */
public final class ComputeLane implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ComputeLane.class.getName());
    /** How long a lane whose loops only have paused (back-pressured) requests waits before looking again. */
    private static final long PAUSED_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final String name;
    private final Thread thread;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Lane-thread only. */
    private final List<Member> members = new ArrayList<>();
    private volatile boolean closed;
    private boolean signalled;

    /** An attached loop and its place in the stride schedule. */
    private static final class Member {
        final EngineLoop loop;
        /** Turns taken (as of the others when it joined or woke): the loop with the fewest is next. */
        long pass;
        long drainDeadlineNanos = Long.MAX_VALUE;
        CompletableFuture<Void> detached;

        Member(EngineLoop loop) {
            this.loop = loop;
        }
    }

    private ComputeLane(String name) {
        this.name = name;
        this.thread = Thread.ofPlatform().name("sluice-engine" + (name.isEmpty() ? "" : "-" + name)).daemon(false)
                .unstarted(this::run);
    }

    /** Starts a lane; {@code name} tells its thread apart (e.g. the device). */
    public static ComputeLane start(String name) {
        ComputeLane lane = new ComputeLane(name);
        lane.thread.start();
        return lane;
    }

    /** Adds {@code loop}; the lane steps it from its next turn on. */
    public void attach(EngineLoop loop) {
        loop.lane(this);
        tasks.add(() -> {
            Member member = new Member(loop);
            member.pass = members.stream().mapToLong(m -> m.pass).min().orElse(0);
            members.add(member);
        });
        signal();
    }

    /**
     * Stops {@code loop} accepting requests, lets its in-flight ones run for up to {@code drain},
     * cancels the rest, and detaches it. The returned future completes once the lane has let go
     * of it for good: its engine may then be closed from any thread.
     */
    public CompletableFuture<Void> detach(EngineLoop loop, Duration drain) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.stopAccepting();
        tasks.add(() -> {
            for (Member m : members) {
                if (m.loop == loop) {
                    m.drainDeadlineNanos = System.nanoTime() + drain.toNanos();
                    m.detached = done;
                    return;
                }
            }
            done.complete(null); // never attached, or already gone
        });
        signal();
        if (!thread.isAlive()) {
            loop.release();
            done.complete(null);
        }
        return done;
    }

    /** Wakes the lane: a request arrived, or a task is waiting. Any thread. */
    void signal() {
        lock.lock();
        try {
            signalled = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean isLaneThread() {
        return Thread.currentThread() == thread;
    }

    private void run() {
        try {
            while (!closed) {
                for (Runnable task; (task = tasks.poll()) != null; ) {
                    task.run();
                }
                boolean worked = step();
                detachFinished();
                if (!worked) {
                    idle(members.stream().anyMatch(m -> m.loop.hasWork()) ? PAUSED_WAIT_NANOS : Long.MAX_VALUE);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (Member m : members) {
                m.loop.release();
                if (m.detached != null) {
                    m.detached.complete(null);
                }
            }
            members.clear();
        }
    }

    /** One step of the loop with work whose turn it is. Returns false when none had any. */
    private boolean step() {
        Member next = null;
        long floor = Long.MAX_VALUE;
        for (Member m : members) {
            if (m.loop.hasWorkOrArrivals()) {
                floor = Math.min(floor, m.pass);
                if (next == null || m.pass < next.pass) {
                    next = m;
                }
            }
        }
        if (next == null) {
            // Nothing to run: still let every loop admit, expire and publish (cheap when idle).
            for (Member m : List.copyOf(members)) {
                runOnce(m);
            }
            return false;
        }
        boolean worked = runOnce(next);
        next.pass++;
        // A loop that sat idle does not bank turns: it rejoins at the busy loops' count.
        for (Member m : members) {
            if (m.pass < floor) {
                m.pass = floor;
            }
        }
        return worked;
    }

    private boolean runOnce(Member m) {
        try {
            return m.loop.runOnce();
        } catch (Throwable t) {
            // The loop cannot go on: it is gone from the lane; the others keep their turns.
            LOG.log(System.Logger.Level.ERROR, "engine loop stopped", t);
            members.remove(m);
            m.loop.failed(t);
            if (m.detached != null) {
                m.detached.complete(null);
            }
            return true;
        }
    }

    private void detachFinished() {
        long now = System.nanoTime();
        for (Member m : List.copyOf(members)) {
            if (m.detached != null && (now - m.drainDeadlineNanos > 0 || !m.loop.hasWorkOrArrivals())) {
                members.remove(m);
                m.loop.release();
                m.detached.complete(null);
            }
        }
    }

    private void idle(long nanos) throws InterruptedException {
        lock.lock();
        try {
            if (!signalled && tasks.isEmpty() && members.stream().noneMatch(m -> m.loop.needsAttention())) {
                if (nanos == Long.MAX_VALUE) {
                    wake.await();
                } else {
                    wake.awaitNanos(nanos);
                }
            }
            signalled = false;
        } finally {
            lock.unlock();
        }
    }

    /** Stops the lane: every attached loop's requests are cancelled and its state released. */
    @Override
    public void close() {
        closed = true;
        signal();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ComputeLane[" + name + ", " + thread.getName() + "]";
    }
}
