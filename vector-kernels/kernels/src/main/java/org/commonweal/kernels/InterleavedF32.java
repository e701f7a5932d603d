package org.commonweal.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;

import jdk.incubator.vector.FloatVector;

/**
 * F32 weights repacked once (at load) so that the matmul tiles read one sequential stream: rows in groups of
 * {@value #ROWS}, each group's 16-column chunks interleaved. With {@code G = rows / 6} whole groups and
 * {@code whole = cols & ~15}:
 * <ul>
 * <li>group {@code g} starts at byte {@code 24 * cols * g}; its chunk of columns {@code c .. c+15} (c = 0, 16, ...,
 * whole - 16) is at {@code 24 c}, row {@code 6g + i}'s 16 floats of it at {@code 24 c + 64 i}; then the rows' last
 * {@code cols - whole} floats, row after row, at {@code 24 whole + 4 (cols - whole) i};
 * <li>the {@code rows % 6} rows after the last whole group follow as GGUF stores them, at {@code 24 * cols * G}.
 * </ul>
 * The same bytes as GGUF's rows, in another order, and the same bits out of every kernel ({@code dot16}, see
 * {@link MatrixKernels}).
 * <p>
 * Why: a prompt's matmul is compute-bound (64 tokens make 32 FLOP per weight byte), but each weight still comes from
 * memory once, and a core cannot issue prefetches from Java. Read straight from memory by the tiles' FMA loop, the
 * weights arrive at about 12 GB/s (six row streams, a new 4 KiB page per row and column block, the reorder window
 * full of FMAs waiting on them); a plain read pass over the block first, then the tiles from L1/L2, streams at
 * 35 GB/s. In GGUF's layout the same read pass changed nothing (six streams, a page each); over one interleaved
 * stream it lifts a 4092 x 4096 x 64-token matmul on one thread from 143 to 167 GFLOP/s (51% to 60% of the FMA
 * peak; 81% is the tiles' own speed from L2).
 */
record InterleavedF32(MemorySegment data, int rows, int cols) {

    /** Rows per group: six rows x four tokens are 24 accumulators, with four activations and a weight 29 of 32 registers. */
    static final int ROWS = 6;
    /** Groups that share one column block of every token's activations (64 tokens x 1024 columns: 256 KiB, in L2). */
    private static final int BLOCK_GROUPS = 4;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** What the read passes sum, stored so that the compiler cannot drop their loads (never read). */
    @SuppressWarnings("unused")
    private static float touched;

    /** {@code w} repacked into memory of {@code arena}; reads {@code w} once. */
    static InterleavedF32 repack(WeightMatrix w, Arena arena) {
        if (w.type() != GgmlType.F32) {
            throw new IllegalArgumentException("only F32 weights are interleaved, not " + w.type());
        }
        int rows = w.rows();
        int cols = w.cols();
        MemorySegment src = w.data();
        MemorySegment dst = arena.allocate(w.byteSize(), 64);
        InterleavedF32 packed = new InterleavedF32(dst, rows, cols);
        int whole = cols & ~15;
        int tail = cols - whole;
        for (int g = 0; g < packed.groups(); g++) {
            long o0 = packed.groupOffset(g);
            for (int i = 0; i < ROWS; i++) {
                long row = w.rowOffset(ROWS * g + i);
                for (int c = 0; c < whole; c += 16) {
                    MemorySegment.copy(src, row + 4L * c, dst, o0 + 24L * c + 64L * i, 64);
                }
                MemorySegment.copy(src, row + 4L * whole, dst, o0 + 24L * whole + 4L * tail * i, 4L * tail);
            }
        }
        if (rows % ROWS > 0) {
            int first = ROWS * packed.groups();
            MemorySegment.copy(src, w.rowOffset(first), dst, packed.groupOffset(packed.groups()), (rows - first) * w.rowBytes());
        }
        return packed;
    }

    /** Whole groups of six rows. */
    int groups() {
        return rows / ROWS;
    }

    /** Where group {@code g} starts (for {@code g == groups()}: the rows after the last whole group). */
    long groupOffset(int g) {
        return 24L * cols * g;
    }

    /** Where the tail columns of row {@code i} of the group at {@code o0} would start if they were a whole row (see {@link MatrixKernels#tail}). */
    private long tailRow(long o0, int i) {
        int whole = cols & ~15;
        return o0 + 24L * whole + 4L * (cols - whole) * i - 4L * whole;
    }

