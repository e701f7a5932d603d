package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar reference quantizers, byte for byte the blocks ggml's {@code quantize_row_*_ref} functions
 * write: the same scale (computed in float, from the same extreme element), the same rounding, and the
 * scale stored as ggml stores it. Q8_0 and Q8_K are what llama.cpp's CPU backend turns activations into
 * before a matrix product with quantized weights; Q4_0, Q4_1 and Q5_0 serve tests and tools.
 *
 * <p>Each method quantizes {@code n} floats {@code x[xOffset .. xOffset + n)} ({@code n} a multiple of
 * the block size) into {@code dst} from byte {@code offset}, and fails with an
 * {@link IllegalArgumentException} naming the problem, before writing anything, if the input or output
 * range does not fit. Block layouts are described in {@link Dequantize}.
 */
public final class Quantize {

    private Quantize() {
    }

    /**
     * Q8_0 (ggml's quantize_row_q8_0_ref): per block of 32, {@code d = amax / 127}, each quant
     * {@code round(x / d)} computed as {@code x * (1 / d)} and rounded half away from zero (C's
     * {@code roundf}), {@code d} stored as F16. The quants use the unrounded float {@code d}.
     */
    public static void q8_0(float[] x, int xOffset, int n, MemorySegment dst, long offset) {
        check("quantize", GgmlType.Q8_0, x, xOffset, n, dst, offset);
        for (int b = 0; b < n / 32; b++) {
            int in = xOffset + 32 * b;
            long at = offset + 34L * b;
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                float a = Math.abs(x[in + j]);
                amax = amax > a ? amax : a; // ggml's MAX(amax, a): a NaN element makes amax NaN
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            dst.set(Dequantize.F16, at, Half.floatToF16(d));
            for (int j = 0; j < 32; j++) {
                dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundHalfAway(x[in + j] * id));
            }
        }
    }

    /**
     * Q8_K (ggml's quantize_row_q8_K_ref), per block of 256. Unlike Q8_0 the scale is a float32 and
     * carries the sign: with {@code max} the first element of largest magnitude (sign kept),
     * {@code iscale = -127 / max}, each quant is {@code min(127, nearest_int(iscale * x))} with ties to
     * even, and {@code d = 1 / iscale} (so {@code d} has the opposite sign of {@code max} and the quants
     * are negated). The 16 {@code bsums} are the sums of each run of 16 quants. An all-zero block gets
     * {@code d = 0} and zero quants; ggml leaves its bsums as they were, this writes zeros (their true
     * value).
     */
    public static void q8K(float[] x, int xOffset, int n, MemorySegment dst, long offset) {
        check("quantize", GgmlType.Q8_K, x, xOffset, n, dst, offset);
        for (int b = 0; b < n / 256; b++) {
            int in = xOffset + 256 * b;
            long at = offset + 292L * b;
            float max = 0;
            float amax = 0;
            for (int j = 0; j < 256; j++) {
                float a = Math.abs(x[in + j]);
                if (a > amax) {
                    amax = a;
                    max = x[in + j];
                }
            }
            int[] q = new int[256];
            float d = 0;
            if (amax != 0) {
                float iscale = -127f / max;
                for (int j = 0; j < 256; j++) {
                    q[j] = Math.min(127, nearestInt(iscale * x[in + j]));
                }
                d = 1 / iscale;
            }
            dst.set(Dequantize.F32, at, d);
            for (int j = 0; j < 256; j++) {
                dst.set(ValueLayout.JAVA_BYTE, at + 4 + j, (byte) q[j]);
            }
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 0; j < 16; j++) {
                    sum += q[16 * g + j];
                }
                dst.set(Dequantize.I16, at + 260 + 2L * g, (short) sum);
            }
        }
    }

    /**
     * Q4_0 (ggml's quantize_row_q4_0_ref), per block of 32: {@code d = max / -8} where {@code max} is the
     * first element of largest magnitude, sign kept, so that element maps to quant 0 exactly; each quant
     * is {@code min(15, trunc(x / d + 8.5))} (that is, round half up, clipped), {@code d} stored as F16.
     */
    public static void q4_0(float[] x, int xOffset, int n, MemorySegment dst, long offset) {
        check("quantize", GgmlType.Q4_0, x, xOffset, n, dst, offset);
        for (int b = 0; b < n / 32; b++) {
            int in = xOffset + 32 * b;
            long at = offset + 18L * b;
            float max = signedMax(x, in, 32);
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            dst.set(Dequantize.F16, at, Half.floatToF16(d));
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(15, (int) (x[in + j] * id + 8.5f));
                int q1 = Math.min(15, (int) (x[in + j + 16] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (q0 | (q1 << 4)));
            }
        }
    }

    /**
     * Q4_1 (ggml's quantize_row_q4_1_ref), per block of 32: {@code d = (max - min) / 15}, offset
     * {@code m = min}, each quant {@code min(15, trunc((x - min) / d + 0.5))}; {@code d} and {@code m}
     * stored as F16 (the quants use the unrounded float values).
     */
    public static void q4_1(float[] x, int xOffset, int n, MemorySegment dst, long offset) {
        check("quantize", GgmlType.Q4_1, x, xOffset, n, dst, offset);
        for (int b = 0; b < n / 32; b++) {
            int in = xOffset + 32 * b;
            long at = offset + 20L * b;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < 32; j++) {
                float v = x[in + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            dst.set(Dequantize.F16, at, Half.floatToF16(d));
            dst.set(Dequantize.F16, at + 2, Half.floatToF16(min));
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(15, (int) ((x[in + j] - min) * id + 0.5f));
                int q1 = Math.min(15, (int) ((x[in + j + 16] - min) * id + 0.5f));
                dst.set(ValueLayout.JAVA_BYTE, at + 4 + j, (byte) (q0 | (q1 << 4)));
            }
        }
    }

    /**
     * Q5_0 (ggml's quantize_row_q5_0_ref), per block of 32: {@code d = max / -16} (max as in Q4_0), each
     * quant {@code min(31, trunc(x / d + 16.5))}; the low four bits go to the nibbles, the fifth bit of
     * element j to bit j of the little-endian word qh; {@code d} stored as F16.
     */
    public static void q5_0(float[] x, int xOffset, int n, MemorySegment dst, long offset) {
        check("quantize", GgmlType.Q5_0, x, xOffset, n, dst, offset);
        for (int b = 0; b < n / 32; b++) {
            int in = xOffset + 32 * b;
            long at = offset + 22L * b;
            float max = signedMax(x, in, 32);
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            dst.set(Dequantize.F16, at, Half.floatToF16(d));
            int qh = 0;
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(31, (int) (x[in + j] * id + 16.5f));
                int q1 = Math.min(31, (int) (x[in + j + 16] * id + 16.5f));
                dst.set(ValueLayout.JAVA_BYTE, at + 6 + j, (byte) ((q0 & 0xf) | ((q1 & 0xf) << 4)));
                qh |= ((q0 >>> 4) & 1) << j;
                qh |= ((q1 >>> 4) & 1) << (j + 16);
            }
            dst.set(Dequantize.U32, at + 2, qh);
        }
    }

    /** The first of the {@code count} elements from {@code from} with the largest magnitude, sign kept. */
    private static float signedMax(float[] x, int from, int count) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < count; j++) {
            float v = x[from + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    /**
     * C's {@code roundf}: to the nearest integer, halfway cases away from zero ({@code Math.round} would
     * take -2.5 to -2, not -3). Done in double, where {@code |v| + 0.5} is exact for any float this sees.
     */
    static int roundHalfAway(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -a : a);
    }

    /**
     * ggml's {@code nearest_int}: to the nearest integer, halfway cases to even. ggml adds 1.5 * 2^23 and
     * reads the low mantissa bits, which is exactly {@code rint} for the |v| < 2^22 it is used on.
     */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    private static void check(String operation, GgmlType type, float[] x, int xOffset, int n,
            MemorySegment dst, long offset) {
        Dequantize.checkedBytes(operation, type, n, dst, offset);
        if (xOffset < 0 || xOffset > x.length - n) {
            throw new IllegalArgumentException(operation + " " + type + ": source range [" + xOffset + ", "
                    + ((long) xOffset + n) + ") of " + n + " elements does not fit a float[" + x.length
                    + "]; pass a larger array or a smaller xOffset or n");
        }
    }
}
