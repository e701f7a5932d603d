package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The lane = block kernels (packed weights) beside the same definition computed from GGUF's layout
 * ({@link UnpackedRows}, labelled "current"), in one run: STREAM triad and FMA peak (the
 * higher of before and after), then per type matvec GB/s (GGUF bytes per second; the repacked rows are
 * as long for Q4_0, Q8_0 and Q6_K, 2.8% longer for Q4_K, 2.3% for Q5_K) and 64-token matmul GFLOP/s over the first 4096 rows,
 * current and lane, interleaved. Build with {@code ./mvnw -o test-compile -pl vector-kernels/kernels}, then
 * run from the repository root:
 * <pre>
 * java @framework/jvm.options -cp vector-kernels/kernels/target/classes:vector-kernels/kernels/target/test-classes \
 *   org.commonweal.kernels.LaneBench [threads...]
 * </pre>
 * {@code -Dlane.types=Q6_K} (comma-separated) measures some types alone: a type measured after others in
 * the same JVM can run slower code compiled under their profiles.
 */
public final class LaneBench {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final int COLS = 4096;
    private static final int TOKENS = 64;

    private static volatile float sink;

    private LaneBench() {
    }

    public static void main(String[] args) {
        LaneKernels.streams = Integer.getInteger("lane.streams", LaneKernels.streams);
        int[] threadCounts = args.length == 0 ? new int[] { 1, 2 } : java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        try (Arena arena = Arena.ofShared()) {
            long big = 256L << 20;
            MemorySegment a = arena.allocate(big, 64);
            MemorySegment b = arena.allocate(big, 64);
            MemorySegment c = arena.allocate(big, 64);
            b.fill((byte) 1);
            c.fill((byte) 2);
            a.fill((byte) 0);
            SplittableRandom random = new SplittableRandom(2026);
            GgmlType[] types = System.getProperty("lane.types") == null ? new GgmlType[] { GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K,
                    GgmlType.Q6_K }
                    : java.util.Arrays.stream(System.getProperty("lane.types").split(",")).map(GgmlType::valueOf).toArray(GgmlType[]::new);
            WeightMatrix[] w = new WeightMatrix[types.length];
            LaneWeights[] lw = new LaneWeights[types.length];
            for (int i = 0; i < types.length; i++) {
                w[i] = randomWeights(types[i], 128L << 20, random, arena);
                long start = System.nanoTime();
                lw[i] = LaneWeights.repack(w[i], arena);
                System.out.printf(Locale.ROOT, "%s: %d x %d, %d MiB, repacked in %.2f s%n", types[i], w[i].rows(), w[i].cols(),
                        w[i].byteSize() >> 20, (System.nanoTime() - start) / 1e9);
            }
            for (int threads : threadCounts) {
                try (KernelPool pool = new KernelPool(threads)) {
                    double triad0 = triadGBs(a, b, c, pool);
                    double peak0 = fmaPeak(pool);
                    double[][] figures = new double[types.length][];
                    for (int i = 0; i < types.length; i++) {
                        figures[i] = measure(w[i], lw[i], pool);
                    }
                    double triad = Math.max(triad0, triadGBs(a, b, c, pool));
                    double peak = Math.max(peak0, fmaPeak(pool));
                    System.out.printf(Locale.ROOT, "%n== %d thread(s): triad %.1f GB/s, FMA peak %.0f GFLOP/s%n", threads, triad, peak);
                    System.out.printf(Locale.ROOT, "%-5s | %-22s %-22s | %-22s %-22s%n", "type", "matvec current GB/s", "matvec lane GB/s",
                            "matmul current GF/s", "matmul lane GF/s");
                    for (int i = 0; i < types.length; i++) {
                        double[] f = figures[i];
                        System.out.printf(Locale.ROOT, "%-5s | %6.1f (%3.0f%% triad)     %6.1f (%3.0f%% triad)     | %6.1f (%3.0f%% peak)      %6.1f (%3.0f%% peak)%n",
                                types[i], f[0], 100 * f[0] / triad, f[1], 100 * f[1] / triad, f[2], 100 * f[2] / peak, f[3], 100 * f[3] / peak);
                    }
                }
            }
        }
    }

