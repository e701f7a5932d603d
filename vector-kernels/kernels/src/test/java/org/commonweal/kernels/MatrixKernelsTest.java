package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class MatrixKernelsTest {

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final KernelPool ONE = new KernelPool(1);
    private static final KernelPool TWO = new KernelPool(2);
    private static final KernelPool THREE = new KernelPool(3);

    @AfterAll
    static void closePools() {
        ONE.close();
        TWO.close();
        THREE.close();
    }

    /** Random weights of a type: random payload bytes, every scale a finite F16 (or float) of sane size. */
    static WeightMatrix random(GgmlType type, int rows, int cols, Random random, Arena arena) {
        long bytes = rows * type.rowBytes(cols);
        MemorySegment m = arena.allocate(bytes + 3).asSlice(3); // deliberately unaligned
        for (long i = 0; i < bytes; i++) {
            m.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
        }
        for (long b = 0; b < bytes; b += type.typeSize()) {
            short scale = Float.floatToFloat16((float) (0.001 + random.nextDouble() * 0.05));
            switch (type) {
                case F32 -> m.set(LE_FLOAT, b, (float) random.nextGaussian());
                case F16 -> m.set(LE_SHORT, b, Float.floatToFloat16((float) random.nextGaussian()));
                case BF16 -> m.set(LE_SHORT, b, Half.floatToBf16((float) random.nextGaussian()));
                case Q8_0, Q4_0, Q5_0 -> m.set(LE_SHORT, b, scale);
                case Q4_1, Q4_K, Q5_K -> {
                    m.set(LE_SHORT, b, scale);
                    m.set(LE_SHORT, b + 2, scale);
                }
                case Q6_K -> m.set(LE_SHORT, b + 208, scale);
                case Q8_K -> m.set(LE_FLOAT, b, 0.01f);
            }
        }
        return new WeightMatrix(type, m, 0, rows, cols);
    }

    /** The reference: ggml's dequantization of row r. */
    static float[] dequantizeRow(WeightMatrix w, int r) {
        float[] out = new float[w.cols()];
        Dequantize.row(w.type(), w.data(), w.rowOffset(r), out, 0, w.cols());
        return out;
    }

    private static float[] gaussian(int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    @Test
    void everyPathEqualsTheScalarDefinitionBitForBit() {
        Random random = new Random(42);
        int[][] shapes = { { 1, 256 }, { 3, 512 }, { 17, 768 }, { 6, 256 } };
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : GgmlType.values()) {
                for (int[] shape : shapes) {
                    WeightMatrix w = random(type, shape[0], shape[1], random, arena);
                    for (int tokens : new int[] { 1, 2, 4, 5, 9, 33 }) {
                        int stride = shape[1] + 7;
                        float[] x = gaussian(stride * tokens, random);
                        float[] out = new float[shape[0] * tokens];
                        float[] packed = new float[shape[0] * tokens];
                        MatrixKernels.matmul(w, x, stride, tokens, out, shape[0], ONE);
                        MatrixKernels.matmul(PackedMatrix.of(w, arena, true), x, stride, tokens, packed, shape[0], ONE);
                        for (int r = 0; r < shape[0]; r++) {
                            for (int t = 0; t < tokens; t++) {
                                float expected = ReferenceDot.row(w, r, x, t * stride);
                                String where = type + " " + shape[0] + "x" + shape[1] + " row " + r + " token " + t + " of " + tokens;
                                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[t * shape[0] + r]), where);
                                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(packed[t * shape[0] + r]),
                                        where + ", packed");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Random shapes (seeded, so a failure repeats): rows up to 150 (several 64-row matvec chunks and
     * every leftover of the 4-row kernels), columns up to 2560 (several 1024-column cache blocks of the
     * matmul tiles, F32 tails), 1 to 9 tokens (odd ones left over by the tiles), 1 to 3 threads. Every
     * output equals the scalar definition bit for bit.
     */
    @Test
    void randomShapesEqualTheScalarDefinitionBitForBit() {
        Random random = new Random(2026);
        KernelPool[] pools = { ONE, TWO, THREE };
        try (Arena arena = Arena.ofShared()) {
            for (int trial = 0; trial < 150; trial++) {
                GgmlType type = GgmlType.values()[random.nextInt(GgmlType.values().length)];
                int block = type.blockSize();
                int rows = 1 + random.nextInt(150);
                int cols = type == GgmlType.F32 && random.nextBoolean() ? 1 + random.nextInt(2560)
                        : block * (1 + random.nextInt(2560 / block));
                int tokens = 1 + random.nextInt(9);
                int stride = cols + random.nextInt(5);
                KernelPool pool = pools[random.nextInt(3)];
                WeightMatrix w = random(type, rows, cols, random, arena);
                float[] x = gaussian(stride * tokens, random);
                float[] out = new float[rows * tokens];
                float[] packed = new float[rows * tokens];
                MatrixKernels.matmul(w, x, stride, tokens, out, rows, pool);
                MatrixKernels.matmul(PackedMatrix.of(w, arena, random.nextBoolean()), x, stride, tokens, packed, rows, pool);
                for (int r = 0; r < rows; r++) {
                    for (int t = 0; t < tokens; t++) {
                        float expected = ReferenceDot.row(w, r, x, t * stride);
                        String where = type + " " + rows + "x" + cols + " x " + tokens + " tokens on " + pool.threads()
                                + " threads: row " + r + " token " + t;
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[t * rows + r]), where);
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(packed[t * rows + r]),
                                where + ", packed");
                    }
                }
            }
        }
    }

    @Test
    void theActivationQuantizerWritesGgmlsReferenceValues() {
        Random random = new Random(11);
        for (int n : new int[] { 256, 512, 4096 }) {
            float[] x = gaussian(n + 5, random);
            x[7] = 0;
            java.util.Arrays.fill(x, 32, 64, 0f); // an all-zero Q8_0 block
            float[] halves = { 127f, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -1.5f, 126.49f, -0f, -126.5f, 0.49999997f, -0.49999997f };
            System.arraycopy(halves, 0, x, 5 + 64, halves.length); // block 2: d = 1, halfway cases round away from 0
            x[5 + 100] = Float.NaN; // block 3 goes through the scalar code
            MemorySegment q8_0 = MemorySegment.ofArray(new byte[(int) GgmlType.Q8_0.rowBytes(n)]);
            Quantize.q8_0(x, 5, n, q8_0, 0);
            Q8Activations a = Q8Activations.quantize(GgmlType.Q8_0, x, 5, n);
            for (int b = 0; b < n / 32; b++) {
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(q8_0.get(LE_SHORT, 34L * b))),
                        Float.floatToRawIntBits(a.d[b]), "Q8_0 scale " + b);
                int sum = 0;
                for (int j = 0; j < 32; j++) {
                    byte expected = q8_0.get(ValueLayout.JAVA_BYTE, 34L * b + 2 + j);
                    assertEquals(expected, a.q[32 * b + j], "Q8_0 quant " + (32 * b + j));
                    assertEquals((float) expected, a.qf[32 * b + j]);
                    sum += expected;
                }
                assertEquals(sum, a.sums[b]);
            }
            MemorySegment q8K = MemorySegment.ofArray(new byte[(int) GgmlType.Q8_K.rowBytes(n)]);
            Quantize.q8K(x, 5, n, q8K, 0);
            Q8Activations k = Q8Activations.quantize(GgmlType.Q8_K, x, 5, n);
            for (int b = 0; b < n / 256; b++) {
                assertEquals(q8K.get(LE_FLOAT, 292L * b), k.d[b], "Q8_K scale " + b);
                for (int j = 0; j < 256; j++) {
                    assertEquals(q8K.get(ValueLayout.JAVA_BYTE, 292L * b + 4 + j), k.q[256 * b + j], "Q8_K quant");
                }
                for (int g = 0; g < 8; g++) {
                    int expected = q8K.get(LE_SHORT, 292L * b + 260 + 4 * g) + q8K.get(LE_SHORT, 292L * b + 262 + 4 * g);
                    assertEquals(expected, k.sums[8 * b + g], "Q8_K sums of 32");
                }
            }
        }
    }

    @Test
    void quantizedProductsStayCloseToTheFloatProduct() {
        // The spec quantizes activations (as ggml does): results differ from dot16(dequantize(row), x)
        // by the activation rounding only, a small relative error for Gaussian data.
        Random random = new Random(5);
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : new GgmlType[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
                    GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K }) {
                WeightMatrix w = random(type, 8, 1024, random, arena);
                float[] x = gaussian(1024, random);
                float[] out = new float[8];
                MatrixKernels.matvec(w, x, out, ONE);
                for (int r = 0; r < 8; r++) {
                    float[] row = dequantizeRow(w, r);
                    double exact = 0;
                    double scale = 0;
                    for (int c = 0; c < 1024; c++) {
                        exact += (double) row[c] * x[c];
                        scale += Math.abs((double) row[c] * x[c]);
                    }
                    assertTrue(Math.abs(out[r] - exact) <= 0.02 * scale, type + " row " + r + ": " + out[r] + " vs " + exact);
                }
            }
        }
    }

    @Test
    void f32RowsOfAnyLengthIncludingTails() {
        Random random = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] { 1, 15, 16, 17, 31, 33, 257 }) {
                WeightMatrix w = random(GgmlType.F32, 5, cols, random, arena);
                float[] x = gaussian(cols, random);
                float[] out = new float[5];
                MatrixKernels.matvec(w, x, out, ONE);
                for (int r = 0; r < 5; r++) {
                    float[] row = new float[cols];
                    MemorySegment.copy(w.data(), LE_FLOAT, w.rowOffset(r), row, 0, cols);
                    assertEquals(Float.floatToRawIntBits(MatrixKernels.referenceDot(row, 0, x, 0, cols)),
                            Float.floatToRawIntBits(out[r]), "cols " + cols + " row " + r);
                }
            }
        }
    }

    /**
     * Interleaved F32: every element where the layout says (whole groups, tail columns, the rows after the last
     * group), and every product equal to the scalar definition bit for bit: 0 to 3 whole groups and 0 to 5 rows
     * after them, tails of 0, 1 and 15 columns, more than one 1024-column block, token counts that leave 1 to 3 tokens
     * after the quads, 1 to 3 threads.
     */
    @Test
    void interleavedF32PutsEachElementInItsPlaceAndGivesTheSameBits() {
        Random random = new Random(11);
        KernelPool[] pools = { ONE, TWO, THREE };
        try (Arena arena = Arena.ofShared()) {
            for (int rows : new int[] { 1, 5, 6, 7, 12, 23 }) {
                for (int cols : new int[] { 16, 17, 1040, 2063 }) {
                    WeightMatrix w = random(GgmlType.F32, rows, cols, random, arena);
                    InterleavedF32 p = PackedMatrix.of(w, arena, false).interleaved();
                    int whole = cols & ~15;
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < cols; c++) {
                            int g = r / 6;
                            int i = r % 6;
                            long at = g == p.groups() ? p.groupOffset(g) + 4L * ((long) (r - 6 * g) * cols + c)
                                    : c < whole ? p.groupOffset(g) + 24L * (c & ~15) + 64L * i + 4L * (c & 15)
                                    : p.groupOffset(g) + 24L * whole + 4L * (cols - whole) * i + 4L * (c - whole);
                            assertEquals(Float.floatToRawIntBits(w.data().get(LE_FLOAT, w.rowOffset(r) + 4L * c)),
                                    Float.floatToRawIntBits(p.data().get(LE_FLOAT, at)), rows + "x" + cols + " (" + r + ", " + c + ")");
                        }
                    }
                    for (int tokens : new int[] { 1, 3, 4, 6, 9 }) {
                        KernelPool pool = pools[random.nextInt(3)];
                        float[] x = gaussian(cols * tokens, random);
                        float[] out = new float[rows * tokens];
                        p.matmul(x, cols, tokens, out, rows, pool);
                        for (int r = 0; r < rows; r++) {
                            for (int t = 0; t < tokens; t++) {
                                assertEquals(Float.floatToRawIntBits(ReferenceDot.row(w, r, x, t * cols)),
                                        Float.floatToRawIntBits(out[t * rows + r]), rows + "x" + cols + " x " + tokens
                                        + " tokens on " + pool.threads() + " threads: row " + r + " token " + t);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Exactly the types with "lane = block" kernels are repacked for them, and F32 is interleaved (the others keep
     * GGUF's layout and go through UnpackedRows).
     */
    @Test
    void theLaneTypesAndF32AreRepacked() {
        java.util.Set<GgmlType> lanes = java.util.EnumSet.of(GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : GgmlType.values()) {
                assertEquals(lanes.contains(type) || type == GgmlType.F32, PackedMatrix.repacks(type), type.toString());
                PackedMatrix p = PackedMatrix.of(random(type, 2, 256, new Random(1), arena), arena, false);
                assertEquals(lanes.contains(type), p.lanes() != null, type + " packed");
                assertEquals(type == GgmlType.F32, p.interleaved() != null, type + " interleaved");
                assertEquals(PackedMatrix.repacks(type), p.plain() == null, type + " kept in GGUF's layout");
            }
        }
    }

    @Test
    void bitIdenticalWhateverTheThreadCount() {
        Random random = new Random(3);
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType type : new GgmlType[] { GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K,
                    GgmlType.Q6_K, GgmlType.Q5_K }) {
                WeightMatrix w = random(type, 1001, 512, random, arena);
                PackedMatrix p = PackedMatrix.of(w, arena, false);
                float[] x = gaussian(512 * 6, random);
                float[] one = new float[1001 * 6];
                MatrixKernels.matmul(w, x, 512, 6, one, 1001, ONE);
                for (KernelPool pool : new KernelPool[] { ONE, TWO, THREE }) {
                    float[] plain = new float[1001 * 6];
                    float[] packed = new float[1001 * 6];
                    MatrixKernels.matmul(w, x, 512, 6, plain, 1001, pool);
                    MatrixKernels.matmul(p, x, 512, 6, packed, 1001, pool);
                    for (int i = 0; i < one.length; i++) {
                        assertEquals(Float.floatToRawIntBits(one[i]), Float.floatToRawIntBits(plain[i]),
                                type + " " + pool.threads() + " threads at " + i);
                        assertEquals(Float.floatToRawIntBits(one[i]), Float.floatToRawIntBits(packed[i]),
                                type + " packed, " + pool.threads() + " threads at " + i);
                    }
                }
                float[] single = new float[1001];
                float[] singlePacked = new float[1001];
                MatrixKernels.matvec(w, java.util.Arrays.copyOfRange(x, 512 * 5, 512 * 6), single, TWO);
                MatrixKernels.matvec(p, java.util.Arrays.copyOfRange(x, 512 * 5, 512 * 6), singlePacked, TWO);
                for (int r = 0; r < 1001; r++) {
                    assertEquals(Float.floatToRawIntBits(one[5 * 1001 + r]), Float.floatToRawIntBits(single[r]),
                            type + ": matvec equals the matmul tile, row " + r);
                    assertEquals(Float.floatToRawIntBits(one[5 * 1001 + r]), Float.floatToRawIntBits(singlePacked[r]),
                            type + ": packed matvec equals the matmul tile, row " + r);
                }
            }
        }
    }

    @Test
    void matricesSharingTheirTokensGiveEachOnesBits() {
        Random random = new Random(4);
        try (Arena arena = Arena.ofShared()) {
            // Q, K and V of one type (shared activations and split); then a mix of types and a plain F32 (one by one)
            GgmlType[][] sets = { { GgmlType.Q4_0, GgmlType.Q4_0, GgmlType.Q4_0 }, { GgmlType.Q8_0, GgmlType.Q8_0 },
                { GgmlType.Q4_K, GgmlType.Q4_K }, { GgmlType.Q6_K, GgmlType.Q6_K }, { GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F32 } };
            int[] rows = { 300, 77, 129 };
            for (GgmlType[] types : sets) {
                for (int tokens : new int[] { 1, 2, 5, 33 }) {
                    PackedMatrix[] ws = new PackedMatrix[types.length];
                    float[][] outs = new float[types.length][];
                    int[] strides = new int[types.length];
                    for (int i = 0; i < types.length; i++) {
                        ws[i] = PackedMatrix.of(random(types[i], rows[i], 512, random, arena), arena, false);
                        strides[i] = rows[i] + i;
                        outs[i] = new float[strides[i] * tokens];
                    }
                    float[] x = gaussian(520 * tokens, random);
                    for (KernelPool pool : new KernelPool[] { ONE, THREE }) {
                        MatrixKernels.matmul(ws, x, 520, tokens, outs, strides, pool);
                        for (int i = 0; i < types.length; i++) {
                            float[] alone = new float[strides[i] * tokens];
                            MatrixKernels.matmul(ws[i], x, 520, tokens, alone, strides[i], ONE);
                            for (int j = 0; j < alone.length; j++) {
                                assertEquals(Float.floatToRawIntBits(alone[j]), Float.floatToRawIntBits(outs[i][j]),
                                        java.util.Arrays.toString(types) + " matrix " + i + ", " + tokens + " tokens, "
                                                + pool.threads() + " threads, at " + j);
                            }
                        }
                    }
                }
            }
            PackedMatrix one = PackedMatrix.of(random(GgmlType.Q4_0, 4, 32, random, arena), arena, false);
            IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class, () -> MatrixKernels.matmul(
                    new PackedMatrix[] { one, one }, new float[64], 32, 2, new float[][] { new float[8] }, new int[] { 4 }, ONE));
            assertTrue(mismatch.getMessage().contains("got 2 matrices, 1 outputs and 1 strides"), mismatch.getMessage());
            IllegalArgumentException shortOut = assertThrows(IllegalArgumentException.class, () -> MatrixKernels.matmul(
                    new PackedMatrix[] { one, one }, new float[64], 32, 2, new float[][] { new float[8], new float[7] },
                    new int[] { 4, 4 }, ONE));
            assertTrue(shortOut.getMessage().contains("needs out of length >= 8"), shortOut.getMessage());
        }
    }

    @Test
    void badShapesAreRefusedNamingThem() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment small = arena.allocate(100);
            IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                    () -> new WeightMatrix(GgmlType.Q8_0, small, 0, 4, 32));
            assertTrue(tooSmall.getMessage().contains("needs 136 bytes from offset 0, but the segment holds 100 bytes"),
                    tooSmall.getMessage());
            IllegalArgumentException partialBlock = assertThrows(IllegalArgumentException.class,
                    () -> new WeightMatrix(GgmlType.Q4_0, arena.allocate(1000), 0, 1, 40));
            assertTrue(partialBlock.getMessage().contains("40 is not a multiple of 32"), partialBlock.getMessage());
            WeightMatrix w = random(GgmlType.F32, 4, 16, new Random(1), arena);
            IllegalArgumentException shortX = assertThrows(IllegalArgumentException.class,
                    () -> MatrixKernels.matvec(w, new float[15], new float[4], ONE));
            assertTrue(shortX.getMessage().contains("needs x of length >= 16"), shortX.getMessage());
            IllegalArgumentException shortOut = assertThrows(IllegalArgumentException.class,
                    () -> MatrixKernels.matmul(w, new float[32], 16, 2, new float[7], 4, ONE));
            assertTrue(shortOut.getMessage().contains("needs out of length >= 8"), shortOut.getMessage());
            IllegalArgumentException confined = assertThrows(IllegalArgumentException.class,
                    () -> MatrixKernels.matvec(w, new float[16], new float[4], TWO));
            assertTrue(confined.getMessage().contains("Arena.ofShared()"), confined.getMessage());
        }
    }
}
