package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * One hand-built block per type, with the expected values worked out by hand from ggml's block layouts.
 * These pin the layouts: which nibble of which byte, which bit of qh, which packed scale lands at which
 * element. Each block sits at an odd byte offset, so unaligned little-endian reads are covered too.
 */
class DequantizeGoldenTest {

    /** Where each block is placed in its segment: odd, so no multi-byte field is aligned. */
    private static final int AT = 3;

    private static Block block(GgmlType type) {
        return new Block(AT + type.typeSize() + 5);
    }

    @Test
    void f32F16Bf16AreReadLittleEndian() {
        Block b = new Block(AT + 8).f32(AT, 1.5f).f32(AT + 4, -0.375f);
        assertArrayEquals(new float[] {1.5f, -0.375f}, b.dequantize(GgmlType.F32, AT, 2));

        Block h = new Block(AT + 10).u16(AT, 0x3C00).u16(AT + 2, 0xC000).u16(AT + 4, 0x7C00)
                .u16(AT + 6, 0x0001).u16(AT + 8, 0x3555);
        assertArrayEquals(new float[] {1f, -2f, Float.POSITIVE_INFINITY, 0x1p-24f, 0.333251953125f},
                h.dequantize(GgmlType.F16, AT, 5));

        Block bf = new Block(AT + 6).u16(AT, 0x3F80).u16(AT + 2, 0x4049).u16(AT + 4, 0xC2F7);
        assertArrayEquals(new float[] {1f, 3.140625f, -123.5f}, bf.dequantize(GgmlType.BF16, AT, 3));
    }

    @Test
    void q4_0LowNibbleIsElementJHighNibbleIsElementJPlus16() {
        // d = 0.5 (F16 0x3800); every quant 8 (value 0) except bytes 0 and 3.
        Block b = block(GgmlType.Q4_0).u16(AT, 0x3800);
        for (int j = 0; j < 16; j++) {
            b.u8(AT + 2 + j, 0x88);
        }
        b.u8(AT + 2, 0x0F);      // element 0: 15 -> (15-8)*0.5 = 3.5; element 16: 0 -> -4
        b.u8(AT + 2 + 3, 0xA2);  // element 3: 2 -> -3;               element 19: 10 -> 1
        float[] expected = new float[32];
        expected[0] = 3.5f;
        expected[16] = -4f;
        expected[3] = -3f;
        expected[19] = 1f;
        assertArrayEquals(expected, b.dequantize(GgmlType.Q4_0, AT, 32));
    }

    @Test
    void q4_1AddsTheOffsetToEveryElement() {
        // d = 0.25, m = -1; all quants 0 (value -1) except byte 5.
        Block b = block(GgmlType.Q4_1).f16(AT, 0.25f).f16(AT + 2, -1f);
        b.u8(AT + 4 + 5, 0x3C);  // element 5: 12*0.25 - 1 = 2; element 21: 3*0.25 - 1 = -0.25
        float[] expected = new float[32];
        java.util.Arrays.fill(expected, -1f);
        expected[5] = 2f;
        expected[21] = -0.25f;
        assertArrayEquals(expected, b.dequantize(GgmlType.Q4_1, AT, 32));
    }

    @Test
    void q5_0TakesTheFifthBitOfElementJFromBitJOfTheLittleEndianWordQh() {
        // d = 1; qh = bits 5, 21 and 30 = bytes 20 00 20 40 (little-endian); low nibbles 0 except bytes 5, 14.
        Block b = block(GgmlType.Q5_0).f16(AT, 1f)
                .u8(AT + 2, 0x20).u8(AT + 3, 0x00).u8(AT + 4, 0x20).u8(AT + 5, 0x40)
                .u8(AT + 6 + 5, 0x31)    // element 5: 1 | 16 -> 1;   element 21: 3 | 16 -> 3
                .u8(AT + 6 + 14, 0x72);  // element 14: 2 -> -14;    element 30: 7 | 16 -> 7
        float[] expected = new float[32];
        java.util.Arrays.fill(expected, -16f);
        expected[5] = 1f;
        expected[21] = 3f;
        expected[14] = -14f;
        expected[30] = 7f;
        assertArrayEquals(expected, b.dequantize(GgmlType.Q5_0, AT, 32));
    }