    /** {@code out[t * os + r] = W[r,:] . x[t * xs ...]} for every row and token; the rows' groups split among the pool's threads. */
    void matmul(float[] x, int xs, int tokens, float[] out, int os, KernelPool pool) {
        int groups = groups();
        int units = groups + (rows % ROWS > 0 ? 1 : 0);
        pool.forRows(units, 24L * cols * tokens, (from, to) -> {
            // One scratch for all the blocks: a fresh one per block walked the heap, 15% of the time.
            float[] acc = new float[BLOCK_GROUPS * (tokens / MatrixKernels.TOKEN_TILE) * ROWS * 64];
            for (int g = from; g < Math.min(to, groups); g += BLOCK_GROUPS) {
                int end = Math.min(g + BLOCK_GROUPS, Math.min(to, groups));
                if (tokens >= MatrixKernels.TOKEN_TILE) {
                    tiles(x, xs, tokens, out, os, g, end, acc);
                }
                for (int t = tokens / MatrixKernels.TOKEN_TILE * MatrixKernels.TOKEN_TILE; t < tokens; t++) {
                    for (int i = g; i < end; i++) {
                        rows6(groupOffset(i), x, t * xs, out, t * os + ROWS * i);
                    }
                }
            }
            if (to > groups) {
                leftovers(x, xs, tokens, out, os);
            }
        });
    }

    /**
     * Groups {@code [from, to)} (at most {@value #BLOCK_GROUPS}) times the whole token quads: per column block, a read
     * pass brings a group's block (24 KiB) into the cache at streaming speed, then its tiles take the quads in turn.
     * {@code acc} holds {@value #BLOCK_GROUPS} groups' accumulators.
     */
    private void tiles(float[] x, int xs, int tokens, float[] out, int os, int from, int to, float[] acc) {
        int quads = tokens / MatrixKernels.TOKEN_TILE;
        int whole = cols & ~15;
        int perGroup = quads * ROWS * 64;
        java.util.Arrays.fill(acc, 0f);
        for (int k = 0; k < whole; k += MatrixKernels.K_BLOCK) {
            int kEnd = Math.min(k + MatrixKernels.K_BLOCK, whole);
            for (int g = from; g < to; g++) {
                long o0 = groupOffset(g);
                touch(data, o0 + 24L * k, o0 + 24L * kEnd);
                for (int q = 0; q < quads; q++) {
                    tile6x4(data, o0, k, kEnd, x, 4 * q * xs, xs, acc, (g - from) * perGroup + ROWS * 64 * q);
                }
            }
        }
        for (int g = from; g < to; g++) {
            long o0 = groupOffset(g);
            for (int q = 0; q < quads; q++) {
                for (int i = 0; i < 4 * ROWS; i++) {
                    int token = 4 * q + (i & 3);
                    int row = i >> 2;
                    int at = (g - from) * perGroup + ROWS * 64 * q + 16 * i;
                    float dot = whole == cols ? MatrixKernels.treeAt(acc, at)
                            : MatrixKernels.reduce(MatrixKernels.tail(data, tailRow(o0, row), cols, x, token * xs,
                                    FloatVector.fromArray(MatrixKernels.F, acc, at)));
                    out[token * os + ROWS * g + row] = dot;
                }
            }
        }
    }

