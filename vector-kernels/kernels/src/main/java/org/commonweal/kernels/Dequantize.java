package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference dequantization of GGUF tensor rows: the value of every element exactly as ggml's
 * reference {@code dequantize_row_*} functions compute it (same float operations in the same order,
 * never fused), so the SIMD kernels can be tested against it bit for bit.
 *
 * <p>Where ggml computes {@code a * b + c} (Q4_1, Q4_K, Q5_K) the product is rounded before the add, as
 * the C source reads. A ggml build whose compiler contracts that into a fused multiply-add (clang's
 * default, or GCC in GNU mode on a target with FMA, such as AArch64) can differ in the last bit there.
 *
 * <p>Written for clarity, not speed: one element at a time, each field read where the block layout puts
 * it. All multi-byte fields are little-endian, whatever the platform.
 */
public final class Dequantize {

    static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = F16;
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Dequantize() {
    }

    /**
     * Dequantizes {@code n} elements of {@code type}, stored from byte {@code offset} of {@code src}, into
     * {@code dst[dstOffset .. dstOffset + n)}.
     *
     * @throws IllegalArgumentException if {@code n} is not a whole number of blocks, or the bytes or the
     *         destination range fall outside {@code src} or {@code dst}; nothing is read or written then
     */
    public static void row(GgmlType type, MemorySegment src, long offset, float[] dst, int dstOffset, int n) {
        long bytes = checkedBytes("dequantize", type, n, src, offset);
        if (dstOffset < 0 || dstOffset > dst.length - n) {
            throw new IllegalArgumentException("dequantize " + type + ": destination range [" + dstOffset + ", "
                    + ((long) dstOffset + n) + ") of " + n + " elements does not fit a float[" + dst.length
                    + "]; pass a larger array or a smaller dstOffset");
        }
        long blocks = bytes / type.typeSize();
        int block = type.blockSize();
        for (long b = 0; b < blocks; b++) {
            long at = offset + b * type.typeSize();
            int out = dstOffset + (int) (b * block);
            switch (type) {
                case F32 -> dst[out] = src.get(F32, at);
                case F16 -> dst[out] = Half.f16ToFloat(src.get(F16, at));
                case BF16 -> dst[out] = Half.bf16ToFloat(src.get(F16, at));
                case Q4_0 -> q4_0(src, at, dst, out);
                case Q4_1 -> q4_1(src, at, dst, out);
                case Q5_0 -> q5_0(src, at, dst, out);
                case Q8_0 -> q8_0(src, at, dst, out);
                case Q4_K -> q4K(src, at, dst, out);
                case Q5_K -> q5K(src, at, dst, out);
                case Q6_K -> q6K(src, at, dst, out);
                case Q8_K -> q8K(src, at, dst, out);
                default -> throw new IllegalArgumentException("dequantize: no reference for type " + type
                        + " yet; add its block layout to Dequantize");
            }
        }
    }

    /**
     * The byte count of {@code n} elements of {@code type}, after checking that they are whole blocks and
     * lie inside {@code segment} from {@code offset}; the message names the operation, type, n, offset and
     * sizes, and what to change.
     */
    static long checkedBytes(String operation, GgmlType type, int n, MemorySegment segment, long offset) {
        if (n < 0 || n % type.blockSize() != 0) {
            throw new IllegalArgumentException(operation + " " + type + ": n = " + n
                    + " is not a whole number of blocks; " + type + " stores blocks of " + type.blockSize()
                    + " elements, so n must be a non-negative multiple of " + type.blockSize());
        }
        long bytes = type.rowBytes(n);
        if (offset < 0 || offset > segment.byteSize() - bytes) {
            throw new IllegalArgumentException(operation + " " + type + ": " + n + " elements take " + bytes
                    + " bytes from offset " + offset + ", past the end of the " + segment.byteSize()
                    + "-byte segment; pass a larger segment or a smaller offset or n");
        }
        return bytes;
    }

