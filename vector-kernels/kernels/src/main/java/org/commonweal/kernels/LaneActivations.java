package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;

/**
 * One token's activations, quantized to Q8_0 (for Q4_0, Q8_0 weights) or Q8_K (for Q4_K, Q6_K) exactly as
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
    /** 8 times the sum of each block's quants (natural order): the Q4_0 nibbles' offset. */
    final int[] sum8;
    /** The sum of each block's quants (natural order): the Q4_K mins' operand. */
    final int[] sums;
    /** The same sums as floats (exact). */
    final float[] sumf;

    private LaneActivations(int groups) {
        xs = new short[groups * 1024];
        xn = new short[groups * 1024];
        xoff = new short[groups * 128];
        xf = new float[groups * 1024];
        d = new float[groups * 32];
        dk = new float[groups * 4];
        dkn = new float[groups * 32];
        sum8 = new int[groups * 32];
        sums = new int[groups * 32];
        sumf = new float[groups * 32];
    }

    /** {@code x[xo .. xo + n)} quantized to Q8_0 and repacked. */
    static LaneActivations of(float[] x, int xo, int n) {
        return of(GgmlType.Q8_0, x, xo, n);
    }

    /** {@code x[xo .. xo + n)} quantized to {@code type} (Q8_0 or Q8_K) and repacked. */
    static LaneActivations of(GgmlType type, float[] x, int xo, int n) {
        Q8Activations q = Q8Activations.quantize(type, x, xo, n);
        int blocks = n / 32;
        int groups = (blocks + LaneWeights.GROUP - 1) / LaneWeights.GROUP;
        LaneActivations a = new LaneActivations(groups);
        for (int b = 0; b < blocks; b++) {
            int g = b >> 5;
            int i = b & 31;
            int p = i < 16 ? 2 * i : 2 * (i - 16) + 1;
            for (int j = 0; j < 32; j++) {
                int v = q.q[32 * b + j];
                a.xs[1024 * g + 32 * j + p] = (short) v;
                a.xn[1024 * g + 32 * j + p] = (short) -v;
                a.xoff[128 * g + 32 * (j / 8) + p] += (short) (32 * v);
                a.xf[1024 * g + 32 * j + i] = v;
            }
            a.d[b] = type == GgmlType.Q8_0 ? q.d[b] : q.d[b / 8];
            a.dkn[b] = -a.d[b];
            a.sum8[b] = 8 * q.sums[b];
            a.sums[b] = q.sums[b];
            a.sumf[b] = q.sums[b];
        }
        if (type == GgmlType.Q8_K) {
            System.arraycopy(q.d, 0, a.dk, 0, n / 256);
        }
        return a;
    }
}
