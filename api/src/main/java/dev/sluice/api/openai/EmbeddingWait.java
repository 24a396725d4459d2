package dev.sluice.api.openai;

import dev.sluice.scheduler.Request;
import dev.sluice.scheduler.RequestUpdate;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Waits, on the handler thread, until every request of a wave of prefill-only requests is done:
 * one condition that every request's stream signals, as {@link Submission} does for generation.
 */
final class EmbeddingWait {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean dirty;

    private EmbeddingWait() {
    }

    /** Returns the engine's error if a request failed, else null once all are done. */
    static String await(List<Request> requests) throws InterruptedException {
        EmbeddingWait wait = new EmbeddingWait();
        for (Request r : requests) {
            r.stream().onChange(wait::signal);
        }
        boolean[] done = new boolean[requests.size()];
        int remaining = done.length;
        String error = null;
        while (remaining > 0) {
            boolean progressed = false;
            for (int i = 0; i < done.length; i++) {
                RequestUpdate update = done[i] ? null : requests.get(i).stream().poll();
                if (update != null && update.done()) {
                    done[i] = true;
                    remaining--;
                    progressed = true;
                    if (update.error() != null && error == null) {
                        error = update.error();
                    }
                }
            }
            if (!progressed && remaining > 0) {
                wait.await();
            }
        }
        return error;
    }

    private void signal() {
        lock.lock();
        try {
            dirty = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void await() throws InterruptedException {
        lock.lock();
        try {
            if (!dirty) {
                changed.await(1, TimeUnit.SECONDS);
            }
            dirty = false;
        } finally {
            lock.unlock();
        }
    }
}
