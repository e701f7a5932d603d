package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LaneKernelsTest {

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final GgmlType[] TYPES = { GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K };
    private static final KernelPool ONE = new KernelPool(1);
    private static final KernelPool TWO = new KernelPool(2);
    private static final KernelPool THREE = new KernelPool(3);

    @AfterAll
    static void closePools() {
        ONE.close();
        TWO.close();
        THREE.close();
    }

    private static float[] gaussian(int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /** Block counts below, at and above a group (32), and odd ones: the padded last group. */
    private static final int[][] SHAPES = { { 1, 32 }, { 3, 288 }, { 5, 1024 }, { 8, 1056 }, { 13, 2048 }, { 9, 3104 }, { 4, 32 * 65 } };

    /** K-quant rows hold whole super-blocks: 256, 768 (3, a padded group), 1024, 2304 (9), 4096, 4352 (17). */
    private static int[][] shapes(GgmlType type) {
        if (!superBlocks(type)) {
            return SHAPES;
        }
        return new int[][] { { 1, 256 }, { 3, 768 }, { 5, 1024 }, { 8, 2304 }, { 13, 4096 }, { 4, 256 * 17 } };
    }

    private static boolean superBlocks(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q5_K || type == GgmlType.Q6_K;
    }

    /** Far-apart rows computed together in matvec (4 computes as 2); each also sets another matmul tile shape and row block. */
    private static final int[] STREAMS = { 1, 2, 4 };

    @Test
    void matvecAndMatmulEqualTheScalarDefinitionBitForBit() {
        Random random = new Random(7);
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType type : TYPES) {
                for (int[] shape : shapes(type)) {
                    WeightMatrix w = MatrixKernelsTest.random(type, shape[0], shape[1], random, arena);
                    LaneWeights lw = LaneWeights.repack(w, arena);
                    for (int streams : STREAMS) {
                        LaneKernels.streams = streams;
                        LaneKernels.rowBlock = streams == 4 ? 6 : 48;
                        // 33 tokens: Q6_K's float tiles (in blocks of 6 or 48 rows), with a leftover token.
                        for (int tokens : new int[] { 1, 3, 4, 5, 8, 9, 33 }) {
                            int xs = shape[1] + 5;
                            int os = shape[0] + 2;
                            float[] x = gaussian(xs * tokens, random);
                            float[] out = new float[os * tokens];
                            LaneKernels.matmul(lw, x, xs, tokens, out, os, ONE);
                            for (int t = 0; t < tokens; t++) {
                                float[] mv = new float[shape[0]];
                                float[] xt = java.util.Arrays.copyOfRange(x, t * xs, t * xs + shape[1]);
                                LaneKernels.matvec(lw, xt, mv, ONE);
                                for (int r = 0; r < shape[0]; r++) {
                                    float ref = ReferenceDot.row(w, r, x, t * xs);
                                    String where = type + " " + shape[0] + "x" + shape[1] + " streams " + streams + " row " + r + " token " + t + "/" + tokens;
                                    assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(mv[r]), "matvec " + where);
                                    assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(out[t * os + r]), "matmul " + where);
                                }
                            }
                        }
                    }
                    LaneKernels.streams = 2;
                    LaneKernels.rowBlock = 32;
                }
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Random random = new Random(11);
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType type : TYPES) {
                WeightMatrix w = MatrixKernelsTest.random(type, 301, superBlocks(type) ? 4096 + 256 : 4096 + 96, random, arena);
                LaneWeights lw = LaneWeights.repack(w, arena);
                int tokens = 6;
                float[] x = gaussian(w.cols() * tokens, random);
                float[][] mm = new float[3][w.rows() * tokens];
                float[][] mv = new float[3][w.rows()];
                KernelPool[] pools = { ONE, TWO, THREE };
                for (int p = 0; p < 3; p++) {
                    LaneKernels.streams = 1 << p;
                    LaneKernels.matmul(lw, x, w.cols(), tokens, mm[p], w.rows(), pools[p]);
                    LaneKernels.matvec(lw, x, mv[p], pools[p]);
                }
                LaneKernels.streams = 2;
                for (int p = 1; p < 3; p++) {
                    assertTrue(java.util.Arrays.equals(mm[0], mm[p]), type + " matmul with " + pools[p].threads() + " threads");
                    assertTrue(java.util.Arrays.equals(mv[0], mv[p]), type + " matvec with " + pools[p].threads() + " threads");
                }
                for (int r = 0; r < w.rows(); r++) {
                    assertEquals(Float.floatToIntBits(mv[0][r]), Float.floatToIntBits(mm[0][r]), type + " matvec vs matmul column, row " + r);
                }
            }
        }
    }

    /** Negative, subnormal, zero and infinite F16 scales widen as Float.float16ToFloat does. */
    @Test
    void unusualScalesEqualTheScalarDefinition() {
        Random random = new Random(17);
        short[] scales = { Float.floatToFloat16(-0.02f), (short) 0x0001, (short) 0x03ff, (short) 0x8200, 0, (short) 0x8000,
            (short) 0x7bff, (short) 0x7c00, (short) 0xfc00 };
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType type : TYPES) {
                for (short scale : scales) {
                    WeightMatrix w = MatrixKernelsTest.random(type, 4, superBlocks(type) ? 256 * 5 : 32 * 40, random, arena);
                    long at = type == GgmlType.Q6_K ? 208 : 0;
                    for (long b = 0; b < w.byteSize(); b += type.typeSize()) {
                        if (random.nextInt(3) == 0) {
                            w.data().set(LE_SHORT, b + at, scale);
                        }
                    }
                    LaneWeights lw = LaneWeights.repack(w, arena);
                    float[] x = gaussian(4 * w.cols(), random);
                    float[] out = new float[4 * w.rows()];
                    LaneKernels.matmul(lw, x, w.cols(), 4, out, w.rows(), ONE);
                    float[] mv = new float[w.rows()];
                    LaneKernels.matvec(lw, x, mv, ONE);
                    for (int t = 0; t < 4; t++) {
                        for (int r = 0; r < w.rows(); r++) {
                            float ref = ReferenceDot.row(w, r, x, t * w.cols());
                            assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(out[t * w.rows() + r]),
                                    type + " scale 0x" + Integer.toHexString(scale & 0xffff) + " row " + r + " token " + t);
                            if (t == 0) {
                                assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(mv[r]), type + " matvec row " + r);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void repackingKeepsTheRowSizeWhenTheBlockCountIsWholeGroups() {
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType type : TYPES) {
                WeightMatrix w = MatrixKernelsTest.random(type, 2, 4096, new Random(1), arena);
                // The unpacked 6-bit scales: 4 bytes per super-block.
                long extra = type == GgmlType.Q4_K || type == GgmlType.Q5_K ? 16 * 4 : 0;
                assertEquals(w.rowBytes() + extra, LaneWeights.repack(w, arena).rowBytes(), type.toString());
            }
        }
    }

    /**
     * Q6_K at the extremes: every quant 0 (multiplier -32) against Q8_K quants of magnitude 127 (all
     * activations equal) with scales -128 gives |T_u| = 2 * 128 * 16 * 32 * 127, and int16 partial sums
     * of 8 * 32 * 127 = 32512 in the kernels; then quants 63 (multiplier 31) with scales 127, and mixed
     * extremes. (The reference quantizer never gives -128, so the 2^24 bound itself is not reachable from
     * floats; the kernels would be exact there too.)
     */
    @Test
    void q6KExtremesEqualTheScalarDefinition() {
        Random random = new Random(19);
        int cols = 256 * 9;
        try (Arena arena = Arena.ofShared()) {
            for (int pattern = 0; pattern < 4; pattern++) {
                WeightMatrix w = MatrixKernelsTest.random(GgmlType.Q6_K, 5, cols, random, arena);
                for (long b = 0; b < w.byteSize(); b += 210) {
                    for (int i = 0; i < 192; i++) {
                        byte q = switch (pattern) {
                            case 0 -> 0;                 // q = 0: multiplier -32
                            case 1 -> (byte) 0xff;       // q = 63: multiplier 31
                            case 2 -> (byte) (random.nextBoolean() ? 0 : 0xff);
                            default -> (byte) random.nextInt();
                        };
                        w.data().set(ValueLayout.JAVA_BYTE, b + i, q);
                    }
                    for (int i = 0; i < 16; i++) {
                        byte sc = switch (pattern) {
                            case 0 -> (byte) -128;
                            case 1 -> 127;
                            default -> (byte) (random.nextBoolean() ? -128 : 127);
                        };
                        w.data().set(ValueLayout.JAVA_BYTE, b + 192 + i, sc);
                    }
                }
                LaneWeights lw = LaneWeights.repack(w, arena);
                int tokens = 5;
                float[] x = new float[cols * tokens];
                for (int i = 0; i < x.length; i++) {
                    x[i] = switch (pattern) {
                        case 0 -> -1f;
                        case 1 -> 2f;
                        default -> random.nextBoolean() ? -3f : 3f * (float) random.nextDouble();
                    };
                }
                assertMatvecAndMatmulGiveTheReference(w, lw, x, tokens, "pattern " + pattern);
                if (pattern == 0) {
                    // Q8_K gives magnitude 127 to equal activations (never -128: |iscale * x| <= 127).
                    java.lang.foreign.MemorySegment xq = java.lang.foreign.MemorySegment.ofArray(new byte[(int) GgmlType.Q8_K.rowBytes(cols)]);
                    Quantize.q8K(x, 0, cols, xq, 0);
                    assertEquals(-127, xq.get(ValueLayout.JAVA_BYTE, 4));
                }
            }
        }
    }

    /**
     * Q5_0 at the extremes: every quant 31 (nibbles 15, fifth bits set; multiplier 15) or 0 (multiplier -16) against
     * Q8_0 quants of magnitude 127 (all activations equal): the int16 partial sums reach 8 * 31 * 127 = 31496 before
     * the offset is taken out; then quants 16 (fifth bit alone) and 15 (nibble alone), mixed extremes, random bytes.
     */
    @Test
    void q5_0ExtremesEqualTheScalarDefinition() {
        Random random = new Random(37);
        int cols = 32 * 70;
        try (Arena arena = Arena.ofShared()) {
            for (int pattern = 0; pattern < 6; pattern++) {
                WeightMatrix w = MatrixKernelsTest.random(GgmlType.Q5_0, 5, cols, random, arena);
                for (long b = 0; b < w.byteSize(); b += 22) {
                    for (int i = 0; i < 4; i++) {
                        w.data().set(ValueLayout.JAVA_BYTE, b + 2 + i, q5FifthBits(pattern, random));
                    }
                    for (int i = 0; i < 16; i++) {
                        w.data().set(ValueLayout.JAVA_BYTE, b + 6 + i, q5Nibbles(pattern, random));
                    }
                }
                int tokens = 5;
                assertMatvecAndMatmulGiveTheReference(w, LaneWeights.repack(w, arena), q5Activations(pattern, cols * tokens, random),
                        tokens, "pattern " + pattern);
            }
        }
    }

    /** The Q5_0 repacking against ggml's dequantization: every quant (nibble and fifth bit) and scale where the javadoc says. */
    @Test
    void q5_0RepackingMatchesDequantization() {
        Random random = new Random(41);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = MatrixKernelsTest.random(GgmlType.Q5_0, 3, 32 * 40, random, arena);
            LaneWeights lw = LaneWeights.repack(w, arena);
            for (int r = 0; r < w.rows(); r++) {
                float[] ref = MatrixKernelsTest.dequantizeRow(w, r);
                for (int u = 0; u < lw.groups() * LaneWeights.GROUP; u++) {
                    int g = u / 32;
                    int i = u % 32;
                    int p = i < 16 ? 2 * i : 2 * (i - 16) + 1;
                    long base = lw.rowOffset(r) + (long) g * lw.groupBytes();
                    float d = Half.f16ToFloat(lw.data().get(LE_SHORT, base + 640 + 2 * p));
                    for (int l = 0; l < 32; l++) {
                        int q = q5Quant(lw, base, p, l);
                        if (u >= w.cols() / 32) {
                            assertEquals(0, q, "padding quant");
                            assertEquals(0f, d, "padding scale");
                            continue;
                        }
                        assertEquals(Float.floatToIntBits(ref[32 * u + l]), Float.floatToIntBits((q - 16) * d),
                                "row " + r + " block " + u + " element " + l);
                    }
                }
            }
        }
    }

    /**
     * Q5_K at the extremes: every quant 31 (nibbles 15, fifth bits set) with scales and mins 63 against Q8_K
     * quants of magnitude 127 (all activations equal): each int16 partial sum of the matvec reaches
     * 8 * 31 * 127 = 31496, T_u 32 * 31 * 127; then quants 0, 16 (fifth bit alone) and 15 (nibble alone),
     * mixed extremes and random bytes.
     */
    @Test
    void q5KExtremesEqualTheScalarDefinition() {
        Random random = new Random(29);
        int cols = 256 * 9;
        try (Arena arena = Arena.ofShared()) {
            for (int pattern = 0; pattern < 6; pattern++) {
                WeightMatrix w = MatrixKernelsTest.random(GgmlType.Q5_K, 5, cols, random, arena);
                for (long b = 0; b < w.byteSize(); b += 176) {
                    for (int i = 0; i < 12; i++) {
                        byte sc = pattern == 5 ? (byte) random.nextInt() : pattern == 4 ? (byte) (random.nextBoolean() ? 0xff : 0) : (byte) 0xff;
                        w.data().set(ValueLayout.JAVA_BYTE, b + 4 + i, sc); // scales and mins 63 (pattern 0-3)
                    }
                    for (int i = 0; i < 32; i++) {
                        w.data().set(ValueLayout.JAVA_BYTE, b + 16 + i, q5FifthBits(pattern, random));
                    }
                    for (int i = 0; i < 128; i++) {
                        w.data().set(ValueLayout.JAVA_BYTE, b + 48 + i, q5Nibbles(pattern, random));
                    }
                }
                int tokens = 5;
                assertMatvecAndMatmulGiveTheReference(w, LaneWeights.repack(w, arena), q5Activations(pattern, cols * tokens, random),
                        tokens, "pattern " + pattern);
            }
        }
    }

    /** The Q5_K repacking against ggml's dequantization: every quant (nibble and fifth bit), scale, min, d and dmin where the javadoc says. */
    @Test
    void q5KRepackingMatchesDequantization() {
        Random random = new Random(31);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = MatrixKernelsTest.random(GgmlType.Q5_K, 3, 256 * 5, random, arena);
            LaneWeights lw = LaneWeights.repack(w, arena);
            for (int r = 0; r < w.rows(); r++) {
                float[] ref = MatrixKernelsTest.dequantizeRow(w, r);
                for (int u = 0; u < lw.groups() * LaneWeights.GROUP; u++) {
                    int g = u / 32;
                    int i = u % 32;
                    int p = i < 16 ? 2 * i : 2 * (i - 16) + 1;
                    long base = lw.rowOffset(r) + (long) g * lw.groupBytes();
                    float d = Half.f16ToFloat(lw.data().get(LE_SHORT, base + 704 + 2 * (i / 8)));
                    float dmin = Half.f16ToFloat(lw.data().get(LE_SHORT, base + 712 + 2 * (i / 8)));
                    int sc = lw.data().get(ValueLayout.JAVA_BYTE, base + 640 + p);
                    int mn = lw.data().get(ValueLayout.JAVA_BYTE, base + 672 + p);
                    for (int l = 0; l < 32; l++) {
                        int q = q5Quant(lw, base, p, l);
                        if (u >= w.cols() / 32) {
                            assertEquals(0, q, "padding quant");
                            assertEquals(0, sc, "padding scale");
                            assertEquals(0, mn, "padding min");
                            continue;
                        }
                        // ggml: y = d * sc * q - dmin * m, each product rounded as the C source reads.
                        float value = d * sc * q - dmin * mn;
                        assertEquals(Float.floatToIntBits(ref[32 * u + l]), Float.floatToIntBits(value), "row " + r + " sub-block " + u + " element " + l);
                    }
                }
            }
        }
    }

    /** The Q6_K repacking against ggml's dequantization: every element's multiplier and scale land where the javadoc says. */
    @Test
    void q6KRepackingMatchesDequantization() {
        Random random = new Random(23);
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix w = MatrixKernelsTest.random(GgmlType.Q6_K, 3, 256 * 5, random, arena);
            LaneWeights lw = LaneWeights.repack(w, arena);
            for (int r = 0; r < w.rows(); r++) {
                float[] ref = MatrixKernelsTest.dequantizeRow(w, r);
                for (int u = 0; u < lw.groups() * LaneWeights.GROUP; u++) {
                    int g = u / 32;
                    int i = u % 32;
                    int p = i < 16 ? 2 * i : 2 * (i - 16) + 1;
                    long base = lw.rowOffset(r) + (long) g * lw.groupBytes();
                    float d = Half.f16ToFloat(lw.data().get(LE_SHORT, base + 832 + 2 * (i / 8)));
                    for (int l = 0; l < 32; l++) {
                        int o = l / 8;
                        int k = l % 8;
                        int s0 = lw.data().get(LE_SHORT, base + 192 * o + 2 * p) & 0xFFFF;
                        int s1 = lw.data().get(LE_SHORT, base + 192 * o + 64 + 2 * p) & 0xFFFF;
                        int s2 = lw.data().get(LE_SHORT, base + 192 * o + 128 + 2 * p) & 0xFFFF;
                        int[] q = { s0 & 63, s0 >> 6 & 63, s1 & 63, s1 >> 6 & 63, s2 & 63, s2 >> 6 & 63,
                            s0 >> 12 | (s1 >> 12 & 3) << 4, s1 >> 14 | (s2 >> 12) << 2 };
                        int mult = q[k] - 32;
                        int sc = lw.data().get(ValueLayout.JAVA_BYTE, base + 768 + 32 * (l / 16) + p);
                        float value = d * sc * mult;
                        if (u >= w.cols() / 32) {
                            assertEquals(0, q[k], "padding quant");
                            assertEquals(0, sc, "padding scale");
                            continue;
                        }
                        assertEquals(Float.floatToIntBits(ref[32 * u + l]), Float.floatToIntBits(value), "row " + r + " sub-block " + u + " element " + l);
                    }
                }
            }
        }
    }

    /** Matmul of {@code tokens} tokens and each token's matvec over {@code lw} (repacked {@code w}): {@link ReferenceDot}'s bits. */
    private static void assertMatvecAndMatmulGiveTheReference(WeightMatrix w, LaneWeights lw, float[] x, int tokens, String label) {
        int cols = w.cols();
        float[] out = new float[w.rows() * tokens];
        LaneKernels.matmul(lw, x, cols, tokens, out, w.rows(), ONE);
        for (int t = 0; t < tokens; t++) {
            float[] mv = new float[w.rows()];
            LaneKernels.matvec(lw, java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), mv, ONE);
            for (int r = 0; r < w.rows(); r++) {
                float ref = ReferenceDot.row(w, r, x, t * cols);
                String where = label + " row " + r + " token " + t;
                assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(mv[r]), "matvec " + where);
                assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(out[t * w.rows() + r]), "matmul " + where);
            }
        }
    }

    /**
     * Element {@code l} (0..31) of the block at position {@code p} of the Q5_K / Q5_0 quant steps of the group at
     * {@code base}: its nibble with its fifth bit (see {@link LaneWeights}).
     */
    private static int q5Quant(LaneWeights lw, long base, int p, int l) {
        int j = l % 16;
        int nibbles = lw.data().get(ValueLayout.JAVA_BYTE, base + 160 * (j / 4) + 32 + 32 * (j % 4) + p) & 0xFF;
        int h = lw.data().get(ValueLayout.JAVA_BYTE, base + 160 * (j / 4) + p) & 0xFF;
        return l < 16 ? (nibbles & 15) | ((h >> (j % 4)) & 1) << 4 : (nibbles >> 4) | ((h >> (4 + j % 4)) & 1) << 4;
    }

    /** A byte of Q5 fifth bits for extremes pattern 0-5: all set (0, 2), none (1, 3), all or none (4), random (5). */
    private static byte q5FifthBits(int pattern, Random random) {
        return switch (pattern) {
            case 0, 2 -> (byte) 0xff;
            case 1, 3 -> 0;
            case 4 -> (byte) (random.nextBoolean() ? 0xff : 0);
            default -> (byte) random.nextInt();
        };
    }

    /** A byte of two Q5 nibbles for the same patterns: with {@link #q5FifthBits}, quants 31 (0), 0 (1), 16 (2), 15 (3). */
    private static byte q5Nibbles(int pattern, Random random) {
        return switch (pattern) {
            case 0, 3 -> (byte) 0xff;
            case 1, 2 -> 0;
            case 4 -> (byte) (random.nextBoolean() ? 0xff : 0);
            default -> (byte) random.nextInt();
        };
    }

    /** Activations for the same patterns: all -1 (0, 2: quants of magnitude 127) or all 2 (1, 3), else mixed. */
    private static float[] q5Activations(int pattern, int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (pattern) {
                case 0, 2 -> -1f;
                case 1, 3 -> 2f;
                default -> random.nextBoolean() ? -3f : 3f * (float) random.nextDouble();
            };
        }
        return x;
    }
}
