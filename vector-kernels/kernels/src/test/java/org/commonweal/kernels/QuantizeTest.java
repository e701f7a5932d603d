package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import static org.commonweal.kernels.DequantizeTest.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The reference quantizers: exact bytes for hand-computed blocks (the rounding of halfway cases, the sign
 * conventions, all-zero blocks), quantize-then-dequantize round trips on random data within each
 * format's error bound, and argument checks.
 */
class QuantizeTest {

    /** The quantizers under test, by type. */
    enum Q {
        Q8_0(GgmlType.Q8_0), Q8_K(GgmlType.Q8_K), Q4_0(GgmlType.Q4_0), Q4_1(GgmlType.Q4_1), Q5_0(GgmlType.Q5_0);

        final GgmlType type;

        Q(GgmlType type) {
            this.type = type;
        }

        void quantize(float[] x, int xOffset, int n, MemorySegment dst, long offset) {
            switch (this) {
                case Q8_0 -> Quantize.q8_0(x, xOffset, n, dst, offset);
                case Q8_K -> Quantize.q8K(x, xOffset, n, dst, offset);
                case Q4_0 -> Quantize.q4_0(x, xOffset, n, dst, offset);
                case Q4_1 -> Quantize.q4_1(x, xOffset, n, dst, offset);
                case Q5_0 -> Quantize.q5_0(x, xOffset, n, dst, offset);
            }
        }
    }

    /** Quantizes {@code x} (whole blocks) into a fresh block buffer prefilled with 0x55, from byte 0. */
    private static Block quantize(Q q, float[] x) {
        Block b = new Block((int) q.type.rowBytes(x.length));
        Arrays.fill(b.bytes, (byte) 0x55);
        q.quantize(x, 0, x.length, b.segment, 0);
        return b;
    }

    @Test
    void q8_0RoundsHalfwayCasesAwayFromZeroLikeCRoundf() {
        float[] x = new float[32];
        float[] values = {127f, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -1.5f, 126.49f, -0f, -126.5f};
        System.arraycopy(values, 0, x, 0, values.length);
        Block b = quantize(Q.Q8_0, x);  // amax 127: d = 1 exactly, so each quant is round(x)
        int[] expected = new int[34];
        expected[1] = 0x3C;  // F16 1.0 = 0x3C00, little-endian
        int[] quants = {127, 3, -3, 1, -1, 2, -2, 126, 0, -127};
        for (int j = 0; j < quants.length; j++) {
            expected[2 + j] = quants[j] & 0xff;
        }
        assertArrayEquals(expected, b.unsigned(0, 34));
    }

    @Test
    void q8_0StoresTheScaleAsF16RoundedToNearest() {
        float[] x = new float[32];
        x[7] = -1f;  // amax 1: d = 1/127 = 0.0078740157 -> F16 0x2008 (2^-7 * (1 + 8/1024) = 0.0078735352)
        Block b = quantize(Q.Q8_0, x);
        assertEquals(0x08, b.bytes[0]);
        assertEquals(0x20, b.bytes[1]);
        assertEquals(-127, b.bytes[2 + 7]);
    }

    @Test
    void q8_0AllZeroBlockIsAllZeroBytes() {
        float[] x = new float[64];
        x[40] = 3f;  // the second block is not zero; the first must still come out all zero
        Block b = quantize(Q.Q8_0, x);
        assertArrayEquals(new int[34], b.unsigned(0, 34));
    }

    @Test
    void q8_kScaleHasTheOppositeSignOfTheLargestElementAndTiesGoToEven() {
        float[] x = new float[256];
        // Block max +127: iscale = -1, d = -1, quants = nearest_int(-x), ties to even.
        float[] values = {127f, 2.5f, 3.5f, -0.5f, -1.5f, -127f};
        int[] quants = {-127, -2, -4, 0, 2, 127};
        System.arraycopy(values, 0, x, 0, values.length);
        x[17] = 4.5f;   // second group of 16: -4
        Block b = quantize(Q.Q8_K, x);
        int[] expected = new int[292];
        expected[2] = 0x80;  // float -1.0 = 0xBF800000, little-endian 00 00 80 BF
        expected[3] = 0xBF;
        for (int j = 0; j < quants.length; j++) {
            expected[4 + j] = quants[j] & 0xff;
        }
        expected[4 + 17] = -4 & 0xff;
        int sum0 = -127 - 2 - 4 + 0 + 2 + 127;  // -4
        expected[260] = sum0 & 0xff;
        expected[261] = (sum0 >> 8) & 0xff;
        expected[262] = -4 & 0xff;
        expected[263] = 0xff;
        assertArrayEquals(expected, b.unsigned(0, 292));
    }

