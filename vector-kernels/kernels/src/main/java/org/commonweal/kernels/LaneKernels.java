package org.commonweal.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prototype: Q4_0 and Q8_0 matvec and matmul under the "lane = block" definition ({@link LaneReference}),
 * over weights repacked by {@link LaneWeights}. Every path gives {@link LaneReference}'s bits: the block
 * sums are exact (int16 partial sums in matvec, integer-valued float sums in the matmul tiles), and every
 * path scales them into lane {@code b % 16} in increasing block order.
 * <p>
 * Matvec: per group of 32 blocks, one 32-byte load widened to 32 shorts gives one element (Q4_0: two,
 * low and high nibble) of all 32 blocks; the products with the int16 activations are summed in int16
 * (Q4_0: unsigned nibbles, 16 x 15 x 127 at most, the offset 8 * sum(x) subtracted after widening;
 * Q8_0: pairs of products, 2 x 128 x 127 at most, widened to int32 after each pair). Widening takes the
 * low and high shorts of each int (blocks 0..15 and 16..31 of the group, see {@link LaneWeights}), so
 * the block sums arrive in their lanes with no shuffle; two FMAs per group scale them in.
 * <p>
 * Matmul: per 4 rows and group, the weights are decoded once into integer-valued floats in L1
 * ({@code [row][element j][block]}), then 4-row x 4-token register tiles do 32 FMAs per half group per
 * (row, token) and one scaling FMA.
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
    /** Rows per call of a matvec kernel (see MatrixKernels.MATVEC_CHUNK: short calls compile well). */
    private static final int CHUNK = 256;

    private LaneKernels() {
    }

    /** {@code out[r] = W[r,:] . x} for every row. */
    static void matvec(LaneWeights w, float[] x, float[] out, KernelPool pool) {
        LaneActivations a = LaneActivations.of(x, 0, w.cols());
        pool.forRows(w.rows(), w.rowBytes(), (from, to) -> {
            for (int r = from; r < to; r += CHUNK) {
                rows(w, a, out, 0, r, Math.min(r + CHUNK, to));
            }
        });
    }

    /** {@code out[t * outStride + r] = W[r,:] . x[t * xStride ...]}: each token's matvec, bit for bit. */
    static void matmul(LaneWeights w, float[] x, int xStride, int tokens, float[] out, int outStride, KernelPool pool) {
        LaneActivations[] a = new LaneActivations[tokens];
        pool.forRows(tokens, 4L * w.cols(), (from, to) -> {
            for (int t = from; t < to; t++) {
                a[t] = LaneActivations.of(x, t * xStride, w.cols());
            }
        });
        pool.forRows(w.rows(), w.rowBytes() * tokens, (from, to) -> {
            for (int r = from; r < to; r += CHUNK) {
                matmulRows(w, a, out, outStride, r, Math.min(r + CHUNK, to));
            }
        });
    }

    /** Matvec of rows {@code [from, to)}, written to {@code out[oo + r]}. */
    static void rows(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        if (w.type() == GgmlType.Q4_0) {
            matvecQ4_0(w, a, out, oo, from, to);
        } else {
            matvecQ8_0(w, a, out, oo, from, to);
        }
    }

    /*
     * As in MatrixKernels, every vector operation is written out in the loop bodies (a helper of ours
     * taking or returning vectors may not be inlined, and then boxes them). The F16 scales are widened
     * with integer operations: (bits & 0x7fff) << 13 as a float times 2^112 is exact for normal and
     * subnormal halves; exponent 31 (infinity, NaN) is blended in as 0x7f800000 | mantissa << 13, as
     * Float.float16ToFloat does; then the sign.
     */

    private static void matvecQ4_0(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] d = a.d;
        int[] sum8 = a.sum8;
        int groups = w.groups();
        float[] lanes = new float[16];
        for (int r = from; r < to; r++) {
            long row = w.rowOffset(r);
            FloatVector acc = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                long base = row + 576L * g;
                int xo = 1024 * g;
                ShortVector lo = ShortVector.zero(S);
                ShortVector hi = lo;
                for (int j = 0; j < 16; j++) {
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B32, m, base + 32L * j, LE).convertShape(ZB2S, S, 0);
                    lo = lo.add(v.and((short) 0x0F).mul(ShortVector.fromArray(S, xs, xo + 32 * j)));
                    hi = hi.add(v.lanewise(LSHR, 4).mul(ShortVector.fromArray(S, xs, xo + 512 + 32 * j)));
                }
                IntVector il = lo.reinterpretAsInts();
                IntVector ih = hi.reinterpretAsInts();
                IntVector se = il.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ih.lanewise(LSHL, 16).lanewise(ASHR, 16))
                        .sub(IntVector.fromArray(I, sum8, 32 * g));
                IntVector so = il.lanewise(ASHR, 16).add(ih.lanewise(ASHR, 16)).sub(IntVector.fromArray(I, sum8, 32 * g + 16));
                IntVector h = IntVector.fromMemorySegment(I, m, base + 512, LE);
                IntVector he = h.and(0xFFFF);
                IntVector em = he.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector we = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(em.or(0x7F800000), he.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(he.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector ho = h.lanewise(LSHR, 16);
                em = ho.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector wo = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(em.or(0x7F800000), ho.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(ho.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc = ((FloatVector) se.convert(I2F, 0)).fma(we.mul(FloatVector.fromArray(F, d, 32 * g)), acc);
                acc = ((FloatVector) so.convert(I2F, 0)).fma(wo.mul(FloatVector.fromArray(F, d, 32 * g + 16)), acc);
            }
            acc.intoArray(lanes, 0);
            out[oo + r] = MatrixKernels.tree(lanes);
        }
    }

    private static void matvecQ8_0(LaneWeights w, LaneActivations a, float[] out, int oo, int from, int to) {
        MemorySegment m = w.data();
        short[] xs = a.xs;
        float[] d = a.d;
        int groups = w.groups();
        float[] lanes = new float[16];
        for (int r = from; r < to; r++) {
            long row = w.rowOffset(r);
            FloatVector acc = FloatVector.zero(F);
            for (int g = 0; g < groups; g++) {
                long base = row + 1088L * g;
                int xo = 1024 * g;
                IntVector se = IntVector.zero(I);
                IntVector so = se;
                for (int j = 0; j < 32; j += 2) {
                    ShortVector p = ((ShortVector) ByteVector.fromMemorySegment(B32, m, base + 32L * j, LE).convertShape(B2S, S, 0))
                            .mul(ShortVector.fromArray(S, xs, xo + 32 * j))
                            .add(((ShortVector) ByteVector.fromMemorySegment(B32, m, base + 32L * j + 32, LE).convertShape(B2S, S, 0))
                                    .mul(ShortVector.fromArray(S, xs, xo + 32 * j + 32)));
                    IntVector pi = p.reinterpretAsInts();
                    se = se.add(pi.lanewise(LSHL, 16).lanewise(ASHR, 16));
                    so = so.add(pi.lanewise(ASHR, 16));
                }
                IntVector h = IntVector.fromMemorySegment(I, m, base + 1024, LE);
                IntVector he = h.and(0xFFFF);
                IntVector em = he.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector we = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(em.or(0x7F800000), he.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(he.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                IntVector ho = h.lanewise(LSHR, 16);
                em = ho.and(0x7FFF).lanewise(LSHL, 13);
                FloatVector wo = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                        .blend(em.or(0x7F800000), ho.and(0x7C00).compare(VectorOperators.EQ, 0x7C00))
                        .or(ho.and(0x8000).lanewise(LSHL, 16)).reinterpretAsFloats();
                acc = ((FloatVector) se.convert(I2F, 0)).fma(we.mul(FloatVector.fromArray(F, d, 32 * g)), acc);
                acc = ((FloatVector) so.convert(I2F, 0)).fma(wo.mul(FloatVector.fromArray(F, d, 32 * g + 16)), acc);
            }
            acc.intoArray(lanes, 0);
            out[oo + r] = MatrixKernels.tree(lanes);
        }
    }

    /**
     * Rows {@code [from, to)} times every token: four rows at a time, group by group, each row's group
     * decoded once into {@code wf} and used by every token quad; leftover tokens and rows go through the
     * matvec kernels (the same bits).
     */
    private static void matmulRows(LaneWeights w, LaneActivations[] a, float[] out, int os, int from, int to) {
        int tokens = a.length;
        int quads = tokens / 4;
        int groups = w.groups();
        float[] wf = new float[4 * 1024];
        float[] wd = new float[4 * 32];
        float[] acc = new float[quads * 256];
        int r = from;
        if (quads > 0) {
            for (; r + 4 <= to; r += 4) {
                Arrays.fill(acc, 0f);
                for (int g = 0; g < groups; g++) {
                    for (int i = 0; i < 4; i++) {
                        decode(w, r + i, g, wf, 1024 * i, wd, 32 * i);
                    }
                    for (int q = 0; q < quads; q++) {
                        LaneActivations t0 = a[4 * q];
                        LaneActivations t1 = a[4 * q + 1];
                        LaneActivations t2 = a[4 * q + 2];
                        LaneActivations t3 = a[4 * q + 3];
                        tile4x4(wf, wd, t0.xf, t1.xf, t2.xf, t3.xf, t0.d, t1.d, t2.d, t3.d, g, acc, 256 * q);
                    }
                }
                for (int q = 0; q < quads; q++) {
                    for (int i = 0; i < 16; i++) {
                        out[(4 * q + (i & 3)) * os + r + (i >> 2)] = MatrixKernels.treeAt(acc, 256 * q + 16 * i);
                    }
                }
                for (int t = 4 * quads; t < tokens; t++) {
                    rows(w, a[t], out, t * os, r, r + 4);
                }
            }
        }
        for (int t = 0; t < tokens; t++) {
            rows(w, a[t], out, t * os, r, to);
        }
    }

    /**
     * Row {@code r}'s group {@code g} as integer-valued floats, {@code wf[wo + 32 j + i]} = multiplier of
     * element j of block i (natural order), and its scales {@code wd[so + i]}.
     */
    private static void decode(LaneWeights w, int r, int g, float[] wf, int wo, float[] wd, int so) {
        MemorySegment m = w.data();
        long base = w.rowOffset(r) + (long) g * w.groupBytes();
        if (w.type() == GgmlType.Q4_0) {
            for (int j = 0; j < 16; j++) {
                IntVector v = ((ShortVector) ByteVector.fromMemorySegment(B32, m, base + 32L * j, LE).convertShape(ZB2S, S, 0))
                        .reinterpretAsInts();
                ((FloatVector) v.and(0x0F).sub(8).convert(I2F, 0)).intoArray(wf, wo + 32 * j);
                ((FloatVector) v.lanewise(LSHR, 16).and(0x0F).sub(8).convert(I2F, 0)).intoArray(wf, wo + 32 * j + 16);
                ((FloatVector) v.lanewise(LSHR, 4).and(0x0F).sub(8).convert(I2F, 0)).intoArray(wf, wo + 32 * (j + 16));
                ((FloatVector) v.lanewise(LSHR, 20).and(0x0F).sub(8).convert(I2F, 0)).intoArray(wf, wo + 32 * (j + 16) + 16);
            }
        } else {
            for (int j = 0; j < 32; j++) {
                IntVector v = ((ShortVector) ByteVector.fromMemorySegment(B32, m, base + 32L * j, LE).convertShape(B2S, S, 0))
                        .reinterpretAsInts();
                ((FloatVector) v.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).intoArray(wf, wo + 32 * j);
                ((FloatVector) v.lanewise(ASHR, 16).convert(I2F, 0)).intoArray(wf, wo + 32 * j + 16);
            }
        }
        long scales = base + w.quantBytes();
        for (int p = 0; p < LaneWeights.GROUP; p++) {
            wd[so + LaneWeights.perm(p)] = Float.float16ToFloat(m.get(Dequantize.F16, scales + 2L * p));
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
