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
import jdk.incubator.vector.VectorSpecies;

/**
 * Quantized weights times several Q8 activation vectors (matmul), and the matvec of the types that
 * have no integer kernel of their own: {@link ReferenceDot}'s numbers, computed in float.
 * <p>
 * Each row is decoded once into a float scratch of its integer multipliers {@code m[j]} (small
 * integers, exact as floats), its block scales and (Q4_1, K-quants) offsets. The activations' quants
 * are floats too, so a block's lane sums {@code S[l]} come out of ordinary float multiplies and FMAs
 * exactly (every partial sum is an integer below 2^24), and {@code acc[l] = fma(S[l], dw * dx, acc[l])}
 * gives the integer kernels' bits. Register tiles of 4 rows x 2 tokens (2 x 4 for the last rows) share every load.
 */
final class QuantizedTiles {

    private static final VectorSpecies<Float> F = MatrixKernels.F;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int TOKENS = 4;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorOperators.Conversion<Byte, Integer> B2I = VectorOperators.B2I;
    private static final VectorOperators.Conversion<Byte, Float> B2F = VectorOperators.B2F;
    private static final VectorOperators.Conversion<Integer, Float> I2F = VectorOperators.I2F;
    private static final VectorOperators.Binary LSHL = VectorOperators.LSHL;
    private static final VectorOperators.Binary LSHR = VectorOperators.LSHR;

    private QuantizedTiles() {
    }

    /** One decoded row: multipliers, per-block scale dw and offset scale e, per-32 mins (K-quants). */
    private static final class Row {
        final float[] m;
        final float[] dw;
        final float[] e;
        final int[] mins;

        Row(int cols, int blockSize) {
            m = new float[cols];
            dw = new float[cols / blockSize];
            e = new float[cols / blockSize];
            mins = new int[cols / 32];
        }
    }

    static void rows(WeightMatrix w, Q8Activations[] q, float[] out, int os, int from, int to) {
        GgmlType type = w.type();
        int cols = w.cols();
        int blockSize = type.blockSize();
        int tokens = q.length;
        Row r0 = new Row(cols, blockSize);
        Row r1 = new Row(cols, blockSize);
        int r = from;
        if (tokens >= 2 && to - from >= 4) {
            // Many short calls, not one long one: a method called once with a long loop is compiled on
            // stack replacement, deoptimizes at the loop's end and runs interpreted for a while.
            Tables tables = new Tables(w, q);
            while (to - r >= 4) {
                r = rows4x2(w, q, out, os, r, Math.min(r + ROWS_PER_CALL, to), tables);
            }
        }
        for (; r + 2 <= to; r += 2) {
            decode(w, r, r0);
            decode(w, r + 1, r1);
            int t = 0;
            for (; t + TOKENS <= tokens; t += TOKENS) {
                if (blockSize == 32) {
                    tile32(r0, r1, q[t], q[t + 1], q[t + 2], q[t + 3], out, t * os + r, os);
                } else {
                    tile256(r0, r1, q[t], q[t + 1], q[t + 2], q[t + 3], out, t * os + r, os);
                }
            }
            for (; t < tokens; t++) {
                out[t * os + r] = dot(r0, q[t], blockSize);
                out[t * os + r + 1] = dot(r1, q[t], blockSize);
            }
            for (t = 0; t < tokens; t++) {
                out[t * os + r] = offset(type, r0, q[t], out[t * os + r]);
                out[t * os + r + 1] = offset(type, r1, q[t], out[t * os + r + 1]);
            }
        }
        for (; r < to; r++) {
            decode(w, r, r0);
            for (int t = 0; t < tokens; t++) {
                out[t * os + r] = offset(type, r0, q[t], dot(r0, q[t], blockSize));
            }
        }
    }

    /** Columns per cache block of the tiles: four rows' 1024 columns (16 KiB) stay in L1. */
    private static final int K_COLUMNS = 1024;

    /*
     * rows() and rows4x2() run once per call and C2 compiles them on stack replacement only; vector code in
     * them would run in the interpreter (boxed) until then, so they have none: every vector operation is
     * in small methods.
     */

