package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The scalar definition of what {@link MatrixKernels} computes for one weight row and one activation
 * vector: plain loops, one element at a time, written to be obviously right, and read from GGUF's layout
 * (so that the tests check the repacking of {@link PackedMatrix} too). Every SIMD path (matvec, matmul
 * tiles, any thread count, GGUF or repacked layout) must give these bits exactly; the tests hold it to that.
 *
 * <p><b>F32, F16, BF16 weights:</b> {@code dot16(dequantize(row), x)} ({@link MatrixKernels#referenceDot}).
 *
 * <p><b>Quantized weights ("lane = block"):</b> {@code x} is first quantized, with ggml's reference
 * quantizer, to Q8_0 (for Q4_0, Q4_1, Q5_0, Q8_0 weights) or Q8_K (for Q4_K, Q5_K, Q6_K, Q8_K), giving
 * int8 quants {@code qx[j]} and a float scale per activation block. The row is cut into units of 32
 * elements ({@code u = 0, 1, 2, ...}: a Q4_0/Q8_0 block, or a K-quant's sub-block of 32). With {@code m[j]}
 * the integer weight multipliers (below), {@code dw} the unit's weight block scale and {@code dx} its
 * activation block scale, in increasing {@code u}:
 * <pre>
 *   S_u          = sum over the unit's j of m[j] * qx[j]                 (exact integer, |S_u| &lt;= 2^24)
 *   acc[u % 16]  = fma((float) S_u, dw * dx, acc[u % 16])
 *   acc[u % 16]  = fma((float) M_u, e * dx, acc[u % 16])                 (offset types only)
 * </pre>
 * and the result is {@code tree(acc)} (acc starts at +0; lanes combined as (l + l+8), (l + l+4),
 * (l + l+2), (l + l+1)). So each SIMD lane holds whole blocks, and a kernel needs one scaling FMA per block,
 * not per element. The integer sums are exact, so any order of products (integer or float arithmetic)
 * gives the same {@code S_u}; only the per-lane float accumulation over units, in order, and the final
 * tree define the rounding.
 * <table>
 * <caption>integer multipliers, block scale and offset of each type</caption>
 * <tr><th>type</th><th>m[j]</th><th>dw</th><th>offset M_u, e</th></tr>
 * <tr><td>Q8_0</td><td>q</td><td>d</td><td>-</td></tr>
 * <tr><td>Q4_0</td><td>q - 8</td><td>d</td><td>-</td></tr>
 * <tr><td>Q5_0</td><td>q - 16</td><td>d</td><td>-</td></tr>
 * <tr><td>Q4_1</td><td>q</td><td>d</td><td>sum of qx over the unit; the F16 min m</td></tr>
 * <tr><td>Q4_K, Q5_K</td><td>scale(u) * q</td><td>d</td><td>min(u) * (sum of qx over the unit); -dmin</td></tr>
 * <tr><td>Q6_K</td><td>scale(j / 16) * (q - 32)</td><td>d</td><td>-</td></tr>
 * <tr><td>Q8_K</td><td>q</td><td>d</td><td>-</td></tr>
 * </table>
 * The F16 scales are widened to float first; for Q8_0 and Q4_0 times Q8_0 activations {@code dw * dx}
 * is exact (two 11-bit mantissas). {@code |S_u| <= 2^24} (Q6_K's extreme: 32 x 128 x 32 x 128) is exact as a float.
 */
final class ReferenceDot {

    private ReferenceDot() {
    }

    /** Row {@code r} of {@code w} times {@code x[xo .. xo + cols)}. */
    static float row(WeightMatrix w, int r, float[] x, int xo) {
        int cols = w.cols();
        GgmlType activations = Q8Activations.typeFor(w.type());
        if (activations == null) {
            float[] row = new float[cols];
            Dequantize.row(w.type(), w.data(), w.rowOffset(r), row, 0, cols);
            return MatrixKernels.referenceDot(row, 0, x, xo, cols);
        }
        MemorySegment xq = MemorySegment.ofArray(new byte[(int) activations.rowBytes(cols)]);
        int[] qx = new int[cols];
        float[] dx = new float[cols / activations.blockSize()];
        if (activations == GgmlType.Q8_0) {
            Quantize.q8_0(x, xo, cols, xq, 0);
            for (int b = 0; b < dx.length; b++) {
                dx[b] = Half.f16ToFloat(xq.get(Dequantize.F16, 34L * b));
                for (int j = 0; j < 32; j++) {
                    qx[32 * b + j] = xq.get(ValueLayout.JAVA_BYTE, 34L * b + 2 + j);
                }
            }
        } else {
            Quantize.q8K(x, xo, cols, xq, 0);
            for (int b = 0; b < dx.length; b++) {
                dx[b] = xq.get(Dequantize.F32, 292L * b);
                for (int j = 0; j < 256; j++) {
                    qx[256 * b + j] = xq.get(ValueLayout.JAVA_BYTE, 292L * b + 4 + j);
                }
            }
        }
        GgmlType type = w.type();
        int block = type.blockSize();
        int[] m = new int[block];
        float[] acc = new float[16];
        for (int b = 0; b < cols / block; b++) {
            long at = w.rowOffset(r) + (long) b * type.typeSize();
            float[] scales = multipliers(type, w.data(), at, m);
            for (int s = 0; s < block / 32; s++) {
                int u = b * block / 32 + s;
                float d = dx[32 * u / activations.blockSize()];
                long sum = 0;
                long qxSum = 0;
                for (int j = 0; j < 32; j++) {
                    sum += (long) m[32 * s + j] * qx[32 * u + j];
                    qxSum += qx[32 * u + j];
                }
                acc[u % 16] = Math.fma((float) sum, scales[0] * d, acc[u % 16]);
                switch (type) {
                    case Q4_1 -> acc[u % 16] = Math.fma((float) qxSum, scales[1] * d, acc[u % 16]);
                    case Q4_K, Q5_K -> {
                        long offset = Dequantize.scaleMinK4(w.data(), at + 4, s)[1] * qxSum;
                        acc[u % 16] = Math.fma((float) offset, -scales[1] * d, acc[u % 16]);
                    }
                    default -> {
                    }
                }
            }
        }
        return ScalarOps.sumTree(acc);
    }

    /**
     * The integer multipliers {@code m[j]} of the block at {@code at}, as the table above; returns
     * {@code {dw, e}} (e is 0 for types without an offset).
     */
    static float[] multipliers(GgmlType type, MemorySegment s, long at, int[] m) {
        switch (type) {
            case Q8_0 -> {
                for (int j = 0; j < 32; j++) {
                    m[j] = i8(s, at + 2 + j);
                }
                return new float[] {f16(s, at), 0};
            }
            case Q4_0 -> {
                for (int j = 0; j < 16; j++) {
                    m[j] = (u8(s, at + 2 + j) & 0xf) - 8;
                    m[j + 16] = (u8(s, at + 2 + j) >>> 4) - 8;
                }
                return new float[] {f16(s, at), 0};
            }
            case Q4_1 -> {
                for (int j = 0; j < 16; j++) {
                    m[j] = u8(s, at + 4 + j) & 0xf;
                    m[j + 16] = u8(s, at + 4 + j) >>> 4;
                }
                return new float[] {f16(s, at), f16(s, at + 2)};
            }
            case Q5_0 -> {
                int qh = s.get(Dequantize.U32, at + 2);
                for (int j = 0; j < 16; j++) {
                    m[j] = ((u8(s, at + 6 + j) & 0xf) | (((qh >>> j) & 1) << 4)) - 16;
                    m[j + 16] = ((u8(s, at + 6 + j) >>> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16;
                }
                return new float[] {f16(s, at), 0};
            }
            case Q4_K, Q5_K -> {
                boolean five = type == GgmlType.Q5_K;
                long qs = at + (five ? 48 : 16);
                for (int j = 0; j < 256; j++) {
                    int group = j / 64;
                    int l = j % 32;
                    boolean high = j % 64 >= 32;
                    int q = u8(s, qs + 32 * group + l);
                    q = high ? q >>> 4 : q & 0xf;
                    if (five) {
                        q |= ((u8(s, at + 16 + l) >>> (2 * group + (high ? 1 : 0))) & 1) << 4;
                    }
                    m[j] = Dequantize.scaleMinK4(s, at + 4, j / 32)[0] * q;
                }
                return new float[] {f16(s, at), f16(s, at + 2)};
            }
            case Q6_K -> {
                for (int j = 0; j < 256; j++) {
                    int half = j / 128;
                    int quarter = (j % 128) / 32;
                    int l = j % 32;
                    int low = u8(s, at + 64 * half + 32 * (quarter & 1) + l);
                    low = quarter >= 2 ? low >>> 4 : low & 0xf;
                    int high = (u8(s, at + 128 + 32 * half + l) >>> (2 * quarter)) & 3;
                    m[j] = i8(s, at + 192 + j / 16) * ((low | (high << 4)) - 32);
                }
                return new float[] {f16(s, at + 208), 0};
            }
            case Q8_K -> {
                for (int j = 0; j < 256; j++) {
                    m[j] = i8(s, at + 4 + j);
                }
                return new float[] {s.get(Dequantize.F32, at), 0};
            }
            default -> throw new IllegalArgumentException("no integer multipliers for " + type);
        }
    }

    private static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    private static int i8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at);
    }

    private static float f16(MemorySegment s, long at) {
        return Half.f16ToFloat(s.get(Dequantize.F16, at));
    }
}
