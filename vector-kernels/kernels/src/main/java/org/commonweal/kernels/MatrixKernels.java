package org.commonweal.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix x vector (decode) and matrix x matrix (prompt processing, batched decode) for weights of any
 * {@link GgmlType}.
 * <p>
 * <b>What is computed, exactly.</b> {@code out = dot16(dequantize(row), x)} where {@code dequantize}
 * is ggml's reference dequantization ({@link Dequantize}) and {@code dot16} is a fixed-order dot
 * product: 16 partial sums, lane {@code l} accumulating the elements {@code l, l+16, l+32, ...} in
 * increasing order with fused multiply-adds, then combined as {@code (l + l+8)}, {@code (l + l+4)},
 * {@code (l + l+2)}, {@code (l + l+1)}. The result depends neither on the thread count, nor on
 * whether a row is computed by matvec or inside a matmul tile, nor on the code path (the SIMD paths
 * here and the scalar {@link #referenceDot} agree bit for bit). For Q8_0 and Q4_0 the dequantized
 * weights are exact products (an 8-bit integer times an F16 scale fits a float's mantissa), so
 * decoding them inside the dot product changes nothing.
 * <p>
 * Activations stay F32: with the Vector API (which exposes no int8 dot-product instruction), decoding
 * weights to floats and using FMAs is as fast as integer products and loses nothing to activation
 * quantization.
 */
public final class MatrixKernels {

    /** The dot product's fixed layout: 16 float lanes (one 512-bit vector). */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorShuffle<Float> DOWN_8 = VectorShuffle.fromOp(F, i -> (i + 8) & 15);
    private static final VectorShuffle<Float> DOWN_4 = VectorShuffle.fromOp(F, i -> (i + 4) & 15);
    private static final VectorShuffle<Float> DOWN_2 = VectorShuffle.fromOp(F, i -> (i + 2) & 15);
    private static final VectorShuffle<Float> DOWN_1 = VectorShuffle.fromOp(F, i -> (i + 1) & 15);
    /** Tokens per matmul tile: each decoded weight vector serves this many tokens. */
    static final int TOKEN_TILE = 4;

    private MatrixKernels() {
    }

    /** {@code out[r] = W[r,:] . x} for every row. */
    public static void matvec(WeightMatrix w, float[] x, float[] out, KernelPool pool) {
        matmul(w, x, w.cols(), 1, out, w.rows(), pool);
    }

    /**
     * {@code out[t * outStride + r] = W[r,:] . x[t * xStride ...]} for every row r and token t: the
     * matvec of each token, bit for bit, computed in tiles of {@value #TOKEN_TILE} tokens so that each
     * weight is read from memory once per tile.
     */
    public static void matmul(WeightMatrix w, float[] x, int xStride, int tokens, float[] out, int outStride,
            KernelPool pool) {
        check(w, x, xStride, tokens, out, outStride);
        pool.checkAccessible(w.data(), "the " + w.rows() + "x" + w.cols() + " " + w.type() + " weight matrix");
        pool.forRows(w.rows(), w.rowBytes() * tokens, (from, to) -> rows(w, x, xStride, tokens, out, outStride, from, to));
    }

    private static void rows(WeightMatrix w, float[] x, int xs, int tokens, float[] out, int os, int from, int to) {
        if (tokens == 1) {
            matvecRows(w, x, out, from, to);
            return;
        }
        float[] scratch0 = decodesByReference(w.type()) ? new float[w.cols()] : null;
        float[] scratch1 = decodesByReference(w.type()) ? new float[w.cols()] : null;
        int r = from;
        for (; r + 2 <= to; r += 2) {
            long row0 = w.rowOffset(r);
            long row1 = row0 + w.rowBytes();
            if (scratch0 != null) {
                Dequantize.row(w.type(), w.data(), row0, scratch0, 0, w.cols());
                Dequantize.row(w.type(), w.data(), row1, scratch1, 0, w.cols());
            }
            int t = 0;
            for (; t + TOKEN_TILE <= tokens; t += TOKEN_TILE) {
                tile2x4(w, row0, row1, scratch0, scratch1, x, t * xs, xs, out, t * os + r, os);
            }
            for (; t < tokens; t++) {
                out[t * os + r] = dot1(w, row0, scratch0, x, t * xs);
                out[t * os + r + 1] = dot1(w, row1, scratch1, x, t * xs);
            }
        }
        for (; r < to; r++) {
            long row = w.rowOffset(r);
            if (scratch0 != null) {
                Dequantize.row(w.type(), w.data(), row, scratch0, 0, w.cols());
            }
            for (int t = 0; t < tokens; t++) {
                out[t * os + r] = dot1(w, row, scratch0, x, t * xs);
            }
        }
    }

    private static boolean decodesByReference(GgmlType type) {
        return switch (type) {
            case F32, Q8_0, Q4_0, Q4_K, Q6_K -> false;
            default -> true;
        };
    }

    /**
     * Matvec. F32 rows go four at a time (four independent FMA chains: 87% of the triad here); Q8_0 and
     * Q4_0 rows one at a time, which measured faster than four at a time with this JDK (the decode
     * of four rows at once ran at less than half the speed; to investigate with JMH and the assembly).
     */
    private static void matvecRows(WeightMatrix w, float[] x, float[] out, int from, int to) {
        int r = from;
        if (w.type() == GgmlType.F32) {
            MemorySegment m = w.data();
            long stride = w.rowBytes();
            int chunks = w.cols() / 16;
            for (; r + 4 <= to; r += 4) {
                long row0 = w.rowOffset(r);
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int k = 0; k < chunks; k++) {
                    FloatVector xv = FloatVector.fromArray(F, x, 16 * k);
                    a0 = f32(m, row0, k).fma(xv, a0);
                    a1 = f32(m, row0 + stride, k).fma(xv, a1);
                    a2 = f32(m, row0 + 2 * stride, k).fma(xv, a2);
                    a3 = f32(m, row0 + 3 * stride, k).fma(xv, a3);
                }
                out[r] = reduce(tail(w, row0, null, x, 0, a0));
                out[r + 1] = reduce(tail(w, row0 + stride, null, x, 0, a1));
                out[r + 2] = reduce(tail(w, row0 + 2 * stride, null, x, 0, a2));
                out[r + 3] = reduce(tail(w, row0 + 3 * stride, null, x, 0, a3));
            }
        }
        float[] scratch = decodesByReference(w.type()) ? new float[w.cols()] : null;
        for (; r < to; r++) {
            long row = w.rowOffset(r);
            if (scratch != null) {
                Dequantize.row(w.type(), w.data(), row, scratch, 0, w.cols());
            }
            out[r] = dot1(w, row, scratch, x, 0);
        }
    }

    private static float dot1(WeightMatrix w, long row, float[] scratch, float[] x, int xo) {
        MemorySegment m = w.data();
        int chunks = w.cols() / 16;
        FloatVector acc = FloatVector.zero(F);
        switch (w.type()) {
            case F32 -> {
                for (int k = 0; k < chunks; k++) {
                    acc = f32(m, row, k).fma(FloatVector.fromArray(F, x, xo + 16 * k), acc);
                }
            }
            case Q8_0 -> {
                for (int k = 0; k < chunks; k++) {
                    acc = q8_0(m, row, k).fma(FloatVector.fromArray(F, x, xo + 16 * k), acc);
                }
            }
            case Q4_0 -> {
                for (int k = 0; k < chunks; k++) {
                    acc = q4_0(m, row, k).fma(FloatVector.fromArray(F, x, xo + 16 * k), acc);
                }
            }
            case Q4_K -> {
                for (int k = 0; k < chunks; k++) {
                    acc = q4_K(m, row, k).fma(FloatVector.fromArray(F, x, xo + 16 * k), acc);
                }
            }
            case Q6_K -> {
                for (int k = 0; k < chunks; k++) {
                    acc = q6_K(m, row, k).fma(FloatVector.fromArray(F, x, xo + 16 * k), acc);
                }
            }
            default -> {
                for (int k = 0; k < chunks; k++) {
                    acc = FloatVector.fromArray(F, scratch, 16 * k).fma(FloatVector.fromArray(F, x, xo + 16 * k), acc);
                }
            }
        }
        return reduce(tail(w, row, scratch, x, xo, acc));
    }

    /** Matmul tile: 2 rows x 4 tokens, eight FMA chains; each decoded weight vector serves four tokens. */
    private static void tile2x4(WeightMatrix w, long row0, long row1, float[] s0, float[] s1, float[] x, int xo, int xs,
            float[] out, int oo, int os) {
        MemorySegment m = w.data();
        int chunks = w.cols() / 16;
        GgmlType type = w.type();
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int k = 0; k < chunks; k++) {
            FloatVector v0;
            FloatVector v1;
            if (type == GgmlType.Q8_0) {
                v0 = q8_0(m, row0, k);
                v1 = q8_0(m, row1, k);
            } else if (type == GgmlType.Q4_0) {
                v0 = q4_0(m, row0, k);
                v1 = q4_0(m, row1, k);
            } else if (type == GgmlType.F32) {
                v0 = f32(m, row0, k);
                v1 = f32(m, row1, k);
            } else if (type == GgmlType.Q4_K) {
                v0 = q4_K(m, row0, k);
                v1 = q4_K(m, row1, k);
            } else if (type == GgmlType.Q6_K) {
                v0 = q6_K(m, row0, k);
                v1 = q6_K(m, row1, k);
            } else {
                v0 = FloatVector.fromArray(F, s0, 16 * k);
                v1 = FloatVector.fromArray(F, s1, 16 * k);
            }
            int c = xo + 16 * k;
            FloatVector x0 = FloatVector.fromArray(F, x, c);
            FloatVector x1 = FloatVector.fromArray(F, x, c + xs);
            FloatVector x2 = FloatVector.fromArray(F, x, c + 2 * xs);
            FloatVector x3 = FloatVector.fromArray(F, x, c + 3 * xs);
            a00 = v0.fma(x0, a00);
            a01 = v0.fma(x1, a01);
            a02 = v0.fma(x2, a02);
            a03 = v0.fma(x3, a03);
            a10 = v1.fma(x0, a10);
            a11 = v1.fma(x1, a11);
            a12 = v1.fma(x2, a12);
            a13 = v1.fma(x3, a13);
        }
        out[oo] = reduce(tail(w, row0, s0, x, xo, a00));
        out[oo + os] = reduce(tail(w, row0, s0, x, xo + xs, a01));
        out[oo + 2 * os] = reduce(tail(w, row0, s0, x, xo + 2 * xs, a02));
        out[oo + 3 * os] = reduce(tail(w, row0, s0, x, xo + 3 * xs, a03));
        out[oo + 1] = reduce(tail(w, row1, s1, x, xo, a10));
        out[oo + os + 1] = reduce(tail(w, row1, s1, x, xo + xs, a11));
        out[oo + 2 * os + 1] = reduce(tail(w, row1, s1, x, xo + 2 * xs, a12));
        out[oo + 3 * os + 1] = reduce(tail(w, row1, s1, x, xo + 3 * xs, a13));
    }

    /** The last cols % 16 elements (F32 rows only: every block type's rows are whole 16-element chunks). */
    private static FloatVector tail(WeightMatrix w, long row, float[] scratch, float[] x, int xo, FloatVector acc) {
        int done = w.cols() & ~15;
        if (done == w.cols()) {
            return acc;
        }
        float[] lanes = new float[16];
        acc.intoArray(lanes, 0);
        for (int c = done; c < w.cols(); c++) {
            float weight = scratch != null ? scratch[c] : w.data().get(LE_FLOAT, row + 4L * c);
            lanes[c & 15] = Math.fma(weight, x[xo + c], lanes[c & 15]);
        }
        return FloatVector.fromArray(F, lanes, 0);
    }

    /** The fixed combination of the 16 lanes: (l + l+8), (l + l+4), (l + l+2), (l + l+1). */
    static float reduce(FloatVector acc) {
        FloatVector v = acc.add(acc.rearrange(DOWN_8));
        v = v.add(v.rearrange(DOWN_4));
        v = v.add(v.rearrange(DOWN_2));
        v = v.add(v.rearrange(DOWN_1));
        return v.lane(0);
    }

    private static FloatVector f32(MemorySegment m, long row, int k) {
        return FloatVector.fromMemorySegment(F, m, row + 64L * k, ByteOrder.LITTLE_ENDIAN);
    }

    /** Chunk k of a Q8_0 row: block k/2 (2-byte F16 scale, 32 int8), its half k%2, times the scale. */
    private static FloatVector q8_0(MemorySegment m, long row, int k) {
        long block = row + 34L * (k >> 1);
        float d = Float.float16ToFloat(m.get(LE_SHORT, block));
        ByteVector q = ByteVector.fromMemorySegment(B16, m, block + 2 + 16 * (k & 1), ByteOrder.LITTLE_ENDIAN);
        return ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }

    /** Chunk k of a Q4_0 row: block k/2 (F16 scale, 16 bytes); low nibbles are elements 0-15, high 16-31. */
    private static FloatVector q4_0(MemorySegment m, long row, int k) {
        long block = row + 18L * (k >> 1);
        float d = Float.float16ToFloat(m.get(LE_SHORT, block));
        ByteVector q = ByteVector.fromMemorySegment(B16, m, block + 2, ByteOrder.LITTLE_ENDIAN);
        // In int lanes: x86 has no byte shifts, and the Vector API would emulate them slowly.
        IntVector bytes = (IntVector) q.convertShape(VectorOperators.B2I, I, 0);
        IntVector nibbles = bytes.lanewise(VectorOperators.ASHR, 4 * (k & 1)).and(0x0F);
        return ((FloatVector) nibbles.sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d);
    }

    /**
     * Chunk k of a Q4_K row. A 144-byte block of 256: F16 d and dmin, 12 bytes packing eight 6-bit
     * (scale, min) pairs, then 128 bytes of 4-bit values. Each 64 elements share 32 bytes: the low
     * nibbles are the first 32 (pair 2g), the high nibbles the next 32 (pair 2g+1). Value:
     * {@code (d * scale) * q - (dmin * min)}, multiply then subtract, as ggml's reference.
     */
    private static FloatVector q4_K(MemorySegment m, long row, int k) {
        long block = row + 144L * (k >> 4);
        int e = (k & 15) << 4;
        int group = e >> 6;
        boolean high = (e & 32) != 0;
        int pair = 2 * group + (high ? 1 : 0);
        float d = Float.float16ToFloat(m.get(LE_SHORT, block));
        float dmin = Float.float16ToFloat(m.get(LE_SHORT, block + 2));
        long scales = block + 4;
        int sc;
        int mn;
        if (pair < 4) {
            sc = m.get(ValueLayout.JAVA_BYTE, scales + pair) & 63;
            mn = m.get(ValueLayout.JAVA_BYTE, scales + pair + 4) & 63;
        } else {
            int b4 = m.get(ValueLayout.JAVA_BYTE, scales + pair + 4) & 0xFF;
            sc = (b4 & 0x0F) | (((m.get(ValueLayout.JAVA_BYTE, scales + pair - 4) & 0xFF) >> 6) << 4);
            mn = (b4 >> 4) | (((m.get(ValueLayout.JAVA_BYTE, scales + pair) & 0xFF) >> 6) << 4);
        }
        ByteVector q = ByteVector.fromMemorySegment(B16, m, block + 16 + 32L * group + (e & 31), ByteOrder.LITTLE_ENDIAN);
        IntVector nibbles = ((IntVector) q.convertShape(VectorOperators.B2I, I, 0)).lanewise(VectorOperators.ASHR, high ? 4 : 0)
                .and(0x0F);
        return ((FloatVector) nibbles.convertShape(VectorOperators.I2F, F, 0)).mul(d * sc).sub(dmin * mn);
    }

    /**
     * Chunk k of a Q6_K row. A 210-byte block of 256: 128 bytes of low 4 bits, 64 bytes of high 2 bits,
     * 16 signed 8-bit scales, F16 d last. Each half of 128 elements uses 64 low-bit bytes, 32 high-bit
     * bytes and 8 scales: quarter qd of the half takes nibbles (low for 0,1; high for 2,3) of bytes
     * [32*(qd&1), +32) and bits 2*qd..2*qd+1 of the high bytes. Value: {@code (d * scale) * (q - 32)}.
     */
    private static FloatVector q6_K(MemorySegment m, long row, int k) {
        long block = row + 210L * (k >> 4);
        int e = (k & 15) << 4;
        int half = e >> 7;
        int p = e & 127;
        int quarter = p >> 5;
        int l0 = p & 31;
        float d = Float.float16ToFloat(m.get(LE_SHORT, block + 208));
        int scale = m.get(ValueLayout.JAVA_BYTE, block + 192 + 8 * half + (l0 >> 4) + 2 * quarter);
        ByteVector ql = ByteVector.fromMemorySegment(B16, m, block + 64L * half + 32 * (quarter & 1) + l0,
                ByteOrder.LITTLE_ENDIAN);
        ByteVector qh = ByteVector.fromMemorySegment(B16, m, block + 128 + 32L * half + l0, ByteOrder.LITTLE_ENDIAN);
        IntVector low = ((IntVector) ql.convertShape(VectorOperators.B2I, I, 0))
                .lanewise(VectorOperators.ASHR, quarter >= 2 ? 4 : 0).and(0x0F);
        IntVector highBits = ((IntVector) qh.convertShape(VectorOperators.B2I, I, 0))
                .lanewise(VectorOperators.ASHR, 2 * quarter).and(3).lanewise(VectorOperators.LSHL, 4);
        return ((FloatVector) low.or(highBits).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * scale);
    }

    /** The scalar definition of {@code dot16}: what every path above computes, bit for bit. */
    public static float referenceDot(float[] w, int wo, float[] x, int xo, int n) {
        float[] lanes = new float[16];
        for (int c = 0; c < n; c++) {
            lanes[c & 15] = Math.fma(w[wo + c], x[xo + c], lanes[c & 15]);
        }
        for (int width = 8; width >= 1; width /= 2) {
            for (int l = 0; l < width; l++) {
                lanes[l] = lanes[l] + lanes[l + width];
            }
        }
        return lanes[0];
    }

    private static void check(WeightMatrix w, float[] x, int xStride, int tokens, float[] out, int outStride) {
        if (tokens < 1) {
            throw new IllegalArgumentException("matmul needs at least one token, not " + tokens);
        }
        if (xStride < w.cols() || (long) xStride * (tokens - 1) + w.cols() > x.length) {
            throw new IllegalArgumentException("a " + w.rows() + "x" + w.cols() + " " + w.type() + " matrix times "
                    + tokens + " token(s) needs x of length >= " + ((long) Math.max(xStride, w.cols()) * (tokens - 1)
                    + w.cols()) + " with stride >= " + w.cols() + ", got length " + x.length + " stride " + xStride);
        }
        if (outStride < w.rows() || (long) outStride * (tokens - 1) + w.rows() > out.length) {
            throw new IllegalArgumentException("a " + w.rows() + "-row matrix times " + tokens + " token(s) needs out of"
                    + " length >= " + ((long) Math.max(outStride, w.rows()) * (tokens - 1) + w.rows()) + " with stride >= "
                    + w.rows() + ", got length " + out.length + " stride " + outStride);
        }
    }
}
