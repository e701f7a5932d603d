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
    private static final GgmlType[] TYPES = { GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K };
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

    /** Q4_K rows hold whole super-blocks: 256, 768 (3, a padded group), 1024, 2304 (9), 4096. */
    private static int[][] shapes(GgmlType type) {
        if (type != GgmlType.Q4_K) {
            return SHAPES;
        }
        return new int[][] { { 1, 256 }, { 3, 768 }, { 5, 1024 }, { 8, 2304 }, { 13, 4096 }, { 4, 256 * 17 } };
    }

    /** Far-apart rows computed together in matvec; each also sets another matmul tile shape and row block. */
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
                        LaneKernels.tileRows = streams == 2 ? 4 : 6;
                        LaneKernels.rowBlock = streams == 4 ? 6 : 48;
                        // The float tiles from two tokens on, or (as in use) the integer kernels below their threshold.
                        LaneKernels.intTokens = streams == 2;
                        for (int tokens : new int[] { 1, 3, 4, 5, 8, 9 }) {
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
                    LaneKernels.tileRows = 4;
                    LaneKernels.rowBlock = 32;
                    LaneKernels.intTokens = true;
                }
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Random random = new Random(11);
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType type : TYPES) {
                WeightMatrix w = MatrixKernelsTest.random(type, 301, type == GgmlType.Q4_K ? 4096 + 256 : 4096 + 96, random, arena);
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
                    WeightMatrix w = MatrixKernelsTest.random(type, 4, type == GgmlType.Q4_K ? 256 * 5 : 32 * 40, random, arena);
                    for (long b = 0; b < w.byteSize(); b += type.typeSize()) {
                        if (random.nextInt(3) == 0) {
                            w.data().set(LE_SHORT, b, scale);
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
                long extra = type == GgmlType.Q4_K ? 16 * 4 : 0; // the unpacked 6-bit scales: 4 bytes per super-block
                assertEquals(w.rowBytes() + extra, LaneWeights.repack(w, arena).rowBytes(), type.toString());
            }
        }
    }
}
