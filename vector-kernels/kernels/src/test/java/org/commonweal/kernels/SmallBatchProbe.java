package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/** Experiment: tokens per millisecond of T tokens through MatrixKernels.matmul, 8192 x 2048 weights (args: type, threads). */
public final class SmallBatchProbe {

    public static void main(String[] args) {
        GgmlType type = GgmlType.valueOf(args.length > 0 ? args[0] : "Q4_0");
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        try (Arena arena = Arena.ofShared(); KernelPool pool = new KernelPool(threads)) {
            int rows = 8192;
            int cols = 2048;
            long size = rows * type.rowBytes(cols);
            MemorySegment m = arena.allocate(size, 64);
            SplittableRandom random = new SplittableRandom(2026);
            for (long i = 0; i + 8 <= size; i += 8) {
                m.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
            }
            for (long b = 0; b < size; b += type.typeSize()) {
                m.set(Dequantize.F16, b, Float.floatToFloat16(0.01f));
            }
            PackedMatrix p = PackedMatrix.of(new WeightMatrix(type, m, 0, rows, cols), arena, false);
            float[] x = new float[cols * 64];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] out = new float[rows * 64];
            for (int round = 0; round < 3; round++) {
                StringBuilder line = new StringBuilder("round " + round + " (tokens/ms):");
                for (int tokens : new int[] { 1, 2, 4, 8, 16, 64 }) {
                    double matmul = best(() -> MatrixKernels.matmul(p, x, cols, tokens, out, rows, pool));
                    line.append(String.format(Locale.ROOT, " T=%d %.2f", tokens, tokens / matmul * 1e6));
                }
                System.out.println(line);
            }
        }
    }

    private static double best(Runnable run) {
        long best = Long.MAX_VALUE;
        long start = System.nanoTime();
        while (System.nanoTime() - start < 1_000_000_000L) {
            long t0 = System.nanoTime();
            run.run();
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best;
    }
}