    @Test
    void q8_kWithANegativeLargestElementHasAPositiveScaleAndClampsAt127() {
        float[] x = new float[256];
        float[] values = {-254f, 5f, 7f, -254f, 254f};
        System.arraycopy(values, 0, x, 0, values.length);
        Block b = quantize(Q.Q8_K, x);  // iscale = 0.5, d = 2
        assertEquals(2f, b.segment.get(Dequantize.F32, 0));
        assertArrayEquals(new int[] {-127 & 0xff, 2, 4, -127 & 0xff, 127}, b.unsigned(4, 5));
        assertEquals(-127 + 2 + 4 - 127 + 127, b.segment.get(Dequantize.I16, 260));
        float[] y = b.dequantize(GgmlType.Q8_K, 0, 256);
        assertEquals(-254f, y[0]);
        assertEquals(4f, y[1]);   // 5 -> 2.5 -> 2 (even) -> 4
        assertEquals(8f, y[2]);   // 7 -> 3.5 -> 4 (even) -> 8
    }

    @Test
    void q8_kAllZeroBlockIsAllZeroBytesIncludingTheSums() {
        float[] x = new float[512];
        x[300] = -1f;
        Block b = quantize(Q.Q8_K, x);
        assertArrayEquals(new int[292], b.unsigned(0, 292));
    }

    @Test
    void q4_0MapsTheLargestElementToQuant0AndRoundsHalfUp() {
        float[] x = new float[32];
        for (int j = 0; j < 16; j++) {
            x[j] = j - 8;       // x[0] = -8 is the largest in magnitude: d = -8 / -8 = 1, quant j
        }
        x[16] = -7.5f;          // -7.5 + 8.5 = 1 -> quant 1 (half up: -7.5 -> -7)
        x[17] = 7.9f;           // 16.4 -> 16, clipped to 15
        x[18] = 0.49f;          // 8.99 -> 8
        x[19] = -0.5f;          // 8.0 -> 8 (half up: -0.5 -> 0)
        Block b = quantize(Q.Q4_0, x);
        int[] expected = new int[18];
        expected[1] = 0x3C;
        for (int j = 0; j < 16; j++) {
            expected[2 + j] = j | 8 << 4;
        }
        expected[2] = 0 | 1 << 4;
        expected[3] = 1 | 15 << 4;
        assertArrayEquals(expected, b.unsigned(0, 18));
    }

