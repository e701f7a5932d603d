package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import static org.commonweal.kernels.OpsTest.assertBits;
import static org.commonweal.kernels.OpsTest.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * Attention over a KV cache laid out as llama.cpp's: per position a row holding every KV head, so one
 * head's vectors are {@code headDim} elements at {@code head * headDim * elementBytes + t * rowStride}.
 * The same F16-representable values are stored once as F32 and once as F16; both must give the same bits.
 */
class AttentionOpsTest {

    static final int KV_HEADS = 3;
    static final int HEAD = 1;

    /** Values on the F16 grid, so F32 and F16 caches hold exactly the same numbers. */
    static float[][] cacheValues(SplittableRandom random, int nPositions, int headDim) {
        float[][] v = new float[nPositions][KV_HEADS * headDim];
        for (float[] row : v) {
            for (int j = 0; j < row.length; j++) {
                row[j] = Half.f16ToFloat(Half.floatToF16((float) (random.nextDouble() * 4 - 2)));
            }
        }
        return v;
    }

    static MemorySegment store(Arena arena, float[][] rows, GgmlType type, int headDim) {
        int elementBytes = type == GgmlType.F32 ? 4 : 2;
        long rowStride = (long) KV_HEADS * headDim * elementBytes;
        MemorySegment segment = arena.allocate(rowStride * rows.length + 1, 1); // +1: unaligned start
        segment = segment.asSlice(1);
        for (int t = 0; t < rows.length; t++) {
            for (int j = 0; j < rows[t].length; j++) {
                long at = t * rowStride + (long) j * elementBytes;
                if (type == GgmlType.F32) {
                    segment.set(ScalarOps.F32_LE, at, rows[t][j]);
                } else {
                    segment.set(ScalarOps.F16_LE, at, Half.floatToF16(rows[t][j]));
                }
            }
        }
        return segment;
    }

    static long headOffset(GgmlType type, int headDim) {
        return (long) HEAD * headDim * (type == GgmlType.F32 ? 4 : 2);
    }

    static long rowStride(GgmlType type, int headDim) {
        return (long) KV_HEADS * headDim * (type == GgmlType.F32 ? 4 : 2);
    }

