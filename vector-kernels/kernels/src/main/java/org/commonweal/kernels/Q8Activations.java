package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * An activation vector quantized once per matvec (once per token in a matmul), as ggml's CPU backend
 * does before a product with quantized weights: to Q8_0 for Q4_0, Q4_1, Q5_0 and Q8_0 weights, to Q8_K
 * for the K-quants. The values are exactly those of {@link Quantize#q8_0} and {@link Quantize#q8K}
 * (the tests compare them byte for byte); they are kept unpacked for the kernels: quants as ints and as
 * floats (the same integers), one scale per block, and the sum of each run of 32 quants.
 */
final class Q8Activations {

    /** Q8_0 or Q8_K. */
    final GgmlType type;
    /** The quants, widened. */
    final int[] q;
    /** The same quants as floats (exact): the operands of the matmul tiles. */
    final float[] qf;
    /** One scale per block (Q8_0: the F16 scale as stored, widened; Q8_K: the F32 scale). */
    final float[] d;
    /** The sum of each run of 32 quants. */
    final int[] sums;

    private Q8Activations(GgmlType type, int n) {
        this.type = type;
        this.q = new int[n];
        this.qf = new float[n];
        this.d = new float[n / type.blockSize()];
        this.sums = new int[n / 32];
    }

    /** The activation type that weights of {@code weights} are multiplied with: Q8_0, Q8_K, or null (FP32 dot). */
    static GgmlType typeFor(GgmlType weights) {
        return switch (weights) {
            case Q4_0, Q4_1, Q5_0, Q8_0 -> GgmlType.Q8_0;
            case Q4_K, Q5_K, Q6_K, Q8_K -> GgmlType.Q8_K;
            case F32, F16, BF16 -> null;
        };
    }

    /** {@code x[xo .. xo + n)} quantized to {@code type} (n a multiple of its block size). */
    static Q8Activations quantize(GgmlType type, float[] x, int xo, int n) {
        Q8Activations a = new Q8Activations(type, n);
        if (type == GgmlType.Q8_0) {
            a.quantizeQ8_0(x, xo, n);
        } else {
            a.quantizeQ8K(x, xo, n);
        }
        for (int i = 0; i < n; i++) {
            a.qf[i] = a.q[i];
            a.sums[i >> 5] += a.q[i];
        }
        return a;
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;

    /**
     * {@link Quantize#q8_0} with vectors, the same values: the scale from the block's largest magnitude
     * (a maximum, exact in any order), each quant {@code roundf(x * (1 / d))} as trunc(|v|) plus one if the
     * exact fraction is at least one half, signed. A block holding NaN or an infinity goes through the
     * scalar code, whose treatment of them is order-dependent.
     */
    private void quantizeQ8_0(float[] x, int xo, int n) {
        for (int b = 0; b < n / 32; b++) {
            int in = xo + 32 * b;
            FloatVector lo = FloatVector.fromArray(F, x, in);
            FloatVector hi = FloatVector.fromArray(F, x, in + 16);
            float amax = lo.abs().max(hi.abs()).reduceLanes(VectorOperators.MAX);
            if (!Float.isFinite(amax)) {
                quantizeQ8_0Scalar(x, xo, b);
                continue;
            }
            float scale = amax / 127;
            float id = scale != 0 ? 1.0f / scale : 0.0f;
            d[b] = Float.float16ToFloat(Float.floatToFloat16(scale));
            IntVector ql = roundHalfAway(lo.mul(id));
            IntVector qh = roundHalfAway(hi.mul(id));
            ql.intoArray(q, 32 * b);
            qh.intoArray(q, 32 * b + 16);
        }
    }

    static IntVector roundHalfAway(FloatVector v) {
        FloatVector a = v.abs();
        IntVector t = (IntVector) a.convert(VectorOperators.F2I, 0);
        FloatVector fraction = a.sub((FloatVector) t.convert(VectorOperators.I2F, 0));
        IntVector r = t.add(1, fraction.compare(VectorOperators.GE, 0.5f).cast(I));
        VectorMask<Integer> negative = v.compare(VectorOperators.LT, 0f).cast(I);
        return r.blend(r.neg(), negative);
    }

    /** {@link Quantize#q8_0} for block {@code b}, one element at a time. */
    private void quantizeQ8_0Scalar(float[] x, int xo, int b) {
        {
            int in = xo + 32 * b;
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                float v = Math.abs(x[in + j]);
                amax = amax > v ? amax : v;
            }
            float scale = amax / 127;
            float id = scale != 0 ? 1.0f / scale : 0.0f;
            d[b] = Float.float16ToFloat(Float.floatToFloat16(scale));
            for (int j = 0; j < 32; j++) {
                q[32 * b + j] = (byte) Quantize.roundHalfAway(x[in + j] * id);
            }
        }
    }

    /** {@link Quantize#q8K}, written to arrays. */
    private void quantizeQ8K(float[] x, int xo, int n) {
        for (int b = 0; b < n / 256; b++) {
            int in = xo + 256 * b;
            float max = 0;
            float amax = 0;
            for (int j = 0; j < 256; j++) {
                float v = Math.abs(x[in + j]);
                if (v > amax) {
                    amax = v;
                    max = x[in + j];
                }
            }
            if (amax != 0) {
                float iscale = -127f / max;
                for (int j = 0; j < 256; j++) {
                    q[256 * b + j] = (byte) Math.min(127, Quantize.nearestInt(iscale * x[in + j]));
                }
                d[b] = 1 / iscale;
            }
        }
    }
}