    /**
     * Rows four at a time, times tokens two at a time: 4 x 2 register tiles (eight accumulators, eight
     * weight vectors for 32-element blocks or eight block sums for 256-element ones, each pair's scale
     * broadcast from a table; more does not fit in the 32 vector registers and spills). Columns go in
     * blocks of {@value #K_COLUMNS}, the
     * accumulators waiting in {@code acc} between them, and the next four rows are decoded block by
     * block between the tiles so their memory reads overlap the arithmetic. Returns the first row left.
     */
    /** Rows per call of {@link #rows4x2}. */
    private static final int ROWS_PER_CALL = 64;

    /** What every call of {@link #rows4x2} of one matmul shares: the tokens' scale tables and the scratches. */
    private static final class Tables {
        final float[][] dxRep;
        final float[] dwRep;
        final float[][] scales;
        final float[] acc;
        final int[][] minsT;
        final float[][] dxT;
        final float[] c16 = new float[16];
        Row[] cur = new Row[4];
        Row[] next = new Row[4];

        Tables(WeightMatrix w, Q8Activations[] q) {
            GgmlType type = w.type();
            int cols = w.cols();
            int blockSize = type.blockSize();
            int blocks = cols / blockSize;
            int tokens = q.length;
            int pairs = tokens / 2;
            int table = (8 * blocks + 15) & ~15;
            for (int i = 0; i < 4; i++) {
                cur[i] = new Row(cols, blockSize);
                next[i] = new Row(cols, blockSize);
            }
            dxRep = new float[pairs][table];
            for (int g = 0; g < pairs; g++) {
                for (int b = 0; b < blocks; b++) {
                    for (int i = 0; i < 8; i++) {
                        dxRep[g][8 * b + i] = q[2 * g + (i & 1)].d[b];
                    }
                }
            }
            dwRep = new float[table];
            scales = new float[pairs][table];
            acc = new float[pairs * 128];
            // K-quant offsets, sixteen tokens per vector: the activations' sums of 32 and scales, transposed.
            if (type == GgmlType.Q4_K || type == GgmlType.Q5_K) {
                int groups = (tokens + 15) / 16;
                minsT = new int[groups][blocks * 8 * 16];
                dxT = new float[groups][blocks * 16];
                for (int t = 0; t < tokens; t++) {
                    for (int k = 0; k < 8 * blocks; k++) {
                        minsT[t / 16][16 * k + t % 16] = q[t].sums[k];
                    }
                    for (int b = 0; b < blocks; b++) {
                        dxT[t / 16][16 * b + t % 16] = q[t].d[b];
                    }
                }
            } else {
                minsT = null;
                dxT = null;
            }
        }
    }

    private static int rows4x2(WeightMatrix w, Q8Activations[] q, float[] out, int os, int from, int to, Tables tables) {
        if (to - from < 4) {
            return from;
        }
        GgmlType type = w.type();
        int cols = w.cols();
        int blockSize = type.blockSize();
        int blocks = cols / blockSize;
        int kBlocks = K_COLUMNS / blockSize;
        int tokens = q.length;
        int pairs = tokens / 2;
        Row[] cur = tables.cur;
        Row[] next = tables.next;
        float[][] dxRep = tables.dxRep;
        float[] dwRep = tables.dwRep;
        float[][] scales = tables.scales;
        float[] acc = tables.acc;
        int[][] minsT = tables.minsT;
        float[][] dxT = tables.dxT;
        float[] c16 = tables.c16;
        for (int i = 0; i < 4; i++) {
            decode(w, from + i, cur[i], 0, blocks);
        }
        int r = from;
        for (; r + 4 <= to; r += 4) {
            boolean more = r + 8 <= to;
            repeatScales(cur[0].dw, cur[1].dw, cur[2].dw, cur[3].dw, dwRep);
            for (int g = 0; g < pairs; g++) {
                multiply(dwRep, dxRep[g], scales[g]);
            }
            java.util.Arrays.fill(acc, 0f);
            for (int b = 0; b < blocks; b += kBlocks) {
                int end = Math.min(b + kBlocks, blocks);
                if (more) {
                    for (int i = 0; i < 4; i++) {
                        decode(w, r + 4 + i, next[i], b, end);
                    }
                }
                for (int g = 0; g < pairs; g++) {
                    if (blockSize == 32) {
                        tile4x2(cur[0].m, cur[1].m, cur[2].m, cur[3].m, b, end, q[2 * g].qf, q[2 * g + 1].qf, scales[g], acc,
                                128 * g);
                    } else {
                        tile4x2K(cur[0].m, cur[1].m, cur[2].m, cur[3].m, b, end, q[2 * g].qf, q[2 * g + 1].qf, scales[g], acc,
                                128 * g);
                    }
                }
            }
            for (int g = 0; g < pairs; g++) {
                for (int i = 0; i < 8; i++) {
                    out[(2 * g + (i & 1)) * os + r + (i >> 1)] = MatrixKernels.treeAt(acc, 128 * g + 16 * i);
                }
            }
            for (int t = 2 * pairs; t < tokens; t++) {
                for (int i = 0; i < 4; i++) {
                    out[t * os + r + i] = dot(cur[i], q[t], blockSize);
                }
            }
            if (minsT != null) {
                for (int i = 0; i < 4; i++) {
                    for (int g = 0; g < minsT.length; g++) {
                        offsetsK(cur[i].mins, cur[i].e, minsT[g], dxT[g], blocks, c16);
                        for (int l = 0; l < 16 && 16 * g + l < tokens; l++) {
                            int at = (16 * g + l) * os + r + i;
                            out[at] = out[at] - c16[l];
                        }
                    }
                }
            } else {
                for (int t = 0; t < tokens; t++) {
                    for (int i = 0; i < 4; i++) {
                        out[t * os + r + i] = offset(type, cur[i], q[t], out[t * os + r + i]);
                    }
                }
            }
            Row[] swap = cur;
            cur = next;
            next = swap;
        }
        tables.cur = cur;
        tables.next = next;
        return r;
    }

