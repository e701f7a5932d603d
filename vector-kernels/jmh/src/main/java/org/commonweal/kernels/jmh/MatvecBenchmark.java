package org.commonweal.kernels.jmh;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.commonweal.kernels.MatrixKernels;
import org.commonweal.kernels.PackedMatrix;
import org.commonweal.kernels.types.WeightMatrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One matvec over 128 MiB of weights (far beyond the cache), per type and thread count. Divide the
 * weight bytes (printed at setup) by the time per operation for GB/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = { "--add-modules=jdk.incubator.vector" })
public class MatvecBenchmark {

    @Param({ "F32", "Q8_0", "Q4_0" })
    public String type;

    @Param({ "1", "2" })
    public int threads;

    private Arena arena;
    private KernelPool pool;
    private PackedMatrix weights;
    private float[] x;
    private float[] out;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        pool = new KernelPool(threads);
        GgmlType ggmlType = GgmlType.valueOf(type);
        int cols = 4096;
        int rows = (int) ((128L << 20) / ggmlType.rowBytes(cols));
        MemorySegment m = arena.allocate(rows * ggmlType.rowBytes(cols), 64);
        SplittableRandom random = new SplittableRandom(1);
        for (long i = 0; i + 8 <= m.byteSize(); i += 8) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        ValueLayout.OfShort half = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        if (ggmlType == GgmlType.F32) {
            for (long i = 0; i < m.byteSize(); i += 4) {
                m.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) random.nextDouble());
            }
        } else {
            for (long b = 0; b < m.byteSize(); b += ggmlType.typeSize()) {
                m.set(half, b, Float.floatToFloat16(0.01f));
            }
        }
        weights = PackedMatrix.of(new WeightMatrix(ggmlType, m, 0, rows, cols), arena, false);
        x = new float[cols];
        out = new float[rows];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) random.nextDouble();
        }
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matvec() {
        MatrixKernels.matvec(weights, x, out, pool);
        return out;
    }
}