    @Test
    void q4_1StoresScaleAndMinAndRoundsHalfUp() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = j % 16;      // min 0, max 15: d = 1, quants = x
        }
        x[20] = 2.5f;           // -> 3
        x[21] = 3.49f;          // -> 3
        Block b = quantize(Q.Q4_1, x);
        int[] expected = new int[20];
        expected[1] = 0x3C;     // d = 1.0; m = 0.0 in bytes 2-3
        for (int j = 0; j < 16; j++) {
            expected[4 + j] = j | j << 4;
        }
        expected[4 + 4] = 4 | 3 << 4;
        expected[4 + 5] = 5 | 3 << 4;
        assertArrayEquals(expected, b.unsigned(0, 20));
    }

    @Test
    void q5_0PutsTheFifthBitOfElementJInBitJOfQh() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = j - 16;      // x[0] = -16 is the largest: d = 1, quant j
        }
        Block b = quantize(Q.Q5_0, x);
        int[] expected = new int[22];
        expected[1] = 0x3C;
        expected[4] = 0xFF;     // qh = 0xFFFF0000: elements 16..31 have the fifth bit
        expected[5] = 0xFF;
        for (int j = 0; j < 16; j++) {
            expected[6 + j] = j | j << 4;
        }
        assertArrayEquals(expected, b.unsigned(0, 22));
    }

    @Test
    void theWeightQuantizersWriteAMinusZeroScaleAndMidQuantsForAnAllZeroBlock() {
        // ggml computes d = max / -8 (or / -16) with max = +0, which is -0: stored as F16 0x8000.
        float[] x = new float[32];
        assertArrayEquals(concat(new int[] {0x00, 0x80}, repeat(0x88, 16)), quantize(Q.Q4_0, x).unsigned(0, 18));
        // Q5_0: quant 16 for every element = nibble 0 with the fifth bit set: qh all ones.
        assertArrayEquals(concat(new int[] {0x00, 0x80, 0xFF, 0xFF, 0xFF, 0xFF}, repeat(0x00, 16)),
                quantize(Q.Q5_0, x).unsigned(0, 22));
        // Q4_1: d = (0 - 0) / 15 = +0, m = +0, quants 0.
        assertArrayEquals(new int[20], quantize(Q.Q4_1, x).unsigned(0, 20));
    }

    @ParameterizedTest
    @EnumSource(Q.class)
    void roundTripOnRandomDataStaysWithinTheFormatsErrorBound(Q q) {
        Random random = new Random(42 + q.ordinal());
        int block = q.type.blockSize();
        int blocks = q.type == GgmlType.Q8_K ? 5 : 23;
        int n = blocks * block;
        int xOffset = 3;
        float[] x = new float[xOffset + n + 1];
        for (int i = 0; i < x.length; i++) {
            // Vary the magnitude per block, and shift some blocks off zero (for Q4_1's min).
            int b = Math.max(0, i - xOffset) / block;
            x[i] = (float) (random.nextGaussian() * Math.pow(10, b % 5 - 2) + (b % 3 == 0 ? b * 0.01 : 0));
        }
        long offset = 7;
        MemorySegment dst = MemorySegment.ofArray(new byte[(int) (offset + q.type.rowBytes(n) + 3)]);
        q.quantize(x, xOffset, n, dst, offset);
        float[] y = new float[n];
        Dequantize.row(q.type, dst, offset, y, 0, n);

        for (int b = 0; b < blocks; b++) {
            float amax = 0;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < block; j++) {
                float v = x[xOffset + b * block + j];
                amax = Math.max(amax, Math.abs(v));
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            // Half a quantization step (a whole step where a format clips its top level), plus the
            // effect of storing the scale (and min) as F16: relative error 2^-11 on each.
            double f16 = 0x1p-11;
            double bound = switch (q) {
                case Q8_0 -> amax / 127 * 0.5 + amax * f16;
                case Q8_K -> amax / 127 * 0.5 * (1 + 1e-6);
                case Q4_0 -> amax / 8 * (1 + 8 * f16);
                case Q5_0 -> amax / 16 * (1 + 16 * f16);
                case Q4_1 -> (max - min) / 15 * (0.5 + 15 * f16) + Math.abs(min) * f16;
            };
            bound += Math.ulp(amax) * 4;
            for (int j = 0; j < block; j++) {
                int i = b * block + j;
                double err = Math.abs(y[i] - x[xOffset + i]);
                assertTrue(err <= bound, q + " block " + b + " element " + j + ": " + x[xOffset + i] + " -> "
                        + y[i] + ", error " + err + " > bound " + bound);
            }
        }
    }

    @Test
    void q8_kBlockSumsAreTheSumsOfEachRunOf16Quants() {
        Random random = new Random(3);
        float[] x = new float[768];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        Block b = quantize(Q.Q8_K, x);
        for (int blk = 0; blk < 3; blk++) {
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 0; j < 16; j++) {
                    sum += b.bytes[blk * 292 + 4 + 16 * g + j];
                }
                assertEquals(sum, b.segment.get(Dequantize.I16, blk * 292 + 260 + 2L * g), "block " + blk + " group " + g);
            }
        }
    }

    @Test
    void cRoundingHelpersMatchTheirCDefinitions() {
        assertEquals(3, Quantize.roundHalfAway(2.5f));
        assertEquals(-3, Quantize.roundHalfAway(-2.5f));
        assertEquals(0, Quantize.roundHalfAway(0.49999997f));   // 0.49999997 + 0.5 would round to 1 in float
        assertEquals(-1, Quantize.roundHalfAway(-0.5f));
        assertEquals(2, Quantize.nearestInt(2.5f));
        assertEquals(4, Quantize.nearestInt(3.5f));
        assertEquals(-2, Quantize.nearestInt(-2.5f));
        assertEquals(0, Quantize.nearestInt(-0.5f));
        // ggml's nearest_int: add 1.5 * 2^23, keep the low 23 mantissa bits, subtract 2^22.
        Random random = new Random(11);
        for (int i = 0; i < 10_000; i++) {
            float v = (random.nextFloat() - 0.5f) * (i % 2 == 0 ? 300 : 8_000_000);
            if (i % 3 == 0) {
                v = Math.round(v) + 0.5f;   // halfway cases
            }
            int trick = (Float.floatToRawIntBits(v + 12582912f) & 0x007fffff) - 0x00400000;
            assertEquals(trick, Quantize.nearestInt(v), "nearest_int(" + v + ")");
        }
    }

    @Test
    void badArgumentsAreRejectedBeforeAnythingIsWritten() {
        byte[] bytes = new byte[40];
        Arrays.fill(bytes, (byte) 0x55);
        MemorySegment dst = MemorySegment.ofArray(bytes);
        var e = assertThrows(IllegalArgumentException.class, () -> Quantize.q8_0(new float[64], 0, 48, dst, 0));
        assertMentions(e, "Q8_0", "n = 48", "multiple of 32");
        e = assertThrows(IllegalArgumentException.class, () -> Quantize.q8_0(new float[64], 0, 64, dst, 0));
        assertMentions(e, "Q8_0", "68 bytes", "40-byte");
        e = assertThrows(IllegalArgumentException.class, () -> Quantize.q8_0(new float[32], 0, 32, dst, 7));
        assertMentions(e, "offset 7");
        e = assertThrows(IllegalArgumentException.class, () -> Quantize.q4_0(new float[40], 10, 32, dst, 0));
        assertMentions(e, "Q4_0", "[10, 42)", "float[40]");
        e = assertThrows(IllegalArgumentException.class, () -> Quantize.q8K(new float[256], 0, 256, dst, 0));
        assertMentions(e, "Q8_K", "292 bytes");
        e = assertThrows(IllegalArgumentException.class, () -> Quantize.q5_0(new float[32], -1, 32, dst, 0));
        assertMentions(e, "Q5_0", "[-1, 31)");
        e = assertThrows(IllegalArgumentException.class, () -> Quantize.q4_1(new float[32], 0, 32, dst, -2));
        assertMentions(e, "Q4_1", "offset -2");
        for (byte b : bytes) {
            assertEquals(0x55, b);
        }
    }

    private static int[] repeat(int value, int count) {
        int[] out = new int[count];
        Arrays.fill(out, value);
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