    /** {@code dst[8b + 2r + t] = dw_r[b]} for t = 0, 1. */
    private static void repeatScales(float[] dw0, float[] dw1, float[] dw2, float[] dw3, float[] dst) {
        for (int b = 0; b < dw0.length; b++) {
            float d0 = dw0[b];
            float d1 = dw1[b];
            float d2 = dw2[b];
            float d3 = dw3[b];
            int i = 8 * b;
            dst[i] = d0;
            dst[i + 1] = d0;
            dst[i + 2] = d1;
            dst[i + 3] = d1;
            dst[i + 4] = d2;
            dst[i + 5] = d2;
            dst[i + 6] = d3;
            dst[i + 7] = d3;
        }
    }

    private static void multiply(float[] a, float[] b, float[] dst) {
        for (int i = 0; i < dst.length; i += 16) {
            FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(dst, i);
        }
    }

    /**
     * Blocks {@code [from, to)} of a 4 x 2 tile: rows' multipliers {@code m0..m3}, tokens' quants
     * {@code x0, x1}, scales {@code dw[r] * dx[t]} at {@code 8b + 2r + t}; the eight accumulators
     * ({@code 2r + t}, 16 lanes each) are read from and written back to {@code acc} at {@code ao}.
     */
    private static void tile4x2(float[] m0, float[] m1, float[] m2, float[] m3, int from, int to, float[] x0, float[] x1,
            float[] scales, float[] acc, int ao) {
        FloatVector a00 = FloatVector.fromArray(F, acc, ao);
        FloatVector a01 = FloatVector.fromArray(F, acc, ao + 16);
        FloatVector a10 = FloatVector.fromArray(F, acc, ao + 32);
        FloatVector a11 = FloatVector.fromArray(F, acc, ao + 48);
        FloatVector a20 = FloatVector.fromArray(F, acc, ao + 64);
        FloatVector a21 = FloatVector.fromArray(F, acc, ao + 80);
        FloatVector a30 = FloatVector.fromArray(F, acc, ao + 96);
        FloatVector a31 = FloatVector.fromArray(F, acc, ao + 112);
        for (int b = from; b < to; b++) {
            int c = 32 * b;
            int s = 8 * b;
            FloatVector u0 = FloatVector.fromArray(F, m0, c);
            FloatVector v0 = FloatVector.fromArray(F, m0, c + 16);
            FloatVector u1 = FloatVector.fromArray(F, m1, c);
            FloatVector v1 = FloatVector.fromArray(F, m1, c + 16);
            FloatVector u2 = FloatVector.fromArray(F, m2, c);
            FloatVector v2 = FloatVector.fromArray(F, m2, c + 16);
            FloatVector u3 = FloatVector.fromArray(F, m3, c);
            FloatVector v3 = FloatVector.fromArray(F, m3, c + 16);
            FloatVector xl = FloatVector.fromArray(F, x0, c);
            FloatVector xh = FloatVector.fromArray(F, x0, c + 16);
            a00 = v0.fma(xh, u0.mul(xl)).fma(FloatVector.broadcast(F, scales[s]), a00);
            a10 = v1.fma(xh, u1.mul(xl)).fma(FloatVector.broadcast(F, scales[s + 2]), a10);
            a20 = v2.fma(xh, u2.mul(xl)).fma(FloatVector.broadcast(F, scales[s + 4]), a20);
            a30 = v3.fma(xh, u3.mul(xl)).fma(FloatVector.broadcast(F, scales[s + 6]), a30);
            xl = FloatVector.fromArray(F, x1, c);
            xh = FloatVector.fromArray(F, x1, c + 16);
            a01 = v0.fma(xh, u0.mul(xl)).fma(FloatVector.broadcast(F, scales[s + 1]), a01);
            a11 = v1.fma(xh, u1.mul(xl)).fma(FloatVector.broadcast(F, scales[s + 3]), a11);
            a21 = v2.fma(xh, u2.mul(xl)).fma(FloatVector.broadcast(F, scales[s + 5]), a21);
            a31 = v3.fma(xh, u3.mul(xl)).fma(FloatVector.broadcast(F, scales[s + 7]), a31);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + 16);
        a10.intoArray(acc, ao + 32);
        a11.intoArray(acc, ao + 48);
        a20.intoArray(acc, ao + 64);
        a21.intoArray(acc, ao + 80);
        a30.intoArray(acc, ao + 96);
        a31.intoArray(acc, ao + 112);
    }

