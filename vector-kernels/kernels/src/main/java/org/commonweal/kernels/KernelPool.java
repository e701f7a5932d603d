package org.commonweal.kernels;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A small fixed pool of worker threads that split a kernel's rows into contiguous ranges, one per
 * thread, the caller taking the first. Every row is computed by exactly one thread, start to end, in
 * the kernel's fixed order, so results are bit-identical whatever the thread count.
 */
public final class KernelPool implements AutoCloseable {

    /** A kernel over rows {@code [from, to)}. */
    @FunctionalInterface
    public interface RowTask {
        void run(int from, int to);
    }

    /** Below this many weight bytes per call, threads cost more than they save. */
    private static final long MIN_BYTES_PER_THREAD = 64 * 1024;

    private final int threads;
    private final Thread[] workers;
    private final BlockingQueue<Runnable> queue;
    private volatile boolean closed;

    /** A pool of {@code threads} threads in all (the caller's included); 1 runs everything on the caller. */
    public KernelPool(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("a kernel pool needs 1..1024 threads, not " + threads);
        }
        this.threads = threads;
        this.queue = new ArrayBlockingQueue<>(threads * 4);
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name("commonweal-kernel-" + (i + 1)).start(this::work);
        }
    }

    /** One thread per available processor. */
    public static KernelPool ofAvailableProcessors() {
        return new KernelPool(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /**
     * Fails, naming the fix, if the pool's threads cannot read {@code segment} (memory of a confined
     * arena belongs to one thread): kernels would otherwise fail deep inside a worker.
     */
    public void checkAccessible(MemorySegment segment, String what) {
        if (workers.length > 0 && !segment.isAccessibleBy(workers[0])) {
            throw new IllegalArgumentException(what + " is in memory confined to one thread, so this pool's "
                    + threads + " threads cannot read it; allocate it from Arena.ofShared(), Arena.global() or"
                    + " Arena.ofAuto(), or map the file with a shared arena");
        }
    }

    /**
     * Runs {@code task} over {@code rows} rows, split in contiguous ranges among the threads;
     * {@code bytesPerRow} (the weight bytes a row reads) decides whether splitting pays.
     */
    public void forRows(int rows, long bytesPerRow, RowTask task) {
        int parts = (int) Math.max(1, Math.min(threads, Math.min(rows, rows * bytesPerRow / MIN_BYTES_PER_THREAD)));
        if (parts == 1) {
            task.run(0, rows);
            return;
        }
        if (closed) {
            throw new IllegalStateException("this kernel pool is closed");
        }
        CountDownLatch done = new CountDownLatch(parts - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) rows * p / parts);
            int to = (int) ((long) rows * (p + 1) / parts);
            Runnable part = () -> {
                try {
                    task.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            };
            try {
                queue.put(part);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while handing out kernel work", e);
            }
        }
        try {
            task.run(0, rows / parts);
        } finally {
            awaitUninterruptibly(done);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException e) {
            throw e;
        } else if (t instanceof Error e) {
            throw e;
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void work() {
        while (!closed) {
            try {
                Runnable part = queue.poll(100, TimeUnit.MILLISECONDS);
                if (part != null) {
                    part.run();
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread worker : workers) {
            worker.interrupt();
        }
    }
}
