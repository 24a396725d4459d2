package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Every live sequence's {@link Sampler}, by sequence id, spread over sampling <em>lanes</em>: each
 * lane has its own {@link SamplingWorkspace}, and a sequence stays in the lane it started in (its
 * forks too). A step's rows are sampled lane by lane, the lanes at once on worker threads when
 * the step has enough to sample ({@link #sampleAll}): the model's compute threads are idle while
 * the step samples, and a grammar's full check (a native pass over a large vocabulary) or a
 * 152k-entry softmax per row adds up at 16 or 64 sequences.
 *
 * <p>Thread use: the engine thread calls every method. In {@link #sampleAll} each lane is worked
 * by exactly one thread (the engine thread takes lane 0) and the call returns only after every
 * lane is done, so no workspace, sampler or native grammar is ever used by two threads at once,
 * and the executor's hand-over and join order their uses. {@link #close()} frees the samplers,
 * the workspaces and the workers.
 */
public final class Samplers implements AutoCloseable {

    /** Sampling rows per step from which the lanes run at once (below that, handing over costs more). */
    static final int PARALLEL_MIN_ROWS = 4;

    private final List<SamplingWorkspace> lanes = new ArrayList<>();
    private final int[] laneSize;
    private final Map<Long, Sampler> byId = new HashMap<>();
    private final Map<Long, Integer> laneOf = new HashMap<>();
    private final ExecutorService workers;
    private final List<List<Job>> work = new ArrayList<>();

    /** One lane: everything on the engine thread. */
    public Samplers(SamplingWorkspace workspace) {
        this(workspace, 1);
    }

    /** @param laneCount sampling lanes (threads) to spread a step's rows over; 1 = the engine thread alone */
    public Samplers(SamplingWorkspace workspace, int laneCount) {
        lanes.add(workspace);
        for (int i = 1; i < laneCount; i++) {
            lanes.add(workspace.sibling());
        }
        laneSize = new int[laneCount];
        for (int i = 0; i < laneCount; i++) {
            work.add(new ArrayList<>());
        }
        workers = laneCount > 1 ? Executors.newFixedThreadPool(laneCount - 1, r -> {
            Thread t = new Thread(r, "sluice-sampling");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /** The default lane count: the cores this process may use, at most 4 (sampling is a small part of a step). */
    public static int defaultLanes() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Creates sequence {@code id}'s sampler, in the lane with the fewest, and records its prompt.
     *
     * @throws IllegalArgumentException for parameters no sampler can take
     */
    public void start(long id, SamplingParams params, int[] prompt) {
        int lane = 0;
        for (int i = 1; i < laneSize.length; i++) {
            if (laneSize[i] < laneSize[lane]) {
                lane = i;
            }
        }
        Sampler sampler = new Sampler(params, lanes.get(lane));
        try {
            sampler.acceptPrompt(prompt);
        } catch (RuntimeException e) {
            sampler.close();
            throw e;
        }
        replace(id, sampler, lane);
    }

    /** Gives sequence {@code child} a fork of {@code parent}'s sampler for choice {@code index}, in its lane. */
    public void fork(long parent, long child, int index) {
        replace(child, get(parent).fork(index), laneOf.get(parent));
    }

    public boolean has(long id) {
        return byId.containsKey(id);
    }

    /** Samples sequence {@code id}'s next token from {@code row} and records it as accepted. */
    public SampledToken sample(long id, MemorySegment row) {
        Sampler sampler = get(id);
        SampledToken sampled = sampler.sample(row);
        sampler.accept(sampled.token());
        return sampled;
    }

    /**
     * Samples (and accepts) the next token of each of {@code ids[0..count)} from its row:
     * {@code tokens[i]} gets the result, or {@code errors[i]} why sampling failed (a grammar with no
     * allowed token, say). Lanes run at once when {@code count} reaches {@link #PARALLEL_MIN_ROWS}.
     */
    public void sampleAll(long[] ids, MemorySegment[] rows, int count, SampledToken[] tokens, String[] errors) {
        if (workers == null || count < PARALLEL_MIN_ROWS) {
            for (int i = 0; i < count; i++) {
                sampleOne(ids[i], rows[i], i, tokens, errors);
            }
            return;
        }
        for (List<Job> lane : work) {
            lane.clear();
        }
        for (int i = 0; i < count; i++) {
            Sampler sampler = byId.get(ids[i]);
            if (sampler == null) {
                errors[i] = "no sampler for sequence " + ids[i];
                continue;
            }
            work.get(laneOf.get(ids[i])).add(new Job(sampler, rows[i], i));
        }
        List<Future<?>> running = new ArrayList<>(work.size());
        for (int lane = 1; lane < work.size(); lane++) {
            List<Job> jobs = work.get(lane);
            if (!jobs.isEmpty()) {
                running.add(workers.submit(() -> run(jobs, tokens, errors)));
            }
        }
        run(work.getFirst(), tokens, errors);
        // Every lane is waited for, even when interrupted: none may still use its samplers after this returns.
        boolean interrupted = false;
        for (Future<?> f : running) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (java.util.concurrent.ExecutionException e) {
                    break; // run() catches per row; an Error here has already set nothing for its rows
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        for (int i = 0; i < count; i++) {
            if (tokens[i] == null && errors[i] == null) {
                errors[i] = "sampling did not complete";
            }
        }
    }

    private record Job(Sampler sampler, MemorySegment row, int index) {
    }

    private static void run(List<Job> jobs, SampledToken[] tokens, String[] errors) {
        for (Job job : jobs) {
            try {
                SampledToken sampled = job.sampler.sample(job.row);
                job.sampler.accept(sampled.token());
                tokens[job.index] = sampled;
            } catch (RuntimeException e) {
                errors[job.index] = e.getMessage() == null ? e.toString() : e.getMessage();
            }
        }
    }

    private void sampleOne(long id, MemorySegment row, int i, SampledToken[] tokens, String[] errors) {
        try {
            tokens[i] = sample(id, row);
        } catch (RuntimeException e) {
            errors[i] = e.getMessage() == null ? e.toString() : e.getMessage();
        }
    }

    /** Whether sequence {@code id} reports log-probabilities. */
    public boolean logprobs(long id) {
        return get(id).logprobs();
    }

    /** Drops sequence {@code id}'s sampler; unknown ids are ignored. */
    public void end(long id) {
        Sampler sampler = byId.remove(id);
        if (sampler != null) {
            laneSize[laneOf.remove(id)]--;
            sampler.close();
        }
    }

    /** Live samplers (for tests and leak checks). */
    public int size() {
        return byId.size();
    }

    /** Sampling lanes (threads a step's rows may be spread over). */
    public int laneCount() {
        return lanes.size();
    }

    private Sampler get(long id) {
        Sampler sampler = byId.get(id);
        if (sampler == null) {
            throw new IllegalStateException("no sampler for sequence " + id);
        }
        return sampler;
    }

    private void replace(long id, Sampler sampler, int lane) {
        Sampler old = byId.put(id, sampler);
        if (old != null) {
            laneSize[laneOf.get(id)]--;
            old.close();
        }
        laneOf.put(id, lane);
        laneSize[lane]++;
    }

    @Override
    public void close() {
        if (workers != null) {
            workers.shutdownNow();
        }
        byId.values().forEach(Sampler::close);
        byId.clear();
        laneOf.clear();
        lanes.forEach(SamplingWorkspace::close);
    }
}
