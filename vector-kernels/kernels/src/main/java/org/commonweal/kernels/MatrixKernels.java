package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
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
 * <b>What is computed, exactly</b> ({@link ReferenceDot} is the scalar definition):
 * <ul>
 * <li>F32, F16, BF16 weights: {@code dot16(dequantize(row), x)}, a fixed-order FP32 dot product: 16
 * partial sums, lane {@code l} accumulating elements {@code l, l+16, l+32, ...} in increasing order with
 * fused multiply-adds, then combined as {@code (l + l+8)}, {@code (l + l+4)}, {@code (l + l+2)},
 * {@code (l + l+1)} ({@link #referenceDot}).
 * <li>Quantized weights, as ggml does: {@code x} is quantized once per call (per token) to Q8_0 (for
 * Q4_0, Q4_1, Q5_0, Q8_0) or Q8_K (for the K-quants) with ggml's reference quantizer; per weight block,
 * the 16 lane sums {@code S[l]} of integer weight multipliers times int8 activations over the block's
 * elements {@code j % 16 == l} are exact integers, and {@code acc[l] = fma(S[l], dw * dx, acc[l])} block
 * after block; the lanes are combined as above (plus or minus an offset term for Q4_1 and Q4_K/Q5_K).
 * Because the integer sums are exact, integer kernels (matvec) and float kernels over integer-valued
 * floats (matmul tiles) give the same bits.
 * </ul>
 * The result depends neither on the thread count, nor on whether a row is computed by matvec or inside
 * a matmul tile, nor on the code path: every SIMD path here agrees with the scalar reference bit for bit.
 * <p>
 * The Vector API exposes no int8 dot-product instruction (VNNI's vpdpbusd) nor vpmaddwd; the integer
 * kernels widen bytes to 32-bit lanes and use vpmulld, the matmul tiles use FMAs on integer-valued floats.
 */
public final class MatrixKernels {

    /** The dot product's fixed layout: 16 float lanes (one 512-bit vector). */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorOperators.Conversion<Byte, Integer> B2I = VectorOperators.B2I;
    private static final VectorOperators.Conversion<Integer, Float> I2F = VectorOperators.I2F;
    private static final VectorOperators.Binary LSHL = VectorOperators.LSHL;
    private static final VectorOperators.Binary LSHR = VectorOperators.LSHR;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
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
        pool.forRows(w.rows(), w.rowBytes() * tokens, (from, to) -> quantizedRows(w, q, out, outStride, from, to));
    }

    /**
     * Rows {@code [from, to)} of F32, F16 or BF16 weights: F32 matvec reads the weights directly, four
     * rows at a time; otherwise each row is first decoded into an L1-resident float scratch.
     */
    private static void floatRows(WeightMatrix w, float[] x, int xs, int tokens, float[] out, int os, int from, int to) {
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
            if (w.type() == GgmlType.F32 && tokens >= TOKEN_TILE) {
                matmulRowsF32(w, x, xs, tokens, out, os, r, end);
            } else {
                matmulRows(w, decoder, x, xs, tokens, out, os, r, end);
            }
        }
    }

    /**
     * F32 weights times four or more tokens: as {@link #matmulRows}, but the tiles read the weights
     * straight from the segment (no decoding, so no copy: a copy of the next rows between the tiles is
     * a memory stall the FMAs cannot hide, a quarter of the time). Six rows at a time (then four, then
     * one): the first token quad of a column block brings the rows' block into L1 for the others, and
     * each activation vector, read from L2, serves six FMAs ({@link #tile6x4}: 24 accumulators, four
     * activation and one weight register of the 32), a quarter faster than four rows.
     */
    private static void matmulRowsF32(WeightMatrix w, float[] x, int xs, int tokens, float[] out, int os, int from, int to) {
        int cols = w.cols();
        MemorySegment m = w.data();
        int quads = tokens / TOKEN_TILE;
        int whole = cols & ~15;
        long stride = w.rowBytes();
        float[] acc = new float[quads * 6 * 64];
        float[] lanes = new float[16];
        int r = from;
        for (int rows; (rows = to - r >= 6 ? 6 : to - r >= 4 ? 4 : 0) > 0; r += rows) {
            long o0 = w.rowOffset(r);
            int tile = rows * 64; // accumulators of one token quad: row-major, (row, token) pairs of 16 lanes
            java.util.Arrays.fill(acc, 0, quads * tile, 0f);
            for (int k = 0; k < whole; k += K_BLOCK) {
                for (int g = 0; g < quads; g++) {
                    if (rows == 6) {
                        tile6x4(m, o0, stride, k, Math.min(k + K_BLOCK, whole), x, 4 * g * xs, xs, acc, tile * g);
                    } else {
                        tile4x4(m, o0, stride, k, Math.min(k + K_BLOCK, whole), x, 4 * g * xs, xs, acc, tile * g);
                    }
                }
            }
            for (int g = 0; g < quads; g++) {
                for (int i = 0; i < 4 * rows; i++) {
                    int t = 4 * g + (i & 3);
                    int row = i >> 2;
                    if (whole == cols) {
                        out[t * os + r + row] = treeAt(acc, tile * g + 16 * i);
                        continue;
                    }
                    System.arraycopy(acc, tile * g + 16 * i, lanes, 0, 16);
                    for (int c = whole; c < cols; c++) {
                        lanes[c & 15] = Math.fma(m.get(LE_FLOAT, o0 + row * stride + 4L * c), x[t * xs + c], lanes[c & 15]);
                    }
                    out[t * os + r + row] = tree(lanes);
                }
            }
        }
        int tiled = r;
        float[] row = new float[cols];
        for (; r < to; r++) {
            MemorySegment.copy(m, LE_FLOAT, w.rowOffset(r), row, 0, cols);
            for (int t = 0; t < tokens; t++) {
                out[t * os + r] = dot(row, x, t * xs, cols);
            }
        }
        for (int t = 4 * quads; t < tokens; t++) {
            for (int i = from; i < tiled; i++) {
                MemorySegment.copy(m, LE_FLOAT, w.rowOffset(i), row, 0, cols);
                out[t * os + i] = dot(row, x, t * xs, cols);
            }
        }
    }

    /**
     * Columns {@code [from, to)} of six F32 rows (read from the segment, {@code stride} bytes apart from
     * {@code o0}) times four tokens: the 24 accumulators (row-major, 16 lanes each) are read from and
     * written back to {@code acc}. Each lane's sum is {@link #tile4x4}'s, in the same order.
     */
    private static void tile6x4(MemorySegment m, long o0, long stride, int from, int to, float[] x, int xo, int xs,
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
        FloatVector a40 = FloatVector.fromArray(F, acc, ao + 256);
        FloatVector a41 = FloatVector.fromArray(F, acc, ao + 272);
        FloatVector a42 = FloatVector.fromArray(F, acc, ao + 288);
        FloatVector a43 = FloatVector.fromArray(F, acc, ao + 304);
        FloatVector a50 = FloatVector.fromArray(F, acc, ao + 320);
        FloatVector a51 = FloatVector.fromArray(F, acc, ao + 336);
        FloatVector a52 = FloatVector.fromArray(F, acc, ao + 352);
        FloatVector a53 = FloatVector.fromArray(F, acc, ao + 368);
        long o1 = o0 + stride;
        long o2 = o1 + stride;
        long o3 = o2 + stride;
        long o4 = o3 + stride;
        long o5 = o4 + stride;
        int x1 = xo + xs;
        int x2 = xo + 2 * xs;
        int x3 = xo + 3 * xs;
        for (int c = from; c < to; c += 16) {
            long b = 4L * c;
            FloatVector t0 = FloatVector.fromArray(F, x, xo + c);
            FloatVector t1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector t2 = FloatVector.fromArray(F, x, x2 + c);
            FloatVector t3 = FloatVector.fromArray(F, x, x3 + c);
            FloatVector v = FloatVector.fromMemorySegment(F, m, o0 + b, LE);
            a00 = v.fma(t0, a00);
            a01 = v.fma(t1, a01);
            a02 = v.fma(t2, a02);
            a03 = v.fma(t3, a03);
            v = FloatVector.fromMemorySegment(F, m, o1 + b, LE);
            a10 = v.fma(t0, a10);
            a11 = v.fma(t1, a11);
            a12 = v.fma(t2, a12);
            a13 = v.fma(t3, a13);
            v = FloatVector.fromMemorySegment(F, m, o2 + b, LE);
            a20 = v.fma(t0, a20);
            a21 = v.fma(t1, a21);
            a22 = v.fma(t2, a22);
            a23 = v.fma(t3, a23);
            v = FloatVector.fromMemorySegment(F, m, o3 + b, LE);
            a30 = v.fma(t0, a30);
            a31 = v.fma(t1, a31);
            a32 = v.fma(t2, a32);
            a33 = v.fma(t3, a33);
            v = FloatVector.fromMemorySegment(F, m, o4 + b, LE);
            a40 = v.fma(t0, a40);
            a41 = v.fma(t1, a41);
            a42 = v.fma(t2, a42);
            a43 = v.fma(t3, a43);
            v = FloatVector.fromMemorySegment(F, m, o5 + b, LE);
            a50 = v.fma(t0, a50);
            a51 = v.fma(t1, a51);
            a52 = v.fma(t2, a52);
            a53 = v.fma(t3, a53);
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
        a40.intoArray(acc, ao + 256);
        a41.intoArray(acc, ao + 272);
        a42.intoArray(acc, ao + 288);
        a43.intoArray(acc, ao + 304);
        a50.intoArray(acc, ao + 320);
        a51.intoArray(acc, ao + 336);
        a52.intoArray(acc, ao + 352);
        a53.intoArray(acc, ao + 368);
    }

    /** {@link #tile4x4} over four F32 rows read from the segment, {@code stride} bytes apart from {@code o0}. */
    private static void tile4x4(MemorySegment m, long o0, long stride, int from, int to, float[] x, int xo, int xs,
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
        long o1 = o0 + stride;
        long o2 = o1 + stride;
        long o3 = o2 + stride;
        int x0 = xo;
        int x1 = xo + xs;
        int x2 = xo + 2 * xs;
        int x3 = xo + 3 * xs;
        for (int c = from; c < to; c += 16) {
            long b = 4L * c;
            FloatVector v0 = FloatVector.fromMemorySegment(F, m, o0 + b, LE);
            FloatVector v1 = FloatVector.fromMemorySegment(F, m, o1 + b, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(F, m, o2 + b, LE);
            FloatVector v3 = FloatVector.fromMemorySegment(F, m, o3 + b, LE);
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

    /** Columns per cache block of the F32 tiles: four rows and four tokens of it (64 KiB) stay in L1/L2. */
    private static final int K_BLOCK = 1024;

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
     * Rows {@code [from, to)} of quantized weights. Matvec of the common types reads the weights
     * directly with integer products ({@link #matvecQ8_0}, ...); everything else decodes each row's
     * integer multipliers once into a float scratch (exact: small integers) and runs register tiles
     * of 4 rows x 2 tokens whose float products and sums of integers are exact, so they give the
     * integer kernels' bits.
     */
    static void quantizedRows(WeightMatrix w, Q8Activations[] q, float[] out, int os, int from, int to) {
        if (q.length == 1 && hasMatvecKernel(w.type())) {
            for (int r = from; r < to; r += MATVEC_CHUNK) {
                int end = Math.min(r + MATVEC_CHUNK, to);
                switch (w.type()) {
                    case Q8_0 -> matvecQ8_0(w, q[0], out, r, end);
                    case Q4_0 -> matvecQ4_0(w, q[0], out, r, end);
                    case Q4_K -> matvecQ4_K(w, q[0], out, r, end);
                    default -> matvecQ6_K(w, q[0], out, r, end);
                }
            }
            return;
        }
        QuantizedTiles.rows(w, q, out, os, from, to);
    }

    private static boolean hasMatvecKernel(GgmlType type) {
        return type == GgmlType.Q8_0 || type == GgmlType.Q4_0 || type == GgmlType.Q4_K || type == GgmlType.Q6_K;
    }

    /**
     * Rows per call of a matvec kernel. A kernel called once with a long loop is compiled by C2 on stack
     * replacement from a profile in which the loop never ends; at its end it deoptimizes, and can then
     * run in C1's code (which boxes every vector, ten times slower) for seconds. Many short calls get it
     * compiled normally.
     */
    private static final int MATVEC_CHUNK = 256;

    /*
     * The matvec kernels below write every vector operation out in the loop body, never through a helper
     * of ours: C2 stops inlining non-JDK methods once a compilation passes its fixed node budget
     * (NodeCountInliningCutoff, 18000 nodes, which four rows of Vector API code reach), and a helper that
     * takes or returns vectors and is not inlined boxes them (tens of times slower). The JDK's own
     * Vector API and memory-segment methods are @ForceInline and are exempt from that budget.
     */

    /**
     * Q8_0 matvec, four rows at a time: the activation block loaded once serves four rows, four FMA
     * chains. The four rows are a quarter of the range apart: four adjacent rows (4 KiB each) read as
     * four interleaved streams defeat the hardware prefetcher (12 GB/s where one stream reads 26-30;
     * rows a quarter of a {@value #MATVEC_CHUNK}-row chunk apart read as fast as one stream).
     */
    private static void matvecQ8_0(WeightMatrix w, Q8Activations a, float[] out, int from, int to) {
        MemorySegment m = w.data();
        int quarter = (to - from) / 4;
        long stride = w.rowBytes() * quarter;
        int blocks = w.cols() / 32;
        int[] q = a.q;
        float[] dx = a.d;
        float[] lanes = new float[16];
        for (int r = from; r < from + quarter; r++) {
            long o0 = w.rowOffset(r);
            long o1 = o0 + stride;
            long o2 = o1 + stride;
            long o3 = o2 + stride;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int b = 0; b < blocks; b++) {
                IntVector xl = IntVector.fromArray(I, q, 32 * b);
                IntVector xh = IntVector.fromArray(I, q, 32 * b + 16);
                float d = dx[b];
                long p0 = o0 + 34L * b;
                long p1 = o1 + 34L * b;
                long p2 = o2 + 34L * b;
                long p3 = o3 + 34L * b;
                IntVector s0 = ((IntVector) ByteVector.fromMemorySegment(B16, m, p0 + 2, LE).convertShape(B2I, I, 0)).mul(xl)
                        .add(((IntVector) ByteVector.fromMemorySegment(B16, m, p0 + 18, LE).convertShape(B2I, I, 0)).mul(xh));
                IntVector s1 = ((IntVector) ByteVector.fromMemorySegment(B16, m, p1 + 2, LE).convertShape(B2I, I, 0)).mul(xl)
                        .add(((IntVector) ByteVector.fromMemorySegment(B16, m, p1 + 18, LE).convertShape(B2I, I, 0)).mul(xh));
                IntVector s2 = ((IntVector) ByteVector.fromMemorySegment(B16, m, p2 + 2, LE).convertShape(B2I, I, 0)).mul(xl)
                        .add(((IntVector) ByteVector.fromMemorySegment(B16, m, p2 + 18, LE).convertShape(B2I, I, 0)).mul(xh));
                IntVector s3 = ((IntVector) ByteVector.fromMemorySegment(B16, m, p3 + 2, LE).convertShape(B2I, I, 0)).mul(xl)
                        .add(((IntVector) ByteVector.fromMemorySegment(B16, m, p3 + 18, LE).convertShape(B2I, I, 0)).mul(xh));
                a0 = ((FloatVector) s0.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p0)) * d), a0);
                a1 = ((FloatVector) s1.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p1)) * d), a1);
                a2 = ((FloatVector) s2.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p2)) * d), a2);
                a3 = ((FloatVector) s3.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p3)) * d), a3);
            }
            a0.intoArray(lanes, 0);
            out[r] = tree(lanes);
            a1.intoArray(lanes, 0);
            out[r + quarter] = tree(lanes);
            a2.intoArray(lanes, 0);
            out[r + 2 * quarter] = tree(lanes);
            a3.intoArray(lanes, 0);
            out[r + 3 * quarter] = tree(lanes);
        }
        if (from + 4 * quarter < to) {
            matvecQ8_0Rows(w, a, out, from + 4 * quarter, to);
        }
    }

    /** The last rows of {@link #matvecQ8_0}, one at a time, with the same arithmetic. */
    private static void matvecQ8_0Rows(WeightMatrix w, Q8Activations a, float[] out, int from, int to) {
        MemorySegment m = w.data();
        int[] q = a.q;
        float[] lanes = new float[16];
        for (int r = from; r < to; r++) {
            long o = w.rowOffset(r);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < w.cols() / 32; b++) {
                long p = o + 34L * b;
                IntVector s = ((IntVector) ByteVector.fromMemorySegment(B16, m, p + 2, LE).convertShape(B2I, I, 0))
                        .mul(IntVector.fromArray(I, q, 32 * b))
                        .add(((IntVector) ByteVector.fromMemorySegment(B16, m, p + 18, LE).convertShape(B2I, I, 0))
                                .mul(IntVector.fromArray(I, q, 32 * b + 16)));
                acc = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p)) * a.d[b]), acc);
            }
            acc.intoArray(lanes, 0);
            out[r] = tree(lanes);
        }
    }

    /**
     * Q4_0 matvec, four rows at a time, as Q8_0. A block's lane sums (q[l] - 8) * x[l] + (q[l+16] - 8) *
     * x[l+16] are computed as the nibbles times x minus 8 * (x[l] + x[l+16]), the latter once per block
     * for all four rows.
     */
    private static void matvecQ4_0(WeightMatrix w, Q8Activations a, float[] out, int from, int to) {
        MemorySegment m = w.data();
        int quarter = (to - from) / 4;
        long stride = w.rowBytes() * quarter;
        int blocks = w.cols() / 32;
        int[] q = a.q;
        float[] dx = a.d;
        float[] lanes = new float[16];
        for (int r = from; r < from + quarter; r++) {
            long o0 = w.rowOffset(r);
            long o1 = o0 + stride;
            long o2 = o1 + stride;
            long o3 = o2 + stride;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int b = 0; b < blocks; b++) {
                IntVector xl = IntVector.fromArray(I, q, 32 * b);
                IntVector xh = IntVector.fromArray(I, q, 32 * b + 16);
                IntVector x8 = xl.add(xh).lanewise(LSHL, 3);
                float d = dx[b];
                long p0 = o0 + 18L * b;
                long p1 = o1 + 18L * b;
                long p2 = o2 + 18L * b;
                long p3 = o3 + 18L * b;
                IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B16, m, p0 + 2, LE).convertShape(B2I, I, 0);
                IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B16, m, p1 + 2, LE).convertShape(B2I, I, 0);
                IntVector v2 = (IntVector) ByteVector.fromMemorySegment(B16, m, p2 + 2, LE).convertShape(B2I, I, 0);
                IntVector v3 = (IntVector) ByteVector.fromMemorySegment(B16, m, p3 + 2, LE).convertShape(B2I, I, 0);
                IntVector s0 = v0.and(0x0F).mul(xl).add(v0.lanewise(LSHR, 4).and(0x0F).mul(xh)).sub(x8);
                IntVector s1 = v1.and(0x0F).mul(xl).add(v1.lanewise(LSHR, 4).and(0x0F).mul(xh)).sub(x8);
                IntVector s2 = v2.and(0x0F).mul(xl).add(v2.lanewise(LSHR, 4).and(0x0F).mul(xh)).sub(x8);
                IntVector s3 = v3.and(0x0F).mul(xl).add(v3.lanewise(LSHR, 4).and(0x0F).mul(xh)).sub(x8);
                a0 = ((FloatVector) s0.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p0)) * d), a0);
                a1 = ((FloatVector) s1.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p1)) * d), a1);
                a2 = ((FloatVector) s2.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p2)) * d), a2);
                a3 = ((FloatVector) s3.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p3)) * d), a3);
            }
            a0.intoArray(lanes, 0);
            out[r] = tree(lanes);
            a1.intoArray(lanes, 0);
            out[r + quarter] = tree(lanes);
            a2.intoArray(lanes, 0);
            out[r + 2 * quarter] = tree(lanes);
            a3.intoArray(lanes, 0);
            out[r + 3 * quarter] = tree(lanes);
        }
        if (from + 4 * quarter < to) {
            matvecQ4_0Rows(w, a, out, from + 4 * quarter, to);
        }
    }

    /** The last rows of {@link #matvecQ4_0}, one at a time, with the same arithmetic. */
    private static void matvecQ4_0Rows(WeightMatrix w, Q8Activations a, float[] out, int from, int to) {
        MemorySegment m = w.data();
        int[] q = a.q;
        float[] lanes = new float[16];
        for (int r = from; r < to; r++) {
            long o = w.rowOffset(r);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < w.cols() / 32; b++) {
                long p = o + 18L * b;
                IntVector xl = IntVector.fromArray(I, q, 32 * b);
                IntVector xh = IntVector.fromArray(I, q, 32 * b + 16);
                IntVector v = (IntVector) ByteVector.fromMemorySegment(B16, m, p + 2, LE).convertShape(B2I, I, 0);
                IntVector s = v.and(0x0F).mul(xl).add(v.lanewise(LSHR, 4).and(0x0F).mul(xh)).sub(xl.add(xh).lanewise(LSHL, 3));
                acc = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, p)) * a.d[b]), acc);
            }
            acc.intoArray(lanes, 0);
            out[r] = tree(lanes);
        }
    }

    /** {@link #reduce} of the 16 lanes at {@code a[offset]} (an array, not a vector: a helper taking a vector boxes it). */
    static float treeAt(float[] a, int offset) {
        FloatVector v = FloatVector.fromArray(F, a, offset);
        v = v.add(v.rearrange(DOWN_8));
        v = v.add(v.rearrange(DOWN_4));
        v = v.add(v.rearrange(DOWN_2));
        v = v.add(v.rearrange(DOWN_1));
        return v.lane(0);
    }

    /** The fixed combination of 16 lanes, (l + l+8), (l + l+4), (l + l+2), (l + l+1), in scalar code (as {@link #reduce}). */
    static float tree(float[] lanes) {
        for (int half = 8; half >= 1; half /= 2) {
            for (int l = 0; l < half; l++) {
                lanes[l] = lanes[l] + lanes[l + half];
            }
        }
        return lanes[0];
    }

    /**
     * Q4_K matvec, one row at a time: a block has 16 independent vectors of work and one FMA into the
     * accumulator, so one row keeps the core busy. The eight 6-bit (scale, min) pairs are unpacked
     * four at a time from 32-bit words with byte-wise masks (the technique of ggml's utmp/kmask code);
     * the mins meet the activations' sums of 32 in one scalar sum per block.
     */
    private static void matvecQ4_K(WeightMatrix w, Q8Activations a, float[] out, int from, int to) {
        MemorySegment m = w.data();
        int blocks = w.cols() / 256;
        int[] q = a.q;
        int[] sums = a.sums;
        float[] lanes = new float[16];
        for (int r = from; r < to; r++) {
            long row = w.rowOffset(r);
            FloatVector acc = FloatVector.zero(F);
            float c = 0;
            for (int b = 0; b < blocks; b++) {
                long block = row + 144L * b;
                long packed = m.get(LE_LONG, block + 4);
                int u0 = (int) packed;
                int u1 = (int) (packed >>> 32);
                int u2 = m.get(LE_INT, block + 12);
                int scLo = u0 & 0x3F3F3F3F;
                int mnLo = u1 & 0x3F3F3F3F;
                int scHi = (u2 & 0x0F0F0F0F) | ((u0 >>> 2) & 0x30303030);
                int mnHi = ((u2 >>> 4) & 0x0F0F0F0F) | ((u1 >>> 2) & 0x30303030);
                int e = 256 * b;
                long qs = block + 16;
                IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B16, m, qs, LE).convertShape(B2I, I, 0);
                IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B16, m, qs + 16, LE).convertShape(B2I, I, 0);
                IntVector s = v0.and(0x0F).mul(IntVector.fromArray(I, q, e))
                        .add(v1.and(0x0F).mul(IntVector.fromArray(I, q, e + 16))).mul(scLo & 0xFF)
                        .add(v0.lanewise(LSHR, 4).and(0x0F).mul(IntVector.fromArray(I, q, e + 32))
                                .add(v1.lanewise(LSHR, 4).and(0x0F).mul(IntVector.fromArray(I, q, e + 48))).mul((scLo >>> 8) & 0xFF));
                v0 = (IntVector) ByteVector.fromMemorySegment(B16, m, qs + 32, LE).convertShape(B2I, I, 0);
                v1 = (IntVector) ByteVector.fromMemorySegment(B16, m, qs + 48, LE).convertShape(B2I, I, 0);
                s = s.add(v0.and(0x0F).mul(IntVector.fromArray(I, q, e + 64))
                        .add(v1.and(0x0F).mul(IntVector.fromArray(I, q, e + 80))).mul((scLo >>> 16) & 0xFF))
                        .add(v0.lanewise(LSHR, 4).and(0x0F).mul(IntVector.fromArray(I, q, e + 96))
                                .add(v1.lanewise(LSHR, 4).and(0x0F).mul(IntVector.fromArray(I, q, e + 112))).mul(scLo >>> 24));
                v0 = (IntVector) ByteVector.fromMemorySegment(B16, m, qs + 64, LE).convertShape(B2I, I, 0);
                v1 = (IntVector) ByteVector.fromMemorySegment(B16, m, qs + 80, LE).convertShape(B2I, I, 0);
                s = s.add(v0.and(0x0F).mul(IntVector.fromArray(I, q, e + 128))
                        .add(v1.and(0x0F).mul(IntVector.fromArray(I, q, e + 144))).mul(scHi & 0xFF))
                        .add(v0.lanewise(LSHR, 4).and(0x0F).mul(IntVector.fromArray(I, q, e + 160))
                                .add(v1.lanewise(LSHR, 4).and(0x0F).mul(IntVector.fromArray(I, q, e + 176))).mul((scHi >>> 8) & 0xFF));
                v0 = (IntVector) ByteVector.fromMemorySegment(B16, m, qs + 96, LE).convertShape(B2I, I, 0);
                v1 = (IntVector) ByteVector.fromMemorySegment(B16, m, qs + 112, LE).convertShape(B2I, I, 0);
                s = s.add(v0.and(0x0F).mul(IntVector.fromArray(I, q, e + 192))
                        .add(v1.and(0x0F).mul(IntVector.fromArray(I, q, e + 208))).mul((scHi >>> 16) & 0xFF))
                        .add(v0.lanewise(LSHR, 4).and(0x0F).mul(IntVector.fromArray(I, q, e + 224))
                                .add(v1.lanewise(LSHR, 4).and(0x0F).mul(IntVector.fromArray(I, q, e + 240))).mul(scHi >>> 24));
                float dx = a.d[b];
                acc = ((FloatVector) s.convert(I2F, 0))
                        .fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, block)) * dx), acc);
                int k = 8 * b;
                int msum = (mnLo & 0xFF) * sums[k] + ((mnLo >>> 8) & 0xFF) * sums[k + 1]
                        + ((mnLo >>> 16) & 0xFF) * sums[k + 2] + (mnLo >>> 24) * sums[k + 3]
                        + (mnHi & 0xFF) * sums[k + 4] + ((mnHi >>> 8) & 0xFF) * sums[k + 5]
                        + ((mnHi >>> 16) & 0xFF) * sums[k + 6] + (mnHi >>> 24) * sums[k + 7];
                c = Math.fma((float) msum, Float.float16ToFloat(m.get(LE_SHORT, block + 2)) * dx, c);
            }
            acc.intoArray(lanes, 0);
            out[r] = tree(lanes) - c;
        }
    }

    /** A Q4_K/Q5_K block's eight 6-bit scales and mins, from the 12 bytes at {@code s} (see {@link Dequantize#scaleMinK4}). */
    static void q4_KScales(MemorySegment m, long s, int[] sc, int[] mn) {
        long lo = m.get(LE_LONG, s);
        int hi = m.get(LE_INT, s + 8);
        for (int j = 0; j < 4; j++) {
            sc[j] = (int) (lo >>> (8 * j)) & 63;
            mn[j] = (int) (lo >>> (8 * j + 32)) & 63;
            int packed = hi >>> (8 * j);
            sc[j + 4] = (packed & 0x0F) | (((int) (lo >>> (8 * j + 6)) & 3) << 4);
            mn[j + 4] = ((packed >>> 4) & 0x0F) | (((int) (lo >>> (8 * j + 38)) & 3) << 4);
        }
    }

    /**
     * Q6_K matvec, one row at a time (see {@link #matvecQ4_K}): each 16 bytes of low bits and of high
     * bits loaded once give four vectors of 6-bit values; (q - 32) * x times the vector's scale, summed.
     * The sixteen signed scales come from two 8-byte reads.
     */
    private static void matvecQ6_K(WeightMatrix w, Q8Activations a, float[] out, int from, int to) {
        MemorySegment m = w.data();
        int blocks = w.cols() / 256;
        int[] q = a.q;
        float[] lanes = new float[16];
        for (int r = from; r < to; r++) {
            long row = w.rowOffset(r);
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long block = row + 210L * b;
                long sa = m.get(LE_LONG, block + 192);
                long sb = m.get(LE_LONG, block + 200);
                int e = 256 * b;
                IntVector s = IntVector.zero(I);
                IntVector qa;
                IntVector qb;
                IntVector qh;
                qa = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 0, LE).convertShape(B2I, I, 0);
                qb = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 32, LE).convertShape(B2I, I, 0);
                qh = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 128, LE).convertShape(B2I, I, 0);
                s = s.add(qa.and(0x0F).or(qh.and(3).lanewise(LSHL, 4)).sub(32).mul(IntVector.fromArray(I, q, e + 0)).mul((byte) sa))
                        .add(qb.and(0x0F).or(qh.and(12).lanewise(LSHL, 2)).sub(32).mul(IntVector.fromArray(I, q, e + 32)).mul((byte) (sa >>> 16)))
                        .add(qa.lanewise(LSHR, 4).and(0x0F).or(qh.and(48)).sub(32).mul(IntVector.fromArray(I, q, e + 64)).mul((byte) (sa >>> 32)))
                        .add(qb.lanewise(LSHR, 4).and(0x0F).or(qh.lanewise(LSHR, 2).and(48)).sub(32)
                                .mul(IntVector.fromArray(I, q, e + 96)).mul((byte) (sa >>> 48)));
                qa = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 16, LE).convertShape(B2I, I, 0);
                qb = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 48, LE).convertShape(B2I, I, 0);
                qh = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 144, LE).convertShape(B2I, I, 0);
                s = s.add(qa.and(0x0F).or(qh.and(3).lanewise(LSHL, 4)).sub(32).mul(IntVector.fromArray(I, q, e + 16)).mul((byte) (sa >>> 8)))
                        .add(qb.and(0x0F).or(qh.and(12).lanewise(LSHL, 2)).sub(32).mul(IntVector.fromArray(I, q, e + 48)).mul((byte) (sa >>> 24)))
                        .add(qa.lanewise(LSHR, 4).and(0x0F).or(qh.and(48)).sub(32).mul(IntVector.fromArray(I, q, e + 80)).mul((byte) (sa >>> 40)))
                        .add(qb.lanewise(LSHR, 4).and(0x0F).or(qh.lanewise(LSHR, 2).and(48)).sub(32)
                                .mul(IntVector.fromArray(I, q, e + 112)).mul((byte) (sa >>> 56)));
                qa = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 64, LE).convertShape(B2I, I, 0);
                qb = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 96, LE).convertShape(B2I, I, 0);
                qh = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 160, LE).convertShape(B2I, I, 0);
                s = s.add(qa.and(0x0F).or(qh.and(3).lanewise(LSHL, 4)).sub(32).mul(IntVector.fromArray(I, q, e + 128)).mul((byte) sb))
                        .add(qb.and(0x0F).or(qh.and(12).lanewise(LSHL, 2)).sub(32).mul(IntVector.fromArray(I, q, e + 160)).mul((byte) (sb >>> 16)))
                        .add(qa.lanewise(LSHR, 4).and(0x0F).or(qh.and(48)).sub(32).mul(IntVector.fromArray(I, q, e + 192)).mul((byte) (sb >>> 32)))
                        .add(qb.lanewise(LSHR, 4).and(0x0F).or(qh.lanewise(LSHR, 2).and(48)).sub(32)
                                .mul(IntVector.fromArray(I, q, e + 224)).mul((byte) (sb >>> 48)));
                qa = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 80, LE).convertShape(B2I, I, 0);
                qb = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 112, LE).convertShape(B2I, I, 0);
                qh = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 176, LE).convertShape(B2I, I, 0);
                s = s.add(qa.and(0x0F).or(qh.and(3).lanewise(LSHL, 4)).sub(32).mul(IntVector.fromArray(I, q, e + 144)).mul((byte) (sb >>> 8)))
                        .add(qb.and(0x0F).or(qh.and(12).lanewise(LSHL, 2)).sub(32).mul(IntVector.fromArray(I, q, e + 176)).mul((byte) (sb >>> 24)))
                        .add(qa.lanewise(LSHR, 4).and(0x0F).or(qh.and(48)).sub(32).mul(IntVector.fromArray(I, q, e + 208)).mul((byte) (sb >>> 40)))
                        .add(qb.lanewise(LSHR, 4).and(0x0F).or(qh.lanewise(LSHR, 2).and(48)).sub(32)
                                .mul(IntVector.fromArray(I, q, e + 240)).mul((byte) (sb >>> 56)));
                acc = ((FloatVector) s.convert(I2F, 0))
                        .fma(FloatVector.broadcast(F, Float.float16ToFloat(m.get(LE_SHORT, block + 208)) * a.d[b]), acc);
            }
            acc.intoArray(lanes, 0);
            out[r] = tree(lanes);
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
