package io.interchange.reconciliation;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One side of a run read on a thread of its own while the run's thread reads another: two remote systems, each read
 * page by page, so a run takes as long as the slower of them rather than both together. Made by
 * {@link Comparison.Reading#alongside}; {@link #result} waits for it, {@link #close} stops it if the run gives up
 * first.
 */
public final class Alongside<T> implements AutoCloseable {

    private final String side;
    private final ExecutorService thread;
    private final Future<T> read;

    Alongside(long runId, String side, Callable<T> read) {
        this.side = side;
        this.thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "reconciliation-" + runId + "-" + side));
        this.read = thread.submit(read);
    }

    /** What the read answered, or its failure as it was thrown there. */
    public T result() {
        try {
            return read.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException("side '" + side + "' not read: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while side '" + side + "' was read", e);
        }
    }

    /** Stops the read if it is still under way (the run failed on its own thread), and its thread. */
    @Override
    public void close() {
        read.cancel(true);
        thread.shutdownNow();
    }
}
