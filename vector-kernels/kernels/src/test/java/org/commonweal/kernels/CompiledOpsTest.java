package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import static org.commonweal.kernels.OpsTest.assertBits;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The other tests mostly run the Vector API interpreted, where it is plain Java. Production runs it
 * compiled by C2 into SIMD instructions (masked loads, blends, vector max and fma). This test calls the
 * kernels often enough to get them compiled and checks every result against the reference, bit for bit.
 * (softmax is left out: its reductions are {@code fold}, checked here, and its exp is scalar.)
 */
class CompiledOpsTest {

    /** About 1 s here; C2 compiled the kernels after roughly 100k calls (seen with -XX:+PrintCompilation). */
    static final int ROUNDS = 150_000;

    @Test
    void compiledKernelsStillMatchTheReference() {
        SplittableRandom random = new SplittableRandom(30);
        int n = 37;
        int headDim = 18;
        int nPositions = 7;
        float[] x = OpsTest.random(random, n, 6f);
        float[] w = OpsTest.random(random, n, 2f);
        float[] rope = OpsTest.random(random, 2 * headDim, 2f);
        float[] q = OpsTest.random(random, headDim, 1f);
        float[] probs = OpsTest.random(random, nPositions, 1f);

        float dot = ScalarOps.dot(x, 0, w, 0, n);
        float max = ScalarOps.max(x, 0, n);
        float[] norm = new float[n];
        ScalarOps.rmsNorm(norm, 0, x, 0, w, n, 1e-5f);
        float[] rotated = rope.clone();
        ScalarOps.rope(rotated, 0, 2, headDim, 9, 10000f, false);
        float[] sum = new float[n];
        ScalarOps.add(sum, 0, x, 0, w, 0, n);

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cache = arena.allocate(4L * headDim * nPositions);
            for (int i = 0; i < headDim * nPositions; i++) {
                cache.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble());
            }
            float[] scores = new float[nPositions];
            ScalarOps.attentionScores(scores, q, 0, cache, GgmlType.F32, 0, 4L * headDim, headDim, nPositions, 0.25f);
            float[] weighted = new float[headDim];
            ScalarOps.attentionWeightedSum(weighted, 0, probs, cache, GgmlType.F32, 0, 4L * headDim, headDim,
                    nPositions);

            float[] out = new float[n];
            float[] outScores = new float[nPositions];
            float[] outHead = new float[headDim];
            for (int round = 0; round < ROUNDS; round++) {
                boolean wide = (round & 1) == 0;
                assertBits(dot, Ops.dot(x, 0, w, 0, n, wide), "dot, round " + round);
                assertBits(max, Ops.fold(x, 0, n, true, wide), "max, round " + round);
                Ops.rmsNorm(out, 0, x, 0, w, n, 1e-5f, wide);
                assertBits(norm, out, "rmsNorm, round " + round);
                float[] r = rope.clone();
                Ops.rope(r, 0, 2, headDim, 9, 10000f, false);
                assertBits(rotated, r, "rope, round " + round);
                Ops.add(out, 0, x, 0, w, 0, n);
                assertBits(sum, out, "add, round " + round);
                Ops.attentionScores(outScores, q, 0, cache, GgmlType.F32, 0, 4L * headDim, headDim, nPositions,
                        0.25f, wide);
                assertBits(scores, outScores, "scores, round " + round);
                Ops.attentionWeightedSum(outHead, 0, probs, cache, GgmlType.F32, 0, 4L * headDim, headDim,
                        nPositions);
                assertBits(weighted, outHead, "weighted sum, round " + round);
            }
        }
    }
}
