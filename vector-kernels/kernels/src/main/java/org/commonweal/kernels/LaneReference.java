package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The scalar definition of the "lane = block" quantized dot product that {@link LaneKernels} computes,
 * read straight from the GGUF layout (so that it checks the repacking too).
 * <p>
 * {@code x} is quantized to Q8_0 with ggml's reference quantizer (quants {@code qx_b[j]}, scale
 * {@code dx_b} per block {@code b}). With {@code m_b[j]} the integer weight multipliers (Q8_0: q;
 * Q4_0: q - 8) and {@code dw_b} the block's F16 scale widened to float:
 * <pre>
 *   S_b        = sum over j = 0..31 of m_b[j] * qx_b[j]                   (exact integer, |S_b| <= 32 * 128 * 127)
 *   acc[b % 16] = fma((float) S_b, dw_b * dx_b, acc[b % 16])            for b = 0, 1, 2, ... in increasing order
 *   result      = tree(acc)    (acc starts at +0; lanes combined (l + l+8), (l + l+4), (l + l+2), (l + l+1))
 * </pre>
 * {@code (float) S_b} is exact ({@code |S_b| < 2^24}), and so is {@code dw_b * dx_b} (two 11-bit significands).
 * Q4_K and Q6_K (Q8_K activations, lane = 32-element sub-block): see {@link #rowQ4_K}, {@link #rowQ6_K}.
 */
final class LaneReference {

    private LaneReference() {
    }

    /** Row {@code r} of {@code w} (Q4_0, Q8_0, Q4_K or Q6_K) times {@code x[xo .. xo + cols)}. */
    static float row(WeightMatrix w, int r, float[] x, int xo) {
        if (w.type() == GgmlType.Q4_K) {
            return rowQ4_K(w, r, x, xo);
        }
        if (w.type() == GgmlType.Q6_K) {
            return rowQ6_K(w, r, x, xo);
        }
        int cols = w.cols();
        MemorySegment xq = MemorySegment.ofArray(new byte[(int) GgmlType.Q8_0.rowBytes(cols)]);
        Quantize.q8_0(x, xo, cols, xq, 0);
        float[] acc = new float[16];
        int[] m = new int[32];
        for (int b = 0; b < cols / 32; b++) {
            long at = w.rowOffset(r) + (long) b * w.type().typeSize();
            float dw = ReferenceDot.multipliers(w.type(), w.data(), at, m)[0];
            float dx = Half.f16ToFloat(xq.get(Dequantize.F16, 34L * b));
            long s = 0;
            for (int j = 0; j < 32; j++) {
                s += (long) m[j] * xq.get(ValueLayout.JAVA_BYTE, 34L * b + 2 + j);
            }
            acc[b % 16] = Math.fma((float) s, dw * dx, acc[b % 16]);
        }
        return ScalarOps.sumTree(acc);
    }

    /**
     * Q4_K, lane = sub-block: {@code x} quantized to Q8_K (quants {@code qx}, float scale {@code dx_b} per
     * super-block b); for sub-block {@code u = 8 b + s} (32 elements, 4-bit quants {@code q}, 6-bit scale
     * {@code sc} and min {@code mn}, super-block F16 {@code d}, {@code dmin}):
     * <pre>
     *   T_u = sum of q[l] * qx[l] over the sub-block,  X_u = sum of qx[l]       (exact integers)
     *   acc[u % 16] = fma((float) (sc_u * T_u), d_b * dx_b, acc[u % 16])
     *   acc[u % 16] = fma((float) (mn_u * X_u), -(dmin_b * dx_b), acc[u % 16])   u = 0, 1, 2, ... in order
     *   result = tree(acc)
     * </pre>
     */
    static float rowQ4_K(WeightMatrix w, int r, float[] x, int xo) {
        int cols = w.cols();
        MemorySegment xq = MemorySegment.ofArray(new byte[(int) GgmlType.Q8_K.rowBytes(cols)]);
        Quantize.q8K(x, xo, cols, xq, 0);
        MemorySegment m = w.data();
        float[] acc = new float[16];
        for (int b = 0; b < cols / 256; b++) {
            long at = w.rowOffset(r) + 144L * b;
            float d = Half.f16ToFloat(m.get(Dequantize.F16, at));
            float dmin = Half.f16ToFloat(m.get(Dequantize.F16, at + 2));
            float dx = xq.get(Dequantize.F32, 292L * b);
            for (int s = 0; s < 8; s++) {
                int[] scaleMin = Dequantize.scaleMinK4(m, at + 4, s);
                long t = 0;
                long sum = 0;
                for (int l = 0; l < 32; l++) {
                    int q = m.get(ValueLayout.JAVA_BYTE, at + 16 + 32L * (s / 2) + l) & 0xff;
                    q = s % 2 == 0 ? q & 0xF : q >>> 4;
                    int qx = xq.get(ValueLayout.JAVA_BYTE, 292L * b + 4 + 32L * s + l);
                    t += (long) q * qx;
                    sum += qx;
                }
                int u = 8 * b + s;
                acc[u % 16] = Math.fma((float) (scaleMin[0] * t), d * dx, acc[u % 16]);
                acc[u % 16] = Math.fma((float) (scaleMin[1] * sum), -(dmin * dx), acc[u % 16]);
            }
        }
        return ScalarOps.sumTree(acc);
    }

    /**
     * Q6_K, lane = 32-element sub-block: {@code x} quantized to Q8_K (quants {@code qx}, float scale
     * {@code dx_b} per super-block b); sub-block {@code u = 8 b + s} is elements {@code 32 s .. 32 s + 31}
     * of super-block b, its halves A (the first 16) and B (the last 16) with int8 scales
     * {@code scA = scales[2 s]}, {@code scB = scales[2 s + 1]}; {@code q} are the 6-bit quants, {@code d_b}
     * the super-block's F16 scale:
     * <pre>
     *   T_u = scA * sum over A of (q - 32) * qx  +  scB * sum over B of (q - 32) * qx      (exact integer)
     *   acc[u % 16] = fma((float) T_u, d_b * dx_b, acc[u % 16])        u = 0, 1, 2, ... in order
     *   result = tree(acc)
     * </pre>
     * ({@code d_b * dx_b} is a float product, rounded once: {@code dx_b} is a float32.)
     * {@code (float) T_u} is exact: {@code |q - 32| <= 32}, {@code |qx| <= 128}, so each half's sum is at
     * most {@code 16 * 32 * 128 = 2^16} in magnitude and, with {@code |sc| <= 128}, {@code |T_u| <= 2 * 2^23
     * = 2^24}, and every integer of magnitude at most 2^24 is a float (the bound is reached only by q = 0,
     * qx = -128 and both scales -128 throughout the sub-block: still exact).
     */
    static float rowQ6_K(WeightMatrix w, int r, float[] x, int xo) {
        int cols = w.cols();
        MemorySegment xq = MemorySegment.ofArray(new byte[(int) GgmlType.Q8_K.rowBytes(cols)]);
        Quantize.q8K(x, xo, cols, xq, 0);
        MemorySegment m = w.data();
        float[] acc = new float[16];
        for (int b = 0; b < cols / 256; b++) {
            long at = w.rowOffset(r) + 210L * b;
            float d = Half.f16ToFloat(m.get(Dequantize.F16, at + 208));
            float dx = xq.get(Dequantize.F32, 292L * b);
            for (int s = 0; s < 8; s++) {
                long t = 0;
                for (int half = 0; half < 2; half++) {
                    long sum = 0;
                    for (int l = 0; l < 16; l++) {
                        int e = 32 * s + 16 * half + l;         // element of the super-block
                        int h = e / 128;                        // GGUF half: ql[64 h ..], qh[32 h ..]
                        int c = e % 128 / 32;                   // quarter of that half
                        int j = e % 32;
                        int ql = m.get(ValueLayout.JAVA_BYTE, at + 64 * h + 32 * (c % 2) + j) & 0xff;
                        int qh = m.get(ValueLayout.JAVA_BYTE, at + 128 + 32 * h + j) & 0xff;
                        int q = (c < 2 ? ql & 0xF : ql >>> 4) | ((qh >>> (2 * c)) & 3) << 4;
                        int qx = xq.get(ValueLayout.JAVA_BYTE, 292L * b + 4 + e);
                        sum += (long) (q - 32) * qx;
                    }
                    int scale = m.get(ValueLayout.JAVA_BYTE, at + 192 + 2 * s + half);
                    t += scale * sum;
                }
                int u = 8 * b + s;
                acc[u % 16] = Math.fma((float) t, d * dx, acc[u % 16]);
            }
        }
        return ScalarOps.sumTree(acc);
    }
}
