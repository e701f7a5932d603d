package org.commonweal.kernels;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed pool of worker threads that split a kernel's rows into contiguous ranges, one per
 * thread, the caller taking the first. Every row is computed by exactly one thread, start to end, in
 * the kernel's fixed order, so results are bit-identical whatever the thread count.
 *
 * <p>Decoding one token calls the pool a hundred times or more, a few microseconds to a millisecond
 * each, with short serial steps in between. Waking a parked thread costs tens of microseconds on a
 * virtual machine, so a worker that has just finished a part spins for {@value #SPIN_MICROS} µs before it
 * parks, and so does a caller waiting for the other parts (it also runs queued parts itself meanwhile).
 * An idle pool costs nothing: its threads park after that.
 */
public final class KernelPool implements AutoCloseable {

    /** A kernel over rows {@code [from, to)}. */
    @FunctionalInterface
    public interface RowTask {
        void run(int from, int to);
    }

    /** Below this many weight bytes per call, threads cost more than they save. */
    private static final long MIN_BYTES_PER_THREAD = 64 * 1024;
    /** How long a worker with nothing to do, or a caller waiting for its parts, spins before it parks. */
    private static final long SPIN_MICROS = 1000;
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(SPIN_MICROS);

    private final int threads;
    private final Thread[] workers;
    private final ConcurrentLinkedQueue<Part> queue = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    /** A pool of {@code threads} threads in all (the caller's included); 1 runs everything on the caller. */
    public KernelPool(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("a kernel pool needs 1..1024 threads, not " + threads);
        }
        this.threads = threads;
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

    /** One call's rows {@code [from, to)}, run by whichever thread takes it first. */
    private record Part(Call call, int from, int to) {
        void run() {
            try {
                call.task.run(from, to);
            } catch (Throwable t) {
                call.failure.compareAndSet(null, t);
            } finally {
                if (call.remaining.decrementAndGet() == 0) {
                    LockSupport.unpark(call.caller);
                }
            }
        }
    }

    /** A call of {@link #forRows}: its task, the parts not yet done, and the first failure. */
    private record Call(RowTask task, Thread caller, AtomicInteger remaining, AtomicReference<Throwable> failure) {
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
        Call call = new Call(task, Thread.currentThread(), new AtomicInteger(parts - 1), new AtomicReference<>());
        for (int p = 1; p < parts; p++) {
            queue.offer(new Part(call, (int) ((long) rows * p / parts), (int) ((long) rows * (p + 1) / parts)));
        }
        for (int w = 0; w < parts - 1; w++) {
            LockSupport.unpark(workers[w]);
        }
        try {
            task.run(0, rows / parts);
        } finally {
            awaitParts(call);
        }
        Throwable t = call.failure.get();
        if (t instanceof RuntimeException e) {
            throw e;
        } else if (t instanceof Error e) {
            throw e;
        }
    }

    /** Waits until every part of {@code call} is done, running queued parts meanwhile; never interrupted. */
    private void awaitParts(Call call) {
        boolean interrupted = false;
        long spinStart = System.nanoTime();
        while (call.remaining.get() != 0) {
            Part part = queue.poll();
            if (part != null) {
                part.run();
                spinStart = System.nanoTime();
            } else if (System.nanoTime() - spinStart < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1));
                interrupted |= Thread.interrupted();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void work() {
        long idleSince = System.nanoTime();
        while (!closed) {
            Part part = queue.poll();
            if (part != null) {
                part.run();
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
                if (Thread.interrupted() && closed) {
                    return;
                }
                idleSince = System.nanoTime();
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