    @Test
    void q8_0QuantsAreSignedBytesInElementOrder() {
        Block b = block(GgmlType.Q8_0).f16(AT, 2f);
        float[] expected = new float[32];
        for (int j = 0; j < 32; j++) {
            int q = j == 31 ? -128 : j - 16;
            b.u8(AT + 2 + j, q);
            expected[j] = 2f * q;
        }
        assertArrayEquals(expected, b.dequantize(GgmlType.Q8_0, AT, 32));
        assertEquals(-256f, expected[31]);
    }

    /**
     * The 12 packed scale bytes used by the Q4_K and Q5_K tests, and the (scale, min) pairs they hold,
     * worked out by hand: bytes 0-3 give scales 1, 2, 3, 4 (low six bits) and top bits 1, 2, 3, 0; bytes
     * 4-7 give mins 5, 6, 7, 8 and top bits 1, 0, 2, 0; bytes 8-11 give the low nibbles of sub-blocks 4-7.
     */
    private static final int[] K_SCALE_BYTES = {0x41, 0x82, 0xC3, 0x04, 0x45, 0x06, 0x87, 0x08, 0x21, 0x43, 0x65, 0x87};
    private static final int[] K_SCALES = {1, 2, 3, 4, 1 | 1 << 4, 3 | 2 << 4, 5 | 3 << 4, 7};
    private static final int[] K_MINS = {5, 6, 7, 8, 2 | 1 << 4, 4, 6 | 2 << 4, 8};

    /** Q4_K/Q5_K low nibbles used below: sub-block 2c (low nibble) gets l % 16, sub-block 2c+1 gets 15 - l % 16. */
    private static int kLowBits(int element) {
        int l = element % 32;
        return (element / 32) % 2 == 0 ? l % 16 : 15 - l % 16;
    }