    /**
     * Blocks {@code [from, to)} of a 4 x 2 tile of 256-element blocks, as {@link #tile4x2}: per block the
     * eight lane sums build up over sixteen steps of four weight and two activation vectors, then each
     * meets its pair's scale in one FMA.
     */
    private static void tile4x2K(float[] m0, float[] m1, float[] m2, float[] m3, int from, int to, float[] x0, float[] x1,
            float[] scales, float[] acc, int ao) {
        FloatVector a00 = FloatVector.fromArray(F, acc, ao);
        FloatVector a01 = FloatVector.fromArray(F, acc, ao + 16);
        FloatVector a10 = FloatVector.fromArray(F, acc, ao + 32);
        FloatVector a11 = FloatVector.fromArray(F, acc, ao + 48);
        FloatVector a20 = FloatVector.fromArray(F, acc, ao + 64);
        FloatVector a21 = FloatVector.fromArray(F, acc, ao + 80);
        FloatVector a30 = FloatVector.fromArray(F, acc, ao + 96);
        FloatVector a31 = FloatVector.fromArray(F, acc, ao + 112);
        for (int b = from; b < to; b++) {
            FloatVector s00 = FloatVector.zero(F);
            FloatVector s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            for (int c = 256 * b; c < 256 * (b + 1); c += 16) {
                FloatVector t0 = FloatVector.fromArray(F, x0, c);
                FloatVector t1 = FloatVector.fromArray(F, x1, c);
                FloatVector u = FloatVector.fromArray(F, m0, c);
                s00 = u.fma(t0, s00);
                s01 = u.fma(t1, s01);
                u = FloatVector.fromArray(F, m1, c);
                s10 = u.fma(t0, s10);
                s11 = u.fma(t1, s11);
                u = FloatVector.fromArray(F, m2, c);
                s20 = u.fma(t0, s20);
                s21 = u.fma(t1, s21);
                u = FloatVector.fromArray(F, m3, c);
                s30 = u.fma(t0, s30);
                s31 = u.fma(t1, s31);
            }
            int s = 8 * b;
            a00 = s00.fma(FloatVector.broadcast(F, scales[s]), a00);
            a01 = s01.fma(FloatVector.broadcast(F, scales[s + 1]), a01);
            a10 = s10.fma(FloatVector.broadcast(F, scales[s + 2]), a10);
            a11 = s11.fma(FloatVector.broadcast(F, scales[s + 3]), a11);
            a20 = s20.fma(FloatVector.broadcast(F, scales[s + 4]), a20);
            a21 = s21.fma(FloatVector.broadcast(F, scales[s + 5]), a21);
            a30 = s30.fma(FloatVector.broadcast(F, scales[s + 6]), a30);
            a31 = s31.fma(FloatVector.broadcast(F, scales[s + 7]), a31);
        }
        a00.intoArray(acc, ao);
        a01.intoArray(acc, ao + 16);
        a10.intoArray(acc, ao + 32);
        a11.intoArray(acc, ao + 48);
        a20.intoArray(acc, ao + 64);
        a21.intoArray(acc, ao + 80);
        a30.intoArray(acc, ao + 96);
        a31.intoArray(acc, ao + 112);
    }

