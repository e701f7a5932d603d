package org.commonweal.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.commonweal.kernels.types.GgmlType;
import org.junit.jupiter.api.Test;

/** The direct Q8_0 lane layout (whole groups, no tiles) against the generic path: the same quants, scales and sums. */
class LaneActivationsTest {

    @Test
    void directQ8_0LanesEqualTheGenericPath() {
        SplittableRandom random = new SplittableRandom(5);
        for (int n : new int[] {1024, 2048, 8192}) {
            for (GgmlType weights : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0}) {
                float[] x = new float[n + 7];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (random.nextGaussian() * Math.exp(random.nextDouble() * 6 - 3));
                }
                java.util.Arrays.fill(x, 3 + 64, 3 + 96, 0f); // a block of zeros: scale 0
                for (int j = 0; j < 32; j++) {
                    x[3 + 128 + j] = (j - 15.5f) * 127f / 16.5f; // halves after scaling: the rounding's ties
                }
                x[3 + 160] = -x[3 + 161]; // a block whose largest magnitude is negative
                LaneActivations direct = LaneActivations.of(weights, x, 3, n, false);
                LaneActivations generic = LaneActivations.of(weights, x, 3, n, true);
                String at = weights + " n=" + n;
                assertArrayEquals(generic.xs, direct.xs, at + ": quants");
                assertArrayEquals(generic.d, direct.d, at + ": scales");
                assertArrayEquals(generic.sum8, direct.sum8, at + ": 8 x sums");
            }
        }
        float[] inf = new float[1024];
        inf[40] = Float.POSITIVE_INFINITY;
        assertArrayEquals(LaneActivations.of(GgmlType.Q4_0, inf, 0, 1024, true).xs,
                LaneActivations.of(GgmlType.Q4_0, inf, 0, 1024, false).xs, "a block with an infinity: the generic path");
    }
}
