package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The non-matmul kernels of a Llama forward pass (RMSNorm, softmax, RoPE, activations, element-wise
 * maps, attention over a KV cache) on the JDK Vector API, on {@code float[]} ranges.
 *
 * <h2>Determinism</h2>
 * Every result is a fixed function of the inputs: the same bits on every run, whatever the thread count
 * and whatever the CPU's vector width. To get that:
 * <ul>
 * <li><b>Reductions</b> (sum of squares, dot product, sum, max) use 16 partial accumulators: lane
 * {@code i % 16} takes element {@code i}, in increasing {@code i} (products are added with one fused
 * {@code fma}); then lanes combine pairwise, {@code l[i] = l[i] + l[i + h]} for h = 8, 4, 2, 1, and the
 * result is lane 0. With 512-bit vectors this is one 16-lane vector; otherwise two 256-bit vectors
 * (lanes 0-7 and 8-15). Both give the same bits, and so does {@link ScalarOps}.</li>
 * <li><b>Transcendental parts</b>: {@code exp} (softmax, SiLU, SwiGLU) is the project's own polynomial,
 * {@link ScalarOps#exp}, built from float additions, multiplications and fmas only, so each vector lane gives
 * its bits; {@code tanh}, {@code sin}, {@code cos} and {@code pow} are computed one element at a time with
 * {@link StrictMath} (fdlibm, the same bits on every JVM and CPU). Never the Vector API's own
 * approximations ({@code VectorOperators.EXP} and the like differ by CPU). So these maps match the scalar
 * reference exactly too.</li>
 * <li>Element-wise arithmetic uses plain float {@code *}, {@code +}, {@code -}, {@code /}, each rounded
 * once, never contracted into an fma unless the formula below says fma.</li>
 * </ul>
 *
 * <h2>Arguments</h2>
 * Ranges are {@code (array, offset, length)}; every range is checked first and a bad one fails with an
 * {@link IllegalArgumentException} naming it and its sizes, before anything is read or written. An output
 * may be the very same range as an input (same array, same offset), never a partly overlapping one.
 */
public final class Ops {

    /** Whether this CPU runs 512-bit vectors natively; chooses the implementation of the reductions. */
    static final boolean WIDE = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

    private static final VectorSpecies<Float> S512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Float> S256 = FloatVector.SPECIES_256;
    /** Element-wise maps give the same bits at any width, so they take the CPU's own. */
    private static final VectorSpecies<Float> MAP = FloatVector.SPECIES_PREFERRED;
    /** Swaps neighbours (0 1)(2 3)...: the partner of each element in a RoPE pair. */
    private static final VectorShuffle<Float> PAIR_SWAP = VectorShuffle.fromOp(MAP, i -> i ^ 1);
    private static final int LANES = 16;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private static final float GELU_COEF_A = 0.044715f;
    private static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;

    private Ops() {
    }

    // =====================================================================================
    // Normalisation and softmax
    // =====================================================================================

    /**
     * RMSNorm, as llama.cpp's {@code rms_norm} followed by the multiplication by the norm weight:
     * <pre>
     * sum   = Σ x[i]²                          (fixed 16-lane order, fma)
     * mean  = sum / n                          (float division)
     * scale = (float) (1.0 / Math.sqrt((double) (mean + eps)))   (mean + eps in float)
     * out[i] = (x[i] * scale) * weight[i]      (two float multiplications)
     * </pre>
     * {@code weight} is read from index 0. {@code out} may be {@code x} at the same offset.
     */
    public static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        rmsNorm(out, outOff, x, xOff, weight, n, eps, WIDE);
    }

    static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps,
            boolean wide) {
        Checks.rmsNorm(out, outOff, x, xOff, weight, n, eps);
        float mean = dot(x, xOff, x, xOff, n, wide) / n;
        float scale = (float) (1.0 / Math.sqrt(mean + eps));
        int i = 0;
        for (int bound = MAP.loopBound(n); i < bound; i += MAP.length()) {
            FloatVector.fromArray(MAP, x, xOff + i).mul(scale).mul(FloatVector.fromArray(MAP, weight, i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * scale * weight[i];
        }
    }

    /**
     * Softmax in place:
     * <pre>
     * m = max x[i]                              (fixed 16-lane order)
     * e[i] = exp(x[i] - m)                     (x[i] - m in float; exp as {@link #exp(FloatVector)})
     * s = Σ e[i]                                (fixed 16-lane order)
     * x[i] = e[i] * (1.0f / s)
     * </pre>
     * At least one element must be finite (a causal mask always leaves the current position).
     */
    public static void softmax(float[] x, int off, int n) {
        softmax(x, off, n, WIDE);
    }

    static void softmax(float[] x, int off, int n, boolean wide) {
        Checks.positive("softmax", "n", n);
        Checks.range("softmax", "x", x, off, n);
        float max = fold(x, off, n, true, wide);
        int i = 0;
        for (int bound = MAP.loopBound(n); i < bound; i += MAP.length()) {
            exp(FloatVector.fromArray(MAP, x, off + i).sub(max)).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] = ScalarOps.exp(x[off + i] - max);
        }
        float inverse = 1.0f / fold(x, off, n, false, wide);
        scaleInPlace(x, off, n, inverse);
    }

    // =====================================================================================
    // RoPE
    // =====================================================================================

    /**
     * Rotary position embedding in place, on {@code nHeads} consecutive heads of {@code headDim} elements,
     * all at {@code position}. Pair {@code i} (0 &le; i &lt; headDim/2) is rotated by angle
     * {@code theta_i}, computed as ggml's {@code ggml_rope_cache_init} does (freq_scale 1, no YaRN,
     * no frequency factors), all in float:
     * <pre>
     * thetaScale = (float) StrictMath.pow(base, -2.0f / headDim)
     * theta_0 = (float) position;  theta_{i+1} = theta_i * thetaScale
     * c = (float) StrictMath.cos(theta_i);  s = (float) StrictMath.sin(theta_i)
     * x0' = x0 * c - x1 * s;  x1' = x0 * s + x1 * c
     * </pre>
     * The normal (Llama) style pairs {@code (x[2i], x[2i+1])}; the NeoX style pairs
     * {@code (x[i], x[i + headDim/2])}. The angles match llama.cpp's bit for bit; its sinf/cosf may differ
     * from fdlibm's in the last bit. Exact for positions below 2^24.
     */
    public static void rope(float[] x, int off, int nHeads, int headDim, int position, float base, boolean neox) {
        Checks.rope(x, off, nHeads, headDim, position, base);
        int pairs = headDim / 2;
        float[] cos = new float[pairs];
        float[] sin = new float[pairs];
        float thetaScale = (float) StrictMath.pow(base, -2.0f / headDim);
        float theta = position;
        for (int i = 0; i < pairs; i++) {
            cos[i] = (float) StrictMath.cos(theta);
            sin[i] = (float) StrictMath.sin(theta);
            theta = theta * thetaScale;
        }
        if (neox) {
            for (int h = 0; h < nHeads; h++) {
                ropeNeox(x, off + h * headDim, pairs, cos, sin);
            }
        } else {
            // Per element: x[j] * c + partner * (±s), the sign minus on the first of a pair. Negating s
            // and swapping the addends are exact, so this equals x0 * c - x1 * s and x0 * s + x1 * c.
            float[] cosByElement = new float[headDim];
            float[] signedSin = new float[headDim];
            for (int i = 0; i < pairs; i++) {
                cosByElement[2 * i] = cos[i];
                cosByElement[2 * i + 1] = cos[i];
                signedSin[2 * i] = -sin[i];
                signedSin[2 * i + 1] = sin[i];
            }
            for (int h = 0; h < nHeads; h++) {
                ropeAdjacent(x, off + h * headDim, headDim, cos, sin, cosByElement, signedSin);
            }
        }
    }

    private static void ropeNeox(float[] x, int head, int pairs, float[] cos, float[] sin) {
        int i = 0;
        for (int bound = MAP.loopBound(pairs); i < bound; i += MAP.length()) {
            FloatVector x0 = FloatVector.fromArray(MAP, x, head + i);
            FloatVector x1 = FloatVector.fromArray(MAP, x, head + pairs + i);
            FloatVector c = FloatVector.fromArray(MAP, cos, i);
            FloatVector s = FloatVector.fromArray(MAP, sin, i);
            x0.mul(c).sub(x1.mul(s)).intoArray(x, head + i);
            x0.mul(s).add(x1.mul(c)).intoArray(x, head + pairs + i);
        }
        for (; i < pairs; i++) {
            rotate(x, head + i, head + pairs + i, cos[i], sin[i]);
        }
    }

    private static void ropeAdjacent(float[] x, int head, int headDim, float[] cos, float[] sin,
            float[] cosByElement, float[] signedSin) {
        int j = 0;
        for (int bound = MAP.loopBound(headDim); j < bound; j += MAP.length()) {
            FloatVector v = FloatVector.fromArray(MAP, x, head + j);
            FloatVector partner = v.rearrange(PAIR_SWAP);
            v.mul(FloatVector.fromArray(MAP, cosByElement, j))
                    .add(partner.mul(FloatVector.fromArray(MAP, signedSin, j)))
                    .intoArray(x, head + j);
        }
        for (; j < headDim; j += 2) {
            rotate(x, head + j, head + j + 1, cos[j / 2], sin[j / 2]);
        }
    }

    private static void rotate(float[] x, int i0, int i1, float cos, float sin) {
        float x0 = x[i0];
        float x1 = x[i1];
        x[i0] = x0 * cos - x1 * sin;
        x[i1] = x0 * sin + x1 * cos;
    }

    // =====================================================================================
    // Activations and element-wise maps
    // =====================================================================================

    /**
     * SiLU in place: {@code x / (1.0f + exp(-x))}, as ggml's {@code ggml_silu_f32}, with {@link #exp(FloatVector)}
     * (ggml's own vector SiLU also uses a polynomial exp).
     */
    public static void silu(float[] x, int off, int n) {
        Checks.range("silu", "x", x, off, n);
        int i = 0;
        for (int bound = MAP.loopBound(n); i < bound; i += MAP.length()) {
            silu(FloatVector.fromArray(MAP, x, off + i)).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] = ScalarOps.silu(x[off + i]);
        }
    }

    /**
     * SwiGLU, the Llama feed-forward gate: {@code out = silu(gate) * up}, the SiLU as {@link #silu} and then
     * one float multiplication. {@code out} may be {@code gate} or {@code up} at the same offset.
     */
    public static void swiglu(float[] out, int outOff, float[] gate, int gOff, float[] up, int uOff, int n) {
        Checks.binary("swiglu", out, outOff, gate, "gate", gOff, up, "up", uOff, n);
        int i = 0;
        for (int bound = MAP.loopBound(n); i < bound; i += MAP.length()) {
            silu(FloatVector.fromArray(MAP, gate, gOff + i)).mul(FloatVector.fromArray(MAP, up, uOff + i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = ScalarOps.silu(gate[gOff + i]) * up[uOff + i];
        }
    }

    /**
     * GELU in place, ggml's tanh approximation evaluated in float, left to right:
     * {@code 0.5f * x * (1.0f + (float) StrictMath.tanh(SQRT_2_OVER_PI * x * (1.0f + 0.044715f * x * x)))}.
     * ggml itself, when built with {@code GGML_GELU_FP16}, looks the result up in a table indexed by x
     * rounded to F16, so llama.cpp's values may differ from these by F16 rounding.
     */
    public static void gelu(float[] x, int off, int n) {
        Checks.range("gelu", "x", x, off, n);
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            x[off + i] = 0.5f * v * (1.0f
                    + (float) StrictMath.tanh(SQRT_2_OVER_PI * v * (1.0f + GELU_COEF_A * v * v)));
        }
    }

    private static FloatVector silu(FloatVector x) {
        return x.div(exp(x.neg()).add(1.0f));
    }

    /**
     * e^x in every lane: {@link ScalarOps#exp}'s definition step for step (float additions, multiplications
     * and fused multiply-adds only), so each lane has its bits on any machine and vector width.
     */
    static FloatVector exp(FloatVector x) {
        x = x.min(ScalarOps.EXP_MAX);
        VectorMask<Float> zero = x.compare(VectorOperators.LE, ScalarOps.EXP_ZERO);
        FloatVector n = x.fma(ScalarOps.LOG2E, ScalarOps.ROUNDER).sub(ScalarOps.ROUNDER);
        FloatVector minusN = n.neg();
        VectorSpecies<Float> species = x.species();
        FloatVector r = minusN.fma(FloatVector.broadcast(species, ScalarOps.LN2_LO),
                minusN.fma(FloatVector.broadcast(species, ScalarOps.LN2_HI), x));
        float[] c = ScalarOps.EXP_POLY;
        FloatVector p = FloatVector.broadcast(species, c[0]);
        for (int k = 1; k < c.length; k++) {
            p = p.fma(r, FloatVector.broadcast(species, c[k]));
        }
        FloatVector one = FloatVector.broadcast(species, 1f);
        p = p.fma(r, one).fma(r, one);
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector h = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2).blend(0f, zero);
    }

    /** {@code out = a + b}, element-wise (the residual connection). {@code out} may be a or b. */
    public static void add(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.binary("add", out, outOff, a, "a", aOff, b, "b", bOff, n);
        int i = 0;
        for (int bound = MAP.loopBound(n); i < bound; i += MAP.length()) {
            FloatVector.fromArray(MAP, a, aOff + i).add(FloatVector.fromArray(MAP, b, bOff + i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = a[aOff + i] + b[bOff + i];
        }
    }

    /** {@code out = a * b}, element-wise. {@code out} may be a or b. */
    public static void mul(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.binary("mul", out, outOff, a, "a", aOff, b, "b", bOff, n);
        int i = 0;
        for (int bound = MAP.loopBound(n); i < bound; i += MAP.length()) {
            FloatVector.fromArray(MAP, a, aOff + i).mul(FloatVector.fromArray(MAP, b, bOff + i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = a[aOff + i] * b[bOff + i];
        }
    }

    /** {@code out = x * factor}, element-wise. {@code out} may be x. */
    public static void scale(float[] out, int outOff, float[] x, int xOff, int n, float factor) {
        Checks.range("scale", "out", out, outOff, n);
        Checks.range("scale", "x", x, xOff, n);
        int i = 0;
        for (int bound = MAP.loopBound(n); i < bound; i += MAP.length()) {
            FloatVector.fromArray(MAP, x, xOff + i).mul(factor).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * factor;
        }
    }

    private static void scaleInPlace(float[] x, int off, int n, float factor) {
        scale(x, off, x, off, n, factor);
    }

    // =====================================================================================
    // Attention over a KV cache: one query position, one head
    // =====================================================================================

    /**
     * Attention scores of one query head against {@code nPositions} cached keys:
     * {@code scores[t] = scale * dot(q[qOff, +headDim), k_t)}, the dot product in the fixed 16-lane order
     * with fma. Key {@code t} is {@code headDim} little-endian elements of {@code cacheType} (F32 or F16,
     * F16 widened exactly) at byte {@code headOffsetBytes + t * rowStrideBytes} of {@code keys}.
     * {@code scores} is written from index 0. {@code keys} must be native or backed by a {@code byte[]}.
     */
    public static void attentionScores(float[] scores, float[] q, int qOff, MemorySegment keys, GgmlType cacheType,
            long headOffsetBytes, long rowStrideBytes, int headDim, int nPositions, float scale) {
        attentionScores(scores, q, qOff, keys, cacheType, headOffsetBytes, rowStrideBytes, headDim, nPositions,
                scale, WIDE);
    }

    static void attentionScores(float[] scores, float[] q, int qOff, MemorySegment keys, GgmlType cacheType,
            long headOffsetBytes, long rowStrideBytes, int headDim, int nPositions, float scale, boolean wide) {
        Checks.attention("attentionScores", scores, "scores", q, "q", qOff, keys, cacheType, headOffsetBytes,
                rowStrideBytes, headDim, nPositions);
        float[] k = cacheType == GgmlType.F16 ? new float[headDim] : null;
        for (int t = 0; t < nPositions; t++) {
            long row = headOffsetBytes + t * rowStrideBytes;
            float dot;
            if (k == null) {
                dot = dot(q, qOff, keys, row, headDim, wide);
            } else {
                widenF16(keys, row, k, headDim);
                dot = dot(q, qOff, k, 0, headDim, wide);
            }
            scores[t] = scale * dot;
        }
    }

    /**
     * Weighted sum of {@code nPositions} cached values:
     * {@code out[j] = Σ_t probs[t] * v_t[j]}, per element {@code j} accumulated from {@code 0.0f} over
     * {@code t = 0, 1, ...} with {@code acc = fma(probs[t], v_t[j], acc)}. Layout as in
     * {@link #attentionScores}. {@code probs} is read from index 0; {@code out} must not overlap it.
     */
    public static void attentionWeightedSum(float[] out, int outOff, float[] probs, MemorySegment values,
            GgmlType cacheType, long headOffsetBytes, long rowStrideBytes, int headDim, int nPositions) {
        Checks.attention("attentionWeightedSum", probs, "probs", out, "out", outOff, values, cacheType,
                headOffsetBytes, rowStrideBytes, headDim, nPositions);
        java.util.Arrays.fill(out, outOff, outOff + headDim, 0.0f);
        float[] v = cacheType == GgmlType.F16 ? new float[headDim] : null;
        int bound = MAP.loopBound(headDim);
        int blocked = 0;
        if (v == null) {
            // Four vectors of out at a time stay in registers through all positions: the same fmas in the same
            // order as the loop below, without a load and a store of out per position.
            int block = 4 * MAP.length();
            for (; blocked + block <= headDim; blocked += block) {
                FloatVector a0 = FloatVector.zero(MAP), a1 = a0, a2 = a0, a3 = a0;
                long at = headOffsetBytes + 4L * blocked;
                for (int t = 0; t < nPositions; t++) {
                    long row = at + t * rowStrideBytes;
                    FloatVector pv = FloatVector.broadcast(MAP, probs[t]);
                    a0 = FloatVector.fromMemorySegment(MAP, values, row, LE).fma(pv, a0);
                    a1 = FloatVector.fromMemorySegment(MAP, values, row + 4L * MAP.length(), LE).fma(pv, a1);
                    a2 = FloatVector.fromMemorySegment(MAP, values, row + 8L * MAP.length(), LE).fma(pv, a2);
                    a3 = FloatVector.fromMemorySegment(MAP, values, row + 12L * MAP.length(), LE).fma(pv, a3);
                }
                a0.intoArray(out, outOff + blocked);
                a1.intoArray(out, outOff + blocked + MAP.length());
                a2.intoArray(out, outOff + blocked + 2 * MAP.length());
                a3.intoArray(out, outOff + blocked + 3 * MAP.length());
            }
        }
        for (int t = 0; t < nPositions && blocked < headDim; t++) {
            long row = headOffsetBytes + t * rowStrideBytes;
            float p = probs[t];
            FloatVector pv = FloatVector.broadcast(MAP, p);
            int j = blocked;
            if (v == null) {
                for (; j < bound; j += MAP.length()) {
                    FloatVector.fromMemorySegment(MAP, values, row + 4L * j, LE)
                            .fma(pv, FloatVector.fromArray(MAP, out, outOff + j)).intoArray(out, outOff + j);
                }
                for (; j < headDim; j++) {
                    out[outOff + j] = Math.fma(p, values.get(ScalarOps.F32_LE, row + 4L * j), out[outOff + j]);
                }
            } else {
                widenF16(values, row, v, headDim);
                for (; j < bound; j += MAP.length()) {
                    FloatVector.fromArray(MAP, v, j)
                            .fma(pv, FloatVector.fromArray(MAP, out, outOff + j)).intoArray(out, outOff + j);
                }
                for (; j < headDim; j++) {
                    out[outOff + j] = Math.fma(p, v[j], out[outOff + j]);
                }
            }
        }
    }

    /** Widens {@code n} little-endian F16 values at byte {@code offset} into {@code dst[0, n)}, exactly. */
    private static void widenF16(MemorySegment src, long offset, float[] dst, int n) {
        for (int j = 0; j < n; j++) {
            dst[j] = Float.float16ToFloat(src.get(ScalarOps.F16_LE, offset + 2L * j));
        }
    }

    // =====================================================================================
    // Reductions in the fixed 16-lane order; wide = one 512-bit vector, else two 256-bit ones
    // =====================================================================================

    /** Σ a[aOff + i] * b[bOff + i], fma into lane i % 16, then the pairwise tree. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n, boolean wide) {
        int i = 0;
        if (wide) {
            FloatVector acc = FloatVector.zero(S512);
            for (; i <= n - LANES; i += LANES) {
                acc = FloatVector.fromArray(S512, a, aOff + i).fma(FloatVector.fromArray(S512, b, bOff + i), acc);
            }
            if (i < n) {
                VectorMask<Float> m = S512.indexInRange(i, n);
                acc = acc.blend(FloatVector.fromArray(S512, a, aOff + i, m)
                        .fma(FloatVector.fromArray(S512, b, bOff + i, m), acc), m);
            }
            return MatrixKernels.reduce(acc);
        } else {
            FloatVector lo = FloatVector.zero(S256);
            FloatVector hi = FloatVector.zero(S256);
            for (; i <= n - LANES; i += LANES) {
                lo = FloatVector.fromArray(S256, a, aOff + i).fma(FloatVector.fromArray(S256, b, bOff + i), lo);
                hi = FloatVector.fromArray(S256, a, aOff + i + 8).fma(FloatVector.fromArray(S256, b, bOff + i + 8), hi);
            }
            if (i < n) {
                VectorMask<Float> m = S256.indexInRange(i, n);
                lo = lo.blend(FloatVector.fromArray(S256, a, aOff + i, m)
                        .fma(FloatVector.fromArray(S256, b, bOff + i, m), lo), m);
            }
            if (i + 8 < n) {
                VectorMask<Float> m = S256.indexInRange(i + 8, n);
                hi = hi.blend(FloatVector.fromArray(S256, a, aOff + i + 8, m)
                        .fma(FloatVector.fromArray(S256, b, bOff + i + 8, m), hi), m);
            }
            float[] lanes = new float[LANES];
            lo.intoArray(lanes, 0);
            hi.intoArray(lanes, 8);
            return tree(lanes, false);
        }
    }

    /** As {@link #dot(float[], int, float[], int, int, boolean)}, b read as little-endian F32 from a segment. */
    static float dot(float[] a, int aOff, MemorySegment b, long bOffset, int n, boolean wide) {
        int i = 0;
        if (wide) {
            FloatVector acc = FloatVector.zero(S512);
            for (; i <= n - LANES; i += LANES) {
                acc = FloatVector.fromArray(S512, a, aOff + i)
                        .fma(FloatVector.fromMemorySegment(S512, b, bOffset + 4L * i, LE), acc);
            }
            if (i < n) {
                VectorMask<Float> m = S512.indexInRange(i, n);
                acc = acc.blend(FloatVector.fromArray(S512, a, aOff + i, m)
                        .fma(FloatVector.fromMemorySegment(S512, b, bOffset + 4L * i, LE, m), acc), m);
            }
            return MatrixKernels.reduce(acc);
        } else {
            FloatVector lo = FloatVector.zero(S256);
            FloatVector hi = FloatVector.zero(S256);
            for (; i <= n - LANES; i += LANES) {
                lo = FloatVector.fromArray(S256, a, aOff + i)
                        .fma(FloatVector.fromMemorySegment(S256, b, bOffset + 4L * i, LE), lo);
                hi = FloatVector.fromArray(S256, a, aOff + i + 8)
                        .fma(FloatVector.fromMemorySegment(S256, b, bOffset + 4L * (i + 8), LE), hi);
            }
            if (i < n) {
                VectorMask<Float> m = S256.indexInRange(i, n);
                lo = lo.blend(FloatVector.fromArray(S256, a, aOff + i, m)
                        .fma(FloatVector.fromMemorySegment(S256, b, bOffset + 4L * i, LE, m), lo), m);
            }
            if (i + 8 < n) {
                VectorMask<Float> m = S256.indexInRange(i + 8, n);
                hi = hi.blend(FloatVector.fromArray(S256, a, aOff + i + 8, m)
                        .fma(FloatVector.fromMemorySegment(S256, b, bOffset + 4L * (i + 8), LE, m), hi), m);
            }
            float[] lanes = new float[LANES];
            lo.intoArray(lanes, 0);
            hi.intoArray(lanes, 8);
            return tree(lanes, false);
        }
    }

    /** The maximum ({@code max}) or the sum of {@code x[off, +n)}, lane i % 16, then the pairwise tree. */
    static float fold(float[] x, int off, int n, boolean max, boolean wide) {
        VectorOperators.Binary op = max ? VectorOperators.MAX : VectorOperators.ADD;
        float identity = max ? Float.NEGATIVE_INFINITY : 0.0f;
        int i = 0;
        if (wide) {
            FloatVector acc = FloatVector.broadcast(S512, identity);
            for (; i <= n - LANES; i += LANES) {
                acc = acc.lanewise(op, FloatVector.fromArray(S512, x, off + i));
            }
            if (i < n) {
                VectorMask<Float> m = S512.indexInRange(i, n);
                acc = acc.blend(acc.lanewise(op, FloatVector.fromArray(S512, x, off + i, m)), m);
            }
            return max ? treeMax(acc) : MatrixKernels.reduce(acc);
        } else {
            FloatVector lo = FloatVector.broadcast(S256, identity);
            FloatVector hi = FloatVector.broadcast(S256, identity);
            for (; i <= n - LANES; i += LANES) {
                lo = lo.lanewise(op, FloatVector.fromArray(S256, x, off + i));
                hi = hi.lanewise(op, FloatVector.fromArray(S256, x, off + i + 8));
            }
            if (i < n) {
                VectorMask<Float> m = S256.indexInRange(i, n);
                lo = lo.blend(lo.lanewise(op, FloatVector.fromArray(S256, x, off + i, m)), m);
            }
            if (i + 8 < n) {
                VectorMask<Float> m = S256.indexInRange(i + 8, n);
                hi = hi.blend(hi.lanewise(op, FloatVector.fromArray(S256, x, off + i + 8, m)), m);
            }
            float[] lanes = new float[LANES];
            lo.intoArray(lanes, 0);
            hi.intoArray(lanes, 8);
            return tree(lanes, max);
        }
    }

    /**
     * {@link #tree(float[], boolean)}'s maximum of one 16-lane vector, in registers (max as {@link Math#max}); the sum
     * is {@link MatrixKernels#reduce}, the same additions as the tree.
     */
    private static float treeMax(FloatVector acc) {
        FloatVector v = acc.max(acc.rearrange(MatrixKernels.DOWN_8));
        v = v.max(v.rearrange(MatrixKernels.DOWN_4));
        v = v.max(v.rearrange(MatrixKernels.DOWN_2));
        return v.max(v.rearrange(MatrixKernels.DOWN_1)).lane(0);
    }

    /** Combines the 16 lanes: l[i] = l[i] op l[i + h] for h = 8, 4, 2, 1; the result is l[0]. */
    private static float tree(float[] lanes, boolean max) {
        for (int half = LANES / 2; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) {
                lanes[i] = max ? Math.max(lanes[i], lanes[i + half]) : lanes[i] + lanes[i + half];
            }
        }
        return lanes[0];
    }
}