    /** {matvec current, matvec lane} GB/s and {matmul current, matmul lane} GFLOP/s. */
    private static double[] measure(WeightMatrix w, LaneWeights lw, KernelPool pool) {
        float[] x = randomFloats(w.cols() * TOKENS);
        float[] out = new float[w.rows() * TOKENS];
        double mvCurrent = w.byteSize() / best(() -> time(() -> MatrixKernels.matvec(w, x, out, pool)));
        double mvLane = w.byteSize() / best(() -> time(() -> LaneKernels.matvec(lw, x, out, pool)));
        int rows = 4096;
        WeightMatrix ws = new WeightMatrix(w.type(), w.data(), 0, rows, w.cols());
        LaneWeights lws = new LaneWeights(lw.type(), lw.data(), rows, lw.cols());
        double flops = 2.0 * rows * w.cols() * TOKENS;
        double mmCurrent = flops / best(() -> time(() -> MatrixKernels.matmul(ws, x, w.cols(), TOKENS, out, rows, pool)));
        double mmLane = flops / best(() -> time(() -> LaneKernels.matmul(lws, x, w.cols(), TOKENS, out, rows, pool)));
        return new double[] { mvCurrent, mvLane, mmCurrent, mmLane };
    }

    private static long time(Runnable work) {
        long start = System.nanoTime();
        work.run();
        return System.nanoTime() - start;
    }

    /** Warm up for at least 1 s and until no 5% gain in the last 0.5 s (at most 5 s), then the best of 5. */
    private static double best(LongSupplier run) {
        long warmUp = 1_000_000_000L;
        long start = System.nanoTime();
        long lastGain = start;
        long fastest = Long.MAX_VALUE;
        for (int i = 0; ; i++) {
            long t = run.getAsLong();
            long now = System.nanoTime();
            if (t < fastest * 0.95) {
                lastGain = now;
            }
            fastest = Math.min(fastest, t);
            if (i >= 2 && now - start >= warmUp && (now - lastGain >= warmUp / 2 || now - start >= 5 * warmUp)) {
                break;
            }
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            best = Math.min(best, run.getAsLong());
        }
        return best;
    }

    private static double triadGBs(MemorySegment a, MemorySegment b, MemorySegment c, KernelPool pool) {
        long chunk = 16 * 1024L;
        int chunks = (int) (a.byteSize() / 4 / chunk);
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long start = System.nanoTime();
            pool.forRows(chunks, Long.MAX_VALUE / chunks / 2, (from, to) -> {
                FloatVector sv = FloatVector.broadcast(F, 3f);
                for (long i = from * chunk * 4; i < to * chunk * 4; i += 64) {
                    FloatVector bv = FloatVector.fromMemorySegment(F, b, i, ByteOrder.nativeOrder());
                    FloatVector cv = FloatVector.fromMemorySegment(F, c, i, ByteOrder.nativeOrder());
                    cv.fma(sv, bv).intoMemorySegment(a, i, ByteOrder.nativeOrder());
                }
            });
            best = Math.min(best, System.nanoTime() - start);
        }
        return 3.0 * chunks * chunk * 4 / best;
    }

    private static double fmaPeak(KernelPool pool) {
        long iterations = 20_000_000L;
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
        return 2.0 * 16 * 12 * iterations * pool.threads() / best;
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

    private static float[] randomFloats(int n) {
        SplittableRandom random = new SplittableRandom(n);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** As cw bench kernels: random bytes, every scale 0.01. */
    private static WeightMatrix randomWeights(GgmlType type, long bytes, SplittableRandom random, Arena arena) {
        int rows = (int) (bytes / type.rowBytes(COLS));
        long size = rows * type.rowBytes(COLS);
        MemorySegment m = arena.allocate(size, 64);
        for (long i = 0; i + 8 <= size; i += 8) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        short scale = Float.floatToFloat16(0.01f);
        for (long blk = 0; blk < size; blk += type.typeSize()) {
            if (type == GgmlType.Q6_K) {
                m.set(Dequantize.F16, blk + 208, scale); // d is last; the int8 scales stay random
                continue;
            }
            m.set(Dequantize.F16, blk, scale);
            if (type == GgmlType.Q4_K || type == GgmlType.Q5_K) {
                m.set(Dequantize.F16, blk + 2, scale);
            }
        }
        return new WeightMatrix(type, m, 0, rows, COLS);
    }
}