    private static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xff;
    }

    private static int i8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at);
    }

    private static float f16(MemorySegment s, long at) {
        return Half.f16ToFloat(s.get(F16, at));
    }

    /*
     * Q4_0, 32 elements in 18 bytes: F16 scale d, then 16 bytes of 4-bit quants q. Byte j holds element j
     * in its low nibble and element j + 16 in its high nibble. Value (q - 8) * d.
     */
    private static void q4_0(MemorySegment s, long at, float[] y, int out) {
        float d = f16(s, at);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 2 + j);
            y[out + j] = ((q & 0xf) - 8) * d;
            y[out + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    /*
     * Q4_1, 32 elements in 20 bytes: F16 scale d, F16 offset m, then 16 quant bytes laid out as in Q4_0.
     * Value q * d + m (the multiply is rounded before the add).
     */
    private static void q4_1(MemorySegment s, long at, float[] y, int out) {
        float d = f16(s, at);
        float m = f16(s, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 4 + j);
            y[out + j] = (q & 0xf) * d + m;
            y[out + j + 16] = (q >>> 4) * d + m;
        }
    }

    /*
     * Q5_0, 32 elements in 22 bytes: F16 scale d, a 32-bit little-endian word qh whose bit j is the fifth
     * (high) bit of element j, then 16 bytes of low nibbles laid out as in Q4_0. Value (q - 16) * d.
     */
    private static void q5_0(MemorySegment s, long at, float[] y, int out) {
        float d = f16(s, at);
        int qh = s.get(U32, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 6 + j);
            int q0 = (q & 0xf) | (((qh >>> j) & 1) << 4);
            int q1 = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
            y[out + j] = (q0 - 16) * d;
            y[out + j + 16] = (q1 - 16) * d;
        }
    }

    /* Q8_0, 32 elements in 34 bytes: F16 scale d, then 32 signed bytes q in element order. Value q * d. */
    private static void q8_0(MemorySegment s, long at, float[] y, int out) {
        float d = f16(s, at);
        for (int j = 0; j < 32; j++) {
            y[out + j] = i8(s, at + 2 + j) * d;
        }
    }

    /**
     * The 6-bit scale (index 0) and 6-bit min (index 1) of sub-block {@code j} (0..7) of a Q4_K/Q5_K block,
     * from its 12 packed bytes at {@code at}. Bytes 0-3 hold the scales of sub-blocks 0-3 in their low six
     * bits, bytes 4-7 their mins likewise; bytes 8-11 hold the low four bits of sub-blocks 4-7 (scale in
     * the low nibble, min in the high nibble), whose top two bits sit in the spare top bits of bytes 0-3
     * (scales) and 4-7 (mins).
     */
    static int[] scaleMinK4(MemorySegment s, long at, int j) {
        if (j < 4) {
            return new int[] {u8(s, at + j) & 63, u8(s, at + j + 4) & 63};
        }
        int packed = u8(s, at + j + 4);
        int scale = (packed & 0xf) | ((u8(s, at + j - 4) >>> 6) << 4);
        int min = (packed >>> 4) | ((u8(s, at + j) >>> 6) << 4);
        return new int[] {scale, min};
    }

    /*
     * Q4_K, 256 elements in 144 bytes: F16 super-scale d, F16 super-min dmin, 12 bytes of packed 6-bit
     * scales and mins for eight sub-blocks of 32 (see scaleMinK4), then 128 quant bytes. Quant byte
     * 32c + l holds element 64c + l (sub-block 2c) in its low nibble and element 64c + 32 + l (sub-block
     * 2c + 1) in its high nibble. Value (d * scale) * q - (dmin * min).
     */
    private static void q4K(MemorySegment s, long at, float[] y, int out) {
        float d = f16(s, at);
        float dmin = f16(s, at + 2);
        long scales = at + 4;
        long qs = at + 16;
        for (int c = 0; c < 4; c++) {
            int[] lo = scaleMinK4(s, scales, 2 * c);
            int[] hi = scaleMinK4(s, scales, 2 * c + 1);
            float d1 = d * lo[0];
            float m1 = dmin * lo[1];
            float d2 = d * hi[0];
            float m2 = dmin * hi[1];
            for (int l = 0; l < 32; l++) {
                int q = u8(s, qs + 32 * c + l);
                y[out + 64 * c + l] = d1 * (q & 0xf) - m1;
                y[out + 64 * c + 32 + l] = d2 * (q >>> 4) - m2;
            }
        }
    }

    /*
     * Q5_K, 256 elements in 176 bytes: as Q4_K (d, dmin, 12 scale bytes) then 32 bytes qh and 128 bytes of
     * low nibbles laid out as in Q4_K. The fifth bit of element 64c + l is bit 2c of qh[l], that of element
     * 64c + 32 + l is bit 2c + 1 of qh[l]. Value (d * scale) * q - (dmin * min).
     */
    private static void q5K(MemorySegment s, long at, float[] y, int out) {
        float d = f16(s, at);
        float dmin = f16(s, at + 2);
        long scales = at + 4;
        long qh = at + 16;
        long qs = at + 48;
        for (int c = 0; c < 4; c++) {
            int[] lo = scaleMinK4(s, scales, 2 * c);
            int[] hi = scaleMinK4(s, scales, 2 * c + 1);
            float d1 = d * lo[0];
            float m1 = dmin * lo[1];
            float d2 = d * hi[0];
            float m2 = dmin * hi[1];
            for (int l = 0; l < 32; l++) {
                int q = u8(s, qs + 32 * c + l);
                int h = u8(s, qh + l);
                int q0 = (q & 0xf) | (((h >>> (2 * c)) & 1) << 4);
                int q1 = (q >>> 4) | (((h >>> (2 * c + 1)) & 1) << 4);
                y[out + 64 * c + l] = d1 * q0 - m1;
                y[out + 64 * c + 32 + l] = d2 * q1 - m2;
            }
        }
    }

    /*
     * Q6_K, 256 elements in 210 bytes: 128 bytes ql (low four bits), 64 bytes qh (high two bits), 16 signed
     * 8-bit scales (one per 16 elements), then the F16 super-scale d, last. Each half h (0, 1) of 128
     * elements uses ql[64h ..], qh[32h ..], scales[8h ..]; for l in 0..31:
     *   element 128h + l      low nibble of ql[64h + l],      bits 0-1 of qh[32h + l]
     *   element 128h + 32 + l low nibble of ql[64h + 32 + l], bits 2-3
     *   element 128h + 64 + l high nibble of ql[64h + l],     bits 4-5
     *   element 128h + 96 + l high nibble of ql[64h + 32 + l], bits 6-7
     * Value (d * scale) * (q - 32), the scale of element e being scales[e / 16].
     */
    private static void q6K(MemorySegment s, long at, float[] y, int out) {
        long ql = at;
        long qh = at + 128;
        long sc = at + 192;
        float d = f16(s, at + 208);
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int low0 = u8(s, ql + 64 * h + l);
                int low1 = u8(s, ql + 64 * h + 32 + l);
                int high = u8(s, qh + 32 * h + l);
                int q1 = ((low0 & 0xf) | ((high & 3) << 4)) - 32;
                int q2 = ((low1 & 0xf) | (((high >>> 2) & 3) << 4)) - 32;
                int q3 = ((low0 >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
                int q4 = ((low1 >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
                int is = 8 * h + l / 16;
                int base = out + 128 * h + l;
                y[base] = d * i8(s, sc + is) * q1;
                y[base + 32] = d * i8(s, sc + is + 2) * q2;
                y[base + 64] = d * i8(s, sc + is + 4) * q3;
                y[base + 96] = d * i8(s, sc + is + 6) * q4;
            }
        }
    }

    /*
     * Q8_K, 256 elements in 292 bytes: an F32 (not F16) scale d, 256 signed bytes q in element order, then
     * 16 int16 sums of each run of 16 quants (used by dot products, not here). Value d * q.
     */
    private static void q8K(MemorySegment s, long at, float[] y, int out) {
        float d = s.get(F32, at);
        for (int j = 0; j < 256; j++) {
            y[out + j] = d * i8(s, at + 4 + j);
        }
    }
}
