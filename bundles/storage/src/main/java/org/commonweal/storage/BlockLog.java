package org.commonweal.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import org.commonweal.node.api.BundleThreads;
import org.commonweal.storage.internal.OpenLogs;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.rollcycles.LargeRollCycles;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * The append-only log of encoded blocks, one entry per block, numbered 0, 1, 2, ... in append order.
 * <p>
 * Backed by a Chronicle Queue in one directory, pinned to a single cycle: the queue never rolls to a new
 * file by date, so a block's number <em>is</em> its Chronicle index and {@link #read(long)} is one index
 * lookup. (Chronicle's index is {@code cycle << bits | sequence}; with the cycle fixed at 0 it is the
 * sequence.) Capacity: {@link LargeRollCycles#HUGE_DAILY}'s sequence space per cycle, far beyond any chain.
 * <p>
 * <b>Durability.</b> Chronicle writes through a shared memory mapping and by default never forces it to
 * disk (its default sync mode, {@code ASYNC}, is {@code msync(MS_ASYNC)}, which on Linux leaves the pages to the kernel's
 * ordinary write-back): an entry survives a crash of the JVM (the page cache has it) but may be lost with the
 * machine. This log
 * opens the queue with {@code SyncMode.SYNC} and calls the appender's {@code sync()} after every append,
 * so when {@link #append(byte[])} returns, the entry's bytes (header and payload, up to the write position
 * of the current mapping chunk) have been written to the device with {@code msync(MS_SYNC)}. Not forced
 * by that call: Chronicle's own bookkeeping that it writes at earlier offsets (the file header's write
 * position, index pages, once their page has been synced), {@code metadata.cq4t} (synced {@code MS_ASYNC})
 * and the directory entry of a newly created file. Process crashes (SIGKILL, even inside an unfinished
 * entry) lose no acknowledged block (CrashTest): the page cache has everything. Whether Chronicle recovers
 * from a stale header or index page after a power cut is not verified (README, Storage).
 * <p>
 * Thread-safe: every method is synchronized, and every call into Chronicle runs on the log's own thread,
 * which ends when the log is closed. (Chronicle leaves ThreadLocals in every thread that calls it; in a
 * caller's long-lived thread they would keep this bundle revision's class loader alive after an update.)
 * One writer per directory: a second {@code BlockLog} (or any Chronicle appender) on the same directory would
 * interleave entries; {@link #append(byte[])} notices a number it did not expect and fails (after the fact).
 */
public final class BlockLog implements AutoCloseable {

    /**
     * The first byte of every entry, before the block's bytes: the entry format, and what makes an empty
     * block representable (Chronicle cannot store a zero-length document: it pads it to one byte).
     */
    private static final byte ENTRY_FORMAT = 1;

    private final SingleChronicleQueue queue;
    private final ExcerptAppender appender;
    private final ExcerptTailer tailer;
    /** The one thread that calls Chronicle for this log; it ends when the log closes. */
    private final ExecutorService chronicleThread;
    private long size;
    private boolean closed;

    private BlockLog(SingleChronicleQueue queue, ExecutorService chronicleThread) {
        this.queue = queue;
        this.chronicleThread = chronicleThread;
        this.appender = queue.createAppender();
        this.tailer = queue.createTailer();
        this.size = queue.lastIndex() < 0 ? 0 : queue.lastIndex() + 1;
        OpenLogs.opened(this);
    }

    /** Opens (creating if needed) the log in {@code dir}. */
    public static BlockLog open(Path dir) {
        Objects.requireNonNull(dir, "dir");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the block log directory " + dir, e);
        }
        // A plain ThreadPoolExecutor: Executors.newSingleThreadExecutor wraps it in an executor that registers
        // with the JDK's common Cleaner, which keeps this bundle's thread factory (and so this revision) reachable
        // until the cleaner has run.
        ExecutorService thread = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, java.util.concurrent.TimeUnit.MILLISECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
            // A thread that keeps nothing of this revision once it ends (see BundleThreads).
            Thread t = BundleThreads.unstarted("block-log " + dir.getFileName(), r);
            // Chronicle loads classes (and generates code) through the thread context class loader: this
            // bundle's, which sees the embedded Chronicle jars.
            t.setContextClassLoader(BlockLog.class.getClassLoader());
            return t;
        });
        try {
            return onThread(thread, () -> {
                SingleChronicleQueue queue = SingleChronicleQueueBuilder.binary(dir)
                        .rollCycle(LargeRollCycles.HUGE_DAILY)
                        .timeProvider(() -> 0L) // one cycle for ever: block number == Chronicle index
                        .syncMode(SyncMode.SYNC)
                        .build();
                try {
                    return new BlockLog(queue, thread);
                } catch (RuntimeException | Error e) {
                    queue.close();
                    throw e;
                }
            });
        } catch (RuntimeException | Error e) {
            thread.shutdown();
            throw e;
        }
    }

    /**
     * Runs {@code call} on the log's Chronicle thread and waits for it, even if the caller is interrupted
     * (an append must not be left half-known); the interrupt is kept for the caller.
     */
    private static <T> T onThread(ExecutorService thread, Callable<T> call) {
        Future<T> result = thread.submit(call);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return result.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private <T> T onThread(Callable<T> call) {
        return onThread(chronicleThread, call);
    }

    /**
     * Appends one block and returns its number ({@link #size()} before the call). Durable when it returns
     * (see the class comment).
     */
    public synchronized long append(byte[] block) {
        Objects.requireNonNull(block, "block");
        checkOpen();
        return onThread(() -> appendHere(block));
    }

    private long appendHere(byte[] block) {
        try (DocumentContext document = appender.writingDocument()) {
            Bytes<?> bytes = document.wire().bytes();
            bytes.writeByte(ENTRY_FORMAT);
            bytes.write(block);
        }
        long index = appender.lastIndexAppended();
        if (index != size) {
            throw new IllegalStateException("block log " + queue.file() + ": appended at index " + index + ", expected "
                    + size + " (another writer on the same directory?)");
        }
        appender.sync();
        return size++;
    }

    /** The block numbered {@code index}, as appended. */
    public synchronized byte[] read(long index) {
        checkOpen();
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("block " + index + " of " + size);
        }
        return onThread(() -> readHere(index));
    }

    private byte[] readHere(long index) {
        if (!tailer.moveToIndex(index)) {
            throw new IllegalStateException("block log " + queue.file() + ": block " + index + " not found");
        }
        try (DocumentContext document = tailer.readingDocument()) {
            if (!document.isPresent() || document.index() != index) {
                throw new IllegalStateException("block log " + queue.file() + ": block " + index + " unreadable");
            }
            Bytes<?> bytes = document.wire().bytes();
            byte format = bytes.readRemaining() > 0 ? bytes.readByte() : -1;
            if (format != ENTRY_FORMAT) {
                throw new IllegalStateException("block log " + queue.file() + ": block " + index + " has entry format "
                        + format + ", expected " + ENTRY_FORMAT);
            }
            byte[] block = new byte[Math.toIntExact(bytes.readRemaining())];
            bytes.read(block);
            return block;
        }
    }

    /** How many blocks the log holds. */
    public synchronized long size() {
        checkOpen();
        return size;
    }

    /** Closes the queue; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        OpenLogs.closed(this);
        try {
            onThread(() -> {
                tailer.close();
                appender.close();
                queue.close();
                return null;
            });
        } finally {
            chronicleThread.shutdown(); // the thread ends, and with it Chronicle's ThreadLocals
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("block log " + queue.file() + " is closed");
        }
    }
}
