package org.commonweal.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class KernelPoolTest {

    /** Enough bytes per row that every thread gets a part. */
    private static final long BIG_ROWS = 1 << 20;

    @ParameterizedTest
    @ValueSource(ints = { 1, 2, 3, 4 })
    void everyRowRunsExactlyOnceInContiguousRanges(int threads) {
        try (KernelPool pool = new KernelPool(threads)) {
            for (int rows : new int[] { 1, 2, 3, 7, 64, 1001 }) {
                AtomicIntegerArray runs = new AtomicIntegerArray(rows);
                List<int[]> ranges = java.util.Collections.synchronizedList(new ArrayList<>());
                pool.forRows(rows, BIG_ROWS, (from, to) -> {
                    ranges.add(new int[] { from, to });
                    for (int r = from; r < to; r++) {
                        runs.incrementAndGet(r);
                    }
                });
                for (int r = 0; r < rows; r++) {
                    assertEquals(1, runs.get(r), "row " + r + " of " + rows);
                }
                assertEquals(Math.min(threads, rows), ranges.size(), rows + " rows on " + threads + " threads");
            }
        }
    }

    @Test
    void smallWorkStaysOnTheCaller() {
        try (KernelPool pool = new KernelPool(2)) {
            Thread caller = Thread.currentThread();
            pool.forRows(100, 16, (from, to) -> {
                assertSame(caller, Thread.currentThread());
                assertEquals(0, from);
                assertEquals(100, to);
            });
        }
    }

    @Test
    void aFailureInAnyPartReachesTheCallerAndThePoolGoesOn() {
        try (KernelPool pool = new KernelPool(3)) {
            for (int failing = 0; failing < 3; failing++) {
                int part = failing;
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.forRows(3, BIG_ROWS, (from, to) -> {
                    if (from == part) {
                        throw new IllegalStateException("part " + part);
                    }
                }));
                assertEquals("part " + part, e.getMessage());
            }
            AtomicIntegerArray runs = new AtomicIntegerArray(3);
            pool.forRows(3, BIG_ROWS, (from, to) -> runs.incrementAndGet(from));
            assertEquals("[1, 1, 1]", runs.toString());
        }
    }

    @Test
    void concurrentCallersEachGetAllTheirRows() throws Exception {
        try (KernelPool pool = new KernelPool(2)) {
            List<CompletableFuture<long[]>> calls = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int seed = c;
                calls.add(CompletableFuture.supplyAsync(() -> {
                    long[] sums = new long[200];
                    for (int round = 0; round < 200; round++) {
                        long[] rowsSeen = new long[97];
                        pool.forRows(97, BIG_ROWS, (from, to) -> {
                            for (int r = from; r < to; r++) {
                                rowsSeen[r] = r + seed;
                            }
                        });
                        sums[round] = java.util.Arrays.stream(rowsSeen).sum();
                    }
                    return sums;
                }));
            }
            for (int c = 0; c < calls.size(); c++) {
                for (long sum : calls.get(c).get(60, TimeUnit.SECONDS)) {
                    assertEquals(96 * 97 / 2 + 97L * c, sum);
                }
            }
        }
    }

    @Test
    void anInterruptedCallerStillWaitsForItsPartsAndKeepsTheInterrupt() {
        try (KernelPool pool = new KernelPool(2)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(2);
            Thread.currentThread().interrupt();
            pool.forRows(2, BIG_ROWS, (from, to) -> {
                if (from == 1) {
                    sleep(50);
                }
                runs.incrementAndGet(from);
            });
            assertTrue(Thread.interrupted(), "the caller's interrupt is kept");
            assertEquals("[1, 1]", runs.toString());
        }
    }

    @Test
    void closingStopsTheWorkersAndRefusesWork() throws Exception {
        java.util.Set<Thread> before = kernelThreads();
        KernelPool pool = new KernelPool(3);
        pool.forRows(3, BIG_ROWS, (from, to) -> { });
        java.util.Set<Thread> workers = kernelThreads();
        workers.removeAll(before);
        assertEquals(2, workers.size(), "the pool's own workers");
        pool.close();
        for (Thread worker : workers) {
            worker.join(TimeUnit.SECONDS.toMillis(10));
            assertFalse(worker.isAlive(), worker.getName() + " still alive after close");
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.forRows(3, BIG_ROWS, (from, to) -> { }));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    private static java.util.Set<Thread> kernelThreads() {
        java.util.Set<Thread> threads = new java.util.HashSet<>(Thread.getAllStackTraces().keySet());
        threads.removeIf(t -> !t.getName().startsWith("commonweal-kernel-"));
        return threads;
    }

    private static void sleep(long millis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