    private static Block kBlock(GgmlType type, long qsAt) {
        Block b = block(type).f16(AT, 1f).f16(AT + 2, 0.5f);
        for (int i = 0; i < 12; i++) {
            b.u8(AT + 4 + i, K_SCALE_BYTES[i]);
        }
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                b.u8(qsAt + 32 * c + l, (l % 16) | (15 - l % 16) << 4);
            }
        }
        return b;
    }

    @Test
    void q4_kUnpacksTheSixBitScalesAndMinsAndPairsSubBlocksInEachQuantByte() {
        float[] y = kBlock(GgmlType.Q4_K, AT + 16).dequantize(GgmlType.Q4_K, AT, 256);
        // A few worked by hand: value = d*scale*q - dmin*min with d = 1, dmin = 0.5.
        assertEquals(1 * 0 - 0.5f * 5, y[0]);            // sub-block 0: low nibble of qs[0] = 0
        assertEquals(2 * 15 - 0.5f * 6, y[32]);          // sub-block 1: high nibble of qs[0] = 15
        assertEquals(17 * 1 - 0.5f * 18, y[128 + 1]);    // sub-block 4 (first 6-bit split one): qs[64 + 1] low = 1
        assertEquals(35 * 14 - 0.5f * 4, y[160 + 1]);    // sub-block 5: qs[64 + 1] high = 14
        assertEquals(53 * 3 - 0.5f * 38, y[192 + 3]);    // sub-block 6: qs[96 + 3] low = 3
        assertEquals(7 * 12 - 0.5f * 8, y[224 + 3]);     // sub-block 7: qs[96 + 3] high = 12
        for (int e = 0; e < 256; e++) {
            int s = e / 32;
            assertEquals((float) K_SCALES[s] * kLowBits(e) - 0.5f * K_MINS[s], y[e], "element " + e);
        }
    }

    @Test
    void q5_kTakesTheFifthBitOfSubBlock2cFromBit2cOfQhAndOf2cPlus1FromBit2cPlus1() {
        Block b = kBlock(GgmlType.Q5_K, AT + 48);
        long qh = AT + 16;
        b.u8(qh + 0, 0b0000_0010);   // bit 1 -> sub-block 1, l = 0: element 32
        b.u8(qh + 1, 0b0001_0000);   // bit 4 -> sub-block 4, l = 1: element 129
        b.u8(qh + 3, 0b1000_0000);   // bit 7 -> sub-block 7, l = 3: element 227
        float[] y = b.dequantize(GgmlType.Q5_K, AT, 256);
        assertEquals(2 * (15 + 16) - 0.5f * 6, y[32]);
        assertEquals(17 * (1 + 16) - 0.5f * 18, y[129]);
        assertEquals(7 * (12 + 16) - 0.5f * 8, y[227]);
        for (int e = 0; e < 256; e++) {
            int s = e / 32;
            int high = e == 32 || e == 129 || e == 227 ? 16 : 0;
            assertEquals((float) K_SCALES[s] * (kLowBits(e) + high) - 0.5f * K_MINS[s], y[e], "element " + e);
        }
    }

    @Test
    void q6_kInterleavesQlQhAndSignedScalesAndKeepsDLast() {
        // Layout: ql at 0, qh at 128, scales at 192, d at 208. d = 0.5; scales +1, -2, +3, -4, ...
        Block b = block(GgmlType.Q6_K).f16(AT + 208, 0.5f);
        int[] sc = new int[16];
        for (int k = 0; k < 16; k++) {
            sc[k] = k % 2 == 0 ? k + 1 : -(k + 1);
            b.u8(AT + 192 + k, sc[k]);
        }
        long ql = AT;
        long qh = AT + 128;
        b.u8(ql + 0, 0x05).u8(qh + 0, 0b0000_0010);          // element 0:   5 | 2<<4 = 37 -> 5,   scale sc[0] = 1
        b.u8(ql + 49, 0x0C).u8(qh + 17, 0b0000_1100);        // element 49:  12 | 3<<4 = 60 -> 28, scale sc[3] = -4
        b.u8(ql + 5, 0xA0).u8(qh + 5, 0b0001_0000);          // element 69:  10 | 1<<4 = 26 -> -6, scale sc[4] = 5
        b.u8(ql + 63, 0xF0).u8(qh + 31, 0b1100_0000);        // element 127: 15 | 3<<4 = 63 -> 31, scale sc[7] = -8
        b.u8(ql + 116, 0x30).u8(qh + 52, 0b0100_0000);       // element 244: 3 | 1<<4 = 19 -> -13, scale sc[15] = -16
        float[] y = b.dequantize(GgmlType.Q6_K, AT, 256);
        float[] expected = new float[256];
        for (int e = 0; e < 256; e++) {
            expected[e] = 0.5f * sc[e / 16] * -32;
        }
        expected[0] = 2.5f;
        expected[49] = -56f;
        expected[69] = -15f;
        expected[127] = -124f;
        expected[244] = 104f;
        assertArrayEquals(expected, y);
    }

    @Test
    void q8_kHasAFloat32ScaleAndIgnoresTheBlockSums() {
        Block b = block(GgmlType.Q8_K).f32(AT, -0.25f);
        float[] expected = new float[256];
        for (int j = 0; j < 256; j++) {
            b.u8(AT + 4 + j, j - 128);
            expected[j] = -0.25f * (j - 128);
        }
        for (int g = 0; g < 16; g++) {
            b.u16(AT + 260 + 2 * g, 0x7FFF - g);  // nonsense sums: dequantization must not use them
        }
        assertArrayEquals(expected, b.dequantize(GgmlType.Q8_K, AT, 256));
    }
}
