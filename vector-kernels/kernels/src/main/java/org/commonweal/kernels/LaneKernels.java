package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_0, Q5_0, Q8_0, Q4_K, Q5_K and Q6_K matvec and matmul under the "lane = block" definition ({@link ReferenceDot};
 * for the K-quants lane = 32-element sub-block), over weights repacked by {@link LaneWeights}. Every path gives {@link ReferenceDot}'s bits: the block
 * sums are exact (int16 partial sums in matvec, integer-valued float sums in the matmul tiles), and every
 * path scales them into lane {@code b % 16} in increasing block order.
 * <p>
 * Matvec: per group of 32 blocks, one 32-byte load widened to 32 shorts gives one element (Q4_0: two,
 * low and high nibble) of all 32 blocks; the products with the int16 activations are summed in int16
 * (Q4_0: unsigned nibbles, 16 x 15 x 127 at most, the offset 8 * sum(x) subtracted after widening;
 * Q8_0: pairs of products, 2 x 128 x 127 at most, widened to int32 after each pair). Widening takes the
 * low and high shorts of each int (blocks 0..15 and 16..31 of the group, see {@link LaneWeights}), so
 * the block sums arrive in their lanes with no shuffle; two FMAs per group scale them in (Q4_K: four,
 * the sub-block scale and min multiplied in as integers first). Two rows half the thread's range apart
 * are computed together: two independent streams read memory faster than one (about 40 against 30
 * GB/s on this machine), while two rows close together (or a row layout interleaving them) read far
 * slower (6 to 16 GB/s), apparently defeating the prefetchers. Each row is read through a slice of its own at
 * int offsets, and the 16 lanes are reduced in registers (a store read back as floats stalled every row's end).
 * <p>
 * Several tokens (batched decode, prompts): Q4_0 and Q8_0 two tokens per weight load in int16
 * ({@code matvecQ4_0t2}, {@code matvecQ8_0t2}); Q4_K and Q5_K one integer matvec per token over a chunk of rows
 * (then in L2); Q6_K the same below {@link #TILE_TOKENS} tokens, and from there float tiles: for blocks of
 * {@link #rowBlock} rows, group by group, each 4 rows' group is decoded once into integer-valued floats in L1
 * ({@code [row][element j][block]}), then 4-row x 4-token register tiles do 32 FMAs per half group per
 * (row, token) and one scaling FMA.
 * <p>
 * Q6_K (see {@link #matvecQ6_Kx1}): the 6-bit quants of 32 sub-blocks come three shorts per octet of
 * elements, taken apart with int shifts and masks; the int16 sums of each octet's eight products wrap
 * but their exact value fits; each 16-element half is scaled by its int8 scale in int32. In the tiles,
 * {@link #decodeQ6_K} folds those scales into the integer-valued floats.
 * <p>
 * Q5_K (see {@link #matvecQ5_Kx1}): Q4_K's kernels with each nibble's fifth bit or-ed in from a 32-byte row
 * per four nibble rows, and the int16 sums split in two (eight products each) so that they cannot overflow.
 */
final class LaneKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorOperators.Conversion<Byte, Short> ZB2S = VectorOperators.ZERO_EXTEND_B2S;
    private static final VectorOperators.Conversion<Byte, Short> B2S = VectorOperators.B2S;
    private static final VectorOperators.Conversion<Integer, Float> I2F = VectorOperators.I2F;
    private static final VectorOperators.Binary LSHL = VectorOperators.LSHL;
    private static final VectorOperators.Binary LSHR = VectorOperators.LSHR;
    private static final VectorOperators.Binary ASHR = VectorOperators.ASHR;
    private static final VectorOperators.Binary XOR = VectorOperators.XOR;
    /** Rows per call of a matvec kernel (see MatrixKernels.MATVEC_CHUNK: short calls compile well). */
    private static final int CHUNK = 256;
    private static final ValueLayout.OfShort F16 = Dequantize.F16;
    /** Lanes 8..15: the second super-block of a half group of Q4_K sub-blocks. */
    private static final VectorMask<Float> UPPER8 = VectorMask.fromLong(F, 0xFF00L);

    private LaneKernels() {
    }

    /** {@code out[r] = W[r,:] . x} for every row. */
    static void matvec(LaneWeights w, float[] x, float[] out, KernelPool pool) {
        matvec(new LaneWeights[] {w}, x, new float[][] {out}, pool);
    }

    /**
     * {@link #matvec} of several matrices of one type and width by the same vector ({@code ws[i]} into
     * {@code outs[i]}): one quantization, one split of all their rows among the pool's threads.
     */
    static void matvec(LaneWeights[] ws, float[] x, float[][] outs, KernelPool pool) {
        LaneWeights w = ws[0];
        LaneActivations a = LaneActivations.of(w.type(), x, 0, w.cols(), false);
        int[] s = starts(ws);
        int rows = s[ws.length];
        // A lambda per type: a shared one, compiled with one type's kernels inlined, slowed the next type's
        // compiled after it by a quarter (Q4_K after any other: 27-29 instead of 37 GB/s).
        switch (w.type()) {
            case Q4_0 -> pool.forRows(rows, w.rowBytes(), (from, to) -> {
                for (int i = 0; i < ws.length; i++) {
                    if (from < s[i + 1] && s[i] < to) {
                        rowsQ4_0(ws[i], a, outs[i], 0, Math.max(from, s[i]) - s[i], Math.min(to, s[i + 1]) - s[i]);
                    }
                }
            });
            case Q8_0 -> pool.forRows(rows, w.rowBytes(), (from, to) -> {
                for (int i = 0; i < ws.length; i++) {
                    if (from < s[i + 1] && s[i] < to) {
                        rowsQ8_0(ws[i], a, outs[i], 0, Math.max(from, s[i]) - s[i], Math.min(to, s[i + 1]) - s[i]);
                    }
                }
            });
            case Q6_K -> pool.forRows(rows, w.rowBytes(), (from, to) -> {
                for (int i = 0; i < ws.length; i++) {
                    if (from < s[i + 1] && s[i] < to) {
                        rowsQ6_K(ws[i], a, outs[i], 0, Math.max(from, s[i]) - s[i], Math.min(to, s[i + 1]) - s[i]);
                    }
                }
            });
            case Q5_K -> pool.forRows(rows, w.rowBytes(), (from, to) -> {
                for (int i = 0; i < ws.length; i++) {
                    if (from < s[i + 1] && s[i] < to) {
                        rowsQ5_K(ws[i], a, outs[i], 0, Math.max(from, s[i]) - s[i], Math.min(to, s[i + 1]) - s[i]);
                    }
                }
            });
            case Q5_0 -> pool.forRows(rows, w.rowBytes(), (from, to) -> {
                for (int i = 0; i < ws.length; i++) {
                    if (from < s[i + 1] && s[i] < to) {
                        rowsQ5_0(ws[i], a, outs[i], 0, Math.max(from, s[i]) - s[i], Math.min(to, s[i + 1]) - s[i]);
                    }
                }
            });
            default -> pool.forRows(rows, w.rowBytes(), (from, to) -> {
                for (int i = 0; i < ws.length; i++) {
                    if (from < s[i + 1] && s[i] < to) {
                        rowsQ4_K(ws[i], a, outs[i], 0, Math.max(from, s[i]) - s[i], Math.min(to, s[i + 1]) - s[i]);
                    }
                }
            });
        }
    }

    /** Where each matrix's rows start in the rows of all of them, and (last) their total. */
    private static int[] starts(LaneWeights[] ws) {
        int[] starts = new int[ws.length + 1];
        for (int i = 0; i < ws.length; i++) {
            starts[i + 1] = starts[i] + ws[i].rows();
        }
        return starts;
    }

    /**
     * {@code out[t * outStride + r] = W[r,:] . x[t * xStride ...]}: each token's matvec, bit for bit. One token
     * goes through {@link #matvec}, whose streams are far apart in each thread's whole range (in chunks of rows
     * they would be close, and read several times slower).
     */
    static void matmul(LaneWeights w, float[] x, int xStride, int tokens, float[] out, int outStride, KernelPool pool) {
        matmul(new LaneWeights[] {w}, x, xStride, tokens, new float[][] {out}, new int[] {outStride}, pool);
    }

    /**
     * {@link #matmul} of several matrices of one type and width by the same tokens ({@code ws[i]} into
     * {@code outs[i]}), bit for bit as one at a time: the activations are quantized once for all, and one
     * split among the pool's threads covers every matrix's rows (the attention's Q, K and V, the
     * feed-forward's gate and up). One token goes through {@link #matvec(LaneWeights[], float[], float[][], KernelPool)}.
     */
    static void matmul(LaneWeights[] ws, float[] x, int xStride, int tokens, float[][] outs, int[] outStrides,
            KernelPool pool) {
        if (tokens == 1) {
            matvec(ws, x, outs, pool);
            return;
        }
        LaneWeights first = ws[0];
        boolean tiles = first.type() == GgmlType.Q6_K && tokens >= TILE_TOKENS;
        LaneActivations[] a = new LaneActivations[tokens];
        pool.forRows(tokens, 4L * first.cols(), (from, to) -> {
            for (int t = from; t < to; t++) {
                a[t] = LaneActivations.of(first.type(), x, t * xStride, first.cols(), tiles);
            }
        });
        int[] starts = starts(ws);
        pool.forRows(starts[ws.length], first.rowBytes() * tokens, (from, to) -> {
            for (int i = 0; i < ws.length; i++) {
                int lo = Math.max(from, starts[i]) - starts[i];
                int hi = Math.min(to, starts[i + 1]) - starts[i];
                for (int r = lo; r < hi; r += CHUNK) {
                    chunk(ws[i], a, tokens, tiles, outs[i], outStrides[i], r, Math.min(r + CHUNK, hi));
                }
            }
            java.lang.ref.Reference.reachabilityFence(ws);
        });
    }

    /** Rows {@code [from, to)} of {@code w} (a chunk, in L2) times every token. */
    private static void chunk(LaneWeights w, LaneActivations[] a, int tokens, boolean tiles, float[] out, int outStride,
            int from, int to) {
        if (w.type() == GgmlType.Q4_0 || w.type() == GgmlType.Q8_0) {
            for (int t = 0; t + 2 <= tokens; t += 2) {
                if (w.type() == GgmlType.Q4_0) {
                    matvecQ4_0t2(w, a, t, out, outStride, from, to);
                } else {
                    matvecQ8_0t2(w, a, t, out, outStride, from, to);
                }
            }
            for (int t = tokens / 2 * 2; t < tokens; t++) {
                rows(w, a[t], out, t * outStride, from, to);
            }
        } else if (tiles) {
            matmulRows(w, a, out, outStride, from, to);
        } else {
            for (int t = 0; t < tokens; t++) {
                rows(w, a[t], out, t * outStride, from, to);
            }
        }
    }

    /**
     * Tokens from which the float tiles beat one integer matvec per token over a chunk of rows (then in L2): Q6_K's
     * only. Measured in a model's forward pass (1B shape, pp128, tokens/s, 1 / 2 threads; tiles against integer
     * matvecs): Q6_K 44.3 against 38.8 on 1 thread, but Q8_0 45.9 / 80.4 against 52.8 / 91.5, Q4_K 40.9 / 71.7
     * against 55.2 / 97.8, Q5_K 39.1 / 71.6 against 42.8 / 75.6, and batched decode of 16 Q8_0 streams 61 against
     * 78. (On one 8192 x 2048 matrix alone the tiles had measured faster from 16 tokens for Q8_0 and 32 for Q4_K; in
     * a forward pass they are not.) The other types' tiles are gone; Q4_0 and Q8_0 take two tokens per weight load.
     */
    private static final int TILE_TOKENS = 32;

    /**
     * Bytes {@code [offset, offset + bytes)} of {@code m} (native memory) as a segment of their own, which the kernels
     * read at int offsets (far less bounds and address code than long offsets into the whole matrix). Made from the
     * address, not with {@code asSlice}: asSlice's virtual {@code dup()} is no longer inlined once any mapped segment
     * has been sliced in the JVM (a model file always is), and each row then costs a call and an allocation (Q4_K
     * matvec 36 to 31 GB/s in PollutionProbe). The segment has no scope of its own: the callers keep the weights
     * reachable until the kernel returns ({@link java.lang.ref.Reference#reachabilityFence}).
     */
    @SuppressWarnings("restricted")
    static MemorySegment rowSegment(MemorySegment m, long offset, long bytes) {
        return MemorySegment.ofAddress(m.address() + offset).reinterpret(bytes);
    }


    /** Far-apart rows computed together in matvec (1, or 2: four measured no faster); settable for experiments. */
    static int streams = 2;

    /**
     * Matvec of rows {@code [from, to)}, written to {@code out[oo + r]}: the range is cut into
     * {@link #streams} equal parts whose rows are computed together (independent memory streams), in
     * chunks of {@value #CHUNK}; the leftover rows one at a time. Each type has its own method down to
     * its kernels, so that one type's profile never shapes another's compiled code.
     */
    static void rows(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        switch (w.type()) {
            case Q4_0 -> rowsQ4_0(w, a, out, oo, from, to);
            case Q8_0 -> rowsQ8_0(w, a, out, oo, from, to);
            case Q6_K -> rowsQ6_K(w, a, out, oo, from, to);
            case Q5_K -> rowsQ5_K(w, a, out, oo, from, to);
            case Q5_0 -> rowsQ5_0(w, a, out, oo, from, to);
            default -> rowsQ4_K(w, a, out, oo, from, to);
        }
    }

    private static void rowsQ6_K(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        int half = streams > 1 ? (to - from) / 2 : 0;
        for (int r = from; r < from + half; r += CHUNK) {
            matvecQ6_Kx2(w, a, out, oo, r, Math.min(r + CHUNK, from + half), half);
        }
        for (int r = from + 2 * half; r < to; r += CHUNK) {
            matvecQ6_Kx1(w, a, out, oo, r, Math.min(r + CHUNK, to));
        }
        java.lang.ref.Reference.reachabilityFence(w);
    }

    private static void rowsQ5_K(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        int half = streams > 1 ? (to - from) / 2 : 0;
        for (int r = from; r < from + half; r += CHUNK) {
            matvecQ5_Kx2(w, a, out, oo, r, Math.min(r + CHUNK, from + half), half);
        }
        for (int r = from + 2 * half; r < to; r += CHUNK) {
            matvecQ5_Kx1(w, a, out, oo, r, Math.min(r + CHUNK, to));
        }
        java.lang.ref.Reference.reachabilityFence(w);
    }

    private static void rowsQ4_K(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        int half = streams > 1 ? (to - from) / 2 : 0;
        for (int r = from; r < from + half; r += CHUNK) {
            matvecQ4_Kx2(w, a, out, oo, r, Math.min(r + CHUNK, from + half), half);
        }
        for (int r = from + 2 * half; r < to; r += CHUNK) {
            matvecQ4_Kx1(w, a, out, oo, r, Math.min(r + CHUNK, to));
        }
        java.lang.ref.Reference.reachabilityFence(w);
    }

    private static void rowsQ4_0(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        int half = streams > 1 ? (to - from) / 2 : 0;
        for (int r = from; r < from + half; r += CHUNK) {
            matvecQ4_0x2(w, a, out, oo, r, Math.min(r + CHUNK, from + half), half);
        }
        for (int r = from + 2 * half; r < to; r += CHUNK) {
            matvecQ4_0x1(w, a, out, oo, r, Math.min(r + CHUNK, to));
        }
        java.lang.ref.Reference.reachabilityFence(w);
    }

    private static void rowsQ8_0(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        int half = streams > 1 ? (to - from) / 2 : 0;
        for (int r = from; r < from + half; r += CHUNK) {
            matvecQ8_0x2(w, a, out, oo, r, Math.min(r + CHUNK, from + half), half);
        }
        for (int r = from + 2 * half; r < to; r += CHUNK) {
            matvecQ8_0x1(w, a, out, oo, r, Math.min(r + CHUNK, to));
        }
        java.lang.ref.Reference.reachabilityFence(w);
    }

    /*
     * As in MatrixKernels, every vector operation is written out in the loop bodies (a helper of ours
     * taking or returning vectors may not be inlined, and then boxes them). The F16 scales are widened
     * with integer operations: (bits & 0x7fff) << 13 as a float times 2^112 is exact for normal and
     * subnormal halves; exponent 31 (infinity, NaN) is blended in as 0x7f800000 | mantissa << 13, as
     * Float.float16ToFloat does; then the sign.
     */

    /** Q4_0 matvec, one row at a time. */
    private static void matvecQ4_0x1(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] d = a.d;
        int[] sum8 = a.sum8;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 576 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector lo0 = zero, hi0 = zero;
                for (int j = 0; j < 16; j++) {
                    ShortVector xl = ShortVector.fromArray(S, xs, xo + 32 * j);
                    ShortVector xh = ShortVector.fromArray(S, xs, xo + 512 + 32 * j);
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 32 * j, LE).convertShape(ZB2S, S, 0);
                    lo0 = v0.and((short) 0x0F).mul(xl).add(lo0);
                    hi0 = v0.lanewise(LSHR, 4).mul(xh).add(hi0);
                }
                IntVector oe = IntVector.fromArray(I, sum8, 32 * g);
                IntVector oh = IntVector.fromArray(I, sum8, 32 * g + 16);
                IntVector se0 = lo0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)
                        .add(hi0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)).sub(oe);
                IntVector so0 = lo0.reinterpretAsInts().lanewise(ASHR, 16).add(hi0.reinterpretAsInts().lanewise(ASHR, 16)).sub(oh);
                FloatVector de = FloatVector.fromArray(F, d, 32 * g);
                FloatVector dh = FloatVector.fromArray(F, d, 32 * g + 16);
                IntVector h0 = IntVector.fromMemorySegment(I, m0, b0 + 512, LE);
                IntVector h0e = h0.and(0xFFFF);
                IntVector h0m = h0e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0e = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h0o = h0.lanewise(LSHR, 16);
                h0m = h0o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0o = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc0 = ((FloatVector) se0.convert(I2F, 0)).fma(w0e.mul(de), acc0);
                acc0 = ((FloatVector) so0.convert(I2F, 0)).fma(w0o.mul(dh), acc0);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /**
     * Q4_0, two tokens at a time, one row after another: each 32-byte load of weights is widened and split into
     * nibbles once for both tokens, whose int16 products are summed apart, and the group's scales are widened once.
     * Rows {@code [from, to)}; token t's activations {@code a[t0 + t]}, its outputs at {@code out[(t0 + t) * os + r]}.
     * (Four tokens at a time measured 3% faster on its own, but its compiled code slowed the Q4_K matvec compiled
     * after it in the same JVM by a quarter.)
     */
    private static void matvecQ4_0t2(LaneWeights w, LaneActivations[] a, int t0, float[] out, int os, int from, int to) {
        MemorySegment m = w.data();
        short[] x0 = a[t0 + 0].xs;
        float[] d0 = a[t0 + 0].d;
        int[] c0 = a[t0 + 0].sum8;
        short[] x1 = a[t0 + 1].xs;
        float[] d1 = a[t0 + 1].d;
        int[] c1 = a[t0 + 1].sum8;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        for (int r = from; r < to; r++) {
            MemorySegment mr = rowSegment(m, w.rowOffset(r), rowBytes);
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b = 576 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector lo0 = zero, hi0 = zero, lo1 = zero, hi1 = zero;
                for (int j = 0; j < 16; j++) {
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B32, mr, b + 32 * j, LE).convertShape(ZB2S, S, 0);
                    ShortVector vl = v.and((short) 0x0F);
                    ShortVector vh = v.lanewise(LSHR, 4);
                    lo0 = vl.mul(ShortVector.fromArray(S, x0, xo + 32 * j)).add(lo0);
                    hi0 = vh.mul(ShortVector.fromArray(S, x0, xo + 512 + 32 * j)).add(hi0);
                    lo1 = vl.mul(ShortVector.fromArray(S, x1, xo + 32 * j)).add(lo1);
                    hi1 = vh.mul(ShortVector.fromArray(S, x1, xo + 512 + 32 * j)).add(hi1);
                }
                IntVector h = IntVector.fromMemorySegment(I, mr, b + 512, LE);
                IntVector he = h.and(0xFFFF);
                IntVector hm = he.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector we = hm.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(hm.or(0x7F800000), he.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(he.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector ho = h.lanewise(LSHR, 16);
                hm = ho.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector wo = hm.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(hm.or(0x7F800000), ho.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(ho.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector se0 = lo0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)
                        .add(hi0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)).sub(IntVector.fromArray(I, c0, 32 * g));
                IntVector so0 = lo0.reinterpretAsInts().lanewise(ASHR, 16).add(hi0.reinterpretAsInts().lanewise(ASHR, 16))
                        .sub(IntVector.fromArray(I, c0, 32 * g + 16));
                acc0 = ((FloatVector) se0.convert(I2F, 0)).fma(we.mul(FloatVector.fromArray(F, d0, 32 * g)), acc0);
                acc0 = ((FloatVector) so0.convert(I2F, 0)).fma(wo.mul(FloatVector.fromArray(F, d0, 32 * g + 16)), acc0);
                IntVector se1 = lo1.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)
                        .add(hi1.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)).sub(IntVector.fromArray(I, c1, 32 * g));
                IntVector so1 = lo1.reinterpretAsInts().lanewise(ASHR, 16).add(hi1.reinterpretAsInts().lanewise(ASHR, 16))
                        .sub(IntVector.fromArray(I, c1, 32 * g + 16));
                acc1 = ((FloatVector) se1.convert(I2F, 0)).fma(we.mul(FloatVector.fromArray(F, d1, 32 * g)), acc1);
                acc1 = ((FloatVector) so1.convert(I2F, 0)).fma(wo.mul(FloatVector.fromArray(F, d1, 32 * g + 16)), acc1);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[(t0 + 0) * os + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_8));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_4));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_2));
            out[(t0 + 1) * os + r] = acc1.add(acc1.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }


    /**
     * Q4_0 matvec, 2 rows at a time, {@code gap} rows apart (rows {@code r + i * gap} for r in {@code [from, to)}),
     * sharing the activation loads: far-apart rows are independent streams for the prefetchers.
     */
    private static void matvecQ4_0x2(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to, int gap) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] d = a.d;
        int[] sum8 = a.sum8;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            MemorySegment m1 = rowSegment(m, w.rowOffset(r + gap), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 576 * g;
                int b1 = 576 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector lo0 = zero, hi0 = zero, lo1 = zero, hi1 = zero;
                for (int j = 0; j < 16; j++) {
                    ShortVector xl = ShortVector.fromArray(S, xs, xo + 32 * j);
                    ShortVector xh = ShortVector.fromArray(S, xs, xo + 512 + 32 * j);
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 32 * j, LE).convertShape(ZB2S, S, 0);
                    lo0 = v0.and((short) 0x0F).mul(xl).add(lo0);
                    hi0 = v0.lanewise(LSHR, 4).mul(xh).add(hi0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 32 * j, LE).convertShape(ZB2S, S, 0);
                    lo1 = v1.and((short) 0x0F).mul(xl).add(lo1);
                    hi1 = v1.lanewise(LSHR, 4).mul(xh).add(hi1);
                }
                IntVector oe = IntVector.fromArray(I, sum8, 32 * g);
                IntVector oh = IntVector.fromArray(I, sum8, 32 * g + 16);
                IntVector se0 = lo0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)
                        .add(hi0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)).sub(oe);
                IntVector so0 = lo0.reinterpretAsInts().lanewise(ASHR, 16).add(hi0.reinterpretAsInts().lanewise(ASHR, 16)).sub(oh);
                IntVector se1 = lo1.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)
                        .add(hi1.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)).sub(oe);
                IntVector so1 = lo1.reinterpretAsInts().lanewise(ASHR, 16).add(hi1.reinterpretAsInts().lanewise(ASHR, 16)).sub(oh);
                FloatVector de = FloatVector.fromArray(F, d, 32 * g);
                FloatVector dh = FloatVector.fromArray(F, d, 32 * g + 16);
                IntVector h0 = IntVector.fromMemorySegment(I, m0, b0 + 512, LE);
                IntVector h0e = h0.and(0xFFFF);
                IntVector h0m = h0e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0e = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h0o = h0.lanewise(LSHR, 16);
                h0m = h0o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0o = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc0 = ((FloatVector) se0.convert(I2F, 0)).fma(w0e.mul(de), acc0);
                acc0 = ((FloatVector) so0.convert(I2F, 0)).fma(w0o.mul(dh), acc0);
                IntVector h1 = IntVector.fromMemorySegment(I, m1, b1 + 512, LE);
                IntVector h1e = h1.and(0xFFFF);
                IntVector h1m = h1e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w1e = h1m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h1m.or(0x7F800000), h1e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h1e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h1o = h1.lanewise(LSHR, 16);
                h1m = h1o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w1o = h1m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h1m.or(0x7F800000), h1o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h1o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc1 = ((FloatVector) se1.convert(I2F, 0)).fma(w1e.mul(de), acc1);
                acc1 = ((FloatVector) so1.convert(I2F, 0)).fma(w1o.mul(dh), acc1);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_8));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_4));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_2));
            out[oo + r + gap] = acc1.add(acc1.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /**
     * The even int16 lanes' sums of a Q8_0 group, from the two sums its loop keeps for each step's int16
     * products {@code p} (pairs of lanes in int32 lanes): {@code se}, the sum of {@code p ^ 0x8000}, and
     * {@code so}, the sum of {@code p >> 16} (the odd lanes, exact). XOR 0x8000 turns each even lane
     * {@code lo} into {@code lo + 32768} >= 0, so each int32 lane of {@code p ^ 0x8000} is
     * {@code hi * 65536 + lo + 32768}, and the 16 steps' sum, modulo 2^32, is
     * {@code so * 65536 + sum(lo) + 16 * 32768}: what remains after taking the other two away is the exact
     * sum (it is far smaller than 2^31). One XOR per step instead of two shifts, which share two of the
     * four vector pipes with the widening of the weights: +6% on the Q8_0 matmul.
     */
    private static IntVector evenSums(IntVector se, IntVector so) {
        return se.sub(so.lanewise(LSHL, 16)).sub(16 * 0x8000);
    }

    /** Q8_0 matvec, one row at a time. */
    private static void matvecQ8_0x1(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] d = a.d;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 1088 * g;
                int xo = 1024 * g;
                IntVector zero = IntVector.zero(I);
                IntVector se0 = zero, so0 = zero;
                for (int j = 0; j < 32; j += 2) {
                    ShortVector xa = ShortVector.fromArray(S, xs, xo + 32 * j);
                    ShortVector xb = ShortVector.fromArray(S, xs, xo + 32 * j + 32);
                    IntVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 32 * j, LE).convertShape(B2S, S, 0)).mul(xa)
                            .add(((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 32 * j + 32, LE).convertShape(B2S, S, 0)).mul(xb))
                            .reinterpretAsInts();
                    se0 = p0.lanewise(XOR, 0x8000).add(se0);
                    so0 = p0.lanewise(ASHR, 16).add(so0);
                }
                se0 = evenSums(se0, so0);
                FloatVector de = FloatVector.fromArray(F, d, 32 * g);
                FloatVector dh = FloatVector.fromArray(F, d, 32 * g + 16);
                IntVector h0 = IntVector.fromMemorySegment(I, m0, b0 + 1024, LE);
                IntVector h0e = h0.and(0xFFFF);
                IntVector h0m = h0e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0e = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h0o = h0.lanewise(LSHR, 16);
                h0m = h0o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0o = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc0 = ((FloatVector) se0.convert(I2F, 0)).fma(w0e.mul(de), acc0);
                acc0 = ((FloatVector) so0.convert(I2F, 0)).fma(w0o.mul(dh), acc0);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /**
     * Q8_0, two tokens at a time, one row after another (as {@link #matvecQ4_0t2}): each pair of 32-byte weight
     * loads is widened to int16 once for both tokens, whose products are summed in pairs in int16 (at most
     * 2 x 127 x 128 in magnitude) and widened apart, and the group's scales are widened once.
     */
    private static void matvecQ8_0t2(LaneWeights w, LaneActivations[] a, int t0, float[] out, int os, int from, int to) {
        MemorySegment m = w.data();
        short[] x0 = a[t0 + 0].xs;
        float[] d0 = a[t0 + 0].d;
        short[] x1 = a[t0 + 1].xs;
        float[] d1 = a[t0 + 1].d;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        for (int r = from; r < to; r++) {
            MemorySegment mr = rowSegment(m, w.rowOffset(r), rowBytes);
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b = 1088 * g;
                int xo = 1024 * g;
                IntVector zero = IntVector.zero(I);
                IntVector se0 = zero, so0 = zero, se1 = zero, so1 = zero;
                for (int j = 0; j < 32; j += 2) {
                    ShortVector va = (ShortVector) ByteVector.fromMemorySegment(B32, mr, b + 32 * j, LE).convertShape(B2S, S, 0);
                    ShortVector vb = (ShortVector) ByteVector.fromMemorySegment(B32, mr, b + 32 * j + 32, LE).convertShape(B2S, S, 0);
                    IntVector p0 = va.mul(ShortVector.fromArray(S, x0, xo + 32 * j))
                            .add(vb.mul(ShortVector.fromArray(S, x0, xo + 32 * j + 32))).reinterpretAsInts();
                    se0 = p0.lanewise(XOR, 0x8000).add(se0);
                    so0 = p0.lanewise(ASHR, 16).add(so0);
                    IntVector p1 = va.mul(ShortVector.fromArray(S, x1, xo + 32 * j))
                            .add(vb.mul(ShortVector.fromArray(S, x1, xo + 32 * j + 32))).reinterpretAsInts();
                    se1 = p1.lanewise(XOR, 0x8000).add(se1);
                    so1 = p1.lanewise(ASHR, 16).add(so1);
                }
                se0 = evenSums(se0, so0);
                se1 = evenSums(se1, so1);
                IntVector h = IntVector.fromMemorySegment(I, mr, b + 1024, LE);
                IntVector he = h.and(0xFFFF);
                IntVector hm = he.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector we = hm.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(hm.or(0x7F800000), he.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(he.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector ho = h.lanewise(LSHR, 16);
                hm = ho.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector wo = hm.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(hm.or(0x7F800000), ho.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(ho.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc0 = ((FloatVector) se0.convert(I2F, 0)).fma(we.mul(FloatVector.fromArray(F, d0, 32 * g)), acc0);
                acc0 = ((FloatVector) so0.convert(I2F, 0)).fma(wo.mul(FloatVector.fromArray(F, d0, 32 * g + 16)), acc0);
                acc1 = ((FloatVector) se1.convert(I2F, 0)).fma(we.mul(FloatVector.fromArray(F, d1, 32 * g)), acc1);
                acc1 = ((FloatVector) so1.convert(I2F, 0)).fma(wo.mul(FloatVector.fromArray(F, d1, 32 * g + 16)), acc1);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[(t0 + 0) * os + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_8));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_4));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_2));
            out[(t0 + 1) * os + r] = acc1.add(acc1.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /**
     * Q8_0 matvec, 2 rows at a time, {@code gap} rows apart (rows {@code r + i * gap} for r in {@code [from, to)}),
     * sharing the activation loads: far-apart rows are independent streams for the prefetchers.
     */
    private static void matvecQ8_0x2(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to, int gap) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] d = a.d;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            MemorySegment m1 = rowSegment(m, w.rowOffset(r + gap), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 1088 * g;
                int b1 = 1088 * g;
                int xo = 1024 * g;
                IntVector zero = IntVector.zero(I);
                IntVector se0 = zero, so0 = zero, se1 = zero, so1 = zero;
                for (int j = 0; j < 32; j += 2) {
                    ShortVector xa = ShortVector.fromArray(S, xs, xo + 32 * j);
                    ShortVector xb = ShortVector.fromArray(S, xs, xo + 32 * j + 32);
                    IntVector p0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 32 * j, LE).convertShape(B2S, S, 0)).mul(xa)
                            .add(((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 32 * j + 32, LE).convertShape(B2S, S, 0)).mul(xb))
                            .reinterpretAsInts();
                    se0 = p0.lanewise(XOR, 0x8000).add(se0);
                    so0 = p0.lanewise(ASHR, 16).add(so0);
                    IntVector p1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 32 * j, LE).convertShape(B2S, S, 0)).mul(xa)
                            .add(((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 32 * j + 32, LE).convertShape(B2S, S, 0)).mul(xb))
                            .reinterpretAsInts();
                    se1 = p1.lanewise(XOR, 0x8000).add(se1);
                    so1 = p1.lanewise(ASHR, 16).add(so1);
                }
                se0 = evenSums(se0, so0);
                se1 = evenSums(se1, so1);
                FloatVector de = FloatVector.fromArray(F, d, 32 * g);
                FloatVector dh = FloatVector.fromArray(F, d, 32 * g + 16);
                IntVector h0 = IntVector.fromMemorySegment(I, m0, b0 + 1024, LE);
                IntVector h0e = h0.and(0xFFFF);
                IntVector h0m = h0e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0e = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h0o = h0.lanewise(LSHR, 16);
                h0m = h0o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0o = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc0 = ((FloatVector) se0.convert(I2F, 0)).fma(w0e.mul(de), acc0);
                acc0 = ((FloatVector) so0.convert(I2F, 0)).fma(w0o.mul(dh), acc0);
                IntVector h1 = IntVector.fromMemorySegment(I, m1, b1 + 1024, LE);
                IntVector h1e = h1.and(0xFFFF);
                IntVector h1m = h1e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w1e = h1m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h1m.or(0x7F800000), h1e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h1e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h1o = h1.lanewise(LSHR, 16);
                h1m = h1o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w1o = h1m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h1m.or(0x7F800000), h1o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h1o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc1 = ((FloatVector) se1.convert(I2F, 0)).fma(w1e.mul(de), acc1);
                acc1 = ((FloatVector) so1.convert(I2F, 0)).fma(w1o.mul(dh), acc1);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_8));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_4));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_2));
            out[oo + r + gap] = acc1.add(acc1.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /** Q4_K matvec, one row at a time. */
    private static void matvecQ4_Kx1(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] dk = a.dk;
        int[] sums = a.sums;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 592 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector lo0 = zero, hi0 = zero;
                for (int j = 0; j < 16; j++) {
                    ShortVector xl = ShortVector.fromArray(S, xs, xo + 32 * j);
                    ShortVector xh = ShortVector.fromArray(S, xs, xo + 512 + 32 * j);
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 32 * j, LE).convertShape(ZB2S, S, 0);
                    lo0 = v0.and((short) 0x0F).mul(xl).add(lo0);
                    hi0 = v0.lanewise(LSHR, 4).mul(xh).add(hi0);
                }
                IntVector xe = IntVector.fromArray(I, sums, 32 * g);
                IntVector xh = IntVector.fromArray(I, sums, 32 * g + 16);
                float dx0 = dk[4 * g];
                float dx1 = dk[4 * g + 1];
                float dx2 = dk[4 * g + 2];
                float dx3 = dk[4 * g + 3];
                IntVector te0 = lo0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)
                        .add(hi0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16));
                IntVector to0 = lo0.reinterpretAsInts().lanewise(ASHR, 16).add(hi0.reinterpretAsInts().lanewise(ASHR, 16));
                IntVector sc0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 512, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                IntVector mn0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 544, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                FloatVector de0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 576)) * dx0)
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 578)) * dx1, UPPER8);
                FloatVector do0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 580)) * dx2)
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 582)) * dx3, UPPER8);
                FloatVector ne0 = FloatVector.broadcast(F, -(Float.float16ToFloat(m0.get(F16, b0 + 584)) * dx0))
                        .blend(-(Float.float16ToFloat(m0.get(F16, b0 + 586)) * dx1), UPPER8);
                FloatVector no0 = FloatVector.broadcast(F, -(Float.float16ToFloat(m0.get(F16, b0 + 588)) * dx2))
                        .blend(-(Float.float16ToFloat(m0.get(F16, b0 + 590)) * dx3), UPPER8);
                acc0 = ((FloatVector) te0.mul(sc0.and(0xFFFF)).convert(I2F, 0)).fma(de0, acc0);
                acc0 = ((FloatVector) xe.mul(mn0.and(0xFFFF)).convert(I2F, 0)).fma(ne0, acc0);
                acc0 = ((FloatVector) to0.mul(sc0.lanewise(LSHR, 16)).convert(I2F, 0)).fma(do0, acc0);
                acc0 = ((FloatVector) xh.mul(mn0.lanewise(LSHR, 16)).convert(I2F, 0)).fma(no0, acc0);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /** Q4_K matvec, rows {@code r} and {@code r + gap} together (see {@link #matvecQ4_0x2}). */
    private static void matvecQ4_Kx2(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to, int gap) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] dk = a.dk;
        int[] sums = a.sums;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            MemorySegment m1 = rowSegment(m, w.rowOffset(r + gap), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 592 * g;
                int b1 = 592 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector lo0 = zero, hi0 = zero, lo1 = zero, hi1 = zero;
                for (int j = 0; j < 16; j++) {
                    ShortVector xl = ShortVector.fromArray(S, xs, xo + 32 * j);
                    ShortVector xh = ShortVector.fromArray(S, xs, xo + 512 + 32 * j);
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 32 * j, LE).convertShape(ZB2S, S, 0);
                    lo0 = v0.and((short) 0x0F).mul(xl).add(lo0);
                    hi0 = v0.lanewise(LSHR, 4).mul(xh).add(hi0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 32 * j, LE).convertShape(ZB2S, S, 0);
                    lo1 = v1.and((short) 0x0F).mul(xl).add(lo1);
                    hi1 = v1.lanewise(LSHR, 4).mul(xh).add(hi1);
                }
                IntVector xe = IntVector.fromArray(I, sums, 32 * g);
                IntVector xh = IntVector.fromArray(I, sums, 32 * g + 16);
                float dx0 = dk[4 * g];
                float dx1 = dk[4 * g + 1];
                float dx2 = dk[4 * g + 2];
                float dx3 = dk[4 * g + 3];
                IntVector te0 = lo0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)
                        .add(hi0.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16));
                IntVector to0 = lo0.reinterpretAsInts().lanewise(ASHR, 16).add(hi0.reinterpretAsInts().lanewise(ASHR, 16));
                IntVector sc0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 512, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                IntVector mn0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 544, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                FloatVector de0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 576)) * dx0)
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 578)) * dx1, UPPER8);
                FloatVector do0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 580)) * dx2)
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 582)) * dx3, UPPER8);
                FloatVector ne0 = FloatVector.broadcast(F, -(Float.float16ToFloat(m0.get(F16, b0 + 584)) * dx0))
                        .blend(-(Float.float16ToFloat(m0.get(F16, b0 + 586)) * dx1), UPPER8);
                FloatVector no0 = FloatVector.broadcast(F, -(Float.float16ToFloat(m0.get(F16, b0 + 588)) * dx2))
                        .blend(-(Float.float16ToFloat(m0.get(F16, b0 + 590)) * dx3), UPPER8);
                acc0 = ((FloatVector) te0.mul(sc0.and(0xFFFF)).convert(I2F, 0)).fma(de0, acc0);
                acc0 = ((FloatVector) xe.mul(mn0.and(0xFFFF)).convert(I2F, 0)).fma(ne0, acc0);
                acc0 = ((FloatVector) to0.mul(sc0.lanewise(LSHR, 16)).convert(I2F, 0)).fma(do0, acc0);
                acc0 = ((FloatVector) xh.mul(mn0.lanewise(LSHR, 16)).convert(I2F, 0)).fma(no0, acc0);
                IntVector te1 = lo1.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16)
                        .add(hi1.reinterpretAsInts().lanewise(LSHL, 16).lanewise(ASHR, 16));
                IntVector to1 = lo1.reinterpretAsInts().lanewise(ASHR, 16).add(hi1.reinterpretAsInts().lanewise(ASHR, 16));
                IntVector sc1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 512, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                IntVector mn1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 544, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                FloatVector de1 = FloatVector.broadcast(F, Float.float16ToFloat(m1.get(F16, b1 + 576)) * dx0)
                        .blend(Float.float16ToFloat(m1.get(F16, b1 + 578)) * dx1, UPPER8);
                FloatVector do1 = FloatVector.broadcast(F, Float.float16ToFloat(m1.get(F16, b1 + 580)) * dx2)
                        .blend(Float.float16ToFloat(m1.get(F16, b1 + 582)) * dx3, UPPER8);
                FloatVector ne1 = FloatVector.broadcast(F, -(Float.float16ToFloat(m1.get(F16, b1 + 584)) * dx0))
                        .blend(-(Float.float16ToFloat(m1.get(F16, b1 + 586)) * dx1), UPPER8);
                FloatVector no1 = FloatVector.broadcast(F, -(Float.float16ToFloat(m1.get(F16, b1 + 588)) * dx2))
                        .blend(-(Float.float16ToFloat(m1.get(F16, b1 + 590)) * dx3), UPPER8);
                acc1 = ((FloatVector) te1.mul(sc1.and(0xFFFF)).convert(I2F, 0)).fma(de1, acc1);
                acc1 = ((FloatVector) xe.mul(mn1.and(0xFFFF)).convert(I2F, 0)).fma(ne1, acc1);
                acc1 = ((FloatVector) to1.mul(sc1.lanewise(LSHR, 16)).convert(I2F, 0)).fma(do1, acc1);
                acc1 = ((FloatVector) xh.mul(mn1.lanewise(LSHR, 16)).convert(I2F, 0)).fma(no1, acc1);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_8));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_4));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_2));
            out[oo + r + gap] = acc1.add(acc1.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /**
     * Q5_K matvec, one row at a time: {@link #matvecQ4_Kx1} with five-bit quants q (0..31). Per group, four
     * steps k of four nibble rows j = 4k + i (i = 0..3) each, read in order: the fifth bits of all four rows
     * come in one 32-byte load before them (see {@link LaneWeights}); shifted left by {@code 4 - i} (an int
     * shift of constant count: the bytes are zero-extended, nothing crosses into the next short) they give
     * {@code s}, and then the low quant is {@code v & 0xF | s & 0x10} and the high one
     * {@code (v | s & 0x100) >>> 4} as shorts (a short shift needs no mask after it; an int shift would). The products {@code q * qx} are summed in four int16
     * accumulators per row (low elements of even and odd i, high elements of even and odd i), eight products
     * each: at most {@code 8 * 31 * 128 = 31744 < 2^15} in magnitude (Q8_K quants lie in [-127, 127]; 128
     * allowed for), so no int16 sum overflows (sixteen products, as Q4_K sums, could reach 63488). The four
     * are widened and added in int32 into each sub-block's {@code T_u}, and from there as Q4_K: the 6-bit
     * scale and min multiplied in as integers ({@code |sc * T_u| <= 63 * 32 * 31 * 128 < 2^23}, exact as a
     * float), two FMAs per 16 sub-blocks. The step loop's bound is read from a field ({@link #q5Quads}) so
     * that C2 does not unroll it fully (as Q6_K's octet loop, which spilled unrolled).
     * Measured (LaneProbe, one thread, GGUF bytes, the other core busy): two rows at a time 38 GB/s with the
     * weights in L2, 33 from memory; with the fifth bits in a block after the nibbles, 36-38 and 22-29.
     */
    private static void matvecQ5_Kx1(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] dk = a.dk;
        int[] sums = a.sums;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        int quads = q5Quads;
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 720 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector la0 = zero, lb0 = zero, ha0 = zero, hb0 = zero;
                for (int k = 0; k < quads; k++) {
                    int xb = xo + 128 * k;
                    IntVector h0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k, LE).convertShape(ZB2S, S, 0))
                            .reinterpretAsInts();
                    ShortVector lx;
                    ShortVector hx;
                    IntVector v;
                    IntVector s;
                    lx = ShortVector.fromArray(S, xs, xb);
                    hx = ShortVector.fromArray(S, xs, xb + 512);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 32, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 4);
                    la0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la0);
                    ha0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha0);
                    lx = ShortVector.fromArray(S, xs, xb + 32);
                    hx = ShortVector.fromArray(S, xs, xb + 544);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 64, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 3);
                    lb0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb0);
                    hb0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb0);
                    lx = ShortVector.fromArray(S, xs, xb + 64);
                    hx = ShortVector.fromArray(S, xs, xb + 576);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 96, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 2);
                    la0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la0);
                    ha0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha0);
                    lx = ShortVector.fromArray(S, xs, xb + 96);
                    hx = ShortVector.fromArray(S, xs, xb + 608);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 128, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 1);
                    lb0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb0);
                    hb0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb0);
                }
                IntVector xe = IntVector.fromArray(I, sums, 32 * g);
                IntVector xh = IntVector.fromArray(I, sums, 32 * g + 16);
                float dx0 = dk[4 * g];
                float dx1 = dk[4 * g + 1];
                float dx2 = dk[4 * g + 2];
                float dx3 = dk[4 * g + 3];
                IntVector ia0 = la0.reinterpretAsInts();
                IntVector ib0 = lb0.reinterpretAsInts();
                IntVector ja0 = ha0.reinterpretAsInts();
                IntVector jb0 = hb0.reinterpretAsInts();
                IntVector te0 = ia0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ib0.lanewise(LSHL, 16).lanewise(ASHR, 16))
                        .add(ja0.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(jb0.lanewise(LSHL, 16).lanewise(ASHR, 16));
                IntVector to0 = ia0.lanewise(ASHR, 16).add(ib0.lanewise(ASHR, 16)).add(ja0.lanewise(ASHR, 16)).add(jb0.lanewise(ASHR, 16));
                IntVector sc0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 640, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                IntVector mn0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 672, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                FloatVector de0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 704)) * dx0)
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 706)) * dx1, UPPER8);
                FloatVector do0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 708)) * dx2)
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 710)) * dx3, UPPER8);
                FloatVector ne0 = FloatVector.broadcast(F, -(Float.float16ToFloat(m0.get(F16, b0 + 712)) * dx0))
                        .blend(-(Float.float16ToFloat(m0.get(F16, b0 + 714)) * dx1), UPPER8);
                FloatVector no0 = FloatVector.broadcast(F, -(Float.float16ToFloat(m0.get(F16, b0 + 716)) * dx2))
                        .blend(-(Float.float16ToFloat(m0.get(F16, b0 + 718)) * dx3), UPPER8);
                acc0 = ((FloatVector) te0.mul(sc0.and(0xFFFF)).convert(I2F, 0)).fma(de0, acc0);
                acc0 = ((FloatVector) xe.mul(mn0.and(0xFFFF)).convert(I2F, 0)).fma(ne0, acc0);
                acc0 = ((FloatVector) to0.mul(sc0.lanewise(LSHR, 16)).convert(I2F, 0)).fma(do0, acc0);
                acc0 = ((FloatVector) xh.mul(mn0.lanewise(LSHR, 16)).convert(I2F, 0)).fma(no0, acc0);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /** Always 4 (steps of four nibble rows per group): read from a field so that C2 does not unroll the step loop fully. */
    static int q5Quads = 4;

    /** Q5_K matvec, rows {@code r} and {@code r + gap} together (see {@link #matvecQ4_0x2}, {@link #matvecQ5_Kx1}). */
    private static void matvecQ5_Kx2(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to, int gap) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] dk = a.dk;
        int[] sums = a.sums;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        int quads = q5Quads;
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            MemorySegment m1 = rowSegment(m, w.rowOffset(r + gap), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 720 * g;
                int b1 = 720 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector la0 = zero, lb0 = zero, ha0 = zero, hb0 = zero, la1 = zero, lb1 = zero, ha1 = zero, hb1 = zero;
                for (int k = 0; k < quads; k++) {
                    int xb = xo + 128 * k;
                    IntVector h0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k, LE).convertShape(ZB2S, S, 0))
                            .reinterpretAsInts();
                    IntVector h1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k, LE).convertShape(ZB2S, S, 0))
                            .reinterpretAsInts();
                    ShortVector lx;
                    ShortVector hx;
                    IntVector v;
                    IntVector s;
                    lx = ShortVector.fromArray(S, xs, xb);
                    hx = ShortVector.fromArray(S, xs, xb + 512);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 32, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 4);
                    la0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la0);
                    ha0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha0);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k + 32, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h1.lanewise(LSHL, 4);
                    la1 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la1);
                    ha1 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha1);
                    lx = ShortVector.fromArray(S, xs, xb + 32);
                    hx = ShortVector.fromArray(S, xs, xb + 544);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 64, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 3);
                    lb0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb0);
                    hb0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb0);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k + 64, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h1.lanewise(LSHL, 3);
                    lb1 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb1);
                    hb1 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb1);
                    lx = ShortVector.fromArray(S, xs, xb + 64);
                    hx = ShortVector.fromArray(S, xs, xb + 576);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 96, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 2);
                    la0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la0);
                    ha0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha0);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k + 96, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h1.lanewise(LSHL, 2);
                    la1 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la1);
                    ha1 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha1);
                    lx = ShortVector.fromArray(S, xs, xb + 96);
                    hx = ShortVector.fromArray(S, xs, xb + 608);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 128, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 1);
                    lb0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb0);
                    hb0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb0);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k + 128, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h1.lanewise(LSHL, 1);
                    lb1 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb1);
                    hb1 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb1);
                }
                IntVector xe = IntVector.fromArray(I, sums, 32 * g);
                IntVector xh = IntVector.fromArray(I, sums, 32 * g + 16);
                float dx0 = dk[4 * g];
                float dx1 = dk[4 * g + 1];
                float dx2 = dk[4 * g + 2];
                float dx3 = dk[4 * g + 3];
                IntVector ia0 = la0.reinterpretAsInts();
                IntVector ib0 = lb0.reinterpretAsInts();
                IntVector ja0 = ha0.reinterpretAsInts();
                IntVector jb0 = hb0.reinterpretAsInts();
                IntVector te0 = ia0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ib0.lanewise(LSHL, 16).lanewise(ASHR, 16))
                        .add(ja0.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(jb0.lanewise(LSHL, 16).lanewise(ASHR, 16));
                IntVector to0 = ia0.lanewise(ASHR, 16).add(ib0.lanewise(ASHR, 16)).add(ja0.lanewise(ASHR, 16)).add(jb0.lanewise(ASHR, 16));
                IntVector sc0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 640, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                IntVector mn0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 672, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                FloatVector de0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 704)) * dx0)
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 706)) * dx1, UPPER8);
                FloatVector do0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 708)) * dx2)
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 710)) * dx3, UPPER8);
                FloatVector ne0 = FloatVector.broadcast(F, -(Float.float16ToFloat(m0.get(F16, b0 + 712)) * dx0))
                        .blend(-(Float.float16ToFloat(m0.get(F16, b0 + 714)) * dx1), UPPER8);
                FloatVector no0 = FloatVector.broadcast(F, -(Float.float16ToFloat(m0.get(F16, b0 + 716)) * dx2))
                        .blend(-(Float.float16ToFloat(m0.get(F16, b0 + 718)) * dx3), UPPER8);
                acc0 = ((FloatVector) te0.mul(sc0.and(0xFFFF)).convert(I2F, 0)).fma(de0, acc0);
                acc0 = ((FloatVector) xe.mul(mn0.and(0xFFFF)).convert(I2F, 0)).fma(ne0, acc0);
                acc0 = ((FloatVector) to0.mul(sc0.lanewise(LSHR, 16)).convert(I2F, 0)).fma(do0, acc0);
                acc0 = ((FloatVector) xh.mul(mn0.lanewise(LSHR, 16)).convert(I2F, 0)).fma(no0, acc0);
                IntVector ia1 = la1.reinterpretAsInts();
                IntVector ib1 = lb1.reinterpretAsInts();
                IntVector ja1 = ha1.reinterpretAsInts();
                IntVector jb1 = hb1.reinterpretAsInts();
                IntVector te1 = ia1.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ib1.lanewise(LSHL, 16).lanewise(ASHR, 16))
                        .add(ja1.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(jb1.lanewise(LSHL, 16).lanewise(ASHR, 16));
                IntVector to1 = ia1.lanewise(ASHR, 16).add(ib1.lanewise(ASHR, 16)).add(ja1.lanewise(ASHR, 16)).add(jb1.lanewise(ASHR, 16));
                IntVector sc1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 640, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                IntVector mn1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 672, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                FloatVector de1 = FloatVector.broadcast(F, Float.float16ToFloat(m1.get(F16, b1 + 704)) * dx0)
                        .blend(Float.float16ToFloat(m1.get(F16, b1 + 706)) * dx1, UPPER8);
                FloatVector do1 = FloatVector.broadcast(F, Float.float16ToFloat(m1.get(F16, b1 + 708)) * dx2)
                        .blend(Float.float16ToFloat(m1.get(F16, b1 + 710)) * dx3, UPPER8);
                FloatVector ne1 = FloatVector.broadcast(F, -(Float.float16ToFloat(m1.get(F16, b1 + 712)) * dx0))
                        .blend(-(Float.float16ToFloat(m1.get(F16, b1 + 714)) * dx1), UPPER8);
                FloatVector no1 = FloatVector.broadcast(F, -(Float.float16ToFloat(m1.get(F16, b1 + 716)) * dx2))
                        .blend(-(Float.float16ToFloat(m1.get(F16, b1 + 718)) * dx3), UPPER8);
                acc1 = ((FloatVector) te1.mul(sc1.and(0xFFFF)).convert(I2F, 0)).fma(de1, acc1);
                acc1 = ((FloatVector) xe.mul(mn1.and(0xFFFF)).convert(I2F, 0)).fma(ne1, acc1);
                acc1 = ((FloatVector) to1.mul(sc1.lanewise(LSHR, 16)).convert(I2F, 0)).fma(do1, acc1);
                acc1 = ((FloatVector) xh.mul(mn1.lanewise(LSHR, 16)).convert(I2F, 0)).fma(no1, acc1);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_8));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_4));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_2));
            out[oo + r + gap] = acc1.add(acc1.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /**
     * Q5_0 matvec, one row at a time: Q5_K's quant steps (the fifth bits or-ed into the nibbles, int16 sums split in
     * two: eight products of at most 31 x 127 each), then Q4_0's scaling (one F16 scale per block, two FMAs per 32
     * blocks), the multipliers' offset of 16 taken out of each block's exact sum as an integer.
     */
    private static void matvecQ5_0x1(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] d = a.d;
        int[] sum8 = a.sum8;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        int quads = q5Quads;
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 704 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector la0 = zero, lb0 = zero, ha0 = zero, hb0 = zero;
                for (int k = 0; k < quads; k++) {
                    int xb = xo + 128 * k;
                    IntVector h0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k, LE).convertShape(ZB2S, S, 0))
                            .reinterpretAsInts();
                    ShortVector lx;
                    ShortVector hx;
                    IntVector v;
                    IntVector s;
                    lx = ShortVector.fromArray(S, xs, xb);
                    hx = ShortVector.fromArray(S, xs, xb + 512);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 32, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 4);
                    la0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la0);
                    ha0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha0);
                    lx = ShortVector.fromArray(S, xs, xb + 32);
                    hx = ShortVector.fromArray(S, xs, xb + 544);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 64, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 3);
                    lb0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb0);
                    hb0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb0);
                    lx = ShortVector.fromArray(S, xs, xb + 64);
                    hx = ShortVector.fromArray(S, xs, xb + 576);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 96, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 2);
                    la0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la0);
                    ha0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha0);
                    lx = ShortVector.fromArray(S, xs, xb + 96);
                    hx = ShortVector.fromArray(S, xs, xb + 608);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 128, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 1);
                    lb0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb0);
                    hb0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb0);
                }
                // Each block's multiplier is q - 16: T_u less 16 times its activations' sum (sum8 is 8 times it).
                IntVector oe = IntVector.fromArray(I, sum8, 32 * g).lanewise(LSHL, 1);
                IntVector oh = IntVector.fromArray(I, sum8, 32 * g + 16).lanewise(LSHL, 1);
                FloatVector de = FloatVector.fromArray(F, d, 32 * g);
                FloatVector dh = FloatVector.fromArray(F, d, 32 * g + 16);
                IntVector ia0 = la0.reinterpretAsInts();
                IntVector ib0 = lb0.reinterpretAsInts();
                IntVector ja0 = ha0.reinterpretAsInts();
                IntVector jb0 = hb0.reinterpretAsInts();
                IntVector se0 = ia0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ib0.lanewise(LSHL, 16).lanewise(ASHR, 16))
                        .add(ja0.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(jb0.lanewise(LSHL, 16).lanewise(ASHR, 16)).sub(oe);
                IntVector so0 = ia0.lanewise(ASHR, 16).add(ib0.lanewise(ASHR, 16)).add(ja0.lanewise(ASHR, 16)).add(jb0.lanewise(ASHR, 16))
                        .sub(oh);
                IntVector h0s = IntVector.fromMemorySegment(I, m0, b0 + 640, LE);
                IntVector h0e = h0s.and(0xFFFF);
                IntVector h0m = h0e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0e = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h0o = h0s.lanewise(LSHR, 16);
                h0m = h0o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0o = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc0 = ((FloatVector) se0.convert(I2F, 0)).fma(w0e.mul(de), acc0);
                acc0 = ((FloatVector) so0.convert(I2F, 0)).fma(w0o.mul(dh), acc0);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    /** Q5_0 matvec, rows {@code r} and {@code r + gap} together (see {@link #matvecQ4_0x2}, {@link #matvecQ5_0x1}). */
    private static void matvecQ5_0x2(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to, int gap) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] d = a.d;
        int[] sum8 = a.sum8;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        int quads = q5Quads;
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            MemorySegment m1 = rowSegment(m, w.rowOffset(r + gap), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 704 * g;
                int b1 = 704 * g;
                int xo = 1024 * g;
                ShortVector zero = ShortVector.zero(S);
                ShortVector la0 = zero, lb0 = zero, ha0 = zero, hb0 = zero, la1 = zero, lb1 = zero, ha1 = zero, hb1 = zero;
                for (int k = 0; k < quads; k++) {
                    int xb = xo + 128 * k;
                    IntVector h0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k, LE).convertShape(ZB2S, S, 0))
                            .reinterpretAsInts();
                    IntVector h1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k, LE).convertShape(ZB2S, S, 0))
                            .reinterpretAsInts();
                    ShortVector lx;
                    ShortVector hx;
                    IntVector v;
                    IntVector s;
                    lx = ShortVector.fromArray(S, xs, xb);
                    hx = ShortVector.fromArray(S, xs, xb + 512);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 32, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 4);
                    la0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la0);
                    ha0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha0);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k + 32, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h1.lanewise(LSHL, 4);
                    la1 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la1);
                    ha1 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha1);
                    lx = ShortVector.fromArray(S, xs, xb + 32);
                    hx = ShortVector.fromArray(S, xs, xb + 544);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 64, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 3);
                    lb0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb0);
                    hb0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb0);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k + 64, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h1.lanewise(LSHL, 3);
                    lb1 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb1);
                    hb1 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb1);
                    lx = ShortVector.fromArray(S, xs, xb + 64);
                    hx = ShortVector.fromArray(S, xs, xb + 576);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 96, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 2);
                    la0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la0);
                    ha0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha0);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k + 96, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h1.lanewise(LSHL, 2);
                    la1 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(la1);
                    ha1 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(ha1);
                    lx = ShortVector.fromArray(S, xs, xb + 96);
                    hx = ShortVector.fromArray(S, xs, xb + 608);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 160 * k + 128, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h0.lanewise(LSHL, 1);
                    lb0 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb0);
                    hb0 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb0);
                    v = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 160 * k + 128, LE).convertShape(ZB2S, S, 0)).reinterpretAsInts();
                    s = h1.lanewise(LSHL, 1);
                    lb1 = v.and(0x000F000F).or(s.and(0x00100010)).reinterpretAsShorts().mul(lx).add(lb1);
                    hb1 = v.or(s.and(0x01000100)).reinterpretAsShorts().lanewise(LSHR, 4).mul(hx).add(hb1);
                }
                // Each block's multiplier is q - 16: T_u less 16 times its activations' sum (sum8 is 8 times it).
                IntVector oe = IntVector.fromArray(I, sum8, 32 * g).lanewise(LSHL, 1);
                IntVector oh = IntVector.fromArray(I, sum8, 32 * g + 16).lanewise(LSHL, 1);
                FloatVector de = FloatVector.fromArray(F, d, 32 * g);
                FloatVector dh = FloatVector.fromArray(F, d, 32 * g + 16);
                IntVector ia0 = la0.reinterpretAsInts();
                IntVector ib0 = lb0.reinterpretAsInts();
                IntVector ja0 = ha0.reinterpretAsInts();
                IntVector jb0 = hb0.reinterpretAsInts();
                IntVector se0 = ia0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ib0.lanewise(LSHL, 16).lanewise(ASHR, 16))
                        .add(ja0.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(jb0.lanewise(LSHL, 16).lanewise(ASHR, 16)).sub(oe);
                IntVector so0 = ia0.lanewise(ASHR, 16).add(ib0.lanewise(ASHR, 16)).add(ja0.lanewise(ASHR, 16)).add(jb0.lanewise(ASHR, 16))
                        .sub(oh);
                IntVector h0s = IntVector.fromMemorySegment(I, m0, b0 + 640, LE);
                IntVector h0e = h0s.and(0xFFFF);
                IntVector h0m = h0e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0e = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h0o = h0s.lanewise(LSHR, 16);
                h0m = h0o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w0o = h0m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h0m.or(0x7F800000), h0o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h0o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc0 = ((FloatVector) se0.convert(I2F, 0)).fma(w0e.mul(de), acc0);
                acc0 = ((FloatVector) so0.convert(I2F, 0)).fma(w0o.mul(dh), acc0);
                IntVector ia1 = la1.reinterpretAsInts();
                IntVector ib1 = lb1.reinterpretAsInts();
                IntVector ja1 = ha1.reinterpretAsInts();
                IntVector jb1 = hb1.reinterpretAsInts();
                IntVector se1 = ia1.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ib1.lanewise(LSHL, 16).lanewise(ASHR, 16))
                        .add(ja1.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(jb1.lanewise(LSHL, 16).lanewise(ASHR, 16)).sub(oe);
                IntVector so1 = ia1.lanewise(ASHR, 16).add(ib1.lanewise(ASHR, 16)).add(ja1.lanewise(ASHR, 16)).add(jb1.lanewise(ASHR, 16))
                        .sub(oh);
                IntVector h1s = IntVector.fromMemorySegment(I, m1, b1 + 640, LE);
                IntVector h1e = h1s.and(0xFFFF);
                IntVector h1m = h1e.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w1e = h1m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h1m.or(0x7F800000), h1e.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h1e.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector h1o = h1s.lanewise(LSHR, 16);
                h1m = h1o.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector w1o = h1m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(h1m.or(0x7F800000), h1o.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(h1o.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc1 = ((FloatVector) se1.convert(I2F, 0)).fma(w1e.mul(de), acc1);
                acc1 = ((FloatVector) so1.convert(I2F, 0)).fma(w1o.mul(dh), acc1);
            }
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_8));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_4));
            acc0 = acc0.add(acc0.rearrange(MatrixKernels.DOWN_2));
            out[oo + r] = acc0.add(acc0.rearrange(MatrixKernels.DOWN_1)).lane(0);
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_8));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_4));
            acc1 = acc1.add(acc1.rearrange(MatrixKernels.DOWN_2));
            out[oo + r + gap] = acc1.add(acc1.rearrange(MatrixKernels.DOWN_1)).lane(0);
        }
    }

    private static void rowsQ5_0(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        int half = streams > 1 ? (to - from) / 2 : 0;
        for (int r = from; r < from + half; r += CHUNK) {
            matvecQ5_0x2(w, a, out, oo, r, Math.min(r + CHUNK, from + half), half);
        }
        for (int r = from + 2 * half; r < to; r += CHUNK) {
            matvecQ5_0x1(w, a, out, oo, r, Math.min(r + CHUNK, to));
        }
        java.lang.ref.Reference.reachabilityFence(w);
    }

    /**
     * Q6_K matvec, one row at a time. Each row is read through a slice of its own, at int offsets: the
     * segment's bounds checks then compile to far less scalar code than with long offsets into the
     * whole matrix. The quants are loaded as ints (two sub-blocks' shorts each) and taken apart with int
     * shifts and masks (C2 gives int shifts an immediate count; short shifts by a constant cost two more
     * instructions each, to put the count in a register), leaving the unsigned 6-bit q in each short.
     * Per group and octet (A: octets 0, 1; B: octets 2, 3), the eight products {@code q * -qx} (negated
     * activations) plus the activations' octet offset {@code 32 * sum(qx)} are summed in wrapping int16:
     * the exact value, {@code -sum((q - 32) * qx)}, lies in [-32768, 32512] (each {@code (q - 32) * -qx}
     * in [-4096, 4064]), so the int16 sum modulo 2^16 is it. Widened (low shorts: sub-blocks 0..15 of
     * the group, high shorts 16..31), the half's two octets added in int32 and multiplied by the half's
     * int8 scale, that gives {@code -T_u}, scaled into its lane with {@code fma((float) -T_u, d * -dx, acc)}:
     * the same bits as {@code fma((float) T_u, d * dx, acc)} (negation is exact and rounding symmetric;
     * a zero product only adds a zero of either sign to an accumulator that, starting at +0, is never -0).
     * Measured (two rows at a time, one thread, GB/s of GGUF bytes): 32-35 from memory (LaneBench), 44
     * with the weights in L2, against 24-25 and 32 for the first version (fields sign-extended with short
     * shifts, long offsets into the matrix, scalar d * dx, the octet loop unrolled by C2 and spilling).
     * Four rows at a time is no faster from memory.
     */
    private static void matvecQ6_Kx1(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        MemorySegment m = w.data();
        short[] xn = a.xn;
        float[] dkn = a.dkn;
        short[] xoff = a.xoff;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        float[] lanes = new float[16];
        int octets = q6Octets;
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 840 * g;
                int xo = 1024 * g;
                IntVector zero = IntVector.zero(I);
                IntVector ae0 = zero, ao0 = zero, be0 = zero, bo0 = zero;
                for (int o = 0; o < octets; o++) {
                        int xb = xo + 256 * o;
                        ShortVector x0 = ShortVector.fromArray(S, xn, xb);
                        ShortVector x1 = ShortVector.fromArray(S, xn, xb + 32);
                        ShortVector x2 = ShortVector.fromArray(S, xn, xb + 64);
                        ShortVector x3 = ShortVector.fromArray(S, xn, xb + 96);
                        ShortVector x4 = ShortVector.fromArray(S, xn, xb + 128);
                        ShortVector x5 = ShortVector.fromArray(S, xn, xb + 160);
                        ShortVector x6 = ShortVector.fromArray(S, xn, xb + 192);
                        ShortVector x7 = ShortVector.fromArray(S, xn, xb + 224);
                        ShortVector off = ShortVector.fromArray(S, xoff, 128 * g + 32 * o);
                        IntVector w0 = IntVector.fromMemorySegment(I, m0, b0 + 192 * o, LE);
                        IntVector w1 = IntVector.fromMemorySegment(I, m0, b0 + 192 * o + 64, LE);
                        IntVector w2 = IntVector.fromMemorySegment(I, m0, b0 + 192 * o + 128, LE);
                        IntVector t0 = off.add(w0.and(0x003F003F).reinterpretAsShorts().mul(x0))
                                .add(w0.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x1))
                                .add(w1.and(0x003F003F).reinterpretAsShorts().mul(x2))
                                .add(w1.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x3))
                                .add(w2.and(0x003F003F).reinterpretAsShorts().mul(x4))
                                .add(w2.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x5))
                                .add(w0.lanewise(LSHR, 12).and(0x000F000F).or(w1.lanewise(LSHR, 8).and(0x00300030))
                                        .reinterpretAsShorts().mul(x6))
                                .add(w1.lanewise(LSHR, 14).and(0x00030003).or(w2.lanewise(LSHR, 10).and(0x003C003C))
                                        .reinterpretAsShorts().mul(x7)).reinterpretAsInts();
                        if (o < 2) {
                            ae0 = t0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ae0);
                            ao0 = t0.lanewise(ASHR, 16).add(ao0);
                        } else {
                            be0 = t0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(be0);
                            bo0 = t0.lanewise(ASHR, 16).add(bo0);
                        }
                }
                IntVector sa0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 768, LE).convertShape(B2S, S, 0)).reinterpretAsInts();
                IntVector sb0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 800, LE).convertShape(B2S, S, 0)).reinterpretAsInts();
                IntVector te0 = ae0.mul(sa0.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(be0.mul(sb0.lanewise(LSHL, 16).lanewise(ASHR, 16)));
                IntVector to0 = ao0.mul(sa0.lanewise(ASHR, 16)).add(bo0.mul(sb0.lanewise(ASHR, 16)));
                FloatVector ne = FloatVector.fromArray(F, dkn, 32 * g);
                FloatVector no = FloatVector.fromArray(F, dkn, 32 * g + 16);
                FloatVector de0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 832)))
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 834)), UPPER8).mul(ne);
                FloatVector do0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 836)))
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 838)), UPPER8).mul(no);
                acc0 = ((FloatVector) te0.convert(I2F, 0)).fma(de0, acc0);
                acc0 = ((FloatVector) to0.convert(I2F, 0)).fma(do0, acc0);
            }
            acc0.intoArray(lanes, 0);
            out[oo + r] = MatrixKernels.tree(lanes);
        }
    }

    /** Always 4 (octets per sub-block): read from a field so that C2 does not unroll the octet loop (unrolled, it spills). */
    static int q6Octets = 4;

    /** Q6_K matvec, rows {@code r} and {@code r + gap} together (see {@link #matvecQ4_0x2}, {@link #matvecQ6_Kx1}). */
    private static void matvecQ6_Kx2(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to, int gap) {
        MemorySegment m = w.data();
        short[] xn = a.xn;
        float[] dkn = a.dkn;
        short[] xoff = a.xoff;
        int groups = w.groups();
        long rowBytes = w.rowBytes();
        float[] lanes = new float[16];
        int octets = q6Octets;
        for (int r = from; r < to; r++) {
            MemorySegment m0 = rowSegment(m, w.rowOffset(r), rowBytes);
            MemorySegment m1 = rowSegment(m, w.rowOffset(r + gap), rowBytes);
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                int b0 = 840 * g;
                int b1 = 840 * g;
                int xo = 1024 * g;
                IntVector zero = IntVector.zero(I);
                IntVector ae0 = zero, ao0 = zero, be0 = zero, bo0 = zero;
                IntVector ae1 = zero, ao1 = zero, be1 = zero, bo1 = zero;
                for (int o = 0; o < octets; o++) {
                        int xb = xo + 256 * o;
                        ShortVector x0 = ShortVector.fromArray(S, xn, xb);
                        ShortVector x1 = ShortVector.fromArray(S, xn, xb + 32);
                        ShortVector x2 = ShortVector.fromArray(S, xn, xb + 64);
                        ShortVector x3 = ShortVector.fromArray(S, xn, xb + 96);
                        ShortVector x4 = ShortVector.fromArray(S, xn, xb + 128);
                        ShortVector x5 = ShortVector.fromArray(S, xn, xb + 160);
                        ShortVector x6 = ShortVector.fromArray(S, xn, xb + 192);
                        ShortVector x7 = ShortVector.fromArray(S, xn, xb + 224);
                        ShortVector off = ShortVector.fromArray(S, xoff, 128 * g + 32 * o);
                        IntVector w0 = IntVector.fromMemorySegment(I, m0, b0 + 192 * o, LE);
                        IntVector w1 = IntVector.fromMemorySegment(I, m0, b0 + 192 * o + 64, LE);
                        IntVector w2 = IntVector.fromMemorySegment(I, m0, b0 + 192 * o + 128, LE);
                        IntVector t0 = off.add(w0.and(0x003F003F).reinterpretAsShorts().mul(x0))
                                .add(w0.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x1))
                                .add(w1.and(0x003F003F).reinterpretAsShorts().mul(x2))
                                .add(w1.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x3))
                                .add(w2.and(0x003F003F).reinterpretAsShorts().mul(x4))
                                .add(w2.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x5))
                                .add(w0.lanewise(LSHR, 12).and(0x000F000F).or(w1.lanewise(LSHR, 8).and(0x00300030))
                                        .reinterpretAsShorts().mul(x6))
                                .add(w1.lanewise(LSHR, 14).and(0x00030003).or(w2.lanewise(LSHR, 10).and(0x003C003C))
                                        .reinterpretAsShorts().mul(x7)).reinterpretAsInts();
                        if (o < 2) {
                            ae0 = t0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ae0);
                            ao0 = t0.lanewise(ASHR, 16).add(ao0);
                        } else {
                            be0 = t0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(be0);
                            bo0 = t0.lanewise(ASHR, 16).add(bo0);
                        }
                        IntVector v0 = IntVector.fromMemorySegment(I, m1, b1 + 192 * o, LE);
                        IntVector v1 = IntVector.fromMemorySegment(I, m1, b1 + 192 * o + 64, LE);
                        IntVector v2 = IntVector.fromMemorySegment(I, m1, b1 + 192 * o + 128, LE);
                        IntVector t1 = off.add(v0.and(0x003F003F).reinterpretAsShorts().mul(x0))
                                .add(v0.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x1))
                                .add(v1.and(0x003F003F).reinterpretAsShorts().mul(x2))
                                .add(v1.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x3))
                                .add(v2.and(0x003F003F).reinterpretAsShorts().mul(x4))
                                .add(v2.lanewise(LSHR, 6).and(0x003F003F).reinterpretAsShorts().mul(x5))
                                .add(v0.lanewise(LSHR, 12).and(0x000F000F).or(v1.lanewise(LSHR, 8).and(0x00300030))
                                        .reinterpretAsShorts().mul(x6))
                                .add(v1.lanewise(LSHR, 14).and(0x00030003).or(v2.lanewise(LSHR, 10).and(0x003C003C))
                                        .reinterpretAsShorts().mul(x7)).reinterpretAsInts();
                        if (o < 2) {
                            ae1 = t1.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ae1);
                            ao1 = t1.lanewise(ASHR, 16).add(ao1);
                        } else {
                            be1 = t1.lanewise(LSHL, 16).lanewise(ASHR, 16).add(be1);
                            bo1 = t1.lanewise(ASHR, 16).add(bo1);
                        }
                    }
                IntVector sa0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 768, LE).convertShape(B2S, S, 0)).reinterpretAsInts();
                IntVector sb0 = ((ShortVector) ByteVector.fromMemorySegment(B32, m0, b0 + 800, LE).convertShape(B2S, S, 0)).reinterpretAsInts();
                IntVector te0 = ae0.mul(sa0.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(be0.mul(sb0.lanewise(LSHL, 16).lanewise(ASHR, 16)));
                IntVector to0 = ao0.mul(sa0.lanewise(ASHR, 16)).add(bo0.mul(sb0.lanewise(ASHR, 16)));
                IntVector sa1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 768, LE).convertShape(B2S, S, 0)).reinterpretAsInts();
                IntVector sb1 = ((ShortVector) ByteVector.fromMemorySegment(B32, m1, b1 + 800, LE).convertShape(B2S, S, 0)).reinterpretAsInts();
                IntVector te1 = ae1.mul(sa1.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(be1.mul(sb1.lanewise(LSHL, 16).lanewise(ASHR, 16)));
                IntVector to1 = ao1.mul(sa1.lanewise(ASHR, 16)).add(bo1.mul(sb1.lanewise(ASHR, 16)));
                FloatVector ne = FloatVector.fromArray(F, dkn, 32 * g);
                FloatVector no = FloatVector.fromArray(F, dkn, 32 * g + 16);
                FloatVector de0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 832)))
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 834)), UPPER8).mul(ne);
                FloatVector do0 = FloatVector.broadcast(F, Float.float16ToFloat(m0.get(F16, b0 + 836)))
                        .blend(Float.float16ToFloat(m0.get(F16, b0 + 838)), UPPER8).mul(no);
                acc0 = ((FloatVector) te0.convert(I2F, 0)).fma(de0, acc0);
                acc0 = ((FloatVector) to0.convert(I2F, 0)).fma(do0, acc0);
                FloatVector de1 = FloatVector.broadcast(F, Float.float16ToFloat(m1.get(F16, b1 + 832)))
                        .blend(Float.float16ToFloat(m1.get(F16, b1 + 834)), UPPER8).mul(ne);
                FloatVector do1 = FloatVector.broadcast(F, Float.float16ToFloat(m1.get(F16, b1 + 836)))
                        .blend(Float.float16ToFloat(m1.get(F16, b1 + 838)), UPPER8).mul(no);
                acc1 = ((FloatVector) te1.convert(I2F, 0)).fma(de1, acc1);
                acc1 = ((FloatVector) to1.convert(I2F, 0)).fma(do1, acc1);
            }
            acc0.intoArray(lanes, 0);
            out[oo + r] = MatrixKernels.tree(lanes);
            acc1.intoArray(lanes, 0);
            out[oo + r + gap] = MatrixKernels.tree(lanes);
        }
    }

    /** Rows per block of the matmul: the block's accumulators and one group of every token's activations stay in L2. */
    static int rowBlock = 32;

    /**
     * Q6_K rows {@code [from, to)} times every token, in blocks of about {@link #rowBlock} rows: group by group,
     * each tile's rows' group decoded once into {@code wf} (L1) and used by every token quad, so that a
     * group of all tokens' activations (64 tokens: 256 KiB) is read from L2 by every row tile of the
     * block. The accumulators wait in {@code acc} between groups (a store and a load change no bits).
     * Leftover tokens and rows go through the matvec kernels (the same bits).
     */
    private static void matmulRows(LaneWeights w, LaneActivations[] a, float[] out, int os, int from, int to) {
        int tokens = a.length;
        int quads = tokens / 4;
        int groups = w.groups();
        int tr = 4;
        int block = Math.max(tr, rowBlock / tr * tr);
        int tileFloats = 64 * tr;
        float[] wf = new float[tr * 1024];
        float[] wd = new float[tr * 32];
        float[] acc = new float[block / tr * quads * tileFloats];
        int whole = from + (to - from) / tr * tr;
        int r = from;
        if (quads > 0) {
            for (; r < whole; r += block) {
                int end = Math.min(r + block, whole);
                int rowTiles = (end - r) / tr;
                Arrays.fill(acc, 0f);
                for (int g = 0; g < groups; g++) {
                    for (int rt = 0; rt < rowTiles; rt++) {
                        for (int i = 0; i < tr; i++) {
                            decodeQ6_K(w, r + tr * rt + i, g, wf, 1024 * i, wd, 32 * i);
                        }
                        for (int q = 0; q < quads; q++) {
                            LaneActivations t0 = a[4 * q];
                            LaneActivations t1 = a[4 * q + 1];
                            LaneActivations t2 = a[4 * q + 2];
                            LaneActivations t3 = a[4 * q + 3];
                            int ao = tileFloats * (rt * quads + q);
                            tile4x4(wf, wd, t0.xf, t1.xf, t2.xf, t3.xf, t0.d, t1.d, t2.d, t3.d, g, acc, ao);
                        }
                    }
                }
                for (int rt = 0; rt < rowTiles; rt++) {
                    for (int q = 0; q < quads; q++) {
                        for (int i = 0; i < 4 * tr; i++) {
                            out[(4 * q + (i & 3)) * os + r + tr * rt + (i >> 2)] = MatrixKernels.treeAt(acc, tileFloats * (rt * quads + q) + 16 * i);
                        }
                    }
                }
                for (int t = 4 * quads; t < tokens; t++) {
                    rows(w, a[t], out, t * os, r, end);
                }
            }
            r = whole;
        }
        for (int t = 0; t < tokens; t++) {
            rows(w, a[t], out, t * os, r, to);
        }
    }

    /**
     * Q6_K row {@code r}'s group {@code g} for the tiles of {@link #tile4x4}:
     * {@code wf[wo + 32 j + i]} = {@code (q - 32) * sc} of element j of sub-block i (natural order), sc its
     * half's int8 scale, and {@code wd[so + i]} its super-block's d. The tiles' float sums over the 32
     * elements are then exactly {@code T_i}: every partial sum is an integer of magnitude at most
     * {@code 32 * 32 * 128 * 128 = 2^24}.
     */
    private static void decodeQ6_K(LaneWeights w, int r, int g, float[] wf, int wo, float[] wd, int so) {
        MemorySegment m = w.data();
        long base = w.rowOffset(r) + 840L * g;
        for (int h = 0; h < 2; h++) {
            IntVector sc = ((ShortVector) ByteVector.fromMemorySegment(B32, m, base + 768 + 32L * h, LE).convertShape(B2S, S, 0))
                    .reinterpretAsInts();
            IntVector se = sc.lanewise(LSHL, 16).lanewise(ASHR, 16);
            IntVector so2 = sc.lanewise(ASHR, 16);
            for (int o = 2 * h; o < 2 * h + 2; o++) {
                IntVector w0 = IntVector.fromMemorySegment(I, m, base + 192L * o, LE);
                IntVector w1 = IntVector.fromMemorySegment(I, m, base + 192L * o + 64, LE);
                IntVector w2 = IntVector.fromMemorySegment(I, m, base + 192L * o + 128, LE);
                int at = wo + 256 * o;
                IntVector v;
                v = w0.and(0x003F003F);
                ((FloatVector) v.and(0xFFFF).sub(32).mul(se).convert(I2F, 0)).intoArray(wf, at);
                ((FloatVector) v.lanewise(LSHR, 16).sub(32).mul(so2).convert(I2F, 0)).intoArray(wf, at + 16);
                v = w0.lanewise(LSHR, 6).and(0x003F003F);
                ((FloatVector) v.and(0xFFFF).sub(32).mul(se).convert(I2F, 0)).intoArray(wf, at + 32);
                ((FloatVector) v.lanewise(LSHR, 16).sub(32).mul(so2).convert(I2F, 0)).intoArray(wf, at + 48);
                v = w1.and(0x003F003F);
                ((FloatVector) v.and(0xFFFF).sub(32).mul(se).convert(I2F, 0)).intoArray(wf, at + 64);
                ((FloatVector) v.lanewise(LSHR, 16).sub(32).mul(so2).convert(I2F, 0)).intoArray(wf, at + 80);
                v = w1.lanewise(LSHR, 6).and(0x003F003F);
                ((FloatVector) v.and(0xFFFF).sub(32).mul(se).convert(I2F, 0)).intoArray(wf, at + 96);
                ((FloatVector) v.lanewise(LSHR, 16).sub(32).mul(so2).convert(I2F, 0)).intoArray(wf, at + 112);
                v = w2.and(0x003F003F);
                ((FloatVector) v.and(0xFFFF).sub(32).mul(se).convert(I2F, 0)).intoArray(wf, at + 128);
                ((FloatVector) v.lanewise(LSHR, 16).sub(32).mul(so2).convert(I2F, 0)).intoArray(wf, at + 144);
                v = w2.lanewise(LSHR, 6).and(0x003F003F);
                ((FloatVector) v.and(0xFFFF).sub(32).mul(se).convert(I2F, 0)).intoArray(wf, at + 160);
                ((FloatVector) v.lanewise(LSHR, 16).sub(32).mul(so2).convert(I2F, 0)).intoArray(wf, at + 176);
                v = w0.lanewise(LSHR, 12).and(0x000F000F).or(w1.lanewise(LSHR, 8).and(0x00300030));
                ((FloatVector) v.and(0xFFFF).sub(32).mul(se).convert(I2F, 0)).intoArray(wf, at + 192);
                ((FloatVector) v.lanewise(LSHR, 16).sub(32).mul(so2).convert(I2F, 0)).intoArray(wf, at + 208);
                v = w1.lanewise(LSHR, 14).and(0x00030003).or(w2.lanewise(LSHR, 10).and(0x003C003C));
                ((FloatVector) v.and(0xFFFF).sub(32).mul(se).convert(I2F, 0)).intoArray(wf, at + 224);
                ((FloatVector) v.lanewise(LSHR, 16).sub(32).mul(so2).convert(I2F, 0)).intoArray(wf, at + 240);
            }
        }
        for (int i = 0; i < LaneWeights.GROUP; i++) {
            wd[so + i] = Float.float16ToFloat(m.get(F16, base + 832 + 2L * (i / 8)));
        }
    }

    /**
     * One group of a 4-row x 4-token tile: per half (blocks 0..15, then 16..31 of the group), 16 sums of
     * integer-valued float products (exact: |sum| < 2^24) over the 32 elements, then each lane's block
     * scaled into the accumulators kept in {@code acc} (row-major: row r, token t at {@code ao + 16 * (4 r + t)}).
     */
    private static void tile4x4(float[] wf, float[] wd, float[] x0, float[] x1, float[] x2, float[] x3,
            float[] d0, float[] d1, float[] d2, float[] d3, int g, float[] acc, int ao) {
        int xo = 1024 * g;
        for (int h = 0; h < 32; h += 16) {
            FloatVector z = FloatVector.zero(F);
            FloatVector s00 = z, s01 = z, s02 = z, s03 = z;
            FloatVector s10 = z, s11 = z, s12 = z, s13 = z;
            FloatVector s20 = z, s21 = z, s22 = z, s23 = z;
            FloatVector s30 = z, s31 = z, s32 = z, s33 = z;
            for (int j = 0; j < 32; j++) {
                int wo = 32 * j + h;
                FloatVector w0 = FloatVector.fromArray(F, wf, wo);
                FloatVector w1 = FloatVector.fromArray(F, wf, 1024 + wo);
                FloatVector w2 = FloatVector.fromArray(F, wf, 2048 + wo);
                FloatVector w3 = FloatVector.fromArray(F, wf, 3072 + wo);
                FloatVector v = FloatVector.fromArray(F, x0, xo + wo);
                s00 = w0.fma(v, s00);
                s10 = w1.fma(v, s10);
                s20 = w2.fma(v, s20);
                s30 = w3.fma(v, s30);
                v = FloatVector.fromArray(F, x1, xo + wo);
                s01 = w0.fma(v, s01);
                s11 = w1.fma(v, s11);
                s21 = w2.fma(v, s21);
                s31 = w3.fma(v, s31);
                v = FloatVector.fromArray(F, x2, xo + wo);
                s02 = w0.fma(v, s02);
                s12 = w1.fma(v, s12);
                s22 = w2.fma(v, s22);
                s32 = w3.fma(v, s32);
                v = FloatVector.fromArray(F, x3, xo + wo);
                s03 = w0.fma(v, s03);
                s13 = w1.fma(v, s13);
                s23 = w2.fma(v, s23);
                s33 = w3.fma(v, s33);
            }
            int so = 32 * g + h;
            FloatVector dx0 = FloatVector.fromArray(F, d0, so);
            FloatVector dx1 = FloatVector.fromArray(F, d1, so);
            FloatVector dx2 = FloatVector.fromArray(F, d2, so);
            FloatVector dx3 = FloatVector.fromArray(F, d3, so);
            FloatVector dw0 = FloatVector.fromArray(F, wd, 0 + h);
            s00.fma(dw0.mul(dx0), FloatVector.fromArray(F, acc, ao + 0)).intoArray(acc, ao + 0);
            s01.fma(dw0.mul(dx1), FloatVector.fromArray(F, acc, ao + 16)).intoArray(acc, ao + 16);
            s02.fma(dw0.mul(dx2), FloatVector.fromArray(F, acc, ao + 32)).intoArray(acc, ao + 32);
            s03.fma(dw0.mul(dx3), FloatVector.fromArray(F, acc, ao + 48)).intoArray(acc, ao + 48);
            FloatVector dw1 = FloatVector.fromArray(F, wd, 32 + h);
            s10.fma(dw1.mul(dx0), FloatVector.fromArray(F, acc, ao + 64)).intoArray(acc, ao + 64);
            s11.fma(dw1.mul(dx1), FloatVector.fromArray(F, acc, ao + 80)).intoArray(acc, ao + 80);
            s12.fma(dw1.mul(dx2), FloatVector.fromArray(F, acc, ao + 96)).intoArray(acc, ao + 96);
            s13.fma(dw1.mul(dx3), FloatVector.fromArray(F, acc, ao + 112)).intoArray(acc, ao + 112);
            FloatVector dw2 = FloatVector.fromArray(F, wd, 64 + h);
            s20.fma(dw2.mul(dx0), FloatVector.fromArray(F, acc, ao + 128)).intoArray(acc, ao + 128);
            s21.fma(dw2.mul(dx1), FloatVector.fromArray(F, acc, ao + 144)).intoArray(acc, ao + 144);
            s22.fma(dw2.mul(dx2), FloatVector.fromArray(F, acc, ao + 160)).intoArray(acc, ao + 160);
            s23.fma(dw2.mul(dx3), FloatVector.fromArray(F, acc, ao + 176)).intoArray(acc, ao + 176);
            FloatVector dw3 = FloatVector.fromArray(F, wd, 96 + h);
            s30.fma(dw3.mul(dx0), FloatVector.fromArray(F, acc, ao + 192)).intoArray(acc, ao + 192);
            s31.fma(dw3.mul(dx1), FloatVector.fromArray(F, acc, ao + 208)).intoArray(acc, ao + 208);
            s32.fma(dw3.mul(dx2), FloatVector.fromArray(F, acc, ao + 224)).intoArray(acc, ao + 224);
            s33.fma(dw3.mul(dx3), FloatVector.fromArray(F, acc, ao + 240)).intoArray(acc, ao + 240);
        }
    }

}
