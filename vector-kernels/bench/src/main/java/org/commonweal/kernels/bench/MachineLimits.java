package org.commonweal.kernels.bench;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import org.commonweal.kernels.KernelPool;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The machine's limits, measured in the benchmark's own run: memory bandwidth and FMA throughput (also used by {@code cw bench inference}). */
public final class MachineLimits {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static volatile float sink;

    private MachineLimits() {
    }

    /** STREAM triad a = b + s*c over segments much larger than the last-level cache: GB/s, counting 3 arrays. */
    public static double triadGBs(MemorySegment a, MemorySegment b, MemorySegment c, KernelPool pool, int repetitions) {
        long floats = a.byteSize() / 4;
        long chunk = F.length() * 1024L;
        int chunks = (int) (floats / chunk);
        float s = 3.0f;
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < repetitions; rep++) {
            long start = System.nanoTime();
            pool.forRows(chunks, Long.MAX_VALUE / chunks / 2, (from, to) -> {
                FloatVector sv = FloatVector.broadcast(F, s);
                for (long i = from * chunk * 4; i < to * chunk * 4; i += F.vectorByteSize()) {
                    FloatVector bv = FloatVector.fromMemorySegment(F, b, i, ByteOrder.nativeOrder());
                    FloatVector cv = FloatVector.fromMemorySegment(F, c, i, ByteOrder.nativeOrder());
                    cv.fma(sv, bv).intoMemorySegment(a, i, ByteOrder.nativeOrder());
                }
            });
            best = Math.min(best, System.nanoTime() - start);
        }
        return 3.0 * chunks * chunk * 4 / best;
    }

    /** Read-only streaming (a sum) over a segment much larger than the cache: GB/s. */
    public static double readGBs(MemorySegment a, KernelPool pool, int repetitions) {
        long floats = a.byteSize() / 4;
        long chunk = F.length() * 1024L;
        int chunks = (int) (floats / chunk);
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < repetitions; rep++) {
            long start = System.nanoTime();
            pool.forRows(chunks, Long.MAX_VALUE / chunks / 2, (from, to) -> {
                FloatVector acc0 = FloatVector.zero(F);
                FloatVector acc1 = acc0;
                for (long i = from * chunk * 4; i < to * chunk * 4; i += 2L * F.vectorByteSize()) {
                    acc0 = acc0.add(FloatVector.fromMemorySegment(F, a, i, ByteOrder.nativeOrder()));
                    acc1 = acc1.add(FloatVector.fromMemorySegment(F, a, i + F.vectorByteSize(), ByteOrder.nativeOrder()));
                }
                sink += acc0.add(acc1).reduceLanes(VectorOperators.ADD);
            });
            best = Math.min(best, System.nanoTime() - start);
        }
        return (double) chunks * chunk * 4 / best;
    }

    /** FMA throughput with 12 independent accumulators per thread, all threads at once: GFLOP/s. */
    public static double fmaPeakGflops(KernelPool pool, long iterations) {
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long start = System.nanoTime();
            pool.forRows(pool.threads(), Long.MAX_VALUE / pool.threads() / 2, (from, to) -> {
                for (int part = from; part < to; part++) {
                    sink += fmaLoop(iterations);
                }
            });
            best = Math.min(best, System.nanoTime() - start);
        }
        return 2.0 * F.length() * 12 * iterations * pool.threads() / best;
    }

    private static float fmaLoop(long iterations) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f);
        FloatVector k = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
        FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
        FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, k); a1 = a1.fma(m, k); a2 = a2.fma(m, k); a3 = a3.fma(m, k);
            a4 = a4.fma(m, k); a5 = a5.fma(m, k); a6 = a6.fma(m, k); a7 = a7.fma(m, k);
            a8 = a8.fma(m, k); a9 = a9.fma(m, k); a10 = a10.fma(m, k); a11 = a11.fma(m, k);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
