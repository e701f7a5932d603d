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
    /** Tokens per matmul tile: each weight vector loaded serves this many tokens. */
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

    /**
     * Rows {@code [from, to)}: F32 matvec reads the weights directly, four rows at a time; everything
     * else first decodes each row into an L1-resident float scratch with a small per-type SIMD loop
     * ({@link #rowDecoder}), then runs the one F32 kernel. Small, single-purpose loops are what the JIT
     * compiles best: one method mixing every type's decoding ran several times slower.
     */
    private static void rows(WeightMatrix w, float[] x, int xs, int tokens, float[] out, int os, int from, int to) {
        int cols = w.cols();
        if (tokens == 1 && w.type() == GgmlType.F32) {
            matvecF32(w, x, out, from, to);
            return;
        }
        RowDot fused = tokens == 1 ? fusedDot(w.type()) : null;
        if (fused != null) {
            for (int r = from; r < to; r++) {
                out[r] = fused.dot(w.data(), w.rowOffset(r), x, cols);
            }
            return;
        }
        matmulRows(w, rowDecoder(w.type()), x, xs, tokens, out, os, from, to);
    }

    /**
     * Decodes each row into a scratch, two rows at a time, then 2 x 4 F32 tiles. (A 4 x 4 tile measured
     * 104 GFLOP/s once, but C2 stops intrinsifying its vector loads in most compilations and boxes
     * them: 11 GFLOP/s. Two rows stay within its budget.)
     */
    private static void matmulRows(WeightMatrix w, RowDecoder decoder, float[] x, int xs, int tokens, float[] out, int os,
            int from, int to) {
        int cols = w.cols();
        MemorySegment m = w.data();
        float[] s0 = new float[cols];
        float[] s1 = new float[cols];
        int r = from;
        if (tokens >= TOKEN_TILE) {
            for (; r + 2 <= to; r += 2) {
                decoder.decode(m, w.rowOffset(r), s0, cols);
                decoder.decode(m, w.rowOffset(r + 1), s1, cols);
                int t = 0;
                for (; t + TOKEN_TILE <= tokens; t += TOKEN_TILE) {
                    tile2x4(s0, s1, cols, x, t * xs, xs, out, t * os + r, os);
                }
                for (; t < tokens; t++) {
                    out[t * os + r] = dot(s0, x, t * xs, cols);
                    out[t * os + r + 1] = dot(s1, x, t * xs, cols);
                }
            }
        }
        for (; r < to; r++) {
            decoder.decode(m, w.rowOffset(r), s0, cols);
            for (int t = 0; t < tokens; t++) {
                out[t * os + r] = dot(s0, x, t * xs, cols);
            }
        }
    }

    /** A matvec row kernel that decodes as it goes. */
    @FunctionalInterface
    private interface RowDot {
        float dot(MemorySegment m, long row, float[] x, int cols);
    }

    /** The fused matvec row kernel of a type, or null where decoding into a scratch row is the way. */
    private static RowDot fusedDot(GgmlType type) {
        return switch (type) {
            case Q8_0 -> MatrixKernels::dotQ8_0;
            case Q4_0 -> MatrixKernels::dotQ4_0;
            case Q4_K -> MatrixKernels::dotQ4_K;
            case Q6_K -> MatrixKernels::dotQ6_K;
            default -> null;
        };
    }

    /** Decodes a row of {@code cols} weights at {@code row} into {@code dst}, exactly as {@link Dequantize#row}. */
    @FunctionalInterface
    private interface RowDecoder {
        void decode(MemorySegment m, long row, float[] dst, int cols);
    }

    /**
     * The row decoder of a type, chosen once per call: through this interface each decoder compiles on
     * its own. (A type switch inlined four times into the tile loop exhausted C2's budget, and the
     * vectors it could no longer keep in registers were boxed: matmul ran six times slower.)
     */
    private static RowDecoder rowDecoder(GgmlType type) {
        return switch (type) {
            case F32 -> (m, row, dst, cols) -> MemorySegment.copy(m, LE_FLOAT, row, dst, 0, cols);
            case Q8_0 -> MatrixKernels::decodeQ8_0;
            case Q4_0 -> MatrixKernels::decodeQ4_0;
            case Q4_K -> MatrixKernels::decodeQ4_K;
            case Q6_K -> MatrixKernels::decodeQ6_K;
            default -> (m, row, dst, cols) -> Dequantize.row(type, m, row, dst, 0, cols);
        };
    }

    private static void decodeQ8_0(MemorySegment m, long row, float[] dst, int cols) {
        for (int b = 0; b < cols / 32; b++) {
            long block = row + 34L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, block)));
            bytesToFloats(m, block + 2).mul(d).intoArray(dst, 32 * b);
            bytesToFloats(m, block + 18).mul(d).intoArray(dst, 32 * b + 16);
        }
    }

    private static void decodeQ4_0(MemorySegment m, long row, float[] dst, int cols) {
        for (int b = 0; b < cols / 32; b++) {
            long block = row + 18L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, block)));
            IntVector q = bytesToInts(m, block + 2);
            ((FloatVector) q.and(0x0F).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(dst, 32 * b);
            ((FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8).convertShape(VectorOperators.I2F, F, 0))
                    .mul(d).intoArray(dst, 32 * b + 16);
        }
    }

    /** Matvec row of Q8_0, block by block: the scale read once per 32 weights. */
    private static float dotQ8_0(MemorySegment m, long row, float[] x, int cols) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            long block = row + 34L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, block)));
            acc = bytesToFloats(m, block + 2).mul(d).fma(FloatVector.fromArray(F, x, 32 * b), acc);
            acc = bytesToFloats(m, block + 18).mul(d).fma(FloatVector.fromArray(F, x, 32 * b + 16), acc);
        }
        return reduce(acc);
    }

    /** Matvec row of Q4_0, block by block: 16 bytes loaded once give both halves. */
    private static float dotQ4_0(MemorySegment m, long row, float[] x, int cols) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            long block = row + 18L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, block)));
            IntVector q = bytesToInts(m, block + 2);
            FloatVector lo = ((FloatVector) q.and(0x0F).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d);
            FloatVector hi = ((FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8)
                    .convertShape(VectorOperators.I2F, F, 0)).mul(d);
            acc = lo.fma(FloatVector.fromArray(F, x, 32 * b), acc);
            acc = hi.fma(FloatVector.fromArray(F, x, 32 * b + 16), acc);
        }
        return reduce(acc);
    }

    /**
     * Matvec row of Q4_K, block by block: the eight (scale, min) pairs unpacked once per 256 weights.
     * It decodes as {@link #decodeBlockQ4_K} does, fused with the FMAs: decoding into a scratch block
     * first (one source for both) made Q4_K matvec 45% slower. Everything stays in this body: C2 would
     * not inline a helper that takes or returns vectors here, and boxed vectors ran twenty times slower.
     */
    private static float dotQ4_K(MemorySegment m, long row, float[] x, int cols) {
        FloatVector acc = FloatVector.zero(F);
        float[] scale = new float[8];
        float[] min = new float[8];
        for (int b = 0; b < cols / 256; b++) {
            long block = row + 144L * b;
            q4_KScales(m, block, scale, min);
            for (int k = 0; k < 16; k++) {
                int group = k >> 2;
                int high = (k >> 1) & 1;
                int pair = 2 * group + high;
                ByteVector q = ByteVector.fromMemorySegment(B16, m, block + 16 + 32L * group + 16 * (k & 1),
                        ByteOrder.LITTLE_ENDIAN);
                IntVector nibbles = ((IntVector) q.convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.ASHR, 4 * high).and(0x0F);
                FloatVector w = ((FloatVector) nibbles.convertShape(VectorOperators.I2F, F, 0)).mul(scale[pair]).sub(min[pair]);
                acc = w.fma(FloatVector.fromArray(F, x, 256 * b + 16 * k), acc);
            }
        }
        return reduce(acc);
    }

    /** A Q4_K block's eight {@code d * scale} and {@code dmin * min}, unpacked from their 6-bit fields. */
    private static void q4_KScales(MemorySegment m, long block, float[] scale, float[] min) {
        float d = Float.float16ToFloat(m.get(LE_SHORT, block));
        float dmin = Float.float16ToFloat(m.get(LE_SHORT, block + 2));
        long s = block + 4;
        for (int j = 0; j < 8; j++) {
            int sc;
            int mn;
            if (j < 4) {
                sc = m.get(ValueLayout.JAVA_BYTE, s + j) & 63;
                mn = m.get(ValueLayout.JAVA_BYTE, s + j + 4) & 63;
            } else {
                int b4 = m.get(ValueLayout.JAVA_BYTE, s + j + 4) & 0xFF;
                sc = (b4 & 0x0F) | (((m.get(ValueLayout.JAVA_BYTE, s + j - 4) & 0xFF) >> 6) << 4);
                mn = (b4 >> 4) | (((m.get(ValueLayout.JAVA_BYTE, s + j) & 0xFF) >> 6) << 4);
            }
            scale[j] = d * sc;
            min[j] = dmin * mn;
        }
    }

    /** Matvec row of Q6_K: {@link #decodeBlockQ6_K} fused with the FMAs, everything inline (see {@link #dotQ4_K}). */
    private static float dotQ6_K(MemorySegment m, long row, float[] x, int cols) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < cols / 256; b++) {
            long block = row + 210L * b;
            float d = Float.float16ToFloat(m.get(LE_SHORT, block + 208));
            for (int k = 0; k < 16; k++) {
                int half = k >> 3;
                int quarter = (k >> 1) & 3;
                int l0 = 16 * (k & 1);
                ByteVector ql = ByteVector.fromMemorySegment(B16, m, block + 64L * half + 32 * (quarter & 1) + l0,
                        ByteOrder.LITTLE_ENDIAN);
                ByteVector qh = ByteVector.fromMemorySegment(B16, m, block + 128 + 32L * half + l0, ByteOrder.LITTLE_ENDIAN);
                IntVector low = ((IntVector) ql.convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.ASHR, quarter >= 2 ? 4 : 0).and(0x0F);
                IntVector high = ((IntVector) qh.convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.ASHR, 2 * quarter).and(3).lanewise(VectorOperators.LSHL, 4);
                int scale = m.get(ValueLayout.JAVA_BYTE, block + 192 + 8 * half + (l0 >> 4) + 2 * quarter);
                FloatVector w = ((FloatVector) low.or(high).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * scale);
                acc = w.fma(FloatVector.fromArray(F, x, 256 * b + 16 * k), acc);
            }
        }
        return reduce(acc);
    }

    /**
     * One Q4_K block (144 bytes, 256 weights): F16 d and dmin, 12 bytes packing eight 6-bit (scale, min)
     * pairs, 128 bytes of 4-bit values; each 64 weights share 32 bytes, low nibbles first (pair 2g),
     * high nibbles next (pair 2g+1). Weight: {@code (d * scale) * q - (dmin * min)}, multiply then
     * subtract, as ggml's reference. Everything stays in this body: C2 would not inline a helper that
     * takes or returns vectors here, and boxed vectors ran twenty times slower.
     */
    private static void decodeBlockQ4_K(MemorySegment m, long block, float[] dst, int at, float[] scale, float[] min) {
        q4_KScales(m, block, scale, min);
        for (int k = 0; k < 16; k++) {
            int group = k >> 2;
            int high = (k >> 1) & 1;
            int pair = 2 * group + high;
            ByteVector q = ByteVector.fromMemorySegment(B16, m, block + 16 + 32L * group + 16 * (k & 1), ByteOrder.LITTLE_ENDIAN);
            IntVector nibbles = ((IntVector) q.convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.ASHR, 4 * high).and(0x0F);
            ((FloatVector) nibbles.convertShape(VectorOperators.I2F, F, 0)).mul(scale[pair]).sub(min[pair])
                    .intoArray(dst, at + 16 * k);
        }
    }

    /**
     * One Q6_K block (210 bytes, 256 weights): 128 bytes of low 4 bits, 64 bytes of high 2 bits, 16 signed
     * scales, F16 d last. Each half of 128 uses 64 low-bit bytes, 32 high-bit bytes and 8 scales; its
     * quarter qd takes the low (qd 0, 1) or high (qd 2, 3) nibbles of bytes [32*(qd&1), +32) and bits
     * 2*qd, 2*qd+1 of the high bytes. Weight: {@code (d * scale) * (q - 32)}. Everything inline, as Q4_K.
     */
    private static void decodeBlockQ6_K(MemorySegment m, long block, float[] dst, int at) {
        float d = Float.float16ToFloat(m.get(LE_SHORT, block + 208));
        for (int k = 0; k < 16; k++) {
            int half = k >> 3;
            int quarter = (k >> 1) & 3;
            int l0 = 16 * (k & 1);
            ByteVector ql = ByteVector.fromMemorySegment(B16, m, block + 64L * half + 32 * (quarter & 1) + l0,
                    ByteOrder.LITTLE_ENDIAN);
            ByteVector qh = ByteVector.fromMemorySegment(B16, m, block + 128 + 32L * half + l0, ByteOrder.LITTLE_ENDIAN);
            IntVector low = ((IntVector) ql.convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.ASHR, quarter >= 2 ? 4 : 0).and(0x0F);
            IntVector high = ((IntVector) qh.convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.ASHR, 2 * quarter).and(3).lanewise(VectorOperators.LSHL, 4);
            int scale = m.get(ValueLayout.JAVA_BYTE, block + 192 + 8 * half + (l0 >> 4) + 2 * quarter);
            ((FloatVector) low.or(high).sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(d * scale)
                    .intoArray(dst, at + 16 * k);
        }
    }

    private static FloatVector bytesToFloats(MemorySegment m, long offset) {
        return (FloatVector) ByteVector.fromMemorySegment(B16, m, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0);
    }

    private static IntVector bytesToInts(MemorySegment m, long offset) {
        return (IntVector) ByteVector.fromMemorySegment(B16, m, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2I, I, 0);
    }

    private static void decodeQ4_K(MemorySegment m, long row, float[] dst, int cols) {
        float[] scale = new float[8];
        float[] min = new float[8];
        for (int b = 0; b < cols / 256; b++) {
            decodeBlockQ4_K(m, row + 144L * b, dst, 256 * b, scale, min);
        }
    }

    private static void decodeQ6_K(MemorySegment m, long row, float[] dst, int cols) {
        for (int b = 0; b < cols / 256; b++) {
            decodeBlockQ6_K(m, row + 210L * b, dst, 256 * b);
        }
    }

    /** F32 matvec straight from the segment, four rows at a time (four independent FMA chains). */
    private static void matvecF32(WeightMatrix w, float[] x, float[] out, int from, int to) {
        MemorySegment m = w.data();
        long stride = w.rowBytes();
        int chunks = w.cols() / 16;
        int r = from;
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
            out[r] = reduce(tail(m, row0, w.cols(), x, 0, a0));
            out[r + 1] = reduce(tail(m, row0 + stride, w.cols(), x, 0, a1));
            out[r + 2] = reduce(tail(m, row0 + 2 * stride, w.cols(), x, 0, a2));
            out[r + 3] = reduce(tail(m, row0 + 3 * stride, w.cols(), x, 0, a3));
        }
        float[] row = new float[w.cols()];
        for (; r < to; r++) {
            MemorySegment.copy(m, LE_FLOAT, w.rowOffset(r), row, 0, w.cols());
            out[r] = dot(row, x, 0, w.cols());
        }
    }

    /** {@code dot16(w[0..n), x[xo..xo+n))}. */
    static float dot(float[] w, float[] x, int xo, int n) {
        int chunks = n / 16;
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < chunks; k++) {
            acc = FloatVector.fromArray(F, w, 16 * k).fma(FloatVector.fromArray(F, x, xo + 16 * k), acc);
        }
        return reduce(tail(w, n, x, xo, acc));
    }

    /** 2 rows x 4 tokens: eight FMA chains; each weight vector loaded once serves four tokens. */
    private static void tile2x4(float[] w0, float[] w1, int n, float[] x, int xo, int xs, float[] out, int oo, int os) {
        int chunks = n / 16;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int k = 0; k < chunks; k++) {
            int c = 16 * k;
            FloatVector v0 = FloatVector.fromArray(F, w0, c);
            FloatVector v1 = FloatVector.fromArray(F, w1, c);
            FloatVector x0 = FloatVector.fromArray(F, x, xo + c);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + xs + c);
            FloatVector x2 = FloatVector.fromArray(F, x, xo + 2 * xs + c);
            FloatVector x3 = FloatVector.fromArray(F, x, xo + 3 * xs + c);
            a00 = v0.fma(x0, a00);
            a01 = v0.fma(x1, a01);
            a02 = v0.fma(x2, a02);
            a03 = v0.fma(x3, a03);
            a10 = v1.fma(x0, a10);
            a11 = v1.fma(x1, a11);
            a12 = v1.fma(x2, a12);
            a13 = v1.fma(x3, a13);
        }
        out[oo] = reduce(tail(w0, n, x, xo, a00));
        out[oo + os] = reduce(tail(w0, n, x, xo + xs, a01));
        out[oo + 2 * os] = reduce(tail(w0, n, x, xo + 2 * xs, a02));
        out[oo + 3 * os] = reduce(tail(w0, n, x, xo + 3 * xs, a03));
        out[oo + 1] = reduce(tail(w1, n, x, xo, a10));
        out[oo + os + 1] = reduce(tail(w1, n, x, xo + xs, a11));
        out[oo + 2 * os + 1] = reduce(tail(w1, n, x, xo + 2 * xs, a12));
        out[oo + 3 * os + 1] = reduce(tail(w1, n, x, xo + 3 * xs, a13));
    }

    /** The last n % 16 elements of a row held in an array, added lane by lane (only F32 rows have them). */
    private static FloatVector tail(float[] w, int n, float[] x, int xo, FloatVector acc) {
        int done = n & ~15;
        if (done == n) {
            return acc;
        }
        float[] lanes = new float[16];
        acc.intoArray(lanes, 0);
        for (int c = done; c < n; c++) {
            lanes[c & 15] = Math.fma(w[c], x[xo + c], lanes[c & 15]);
        }
        return FloatVector.fromArray(F, lanes, 0);
    }

    /** The same for an F32 row read from its segment. */
    private static FloatVector tail(MemorySegment m, long row, int n, float[] x, int xo, FloatVector acc) {
        int done = n & ~15;
        if (done == n) {
            return acc;
        }
        float[] lanes = new float[16];
        acc.intoArray(lanes, 0);
        for (int c = done; c < n; c++) {
            lanes[c & 15] = Math.fma(m.get(LE_FLOAT, row + 4L * c), x[xo + c], lanes[c & 15]);
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
