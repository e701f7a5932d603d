package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The reference for {@link Ops}: plain loops, one element at a time, in exactly the order that
 * {@link Ops} documents. {@link Ops} must give the same bits for every input; the tests hold it to that.
 * Keep this obviously right rather than fast.
 */
final class ScalarOps {

    /** Partial sums of every reduction: element {@code i} goes to lane {@code i % LANES}. */
    static final int LANES = 16;

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort F16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final float GELU_COEF_A = 0.044715f;
    private static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;

    private ScalarOps() {
    }

    // ---- reductions in the fixed 16-lane order ----

    /** Adds lane {@code i + half} into lane {@code i} for half = 8, 4, 2, 1; the result is lane 0. */
    static float sumTree(float[] lanes) {
        for (int half = LANES / 2; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) {
                lanes[i] = lanes[i] + lanes[i + half];
            }
        }
        return lanes[0];
    }

    static float maxTree(float[] lanes) {
        for (int half = LANES / 2; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) {
                lanes[i] = Math.max(lanes[i], lanes[i + half]);
            }
        }
        return lanes[0];
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float[] lanes = new float[LANES];
        for (int i = 0; i < n; i++) {
            lanes[i % LANES] = Math.fma(a[aOff + i], b[bOff + i], lanes[i % LANES]);
        }
        return sumTree(lanes);
    }

    static float sumOfSquares(float[] x, int off, int n) {
        return dot(x, off, x, off, n);
    }

    static float sum(float[] x, int off, int n) {
        float[] lanes = new float[LANES];
        for (int i = 0; i < n; i++) {
            lanes[i % LANES] = lanes[i % LANES] + x[off + i];
        }
        return sumTree(lanes);
    }

    static float max(float[] x, int off, int n) {
        float[] lanes = new float[LANES];
        java.util.Arrays.fill(lanes, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            lanes[i % LANES] = Math.max(lanes[i % LANES], x[off + i]);
        }
        return maxTree(lanes);
    }

    // ---- kernels ----

    static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        Checks.rmsNorm(out, outOff, x, xOff, weight, n, eps);
        float mean = sumOfSquares(x, xOff, n) / n;
        float scale = (float) (1.0 / Math.sqrt(mean + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = x[xOff + i] * scale * weight[i];
        }
    }

    static void softmax(float[] x, int off, int n) {
        Checks.positive("softmax", "n", n);
        Checks.range("softmax", "x", x, off, n);
        float max = max(x, off, n);
        for (int i = 0; i < n; i++) {
            x[off + i] = exp(x[off + i] - max);
        }
        float inverse = 1.0f / sum(x, off, n);
        for (int i = 0; i < n; i++) {
            x[off + i] = x[off + i] * inverse;
        }
    }

    static void rope(float[] x, int off, int nHeads, int headDim, int position, float base, boolean neox) {
        Checks.rope(x, off, nHeads, headDim, position, base);
        int pairs = headDim / 2;
        float thetaScale = (float) StrictMath.pow(base, -2.0f / headDim);
        for (int h = 0; h < nHeads; h++) {
            int head = off + h * headDim;
            float theta = position;
            for (int i = 0; i < pairs; i++) {
                float cos = (float) StrictMath.cos(theta);
                float sin = (float) StrictMath.sin(theta);
                int i0 = neox ? head + i : head + 2 * i;
                int i1 = neox ? head + i + pairs : head + 2 * i + 1;
                float x0 = x[i0];
                float x1 = x[i1];
                x[i0] = x0 * cos - x1 * sin;
                x[i1] = x0 * sin + x1 * cos;
                theta = theta * thetaScale;
            }
        }
    }

    static float silu(float x) {
        return x / (1.0f + exp(-x));
    }

    // ---- e^x, the same bits on every machine ----

    static final float EXP_MAX = 89f;
    static final float EXP_ZERO = -104f;
    static final float LOG2E = 1.44269504f;
    /** ln 2 in two parts: the high part has 16 significant bits, so n * LN2_HI is exact for |n| <= 150. */
    static final float LN2_HI = 0.693145751953125f;
    static final float LN2_LO = 1.42860677e-6f;
    /** 1.5 * 2^23: adding it rounds a float below 2^22 in magnitude to an integer (to nearest, ties to even). */
    static final float ROUNDER = 0x1.8p23f;
    /** 1/k! for k = 7 down to 2: the Taylor polynomial of e^r, whose error on |r| <= ln2/2 is below 6e-9. */
    static final float[] EXP_POLY = { 1f / 5040, 1f / 720, 1f / 120, 1f / 24, 1f / 6, 1f / 2 };

    /**
     * e^x in float, within 2 ulp of the exact value, from float additions, multiplications and fused
     * multiply-adds only, so every machine and every lane of {@link Ops}' vectors gives the same bits:
     * <pre>
     * x = min(x, 89)                     (e^89 overflows to +Inf; NaN stays NaN)
     * x &lt;= -104 -&gt; +0                   (e^-104 is below half the smallest subnormal)
     * n = fma(x, LOG2E, ROUNDER) - ROUNDER      (x / ln 2, rounded to an integer)
     * r = fma(-n, LN2_LO, fma(-n, LN2_HI, x))  (x - n ln 2, |r| &lt;= ln2/2 + tiny)
     * p = 1 + r (1 + r (1/2 + r (1/6 + ... + r/5040)))   (Horner, one fma per step, from 1/5040)
     * e^x = p * 2^h * 2^(n - h), h = floor(n / 2)   (two exact powers: n may be -150..128)
     * </pre>
     * {@code StrictMath.exp} (FDLIBM, in double) was the definition before: it is scalar and took 6% of
     * prompt processing in SwiGLU and softmax.
     */
    static float exp(float x) {
        x = Math.min(x, EXP_MAX);
        if (x <= EXP_ZERO) {
            return 0f;
        }
        float n = Math.fma(x, LOG2E, ROUNDER) - ROUNDER;
        float r = Math.fma(-n, LN2_LO, Math.fma(-n, LN2_HI, x));
        float p = EXP_POLY[0];
        for (int k = 1; k < EXP_POLY.length; k++) {
            p = Math.fma(p, r, EXP_POLY[k]);
        }
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        int ni = (int) n;
        int h = ni >> 1;
        return p * Float.intBitsToFloat((h + 127) << 23) * Float.intBitsToFloat((ni - h + 127) << 23);
    }

    static float gelu(float x) {
        return 0.5f * x * (1.0f + (float) StrictMath.tanh(SQRT_2_OVER_PI * x * (1.0f + GELU_COEF_A * x * x)));
    }

    static void silu(float[] x, int off, int n) {
        Checks.range("silu", "x", x, off, n);
        for (int i = 0; i < n; i++) {
            x[off + i] = silu(x[off + i]);
        }
    }

    static void gelu(float[] x, int off, int n) {
        Checks.range("gelu", "x", x, off, n);
        for (int i = 0; i < n; i++) {
            x[off + i] = gelu(x[off + i]);
        }
    }

    static void swiglu(float[] out, int outOff, float[] gate, int gOff, float[] up, int uOff, int n) {
        Checks.binary("swiglu", out, outOff, gate, "gate", gOff, up, "up", uOff, n);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = silu(gate[gOff + i]) * up[uOff + i];
        }
    }

    static void add(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.binary("add", out, outOff, a, "a", aOff, b, "b", bOff, n);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = a[aOff + i] + b[bOff + i];
        }
    }

    static void mul(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.binary("mul", out, outOff, a, "a", aOff, b, "b", bOff, n);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = a[aOff + i] * b[bOff + i];
        }
    }

    static void scale(float[] out, int outOff, float[] x, int xOff, int n, float factor) {
        Checks.range("scale", "out", out, outOff, n);
        Checks.range("scale", "x", x, xOff, n);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = x[xOff + i] * factor;
        }
    }

    /** Element {@code j} of position {@code t}'s vector, widened to float. */
    static float cacheElement(MemorySegment cache, GgmlType type, long headOffsetBytes, long rowStrideBytes,
            int t, int j) {
        long row = headOffsetBytes + t * rowStrideBytes;
        return type == GgmlType.F32
                ? cache.get(F32_LE, row + 4L * j)
                : Float.float16ToFloat(cache.get(F16_LE, row + 2L * j));
    }

    static void attentionScores(float[] scores, float[] q, int qOff, MemorySegment keys, GgmlType cacheType,
            long headOffsetBytes, long rowStrideBytes, int headDim, int nPositions, float scale) {
        Checks.attention("attentionScores", scores, "scores", q, "q", qOff, keys, cacheType,
                headOffsetBytes, rowStrideBytes, headDim, nPositions);
        float[] k = new float[headDim];
        for (int t = 0; t < nPositions; t++) {
            for (int j = 0; j < headDim; j++) {
                k[j] = cacheElement(keys, cacheType, headOffsetBytes, rowStrideBytes, t, j);
            }
            scores[t] = scale * dot(q, qOff, k, 0, headDim);
        }
    }

    static void attentionWeightedSum(float[] out, int outOff, float[] probs, MemorySegment values,
            GgmlType cacheType, long headOffsetBytes, long rowStrideBytes, int headDim, int nPositions) {
        Checks.attention("attentionWeightedSum", probs, "probs", out, "out", outOff, values, cacheType,
                headOffsetBytes, rowStrideBytes, headDim, nPositions);
        for (int j = 0; j < headDim; j++) {
            float acc = 0.0f;
            for (int t = 0; t < nPositions; t++) {
                acc = Math.fma(probs[t], cacheElement(values, cacheType, headOffsetBytes, rowStrideBytes, t, j), acc);
            }
            out[outOff + j] = acc;
        }
    }
}
