package org.commonweal.kernels;

/**
 * One token's activations, quantized to Q8_0 exactly as {@link Q8Activations} does, then laid out in
 * the order of {@link LaneWeights} (groups of 32 blocks, padded with zeros).
 */
final class LaneActivations {

    /** Per group, per element j (0..31), the quant of block {@code perm(p)} at {@code [1024 g + 32 j + p]}: the int16 kernels' operand. */
    final short[] xs;
    /** Per group, per element j, the quant of block {@code i} at {@code [1024 g + 32 j + i]} (natural block order), as float: the matmul tiles' operand. */
    final float[] xf;
    /** The scale of each block (natural order), zero for padding. */
    final float[] d;
    /** 8 times the sum of each block's quants (natural order): the Q4_0 nibbles' offset. */
    final int[] sum8;

    private LaneActivations(int groups) {
        xs = new short[groups * 1024];
        xf = new float[groups * 1024];
        d = new float[groups * 32];
        sum8 = new int[groups * 32];
    }

    /** {@code x[xo .. xo + n)} quantized to Q8_0 and repacked. */
    static LaneActivations of(float[] x, int xo, int n) {
        Q8Activations q = Q8Activations.quantize(GgmlType.Q8_0, x, xo, n);
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
                a.xf[1024 * g + 32 * j + i] = v;
            }
            a.d[b] = q.d[b];
            a.sum8[b] = 8 * q.sums[b];
        }
        return a;
    }
}
