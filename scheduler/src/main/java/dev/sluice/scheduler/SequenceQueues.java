package dev.sluice.scheduler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * The scheduler's unfinished sequences by state: running (holding KV blocks), waiting (to be
 * admitted, or recomputed after preemption) and swapped (their blocks in host swap slots). Each
 * is kept in {@link #ORDER}: priority, then arrival, then choice index. Engine-thread only.
 */
final class SequenceQueues {

    static final Comparator<Sequence> ORDER = Comparator
            .comparingInt((Sequence s) -> s.request().priority())
            .thenComparingLong(s -> s.request().order)
            .thenComparingInt(Sequence::index);

    final List<Sequence> running = new ArrayList<>();
    final TreeSet<Sequence> waiting = new TreeSet<>(ORDER);
    final List<Sequence> swapped = new ArrayList<>();
    /** Set when {@link #running} gained members out of order; sorting every step costs more than checking. */
    private boolean runningUnsorted;

    /** Adds {@code seq} to the running list (sorted again before the next step is planned). */
    void addRunning(Sequence seq) {
        running.add(seq);
        runningUnsorted = true;
    }

    /** Puts the running list back in {@link #ORDER} if it gained members since it last was. */
    void sortRunning() {
        if (runningUnsorted) {
            running.sort(ORDER);
            runningUnsorted = false;
        }
    }

    /** Takes {@code seq} out of the queue its status names. */
    void remove(Sequence seq) {
        switch (seq.status) {
            case RUNNING -> running.remove(seq);
            case WAITING -> waiting.remove(seq);
            case SWAPPED -> swapped.remove(seq);
            default -> { }
        }
    }

    boolean isEmpty() {
        return running.isEmpty() && waiting.isEmpty() && swapped.isEmpty();
    }

    List<Sequence> all() {
        List<Sequence> all = new ArrayList<>(running);
        all.addAll(waiting);
        all.addAll(swapped);
        return all;
    }
}