    /**
     * The Q4_K/Q5_K offset term {@code c} of one row for sixteen tokens at once (lane = token): per block
     * {@code c = fma(sum of min(s) * sums(s), e * dx, c)}, lane by lane the operations of {@link #offset}.
     */
    private static void offsetsK(int[] mins, float[] e, int[] sumsT, float[] dxT, int blocks, float[] c16) {
        FloatVector c = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int k = 8 * b;
            IntVector m = IntVector.fromArray(I, sumsT, 16 * k).mul(mins[k]);
            for (int s = 1; s < 8; s++) {
                m = m.add(IntVector.fromArray(I, sumsT, 16 * (k + s)).mul(mins[k + s]));
            }
            c = ((FloatVector) m.convert(I2F, 0)).fma(FloatVector.fromArray(F, dxT, 16 * b).mul(e[b]), c);
        }
        c.intoArray(c16, 0);
    }

    /** {@code tree(acc)} plus (Q4_1) or minus (Q4_K, Q5_K) the offset term; the value itself otherwise. */
    private static float offset(GgmlType type, Row w, Q8Activations a, float tree) {
        switch (type) {
            case Q4_1 -> {
                float c = 0;
                for (int b = 0; b < w.e.length; b++) {
                    c = Math.fma((float) a.sums[b], w.e[b] * a.d[b], c);
                }
                return tree + c;
            }
            case Q4_K, Q5_K -> {
                float c = 0;
                for (int b = 0; b < w.e.length; b++) {
                    int sum = 0;
                    for (int s = 0; s < 8; s++) {
                        sum += w.mins[8 * b + s] * a.sums[8 * b + s];
                    }
                    c = Math.fma((float) sum, w.e[b] * a.d[b], c);
                }
                return tree - c;
            }
            default -> {
                return tree;
            }
        }
    }

    /** One row times one token, without the offset term. */
    private static float dot(Row w, Q8Activations a, int blockSize) {
        FloatVector acc = FloatVector.zero(F);
        float[] x = a.qf;
        for (int b = 0; b < w.dw.length; b++) {
            FloatVector s = FloatVector.zero(F);
            for (int c = blockSize * b; c < blockSize * (b + 1); c += 16) {
                s = FloatVector.fromArray(F, w.m, c).fma(FloatVector.fromArray(F, x, c), s);
            }
            acc = s.fma(FloatVector.broadcast(F, w.dw[b] * a.d[b]), acc);
        }
        float[] lanes = new float[16];
        acc.intoArray(lanes, 0);
        return MatrixKernels.tree(lanes);
    }

    /** 2 rows x 4 tokens (rows left over by the 4 x 2 tiles) of 32-element blocks: per block two products per pair, then its scale. */
    private static void tile32(Row w0, Row w1, Q8Activations t0, Q8Activations t1, Q8Activations t2, Q8Activations t3,
            float[] out, int oo, int os) {
        float[] x0 = t0.qf, x1 = t1.qf, x2 = t2.qf, x3 = t3.qf;
        float[] d0 = t0.d, d1 = t1.d, d2 = t2.d, d3 = t3.d;
        float[] m0 = w0.m, m1 = w1.m, s0 = w0.dw, s1 = w1.dw;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int b = 0; b < s0.length; b++) {
            int c = 32 * b;
            FloatVector u0 = FloatVector.fromArray(F, m0, c);
            FloatVector v0 = FloatVector.fromArray(F, m0, c + 16);
            FloatVector u1 = FloatVector.fromArray(F, m1, c);
            FloatVector v1 = FloatVector.fromArray(F, m1, c + 16);
            float e0 = s0[b];
            float e1 = s1[b];
            FloatVector xl = FloatVector.fromArray(F, x0, c);
            FloatVector xh = FloatVector.fromArray(F, x0, c + 16);
            a00 = v0.fma(xh, u0.mul(xl)).fma(FloatVector.broadcast(F, e0 * d0[b]), a00);
            a10 = v1.fma(xh, u1.mul(xl)).fma(FloatVector.broadcast(F, e1 * d0[b]), a10);
            xl = FloatVector.fromArray(F, x1, c);
            xh = FloatVector.fromArray(F, x1, c + 16);
            a01 = v0.fma(xh, u0.mul(xl)).fma(FloatVector.broadcast(F, e0 * d1[b]), a01);
            a11 = v1.fma(xh, u1.mul(xl)).fma(FloatVector.broadcast(F, e1 * d1[b]), a11);
            xl = FloatVector.fromArray(F, x2, c);
            xh = FloatVector.fromArray(F, x2, c + 16);
            a02 = v0.fma(xh, u0.mul(xl)).fma(FloatVector.broadcast(F, e0 * d2[b]), a02);
            a12 = v1.fma(xh, u1.mul(xl)).fma(FloatVector.broadcast(F, e1 * d2[b]), a12);
            xl = FloatVector.fromArray(F, x3, c);
            xh = FloatVector.fromArray(F, x3, c + 16);
            a03 = v0.fma(xh, u0.mul(xl)).fma(FloatVector.broadcast(F, e0 * d3[b]), a03);
            a13 = v1.fma(xh, u1.mul(xl)).fma(FloatVector.broadcast(F, e1 * d3[b]), a13);
        }
        float[] lanes = new float[16];
        a00.intoArray(lanes, 0);
        out[oo] = MatrixKernels.tree(lanes);
        a01.intoArray(lanes, 0);
        out[oo + os] = MatrixKernels.tree(lanes);
        a02.intoArray(lanes, 0);
        out[oo + 2 * os] = MatrixKernels.tree(lanes);
        a03.intoArray(lanes, 0);
        out[oo + 3 * os] = MatrixKernels.tree(lanes);
        a10.intoArray(lanes, 0);
        out[oo + 1] = MatrixKernels.tree(lanes);
        a11.intoArray(lanes, 0);
        out[oo + os + 1] = MatrixKernels.tree(lanes);
        a12.intoArray(lanes, 0);
        out[oo + 2 * os + 1] = MatrixKernels.tree(lanes);
        a13.intoArray(lanes, 0);
        out[oo + 3 * os + 1] = MatrixKernels.tree(lanes);
    }

    /** 2 rows x 4 tokens (rows left over by the 4 x 2 tiles) of 256-element blocks: per block sixteen FMAs per pair, then its scale. */
    private static void tile256(Row w0, Row w1, Q8Activations t0, Q8Activations t1, Q8Activations t2, Q8Activations t3,
            float[] out, int oo, int os) {
        float[] x0 = t0.qf, x1 = t1.qf, x2 = t2.qf, x3 = t3.qf;
        float[] m0 = w0.m, m1 = w1.m;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int b = 0; b < w0.dw.length; b++) {
            FloatVector s00 = FloatVector.zero(F);
            FloatVector s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            for (int c = 256 * b; c < 256 * (b + 1); c += 16) {
                FloatVector u0 = FloatVector.fromArray(F, m0, c);
                FloatVector u1 = FloatVector.fromArray(F, m1, c);
                FloatVector x = FloatVector.fromArray(F, x0, c);
                s00 = u0.fma(x, s00);
                s10 = u1.fma(x, s10);
                x = FloatVector.fromArray(F, x1, c);
                s01 = u0.fma(x, s01);
                s11 = u1.fma(x, s11);
                x = FloatVector.fromArray(F, x2, c);
                s02 = u0.fma(x, s02);
                s12 = u1.fma(x, s12);
                x = FloatVector.fromArray(F, x3, c);
                s03 = u0.fma(x, s03);
                s13 = u1.fma(x, s13);
            }
            float e0 = w0.dw[b];
            float e1 = w1.dw[b];
            a00 = s00.fma(FloatVector.broadcast(F, e0 * t0.d[b]), a00);
            a01 = s01.fma(FloatVector.broadcast(F, e0 * t1.d[b]), a01);
            a02 = s02.fma(FloatVector.broadcast(F, e0 * t2.d[b]), a02);
            a03 = s03.fma(FloatVector.broadcast(F, e0 * t3.d[b]), a03);
            a10 = s10.fma(FloatVector.broadcast(F, e1 * t0.d[b]), a10);
            a11 = s11.fma(FloatVector.broadcast(F, e1 * t1.d[b]), a11);
            a12 = s12.fma(FloatVector.broadcast(F, e1 * t2.d[b]), a12);
            a13 = s13.fma(FloatVector.broadcast(F, e1 * t3.d[b]), a13);
        }
        float[] lanes = new float[16];
        a00.intoArray(lanes, 0);
        out[oo] = MatrixKernels.tree(lanes);
        a01.intoArray(lanes, 0);
        out[oo + os] = MatrixKernels.tree(lanes);
        a02.intoArray(lanes, 0);
        out[oo + 2 * os] = MatrixKernels.tree(lanes);
        a03.intoArray(lanes, 0);
        out[oo + 3 * os] = MatrixKernels.tree(lanes);
        a10.intoArray(lanes, 0);
        out[oo + 1] = MatrixKernels.tree(lanes);
        a11.intoArray(lanes, 0);
        out[oo + os + 1] = MatrixKernels.tree(lanes);
        a12.intoArray(lanes, 0);
        out[oo + 2 * os + 1] = MatrixKernels.tree(lanes);
        a13.intoArray(lanes, 0);
        out[oo + 3 * os + 1] = MatrixKernels.tree(lanes);
    }

    // ---- row decoders: integer multipliers as floats ----

    private static void decode(WeightMatrix w, int r, Row dst) {
        decode(w, r, dst, 0, w.cols() / w.type().blockSize());
    }

    /** Blocks {@code [from, to)} of row {@code r}. */
    private static void decode(WeightMatrix w, int r, Row dst, int from, int to) {
        MemorySegment m = w.data();
        long row = w.rowOffset(r);
        switch (w.type()) {
            case Q8_0 -> decodeQ8_0(m, row, from, to, dst);
            case Q4_0 -> decodeQ4_0(m, row, from, to, dst);
            case Q4_K -> decodeQ4_K(m, row, from, to, dst);
            case Q6_K -> decodeQ6_K(m, row, from, to, dst);
            default -> decodeAny(w.type(), m, row, from, to, dst);
        }
    }

    /*
     * The decoders write every vector operation out (no helper of ours taking or returning vectors) and
     * cast each conversion to its concrete vector class: a helper C2 declines to inline, or a call on the
     * Vector interface it cannot bind statically, boxes the vectors and runs tens of times slower.
     */

    private static void decodeQ8_0(MemorySegment m, long row, int from, int to, Row dst) {
        float[] out = dst.m;
        for (int b = from; b < to; b++) {
            long block = row + 34L * b;
            dst.dw[b] = Float.float16ToFloat(m.get(LE_SHORT, block));
            ((FloatVector) ByteVector.fromMemorySegment(B16, m, block + 2, LE).convertShape(B2F, F, 0)).intoArray(out, 32 * b);
            ((FloatVector) ByteVector.fromMemorySegment(B16, m, block + 18, LE).convertShape(B2F, F, 0)).intoArray(out, 32 * b + 16);
        }
    }

    private static void decodeQ4_0(MemorySegment m, long row, int from, int to, Row dst) {
        float[] out = dst.m;
        for (int b = from; b < to; b++) {
            long block = row + 18L * b;
            dst.dw[b] = Float.float16ToFloat(m.get(LE_SHORT, block));
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 2, LE).convertShape(B2I, I, 0);
            ((FloatVector) v.and(0x0F).sub(8).convert(I2F, 0)).intoArray(out, 32 * b);
            ((FloatVector) v.lanewise(LSHR, 4).and(0x0F).sub(8).convert(I2F, 0)).intoArray(out, 32 * b + 16);
        }
    }

    private static void decodeQ4_K(MemorySegment m, long row, int from, int to, Row dst) {
        float[] out = dst.m;
        int[] sc = new int[8];
        int[] mn = new int[8];
        for (int b = from; b < to; b++) {
            long block = row + 144L * b;
            dst.dw[b] = Float.float16ToFloat(m.get(LE_SHORT, block));
            dst.e[b] = Float.float16ToFloat(m.get(LE_SHORT, block + 2));
            MatrixKernels.q4_KScales(m, block + 4, sc, mn);
            System.arraycopy(mn, 0, dst.mins, 8 * b, 8);
            for (int g = 0; g < 4; g++) {
                int e = 256 * b + 64 * g;
                int lo = sc[2 * g];
                int hi = sc[2 * g + 1];
                IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 16 + 32 * g, LE).convertShape(B2I, I, 0);
                IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 32 + 32 * g, LE).convertShape(B2I, I, 0);
                ((FloatVector) v0.and(0x0F).mul(lo).convert(I2F, 0)).intoArray(out, e);
                ((FloatVector) v1.and(0x0F).mul(lo).convert(I2F, 0)).intoArray(out, e + 16);
                ((FloatVector) v0.lanewise(LSHR, 4).and(0x0F).mul(hi).convert(I2F, 0)).intoArray(out, e + 32);
                ((FloatVector) v1.lanewise(LSHR, 4).and(0x0F).mul(hi).convert(I2F, 0)).intoArray(out, e + 48);
            }
        }
    }

    private static void decodeQ6_K(MemorySegment m, long row, int from, int to, Row dst) {
        float[] out = dst.m;
        for (int b = from; b < to; b++) {
            long block = row + 210L * b;
            dst.dw[b] = Float.float16ToFloat(m.get(LE_SHORT, block + 208));
            for (int k = 0; k < 4; k++) {
                int half = k >> 1;
                int l0 = 16 * (k & 1);
                IntVector qa = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 64 * half + l0, LE).convertShape(B2I, I, 0);
                IntVector qb = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 64 * half + 32 + l0, LE)
                        .convertShape(B2I, I, 0);
                IntVector qh = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 128 + 32 * half + l0, LE)
                        .convertShape(B2I, I, 0);
                int e = 256 * b + 128 * half + l0;
                long sc = block + 192 + 8 * half + (l0 >> 4);
                int s0 = m.get(ValueLayout.JAVA_BYTE, sc);
                int s1 = m.get(ValueLayout.JAVA_BYTE, sc + 2);
                int s2 = m.get(ValueLayout.JAVA_BYTE, sc + 4);
                int s3 = m.get(ValueLayout.JAVA_BYTE, sc + 6);
                ((FloatVector) qa.and(0x0F).or(qh.and(3).lanewise(LSHL, 4)).sub(32).mul(s0).convert(I2F, 0)).intoArray(out, e);
                ((FloatVector) qb.and(0x0F).or(qh.and(12).lanewise(LSHL, 2)).sub(32).mul(s1).convert(I2F, 0))
                        .intoArray(out, e + 32);
                ((FloatVector) qa.lanewise(LSHR, 4).and(0x0F).or(qh.and(48)).sub(32).mul(s2).convert(I2F, 0))
                        .intoArray(out, e + 64);
                ((FloatVector) qb.lanewise(LSHR, 4).and(0x0F).or(qh.lanewise(LSHR, 2).and(48)).sub(32).mul(s3).convert(I2F, 0))
                        .intoArray(out, e + 96);
            }
        }
    }

    /** Any other type, through the scalar reference's decoding (Q4_1, Q5_0, Q5_K, Q8_K: rarely used). */
    private static void decodeAny(GgmlType type, MemorySegment m, long row, int from, int to, Row dst) {
        int block = type.blockSize();
        int[] mult = new int[block];
        for (int b = from; b < to; b++) {
            long at = row + (long) b * type.typeSize();
            float[] scales = ReferenceDot.multipliers(type, m, at, mult);
            for (int j = 0; j < block; j++) {
                dst.m[block * b + j] = mult[j];
            }
            dst.dw[b] = scales[0];
            dst.e[b] = scales[1];
            if (type == GgmlType.Q5_K) {
                for (int s = 0; s < 8; s++) {
                    dst.mins[8 * b + s] = Dequantize.scaleMinK4(m, at + 4, s)[1];
                }
            }
        }
    }
}