    @Test
    void scoresMatchReferenceAtBothWidthsAndF16EqualsF32() {
        SplittableRandom random = new SplittableRandom(20);
        try (Arena arena = Arena.ofConfined()) {
            for (int headDim : new int[] {1, 15, 16, 17, 64, 80, 128, 131}) {
                for (int nPositions : new int[] {1, 5, 33}) {
                    float[][] rows = cacheValues(random, nPositions, headDim);
                    float[] q = OpsTest.random(random, headDim + 2, 1.5f);
                    float scale = (float) (1 / Math.sqrt(headDim));
                    float[] f32Scores = null;
                    for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
                        MemorySegment keys = store(arena, rows, type, headDim);
                        String at = type + " headDim=" + headDim + " nPositions=" + nPositions;
                        float[] expected = new float[nPositions + 1];
                        ScalarOps.attentionScores(expected, q, 2, keys, type, headOffset(type, headDim),
                                rowStride(type, headDim), headDim, nPositions, scale);
                        for (boolean wide : OpsTest.WIDTHS) {
                            float[] actual = new float[nPositions + 1];
                            Ops.attentionScores(actual, q, 2, keys, type, headOffset(type, headDim),
                                    rowStride(type, headDim), headDim, nPositions, scale, wide);
                            assertBits(expected, actual, "scores " + at + " wide=" + wide);
                        }
                        float[] actual = new float[nPositions + 1];
                        Ops.attentionScores(actual, q, 2, keys, type, headOffset(type, headDim),
                                rowStride(type, headDim), headDim, nPositions, scale);
                        assertBits(expected, actual, "scores public " + at);
                        if (f32Scores == null) {
                            f32Scores = expected;
                        } else {
                            assertBits(f32Scores, expected, "F16 vs F32 cache, " + at);
                        }
                        for (int t = 0; t < nPositions; t++) {
                            double dot = 0;
                            for (int j = 0; j < headDim; j++) {
                                dot += (double) q[2 + j] * rows[t][HEAD * headDim + j];
                            }
                            assertEquals(dot * scale, expected[t], 1e-5, "score of position " + t + ", " + at);
                        }
                    }
                }
            }
        }
    }

    @Test
    void weightedSumMatchesReferenceAndF16EqualsF32() {
        SplittableRandom random = new SplittableRandom(21);
        try (Arena arena = Arena.ofConfined()) {
            for (int headDim : new int[] {1, 15, 16, 17, 64, 80, 128, 131}) {
                for (int nPositions : new int[] {0, 1, 5, 33}) {
                    float[][] rows = cacheValues(random, nPositions, headDim);
                    float[] probs = OpsTest.random(random, nPositions, 1f);
                    if (nPositions > 0) {
                        Ops.softmax(probs, 0, nPositions);
                    }
                    float[] f32Out = null;
                    for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
                        MemorySegment values = store(arena, rows, type, headDim);
                        String at = type + " headDim=" + headDim + " nPositions=" + nPositions;
                        float[] expected = new float[headDim + 3];
                        ScalarOps.attentionWeightedSum(expected, 3, probs, values, type, headOffset(type, headDim),
                                rowStride(type, headDim), headDim, nPositions);
                        float[] actual = new float[headDim + 3];
                        java.util.Arrays.fill(actual, 9f); // must be overwritten, not accumulated into
                        actual[0] = actual[1] = actual[2] = 0f;
                        Ops.attentionWeightedSum(actual, 3, probs, values, type, headOffset(type, headDim),
                                rowStride(type, headDim), headDim, nPositions);
                        assertBits(expected, actual, "weighted sum " + at);
                        if (f32Out == null) {
                            f32Out = expected;
                        } else {
                            assertBits(f32Out, expected, "F16 vs F32 cache, " + at);
                        }
                        for (int j = 0; j < headDim; j++) {
                            double sum = 0;
                            for (int t = 0; t < nPositions; t++) {
                                sum += (double) probs[t] * rows[t][HEAD * headDim + j];
                            }
                            assertEquals(sum, expected[3 + j], 1e-5, "element " + j + ", " + at);
                        }
                    }
                }
            }
        }
    }

    @Test
    void onePositionGivesItsValueVector() {
        try (Arena arena = Arena.ofConfined()) {
            float[][] rows = {{0.5f, -1f, 2f, 4f, 8f, 1f, 0f, 3f, -2f}};
            MemorySegment values = store(arena, rows, GgmlType.F16, 3);
            float[] out = new float[3];
            Ops.attentionWeightedSum(out, 0, new float[] {1f}, values, GgmlType.F16, headOffset(GgmlType.F16, 3),
                    rowStride(GgmlType.F16, 3), 3, 1);
            assertBits(new float[] {4f, 8f, 1f}, out, "head 1 of the only position");
        }
    }

    @Test
    void badCachesFailNamingTheCause() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cache = arena.allocate(4 * 16 * 4);
            float[] q = new float[16];
            float[] scores = new float[4];

            String m = fails(() -> Ops.attentionScores(scores, q, 0, cache, GgmlType.Q8_0, 0, 64, 16, 4, 1f))
                    .getMessage();
            assertTrue(m.contains("Q8_0") && m.contains("F32 or F16"), m);
            m = fails(() -> Ops.attentionWeightedSum(q, 0, scores, cache, GgmlType.BF16, 0, 64, 16, 4)).getMessage();
            assertTrue(m.contains("attentionWeightedSum") && m.contains("BF16"), m);
            m = fails(() -> Ops.attentionScores(scores, q, 0, cache, GgmlType.F32, 4, 64, 16, 4, 1f)).getMessage();
            assertTrue(m.contains("need 260 bytes") && m.contains("holds 256"), m);
            m = fails(() -> Ops.attentionScores(scores, q, 0, cache, GgmlType.F32, 0, 32, 16, 4, 1f)).getMessage();
            assertTrue(m.contains("rowStrideBytes 32") && m.contains("64 bytes"), m);
            m = fails(() -> Ops.attentionScores(new float[3], q, 0, cache, GgmlType.F32, 0, 64, 16, 4, 1f))
                    .getMessage();
            assertTrue(m.contains("scores") && m.contains("[0, 4)") && m.contains("length 3"), m);
            m = fails(() -> Ops.attentionScores(scores, q, 1, cache, GgmlType.F32, 0, 64, 16, 4, 1f)).getMessage();
            assertTrue(m.contains("q (headDim)[1, 17)"), m);
            m = fails(() -> Ops.attentionWeightedSum(q, 0, scores, cache, GgmlType.F16, -2, 32, 16, 4)).getMessage();
            assertTrue(m.contains("headOffsetBytes -2"), m);
            m = fails(() -> Ops.attentionWeightedSum(q, 0, scores, cache, GgmlType.F16, 0, Long.MAX_VALUE / 2, 16, 4))
                    .getMessage();
            assertTrue(m.contains("more than Long.MAX_VALUE"), m);
            m = fails(() -> Ops.attentionScores(scores, q, 0, cache, GgmlType.F32, 0, 64, 0, 4, 1f)).getMessage();
            assertTrue(m.contains("headDim is 0"), m);
            float[] shared = new float[24];
            m = fails(() -> Ops.attentionWeightedSum(shared, 3, shared, cache, GgmlType.F32, 0, 64, 16, 4))
                    .getMessage();
            assertTrue(m.contains("out[3, 19)") && m.contains("probs[0, 4)") && m.contains("overlap"), m);
            Ops.attentionWeightedSum(shared, 4, shared, cache, GgmlType.F32, 0, 64, 16, 4); // adjacent is fine
            m = fails(() -> Ops.attentionScores(scores, q, 0, MemorySegment.ofArray(new float[64]), GgmlType.F32,
                    0, 64, 16, 4, 1f)).getMessage();
            assertTrue(m.contains("heap segment over float[]") && m.contains("byte[]"), m);
            float[] viaBytes = new float[4];
            Ops.attentionScores(viaBytes, q, 0, MemorySegment.ofArray(new byte[256]), GgmlType.F32, 0, 64, 16, 4, 1f);
            assertBits(new float[4], viaBytes, "scores over a zeroed byte[] segment");
        }
    }
}
