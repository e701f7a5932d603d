package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * One token's activations, quantized to Q8_0 (for Q4_0, Q5_0, Q8_0 weights) or Q8_K (for Q4_K, Q5_K, Q6_K) exactly as
 * {@link Q8Activations} does, then laid out in the order of {@link LaneWeights} (groups of 32 blocks of
 * 32 elements, padded with zeros; for Q8_K a "block" is a 32-element sub-block).
 */
final class LaneActivations {

    /** Per group, per element j (0..31), the quant of block {@code perm(p)} at {@code [1024 g + 32 j + p]}: the int16 kernels' operand. */
    final short[] xs;
    /** {@link #xs} negated (Q6_K's int16 kernels: see {@link LaneKernels}). */
    final short[] xn;
    /** Per group and octet o of elements (8o .. 8o+7), 32 times the sum of block {@code perm(p)}'s quants there at {@code [128 g + 32 o + p]} (Q6_K's offset). */
    final short[] xoff;
    /** Per group, per element j, the quant of block {@code i} at {@code [1024 g + 32 j + i]} (natural block order), as float: the matmul tiles' operand. */
    final float[] xf;
    /** The scale of each block (natural order; Q8_K: its super-block's), zero for padding. */
    final float[] d;
    /** Q8_K: the scale of each 256-element super-block, zero for padding. */
    final float[] dk;
    /** Q8_K: minus the scale of each block's super-block (natural order), for Q6_K's negated sums. */
    final float[] dkn;
    /** 8 times the sum of each block's quants (natural order): the Q4_0 nibbles' offset (Q5_0's is twice it). */
    final int[] sum8;
    /** The sum of each block's quants (natural order): the Q4_K and Q5_K mins' operand. */
    final int[] sums;

    private static final short[] NO_SHORTS = {};
    private static final float[] NO_FLOATS = {};
    private static final int[] NO_INTS = {};

    /** Arrays for what {@code weights}' kernels read, the others empty (filling them all cost 1-2% of decode). */
    private LaneActivations(GgmlType weights, int groups, boolean tiles) {
        boolean q6 = weights == GgmlType.Q6_K;
        boolean mins = weights == GgmlType.Q4_K || weights == GgmlType.Q5_K;
        xs = q6 ? NO_SHORTS : new short[groups * 1024];
        xn = q6 ? new short[groups * 1024] : NO_SHORTS;
        xoff = q6 ? new short[groups * 128] : NO_SHORTS;
        xf = tiles ? new float[groups * 1024] : NO_FLOATS;
        d = new float[groups * 32];
        dk = mins ? new float[groups * 4] : NO_FLOATS;
        dkn = q6 ? new float[groups * 32] : NO_FLOATS;
        sum8 = weights == GgmlType.Q4_0 || weights == GgmlType.Q5_0 ? new int[groups * 32] : NO_INTS;
        sums = mins ? new int[groups * 32] : NO_INTS;
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    /** Offsets of 16 consecutive blocks' elements: a gather reads one element of each. */
    private static final int[] BLOCK_STRIDES = java.util.stream.IntStream.range(0, 16).map(i -> 32 * i).toArray();

    /**
     * {@link #of} for Q8_0 activations in whole groups, straight into the lane layout: per group and element j,
     * two gathers read element j of the group's blocks 0-15 and 16-31, quantized as {@link Q8Activations} does (the
     * same scales, the same rounding, so the same quants) and interleaved into the 32 int16 lanes. The generic path
     * quantized block by block and then moved every quant into place one at a time: 10% of one-token decode on
     * the calling thread, while the other threads waited. {@code null} (the generic path then) if a block holds
     * NaN or an infinity.
     */
    private static LaneActivations q8_0Lanes(GgmlType weights, float[] x, int xo, int n) {
        int blocks = n / 32;
        int groups = blocks / LaneWeights.GROUP;
        LaneActivations a = new LaneActivations(weights, groups, false);
        float[] id = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            int in = xo + 32 * b;
            float amax = FloatVector.fromArray(F, x, in).abs().max(FloatVector.fromArray(F, x, in + 16).abs())
                    .reduceLanes(VectorOperators.MAX);
            if (!Float.isFinite(amax)) {
                return null;
            }
            float scale = amax / 127;
            id[b] = scale != 0 ? 1.0f / scale : 0.0f;
            a.d[b] = Float.float16ToFloat(Float.floatToFloat16(scale));
        }
        for (int g = 0; g < groups; g++) {
            FloatVector idA = FloatVector.fromArray(F, id, 32 * g);
            FloatVector idB = FloatVector.fromArray(F, id, 32 * g + 16);
            IntVector sumA = IntVector.zero(IntVector.SPECIES_512);
            IntVector sumB = sumA;
            int in = xo + 1024 * g;
            for (int j = 0; j < 32; j++) {
                IntVector qa = Q8Activations.roundHalfAway(FloatVector.fromArray(F, x, in + j, BLOCK_STRIDES, 0).mul(idA));
                IntVector qb = Q8Activations.roundHalfAway(FloatVector.fromArray(F, x, in + 512 + j, BLOCK_STRIDES, 0).mul(idB));
                sumA = sumA.add(qa);
                sumB = sumB.add(qb);
                qb.lanewise(VectorOperators.LSHL, 16).or(qa.and(0xFFFF)).reinterpretAsShorts().intoArray(a.xs, 1024 * g + 32 * j);
            }
            if (a.sum8.length > 0) {
                sumA.mul(8).intoArray(a.sum8, 32 * g);
                sumB.mul(8).intoArray(a.sum8, 32 * g + 16);
            }
        }
        return a;
    }