    /**
     * Reads bytes {@code [from, to)} of {@code data} into the cache, 256 bytes a step (a last partial step is left
     * to the tiles): loads and adds only, so that many cache misses are in flight at once.
     */
    private static void touch(MemorySegment data, long from, long to) {
        FloatVector s0 = FloatVector.zero(MatrixKernels.F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        long b = from;
        for (; b + 256 <= to; b += 256) {
            s0 = s0.add(FloatVector.fromMemorySegment(MatrixKernels.F, data, b, LE));
            s1 = s1.add(FloatVector.fromMemorySegment(MatrixKernels.F, data, b + 64, LE));
            s2 = s2.add(FloatVector.fromMemorySegment(MatrixKernels.F, data, b + 128, LE));
            s3 = s3.add(FloatVector.fromMemorySegment(MatrixKernels.F, data, b + 192, LE));
        }
        touched = s0.add(s1).add(s2).add(s3).lane(0);
    }

    /**
     * Columns {@code [from, to)} of the group at {@code o0} times four tokens at {@code xo + t * xs}: the 24
     * accumulators (row-major, 16 lanes each) are read from and written back to {@code acc}. Each lane accumulates its
     * columns in order with FMAs, as {@code dot16}.
     */
    private static void tile6x4(MemorySegment m, long o0, int from, int to, float[] x, int xo, int xs, float[] acc, int ao) {
        FloatVector a00 = FloatVector.fromArray(MatrixKernels.F, acc, ao);
        FloatVector a01 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 16);
        FloatVector a02 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 32);
        FloatVector a03 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 48);
        FloatVector a10 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 64);
        FloatVector a11 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 80);
        FloatVector a12 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 96);
        FloatVector a13 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 112);
        FloatVector a20 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 128);
        FloatVector a21 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 144);
        FloatVector a22 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 160);
        FloatVector a23 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 176);
        FloatVector a30 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 192);
        FloatVector a31 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 208);
        FloatVector a32 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 224);
        FloatVector a33 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 240);
        FloatVector a40 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 256);
        FloatVector a41 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 272);
        FloatVector a42 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 288);
        FloatVector a43 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 304);
        FloatVector a50 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 320);
        FloatVector a51 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 336);
        FloatVector a52 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 352);
        FloatVector a53 = FloatVector.fromArray(MatrixKernels.F, acc, ao + 368);
        int x1 = xo + xs;
        int x2 = xo + 2 * xs;
        int x3 = xo + 3 * xs;
        for (int c = from; c < to; c += 16) {
            long b = o0 + 24L * c;
            FloatVector t0 = FloatVector.fromArray(MatrixKernels.F, x, xo + c);
            FloatVector t1 = FloatVector.fromArray(MatrixKernels.F, x, x1 + c);
            FloatVector t2 = FloatVector.fromArray(MatrixKernels.F, x, x2 + c);
            FloatVector t3 = FloatVector.fromArray(MatrixKernels.F, x, x3 + c);
            FloatVector v = FloatVector.fromMemorySegment(MatrixKernels.F, m, b, LE);
            a00 = v.fma(t0, a00);
            a01 = v.fma(t1, a01);
            a02 = v.fma(t2, a02);
            a03 = v.fma(t3, a03);
            v = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 64, LE);
            a10 = v.fma(t0, a10);
            a11 = v.fma(t1, a11);
            a12 = v.fma(t2, a12);
            a13 = v.fma(t3, a13);
            v = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 128, LE);
            a20 = v.fma(t0, a20);
            a21 = v.fma(t1, a21);
            a22 = v.fma(t2, a22);
            a23 = v.fma(t3, a23);
            v = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 192, LE);
            a30 = v.fma(t0, a30);
            a31 = v.fma(t1, a31);
            a32 = v.fma(t2, a32);
            a33 = v.fma(t3, a33);
            v = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 256, LE);
            a40 = v.fma(t0, a40);
            a41 = v.fma(t1, a41);
            a42 = v.fma(t2, a42);
            a43 = v.fma(t3, a43);
            v = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 320, LE);
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

    /** The six rows of the group at {@code o0} times one token at {@code xo}, into {@code out[oo .. oo+5]} (matvec: one stream, six FMA chains). */
    private void rows6(long o0, float[] x, int xo, float[] out, int oo) {
        MemorySegment m = data;
        int whole = cols & ~15;
        FloatVector a0 = FloatVector.zero(MatrixKernels.F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        for (int c = 0; c < whole; c += 16) {
            long b = o0 + 24L * c;
            FloatVector t = FloatVector.fromArray(MatrixKernels.F, x, xo + c);
            a0 = FloatVector.fromMemorySegment(MatrixKernels.F, m, b, LE).fma(t, a0);
            a1 = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 64, LE).fma(t, a1);
            a2 = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 128, LE).fma(t, a2);
            a3 = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 192, LE).fma(t, a3);
            a4 = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 256, LE).fma(t, a4);
            a5 = FloatVector.fromMemorySegment(MatrixKernels.F, m, b + 320, LE).fma(t, a5);
        }
        out[oo] = MatrixKernels.reduce(MatrixKernels.tail(m, tailRow(o0, 0), cols, x, xo, a0));
        out[oo + 1] = MatrixKernels.reduce(MatrixKernels.tail(m, tailRow(o0, 1), cols, x, xo, a1));
        out[oo + 2] = MatrixKernels.reduce(MatrixKernels.tail(m, tailRow(o0, 2), cols, x, xo, a2));
        out[oo + 3] = MatrixKernels.reduce(MatrixKernels.tail(m, tailRow(o0, 3), cols, x, xo, a3));
        out[oo + 4] = MatrixKernels.reduce(MatrixKernels.tail(m, tailRow(o0, 4), cols, x, xo, a4));
        out[oo + 5] = MatrixKernels.reduce(MatrixKernels.tail(m, tailRow(o0, 5), cols, x, xo, a5));
    }

    /** The last {@code rows % 6} rows, kept as GGUF stores them, through {@link MatrixKernels}' path for that layout. */
    private void leftovers(float[] x, int xs, int tokens, float[] out, int os) {
        int first = ROWS * groups();
        int count = rows - first;
        WeightMatrix rest = new WeightMatrix(GgmlType.F32, data, groupOffset(groups()), count, cols);
        float[] part = new float[count * tokens];
        MatrixKernels.floatRows(rest, x, xs, tokens, part, count, 0, count);
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(part, t * count, out, t * os + first, count);
        }
    }
}
