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
 * Quantized weights in GGUF's layout times Q8 activations: {@link ReferenceDot}'s numbers for every
 * quantized type, whether or not {@link PackedMatrix} repacks it (a repacked matrix gives the same bits,
 * faster). This is the path of the types without a repacked layout (Q4_1, Q5_0, Q5_K, Q8_K weights, and
 * any matrix used unpacked, such as an adapter's).
 * <p>
 * Each row is decoded once into a float scratch of its integer multipliers {@code m[j]} (small integers,
 * exact as floats), its block scales and (Q4_1, K-quants) offsets; the activations' quants are floats too.
 * Per 32-element unit, two vector products and a lane sum give {@code S_u} exactly (every partial sum is
 * an integer of at most 2^24), then one scalar FMA (two with an offset) adds it into lane {@code u % 16}.
 */
final class UnpackedRows {

    private static final VectorSpecies<Float> F = MatrixKernels.F;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorOperators.Conversion<Byte, Integer> B2I = VectorOperators.B2I;
    private static final VectorOperators.Conversion<Byte, Float> B2F = VectorOperators.B2F;
    private static final VectorOperators.Conversion<Integer, Float> I2F = VectorOperators.I2F;
    private static final VectorOperators.Binary LSHL = VectorOperators.LSHL;
    private static final VectorOperators.Binary LSHR = VectorOperators.LSHR;
    /** Lane i holds i (Q5_0's per-lane shift of its fifth bits), and i + 16. */
    private static final IntVector LANE = IntVector.fromArray(I, new int[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }, 0);
    private static final IntVector LANE_16 = LANE.add(16);

    private UnpackedRows() {
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

    /** Rows {@code [from, to)} of {@code w} times every token's activations {@code q}, into {@code out[t * os + r]}. */
    static void rows(WeightMatrix w, Q8Activations[] q, float[] out, int os, int from, int to) {
        GgmlType type = w.type();
        Row row = new Row(w.cols(), type.blockSize());
        float[] acc = new float[16];
        for (int r = from; r < to; r++) {
            decode(w, r, row);
            for (int t = 0; t < q.length; t++) {
                out[t * os + r] = dot(type, row, q[t], acc);
            }
        }
    }

    /** One decoded row times one token: the units' exact sums scaled into their lanes, in order. */
    private static float dot(GgmlType type, Row w, Q8Activations a, float[] acc) {
        java.util.Arrays.fill(acc, 0f);
        float[] m = w.m;
        float[] x = a.qf;
        int perBlock = type.blockSize() / 32;
        int perActivation = a.type.blockSize() / 32;
        boolean q4_1 = type == GgmlType.Q4_1;
        boolean mins = type == GgmlType.Q4_K || type == GgmlType.Q5_K;
        for (int u = 0; u < m.length / 32; u++) {
            FloatVector p = FloatVector.fromArray(F, m, 32 * u).mul(FloatVector.fromArray(F, x, 32 * u));
            p = FloatVector.fromArray(F, m, 32 * u + 16).fma(FloatVector.fromArray(F, x, 32 * u + 16), p);
            float s = p.reduceLanes(VectorOperators.ADD);
            int b = u / perBlock;
            float dx = a.d[u / perActivation];
            int l = u & 15;
            acc[l] = Math.fma(s, w.dw[b] * dx, acc[l]);
            if (q4_1) {
                acc[l] = Math.fma((float) a.sums[u], w.e[b] * dx, acc[l]);
            } else if (mins) {
                acc[l] = Math.fma((float) (w.mins[u] * a.sums[u]), -w.e[b] * dx, acc[l]);
            }
        }
        return ScalarOps.sumTree(acc);
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
            case Q4_1 -> decodeQ4_1(m, row, from, to, dst);
            case Q5_0 -> decodeQ5_0(m, row, from, to, dst);
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

    private static void decodeQ4_1(MemorySegment m, long row, int from, int to, Row dst) {
        float[] out = dst.m;
        for (int b = from; b < to; b++) {
            long block = row + 20L * b;
            dst.dw[b] = Float.float16ToFloat(m.get(LE_SHORT, block));
            dst.e[b] = Float.float16ToFloat(m.get(LE_SHORT, block + 2));
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 4, LE).convertShape(B2I, I, 0);
            ((FloatVector) v.and(0x0F).convert(I2F, 0)).intoArray(out, 32 * b);
            ((FloatVector) v.lanewise(LSHR, 4).and(0x0F).convert(I2F, 0)).intoArray(out, 32 * b + 16);
        }
    }

    /** Q5_0: element j's fifth bit is bit j of the block's 32-bit {@code qh}, moved into lane j by a per-lane shift. */
    private static void decodeQ5_0(MemorySegment m, long row, int from, int to, Row dst) {
        float[] out = dst.m;
        for (int b = from; b < to; b++) {
            long block = row + 22L * b;
            dst.dw[b] = Float.float16ToFloat(m.get(LE_SHORT, block));
            IntVector qh = IntVector.broadcast(I, m.get(LE_INT, block + 2));
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B16, m, block + 6, LE).convertShape(B2I, I, 0);
            ((FloatVector) v.and(0x0F).or(qh.lanewise(LSHR, LANE).and(1).lanewise(LSHL, 4)).sub(16).convert(I2F, 0))
                    .intoArray(out, 32 * b);
            ((FloatVector) v.lanewise(LSHR, 4).and(0x0F).or(qh.lanewise(LSHR, LANE_16).and(1).lanewise(LSHL, 4)).sub(16)
                    .convert(I2F, 0)).intoArray(out, 32 * b + 16);
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
            q4_KScales(m, block + 4, sc, mn);
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

    /** Any other type, through the scalar reference's decoding (Q5_K unpacked, Q8_K: not used by models). */
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
