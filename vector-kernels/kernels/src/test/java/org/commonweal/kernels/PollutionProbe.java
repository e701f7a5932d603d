package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Experiment: a packed type's matvec GB/s on its own, then after other work has run in the same JVM (args: the type,
 * then what runs before it: F32 = MatrixKernels on F32 weights, BASE = the bench's scalar-dequantizing baseline).
 */
public final class PollutionProbe {

    public static void main(String[] args) {
        GgmlType type = GgmlType.valueOf(args[0]);
        try (Arena arena = Arena.ofShared(); KernelPool pool = new KernelPool(1)) {
            PackedMatrix p = PackedMatrix.of(random(type, 128L << 20, arena), arena, false);
            float[] x = new float[4096];
            float[] out = new float[p.rows()];
            new SplittableRandom(1).doubles(4096).forEach(new java.util.function.DoubleConsumer() {
                int i;
                public void accept(double d) { x[i++] = (float) d; }
            });
            for (int i = 1; i < args.length; i++) {
                if (args[i].equals("MAPPED")) {
                    try {
                        java.nio.file.Path file = java.nio.file.Files.createTempFile("pollution", ".bin");
                        java.nio.file.Files.write(file, new byte[1 << 20]);
                        try (var channel = java.nio.channels.FileChannel.open(file)) {
                            MemorySegment mapped = channel.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, 1 << 20, arena);
                            long sum = 0;
                            for (int k = 0; k < 1_000_000; k++) {
                                sum += mapped.asSlice(k & 1023, 64).get(ValueLayout.JAVA_BYTE, 0);
                            }
                            System.out.println("sliced a mapped segment " + sum);
                        }
                        java.nio.file.Files.delete(file);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    continue;
                }
                GgmlType other = GgmlType.valueOf(args[i]);
                WeightMatrix w = random(other, 64L << 20, arena);
                float[] o = new float[w.rows()];
                gbs(w.byteSize(), () -> MatrixKernels.matvec(PackedMatrix.of(w, arena, false), x, o, pool));
                float[] xs = new float[4096 * 64];
                float[] os = new float[w.rows() * 64];
                WeightMatrix head = new WeightMatrix(other, w.data(), 0, 1024, 4096);
                gbs(1, () -> MatrixKernels.matmul(PackedMatrix.of(head, arena, false), xs, 4096, 64, os, 1024, pool));
                System.out.printf(Locale.ROOT, "ran %s%n", other);
            }
            System.out.printf(Locale.ROOT, "%s after the others: %.1f GB/s%n", type, gbs(p.byteSize(), () -> MatrixKernels.matvec(p, x, out, pool)));
        }
    }

    private static double gbs(long bytes, Runnable run) {
        long best = Long.MAX_VALUE;
        long start = System.nanoTime();
        while (System.nanoTime() - start < 3_000_000_000L) {
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
        if (type != GgmlType.F32) {
            for (long b = 0; b < size; b += type.typeSize()) {
                long at = type == GgmlType.Q6_K ? b + 208 : b;
                m.set(Dequantize.F16, at, Float.floatToFloat16(0.01f));
                if (type == GgmlType.Q4_K) {
                    m.set(Dequantize.F16, b + 2, Float.floatToFloat16(0.01f));
                }
            }
        } else {
            for (long i = 0; i < size; i += 4) {
                m.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 0.01f);
            }
        }
        return new WeightMatrix(type, m, 0, rows, 4096);
    }
}
