package org.commonweal.kernels.bench;

import org.commonweal.kernels.Dequantize;
import org.commonweal.kernels.KernelPool;
import org.commonweal.kernels.types.WeightMatrix;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The simplest correct Vector API kernel, the yardstick for every technique: one row at a time,
 * dequantized to floats by the scalar reference, then an FP32 dot product; a matmul is one such
 * matvec per token (every weight read once per token).
 */
final class Baseline {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Baseline() {
    }

    static void matvec(WeightMatrix w, float[] x, int xo, float[] out, int oo, KernelPool pool) {
        pool.forRows(w.rows(), w.rowBytes(), (from, to) -> {
            float[] row = new float[w.cols()];
            for (int r = from; r < to; r++) {
                Dequantize.row(w.type(), w.data(), w.rowOffset(r), row, 0, w.cols());
                out[oo + r] = dot(row, x, xo, w.cols());
            }
        });
    }

    static void matmul(WeightMatrix w, float[] x, int tokens, float[] out, KernelPool pool) {
        for (int t = 0; t < tokens; t++) {
            matvec(w, x, t * w.cols(), out, t * w.rows(), pool);
        }
    }

    private static float dot(float[] w, float[] x, int xo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int c = 0;
        for (; c <= n - F.length(); c += F.length()) {
            acc = FloatVector.fromArray(F, w, c).fma(FloatVector.fromArray(F, x, xo + c), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; c < n; c++) {
            sum += w[c] * x[xo + c];
        }
        return sum;
    }
}