    /** The activations' quantization for {@code weights}: Q8_K for the K-quants, else Q8_0. */
    static GgmlType quantization(GgmlType weights) {
        return weights == GgmlType.Q4_K || weights == GgmlType.Q5_K || weights == GgmlType.Q6_K ? GgmlType.Q8_K : GgmlType.Q8_0;
    }

    /** {@code x[xo .. xo + n)} quantized to Q8_0 and repacked for Q4_0 weights (and the tiles' float copy). */
    static LaneActivations of(float[] x, int xo, int n) {
        return of(GgmlType.Q4_0, x, xo, n, true);
    }

    /**
     * {@code x[xo .. xo + n)} quantized as {@code weights}' kernels need ({@link #quantization}) and repacked: the
     * fields those kernels read, and the float copy only for the matmul tiles ({@code tiles}).
     */
    static LaneActivations of(GgmlType weights, float[] x, int xo, int n, boolean tiles) {
        GgmlType type = quantization(weights);
        if (type == GgmlType.Q8_0 && !tiles && n % 1024 == 0) {
            LaneActivations a = q8_0Lanes(weights, x, xo, n);
            if (a != null) {
                return a;
            }
        }
        Q8Activations q = Q8Activations.quantize(type, x, xo, n);
        int blocks = n / 32;
        int groups = (blocks + LaneWeights.GROUP - 1) / LaneWeights.GROUP;
        LaneActivations a = new LaneActivations(weights, groups, tiles);
        for (int b = 0; b < blocks; b++) {
            int g = b >> 5;
            int i = b & 31;
            int p = i < 16 ? 2 * i : 2 * (i - 16) + 1;
            int at = 1024 * g + p;
            if (a.xs.length > 0) {
                for (int j = 0; j < 32; j++) {
                    a.xs[at + 32 * j] = (short) q.q[32 * b + j];
                }
            }
            if (a.xn.length > 0) {
                for (int j = 0; j < 32; j++) {
                    int v = q.q[32 * b + j];
                    a.xn[at + 32 * j] = (short) -v;
                    a.xoff[128 * g + 32 * (j / 8) + p] += (short) (32 * v);
                }
            }
            if (a.xf.length > 0) {
                for (int j = 0; j < 32; j++) {
                    a.xf[1024 * g + 32 * j + i] = q.q[32 * b + j];
                }
            }
            a.d[b] = type == GgmlType.Q8_0 ? q.d[b] : q.d[b / 8];
            if (a.dkn.length > 0) {
                a.dkn[b] = -a.d[b];
            }
            if (a.sum8.length > 0) {
                a.sum8[b] = 8 * q.sums[b];
            }
            if (a.sums.length > 0) {
                a.sums[b] = q.sums[b];
            }
        }
        if (a.dk.length > 0) {
            System.arraycopy(q.d, 0, a.dk, 0, n / 256);
        }
        return a;
    }
}
