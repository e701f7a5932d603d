package org.commonweal.kernels;

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
 */
final class LaneReference {

    private LaneReference() {
    }

    /** Row {@code r} of {@code w} (Q4_0 or Q8_0) times {@code x[xo .. xo + cols)}. */
    static float row(WeightMatrix w, int r, float[] x, int xo) {
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
}
