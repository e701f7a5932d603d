package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix x vector (decode) and matrix x matrix (prompt processing, batched decode) for weights of any
 * {@link GgmlType}.
 * <p>
 * <b>What is computed, exactly</b> ({@link ReferenceDot} is the scalar definition):
 * <ul>
 * <li>F32, F16, BF16 weights: {@code dot16(dequantize(row), x)}, a fixed-order FP32 dot product: 16
 * partial sums, lane {@code l} accumulating elements {@code l, l+16, l+32, ...} in increasing order with
 * fused multiply-adds, then combined as {@code (l + l+8)}, {@code (l + l+4)}, {@code (l + l+2)},
 * {@code (l + l+1)} ({@link #referenceDot}).
 * <li>Quantized weights, as ggml does, "lane = block": {@code x} is quantized once per call (per token)
 * to Q8_0 (for Q4_0, Q4_1, Q5_0, Q8_0) or Q8_K (for the K-quants) with ggml's reference quantizer; per
 * 32-element unit of the row (a block, or a K-quant's sub-block) the sum of integer weight multipliers
 * times int8 activations is an exact integer {@code S_u}, and lane {@code u % 16} of 16 float accumulators
 * takes {@code fma(S_u, dw * dx, acc)} unit after unit (plus an offset term for Q4_1 and Q4_K/Q5_K); the
 * lanes are combined as above. A SIMD lane thus holds whole blocks: one scaling FMA per block.
 * </ul>
 * The result depends neither on the thread count, nor on whether a row is computed by matvec or inside
 * a matmul tile, nor on the layout ({@link WeightMatrix} as GGUF stores it, or {@link PackedMatrix}), nor
 * on the code path: every SIMD path here agrees with the scalar reference bit for bit. Packed matrices
 * are the fast path for F32 ({@link InterleavedF32}) and the common quantized types ({@link LaneKernels});
 * matrices in GGUF's layout are computed here and by {@link UnpackedRows}, slower.
 * <p>
 * The Vector API exposes no int8 dot-product instruction (VNNI's vpdpbusd) nor vpmaddwd; the integer
 * kernels sum products in 16-bit lanes, the matmul tiles use FMAs on integer-valued floats.
 */
public final class MatrixKernels {

    /** The dot product's fixed layout: 16 float lanes (one 512-bit vector). */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final VectorShuffle<Float> DOWN_8 = VectorShuffle.fromOp(F, i -> (i + 8) & 15);
    static final VectorShuffle<Float> DOWN_4 = VectorShuffle.fromOp(F, i -> (i + 4) & 15);
    static final VectorShuffle<Float> DOWN_2 = VectorShuffle.fromOp(F, i -> (i + 2) & 15);
    static final VectorShuffle<Float> DOWN_1 = VectorShuffle.fromOp(F, i -> (i + 1) & 15);
    /** Tokens per matmul tile: each weight vector loaded serves this many tokens. */
    static final int TOKEN_TILE = 4;

    private MatrixKernels() {
    }

    /** {@code out[r] = W[r,:] . x} for every row. */
    public static void matvec(WeightMatrix w, float[] x, float[] out, KernelPool pool) {
        matmul(w, x, w.cols(), 1, out, w.rows(), pool);
    }

    /** {@code out[r] = W[r,:] . x} for every row: the bits of the matrix it was packed from. */
    public static void matvec(PackedMatrix w, float[] x, float[] out, KernelPool pool) {
        matmul(w, x, w.cols(), 1, out, w.rows(), pool);
    }

    /**
     * {@code out[t * outStride + r] = W[r,:] . x[t * xStride ...]} for every row r and token t: the
     * matvec of each token, bit for bit, computed in tiles of tokens so that each weight is read from
     * memory once per tile.
     */
    public static void matmul(WeightMatrix w, float[] x, int xStride, int tokens, float[] out, int outStride,
            KernelPool pool) {
        check(w.rows(), w.cols(), w.type(), x, xStride, tokens, out, outStride);
        pool.checkAccessible(w.data(), "the " + w.rows() + "x" + w.cols() + " " + w.type() + " weight matrix");
        GgmlType activations = Q8Activations.typeFor(w.type());
        if (activations == null) {
            pool.forRows(w.rows(), w.rowBytes() * tokens, (from, to) -> floatRows(w, x, xStride, tokens, out, outStride, from, to));
            return;
        }
        Q8Activations[] q = new Q8Activations[tokens];
        pool.forRows(tokens, 4L * w.cols(), (from, to) -> {
            for (int t = from; t < to; t++) {
                q[t] = Q8Activations.quantize(activations, x, t * xStride, w.cols());
            }
        });
        pool.forRows(w.rows(), w.rowBytes() * tokens, (from, to) -> UnpackedRows.rows(w, q, out, outStride, from, to));
    }

    /** As {@link #matmul(WeightMatrix, float[], int, int, float[], int, KernelPool)}, from the packed layout: the same bits. */
    public static void matmul(PackedMatrix w, float[] x, int xStride, int tokens, float[] out, int outStride,
            KernelPool pool) {
        if (w.plain() != null) {
            matmul(w.plain(), x, xStride, tokens, out, outStride, pool);
            return;
        }
        check(w.rows(), w.cols(), w.type(), x, xStride, tokens, out, outStride);
        pool.checkAccessible(w.data(), "the " + w.rows() + "x" + w.cols() + " " + w.type() + " weight matrix");
        if (w.lanes() != null) {
            LaneKernels.matmul(w.lanes(), x, xStride, tokens, out, outStride, pool);
        } else {
            w.interleaved().matmul(x, xStride, tokens, out, outStride, pool);
        }
    }

    /**
     * {@code ws[i]} times the same tokens into {@code outs[i]}, for every i: the same bits as one
     * {@link #matmul(PackedMatrix, float[], int, int, float[], int, KernelPool)} per matrix. Repacked matrices of
     * one type and width (a layer's Q, K and V; its gate and up) share one quantization of the activations and
     * one split of all their rows among the pool's threads, which saves a pass over the activations and two
     * hand-offs to the pool per extra matrix.
     */
    public static void matmul(PackedMatrix[] ws, float[] x, int xStride, int tokens, float[][] outs, int[] outStrides,
            KernelPool pool) {
        if (ws.length != outs.length || ws.length != outStrides.length || ws.length == 0) {
            throw new IllegalArgumentException("a matmul of several matrices needs one output and stride per matrix:"
                    + " got " + ws.length + " matrices, " + outs.length + " outputs and " + outStrides.length + " strides");
        }
        boolean shared = true;
        for (int i = 0; i < ws.length; i++) {
            PackedMatrix w = ws[i];
            shared &= w.lanes() != null && w.type() == ws[0].type() && w.cols() == ws[0].cols();
        }
        if (!shared) {
            for (int i = 0; i < ws.length; i++) {
                matmul(ws[i], x, xStride, tokens, outs[i], outStrides[i], pool);
            }
            return;
        }
        LaneWeights[] lanes = new LaneWeights[ws.length];
        for (int i = 0; i < ws.length; i++) {
            PackedMatrix w = ws[i];
            check(w.rows(), w.cols(), w.type(), x, xStride, tokens, outs[i], outStrides[i]);
            pool.checkAccessible(w.data(), "the " + w.rows() + "x" + w.cols() + " " + w.type() + " weight matrix");
            lanes[i] = w.lanes();
        }
        LaneKernels.matmul(lanes, x, xStride, tokens, outs, outStrides, pool);
    }

    /**
     * Rows {@code [from, to)} of F32, F16 or BF16 weights in GGUF's layout: F32 matvec reads the weights directly,
     * four rows at a time; otherwise each row is first decoded into an L1-resident float scratch. (Packed F32
     * weights take {@link InterleavedF32}'s faster tiles.)
     */
    static void floatRows(WeightMatrix w, float[] x, int xs, int tokens, float[] out, int os, int from, int to) {
        if (tokens == 1 && w.type() == GgmlType.F32) {
            for (int r = from; r < to; r += MATVEC_CHUNK) {
                matvecF32(w, x, out, r, Math.min(r + MATVEC_CHUNK, to));
            }
            return;
        }
        // Chunks of rows, many short calls: see MATVEC_CHUNK.
        RowDecoder decoder = rowDecoder(w.type());
        for (int r = from; r < to; r += MATVEC_CHUNK) {
            int end = Math.min(r + MATVEC_CHUNK, to);
            matmulRows(w, decoder, x, xs, tokens, out, os, r, end);
        }
    }

    /**
     * Columns per cache block of the float tiles: the tile's rows of one block (six interleaved F32 rows, 24 KiB;
     * four decoded rows, 16 KiB) stay in L1 while the tokens' blocks stream through from L2.
     */
    static final int K_BLOCK = 1024;

    /**
     * Four rows at a time, decoded into scratches, then 4 x 4 register tiles (16 accumulators; per 16
     * columns four weight and four activation vectors serve sixteen FMAs). The columns are taken in
     * blocks of {@value #K_BLOCK}: the four rows' block stays in L1 while the tokens' blocks stream
     * through; the accumulators wait in {@code acc} between blocks (a store and a load change no bits).
     * The next four rows are decoded block by block between the tiles of the current ones, so that
     * their reads from memory overlap the arithmetic instead of stalling it.
     */
    private static void matmulRows(WeightMatrix w, RowDecoder decoder, float[] x, int xs, int tokens, float[] out, int os,
            int from, int to) {
        int cols = w.cols();
        MemorySegment m = w.data();
        int quads = tokens / TOKEN_TILE;
        int whole = cols & ~15;
        float[][] cur = new float[4][cols];
        float[][] next = new float[4][cols];
        float[] acc = new float[quads * 256];
        float[] lanes = new float[16];
        int r = from;
        if (quads > 0 && r + 4 <= to) {
            for (int i = 0; i < 4; i++) {
                decoder.decode(m, w.rowOffset(r + i), cur[i], 0, cols);
            }
            for (; r + 4 <= to; r += 4) {
                boolean more = r + 8 <= to;
                java.util.Arrays.fill(acc, 0f);
                for (int k = 0; k < cols; k += K_BLOCK) {
                    int end = k + K_BLOCK >= whole ? cols : k + K_BLOCK;
                    if (more) {
                        for (int i = 0; i < 4; i++) {
                            decoder.decode(m, w.rowOffset(r + 4 + i), next[i], k, end);
                        }
                    }
                    for (int g = 0; g < quads; g++) {
                        tile4x4(cur[0], cur[1], cur[2], cur[3], k, Math.min(k + K_BLOCK, whole), x, 4 * g * xs, xs, acc, 256 * g);
                    }
                }
                for (int g = 0; g < quads; g++) {
                    for (int i = 0; i < 16; i++) {
                        int t = 4 * g + (i & 3);
                        if (whole == cols) {
                            out[t * os + r + (i >> 2)] = treeAt(acc, 256 * g + 16 * i);
                            continue;
                        }
                        float[] row = cur[i >> 2];
                        System.arraycopy(acc, 256 * g + 16 * i, lanes, 0, 16);
                        for (int c = whole; c < cols; c++) {
                            lanes[c & 15] = Math.fma(row[c], x[t * xs + c], lanes[c & 15]);
                        }
                        out[t * os + r + (i >> 2)] = tree(lanes);
                    }
                }
                for (int t = 4 * quads; t < tokens; t++) {
                    for (int i = 0; i < 4; i++) {
                        out[t * os + r + i] = dot(cur[i], x, t * xs, cols);
                    }
                }
                float[][] swap = cur;
                cur = next;
                next = swap;
            }
        }
        float[] row = cur[0];
        for (; r < to; r++) {
            decoder.decode(m, w.rowOffset(r), row, 0, cols);
            for (int t = 0; t < tokens; t++) {
                out[t * os + r] = dot(row, x, t * xs, cols);
            }
        }
    }

    /**
     * Columns {@code [from, to)} of a 4 x 4 tile: rows {@code w0..w3}, tokens at {@code xo + t * xs};
     * the 16 accumulators (row-major, 16 lanes each) are read from and written back to {@code acc}.
     */
    private static void tile4x4(float[] w0, float[] w1, float[] w2, float[] w3, int from, int to, float[] x, int xo, int xs,
            float[] acc, int ao) {
        FloatVector a00 = FloatVector.fromArray(F, acc, ao);
        FloatVector a01 = FloatVector.fromArray(F, acc, ao + 16);
        FloatVector a02 = FloatVector.fromArray(F, acc, ao + 32);
        FloatVector a03 = FloatVector.fromArray(F, acc, ao + 48);
        FloatVector a10 = FloatVector.fromArray(F, acc, ao + 64);
        FloatVector a11 = FloatVector.fromArray(F, acc, ao + 80);
        FloatVector a12 = FloatVector.fromArray(F, acc, ao + 96);
        FloatVector a13 = FloatVector.fromArray(F, acc, ao + 112);
        FloatVector a20 = FloatVector.fromArray(F, acc, ao + 128);
        FloatVector a21 = FloatVector.fromArray(F, acc, ao + 144);
        FloatVector a22 = FloatVector.fromArray(F, acc, ao + 160);
        FloatVector a23 = FloatVector.fromArray(F, acc, ao + 176);
        FloatVector a30 = FloatVector.fromArray(F, acc, ao + 192);
        FloatVector a31 = FloatVector.fromArray(F, acc, ao + 208);
        FloatVector a32 = FloatVector.fromArray(F, acc, ao + 224);
        FloatVector a33 = FloatVector.fromArray(F, acc, ao + 240);
        int x0 = xo;
        int x1 = xo + xs;
        int x2 = xo + 2 * xs;
        int x3 = xo + 3 * xs;
        for (int c = from; c < to; c += 16) {
            FloatVector v0 = FloatVector.fromArray(F, w0, c);
            FloatVector v1 = FloatVector.fromArray(F, w1, c);
            FloatVector v2 = FloatVector.fromArray(F, w2, c);
            FloatVector v3 = FloatVector.fromArray(F, w3, c);
            FloatVector t = FloatVector.fromArray(F, x, x0 + c);
            a00 = v0.fma(t, a00);
            a10 = v1.fma(t, a10);
            a20 = v2.fma(t, a20);
            a30 = v3.fma(t, a30);
            t = FloatVector.fromArray(F, x, x1 + c);
            a01 = v0.fma(t, a01);
            a11 = v1.fma(t, a11);
            a21 = v2.fma(t, a21);
            a31 = v3.fma(t, a31);
            t = FloatVector.fromArray(F, x, x2 + c);
            a02 = v0.fma(t, a02);
            a12 = v1.fma(t, a12);
            a22 = v2.fma(t, a22);
            a32 = v3.fma(t, a32);
            t = FloatVector.fromArray(F, x, x3 + c);
            a03 = v0.fma(t, a03);
            a13 = v1.fma(t, a13);
            a23 = v2.fma(t, a23);
            a33 = v3.fma(t, a33);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + 16);
        a02.intoArray(acc, ao + 32);
        a03.intoArray(acc, ao + 48);
        a10.intoArray(acc, ao + 64);
        a11.intoArray(acc, ao + 80);
        a12.intoArray(acc, ao + 96);
        a13.intoArray(acc, ao + 112);
        a20.intoArray(acc, ao + 128);
        a21.intoArray(acc, ao + 144);
        a22.intoArray(acc, ao + 160);
        a23.intoArray(acc, ao + 176);
        a30.intoArray(acc, ao + 192);
        a31.intoArray(acc, ao + 208);
        a32.intoArray(acc, ao + 224);
        a33.intoArray(acc, ao + 240);
    }

    /** Decodes columns {@code [from, to)} of the row at {@code row} into {@code dst[from, to)}, exactly as {@link Dequantize#row}. */
    @FunctionalInterface
    private interface RowDecoder {
        void decode(MemorySegment m, long row, float[] dst, int from, int to);
    }

    private static RowDecoder rowDecoder(GgmlType type) {
        return switch (type) {
            case F32 -> (m, row, dst, from, to) -> MemorySegment.copy(m, LE_FLOAT, row + 4L * from, dst, from, to - from);
            default -> (m, row, dst, from, to) -> Dequantize.row(type, m, row + 2L * from, dst, from, to - from);
        };
    }

    // ---- quantized weights times Q8 activations (the spec is ReferenceDot's) ----

    /**
     * Rows per call of a matvec kernel. A kernel called once with a long loop is compiled by C2 on stack
     * replacement from a profile in which the loop never ends; at its end it deoptimizes, and can then
     * run in C1's code (which boxes every vector, ten times slower) for seconds. Many short calls get it
     * compiled normally.
     */
    static final int MATVEC_CHUNK = 256;

    static float treeAt(float[] a, int offset) {
        FloatVector v = FloatVector.fromArray(F, a, offset);
        v = v.add(v.rearrange(DOWN_8));
        v = v.add(v.rearrange(DOWN_4));
        v = v.add(v.rearrange(DOWN_2));
        v = v.add(v.rearrange(DOWN_1));
        return v.lane(0);
    }

    static float tree(float[] lanes) {
        for (int half = 8; half >= 1; half /= 2) {
            for (int l = 0; l < half; l++) {
                lanes[l] = lanes[l] + lanes[l + half];
            }
        }
        return lanes[0];
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
    static FloatVector tail(MemorySegment m, long row, int n, float[] x, int xo, FloatVector acc) {
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

    private static void check(int rows, int cols, GgmlType type, float[] x, int xStride, int tokens, float[] out,
            int outStride) {
        if (tokens < 1) {
            throw new IllegalArgumentException("matmul needs at least one token, not " + tokens);
        }
        if (xStride < cols || (long) xStride * (tokens - 1) + cols > x.length) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " " + type + " matrix times "
                    + tokens + " token(s) needs x of length >= " + ((long) Math.max(xStride, cols) * (tokens - 1)
                    + cols) + " with stride >= " + cols + ", got length " + x.length + " stride " + xStride);
        }
        if (outStride < rows || (long) outStride * (tokens - 1) + rows > out.length) {
            throw new IllegalArgumentException("a " + rows + "-row matrix times " + tokens + " token(s) needs out of"
                    + " length >= " + ((long) Math.max(outStride, rows) * (tokens - 1) + rows) + " with stride >= "
                    + rows + ", got length " + out.length + " stride " + outStride);
        }
    }
}
