package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/** Experiments: matvec variants on hot (L2-resident) and cold (128 MiB) weights, one thread, interleaved. */
public final class LaneProbe {

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("mm")) {
            matmul(GgmlType.valueOf(args[1]), Integer.parseInt(args[2]));
            return;
        }
        String type = args.length > 0 ? args[0] : "Q4_0";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        try (Arena arena = Arena.ofShared(); KernelPool pool = new KernelPool(1)) {
            GgmlType t = GgmlType.valueOf(type);
            WeightMatrix cold = random(t, 128L << 20, arena);
            WeightMatrix hot = new WeightMatrix(t, cold.data(), 0, (int) ((512L << 10) / t.rowBytes(4096)), 4096);
            LaneWeights lcold = LaneWeights.repack(cold, arena);
            LaneWeights lhot = new LaneWeights(t, lcold.data(), hot.rows(), 4096);
            float[] x = new float[4096];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] out = new float[cold.rows()];
            LaneActivations a = LaneActivations.of(t, x, 0, 4096, false);

            for (int round = 0; round < rounds; round++) {
                StringBuilder line = new StringBuilder("round " + round + ":");
                for (boolean isHot : new boolean[] { true, false }) {
                    WeightMatrix w = isHot ? hot : cold;
                    LaneWeights lw = isHot ? lhot : lcold;
                    int reps = isHot ? 200 : 1;
                    line.append(isHot ? "  HOT " : "  COLD ");
                    line.append(String.format(Locale.ROOT, "current %.1f", gbs(w.byteSize() * reps, () -> {
                        for (int k = 0; k < reps; k++) {
                            MatrixKernels.matvec(w, x, out, pool);
                        }
                    })));
                    for (int streams : new int[] { 1, 2 }) {
                        LaneKernels.streams = streams;
                        line.append(String.format(Locale.ROOT, " x%d %.1f", streams, gbs(lw.rows() * lw.rowBytes() * reps, () -> {
                            for (int k = 0; k < reps; k++) {
                                LaneKernels.rows(lw, a, out, 0, 0, lw.rows());
                            }
                        })));
                    }
                }
                System.out.println(line);
            }
        }
    }

    /** GFLOP/s of 4096 x 4096 matmul with 64 tokens: current, then lane with several row blocks (Q6_K's tiles). */
    private static void matmul(GgmlType t, int rounds) {
        try (Arena arena = Arena.ofShared(); KernelPool pool = new KernelPool(1)) {
            WeightMatrix w = random(t, 4096 * t.rowBytes(4096), arena);
            LaneWeights lw = LaneWeights.repack(w, arena);
            int tokens = 64;
            float[] x = new float[4096 * tokens];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] out = new float[4096 * tokens];
            long flops = 2L * 4096 * 4096 * tokens;
            for (int round = 0; round < rounds; round++) {
                StringBuilder line = new StringBuilder("round " + round + ":");
                line.append(String.format(Locale.ROOT, " current %.1f", gbs(flops, () -> MatrixKernels.matmul(w, x, 4096, tokens, out, 4096, pool))));
                for (int block : new int[] { 8, 32, 96 }) {
                    LaneKernels.rowBlock = block;
                    line.append(String.format(Locale.ROOT, " rows/block %d %.1f", block, gbs(flops, () -> LaneKernels.matmul(lw, x, 4096, tokens, out, 4096, pool))));
                }
                LaneKernels.rowBlock = 32;
                System.out.println(line);
            }
        }
    }

    private static double gbs(long bytes, Runnable run) {
        long best = Long.MAX_VALUE;
        long start = System.nanoTime();
        while (System.nanoTime() - start < 1_500_000_000L) {
            long t0 = System.nanoTime();
            run.run();
            best = Math.min(best, System.nanoTime() - t0);
        }
        return (double) bytes / best;
    }

    private static WeightMatrix random(GgmlType type, long bytes, Arena arena) {
        int rows = (int) (bytes / type.rowBytes(4096));
        long size = rows * type.rowBytes(4096);
        MemorySegment m = arena.allocate(size, 64);
        SplittableRandom random = new SplittableRandom(2026);
        for (long i = 0; i + 8 <= size; i += 8) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        for (long blk = 0; blk < size; blk += type.typeSize()) {
            m.set(Dequantize.F16, blk, Float.floatToFloat16(0.01f));
            if (type == GgmlType.Q4_K || type == GgmlType.Q5_K) {
                m.set(Dequantize.F16, blk + 2, Float.floatToFloat16(0.01f));
            }
        }
        return new WeightMatrix(type, m, 0, rows, 4096);
    }
}
