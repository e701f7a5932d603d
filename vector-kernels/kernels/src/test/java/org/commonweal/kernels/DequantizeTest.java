package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
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
 * Random valid blocks of every type, several per row at an unaligned offset, decoded by {@link Dequantize}
 * and by an element-at-a-time decoder written here from the layout description (index arithmetic instead
 * of loops over groups), which must agree bit for bit; and the argument checks.
 */
class DequantizeTest {

    private static final int OFFSET = 5;
    private static final int DST_OFFSET = 3;

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void randomBlocksDecodeAsTheElementByElementLayoutSays(GgmlType type) {
        Random random = new Random(0xC0FFEE + type.id());
        int blocks = type.blockSize() == 1 ? 37 : 5;
        int n = blocks * type.blockSize();
        Block row = randomBlocks(type, blocks, random);

        float[] y = new float[DST_OFFSET + n + 2];
        Arrays.fill(y, 12345f);
        Dequantize.row(type, row.segment, OFFSET, y, DST_OFFSET, n);

        for (int i = 0; i < n; i++) {
            int e = i;
            long blockAt = OFFSET + (long) (e / type.blockSize()) * type.typeSize();
            float expected = element(type, row.segment, blockAt, e % type.blockSize());
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(y[DST_OFFSET + e]),
                    () -> type + " element " + e + ": expected " + expected + ", got " + y[DST_OFFSET + e]);
        }
        assertEquals(12345f, y[DST_OFFSET - 1], "nothing written before dstOffset");
        assertEquals(12345f, y[DST_OFFSET + n], "nothing written after dstOffset + n");
    }

    @Test
    void q5_kWithNoHighBitsEqualsQ4_kWithTheSameFields() {
        Random random = new Random(7);
        Block q5 = randomBlocks(GgmlType.Q5_K, 3, random);
        Block q4 = new Block(OFFSET + 3 * GgmlType.Q4_K.typeSize());
        for (int b = 0; b < 3; b++) {
            int from5 = OFFSET + b * GgmlType.Q5_K.typeSize();
            int from4 = OFFSET + b * GgmlType.Q4_K.typeSize();
            Arrays.fill(q5.bytes, from5 + 16, from5 + 48, (byte) 0);                 // qh
            System.arraycopy(q5.bytes, from5, q4.bytes, from4, 16);                  // d, dmin, scales
            System.arraycopy(q5.bytes, from5 + 48, q4.bytes, from4 + 16, 128);       // nibbles
        }
        assertArrayEquals(q4.dequantize(GgmlType.Q4_K, OFFSET, 768), q5.dequantize(GgmlType.Q5_K, OFFSET, 768));
    }

    @Test
    void zeroElementsIsAllowedAndWritesNothing() {
        float[] y = {1f};
        Dequantize.row(GgmlType.Q4_K, MemorySegment.ofArray(new byte[0]), 0, y, 1, 0);
        assertEquals(1f, y[0]);
    }

    @Test
    void nNotAWholeNumberOfBlocksIsRejected() {
        MemorySegment src = MemorySegment.ofArray(new byte[1000]);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(GgmlType.Q4_0, src, 0, new float[100], 0, 31));
        assertMentions(e, "Q4_0", "n = 31", "multiple of 32");
        e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(GgmlType.Q6_K, src, 0, new float[100], 0, -256));
        assertMentions(e, "Q6_K", "n = -256");
    }

    @Test
    void aSegmentTooShortForNElementsIsRejected() {
        MemorySegment src = MemorySegment.ofArray(new byte[67]);  // two Q8_0 blocks need 68
        var e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(GgmlType.Q8_0, src, 0, new float[64], 0, 64));
        assertMentions(e, "Q8_0", "64 elements", "68 bytes", "offset 0", "67-byte");
    }

    @Test
    void anOffsetPastTheEndOrNegativeIsRejected() {
        MemorySegment src = MemorySegment.ofArray(new byte[68]);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(GgmlType.Q8_0, src, 100, new float[32], 0, 32));
        assertMentions(e, "Q8_0", "offset 100", "68-byte");
        e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(GgmlType.Q8_0, src, 35, new float[64], 0, 64));
        assertMentions(e, "offset 35");
        e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(GgmlType.Q8_0, src, -1, new float[32], 0, 32));
        assertMentions(e, "offset -1");
    }

    @Test
    void aDestinationTooSmallIsRejectedBeforeAnythingIsWritten() {
        MemorySegment src = MemorySegment.ofArray(new byte[68]);
        float[] y = new float[70];
        Arrays.fill(y, 9f);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(GgmlType.Q8_0, src, 0, y, 7, 64));
        assertMentions(e, "Q8_0", "[7, 71)", "float[70]");
        e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(GgmlType.Q8_0, src, 0, y, -1, 32));
        assertMentions(e, "[-1, 31)");
        for (float v : y) {
            assertEquals(9f, v);
        }
    }

    static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "message should mention '" + part + "': " + e.getMessage());
        }
    }

    /**
     * {@code blocks} random blocks of {@code type} from byte {@link #OFFSET}: random bytes, with every
     * F16/F32 scale field replaced by a finite random value (quants are any bit pattern).
     */
    static Block randomBlocks(GgmlType type, int blocks, Random random) {
        Block b = new Block(OFFSET + blocks * type.typeSize() + 7);
        random.nextBytes(b.bytes);
        for (int i = 0; i < blocks; i++) {
            long at = OFFSET + (long) i * type.typeSize();
            switch (type) {
                case F32 -> b.f32(at, (float) random.nextGaussian());
                case F16 -> b.u16(at, Half.floatToF16((float) random.nextGaussian()));
                case BF16 -> b.u16(at, Half.floatToBf16((float) random.nextGaussian()));
                case Q4_0, Q5_0, Q8_0 -> b.u16(at, Half.floatToF16((float) random.nextGaussian() * 0.1f));
                case Q4_1 -> b.u16(at, Half.floatToF16(random.nextFloat() * 0.1f))
                        .u16(at + 2, Half.floatToF16((float) random.nextGaussian()));
                case Q4_K, Q5_K -> b.u16(at, Half.floatToF16(random.nextFloat() * 0.01f))
                        .u16(at + 2, Half.floatToF16(random.nextFloat() * 0.01f));
                case Q6_K -> b.u16(at + 208, Half.floatToF16((float) random.nextGaussian() * 0.01f));
                case Q8_K -> b.f32(at, (float) random.nextGaussian() * 0.01f);
            }
        }
        return b;
    }

    private static int u8(MemorySegment s, long at) {
        return Byte.toUnsignedInt(s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at));
    }

    private static float f16(MemorySegment s, long at) {
        return Half.f16ToFloat((short) (u8(s, at) | u8(s, at + 1) << 8));
    }

    /** Bit {@code bit} of the little-endian bit string that starts at byte {@code at}. */
    private static int bit(MemorySegment s, long at, int bit) {
        return (u8(s, at + bit / 8) >> (bit % 8)) & 1;
    }

    /**
     * Element {@code e} of the block at {@code at}, decoded on its own. Same float operations as ggml
     * (so results are bit-identical), but the positions computed per element from the layout.
     */
    static float element(GgmlType type, MemorySegment s, long at, int e) {
        return switch (type) {
            case F32 -> Float.intBitsToFloat(u8(s, at) | u8(s, at + 1) << 8 | u8(s, at + 2) << 16 | u8(s, at + 3) << 24);
            case F16 -> f16(s, at);
            case BF16 -> Float.intBitsToFloat((u8(s, at) | u8(s, at + 1) << 8) << 16);
            case Q4_0 -> (nibble(s, at + 2, e) - 8) * f16(s, at);
            case Q4_1 -> nibble(s, at + 4, e) * f16(s, at) + f16(s, at + 2);
            case Q5_0 -> ((nibble(s, at + 6, e) | bit(s, at + 2, e) << 4) - 16) * f16(s, at);
            case Q8_0 -> s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 2 + e) * f16(s, at);
            case Q4_K, Q5_K -> {
                int sub = e / 32;
                int[] sm = sixBitScaleAndMin(s, at + 4, sub);
                long qs = at + (type == GgmlType.Q4_K ? 16 : 48);
                int qsByte = u8(s, qs + 32 * (sub / 2) + e % 32);
                int q = sub % 2 == 0 ? qsByte & 15 : qsByte >> 4;
                if (type == GgmlType.Q5_K) {
                    q += 16 * bit(s, at + 16 + e % 32, sub);  // byte qh[e % 32], bit number = sub-block
                }
                yield f16(s, at) * sm[0] * q - f16(s, at + 2) * sm[1];
            }
            case Q6_K -> {
                int half = e / 128;
                int r = e % 128;           // position in the half
                int quarter = r / 32;      // which of the four 32-element groups
                int l = r % 32;
                int qlByte = u8(s, at + 64 * half + 32 * (quarter % 2) + l);
                int low = quarter < 2 ? qlByte & 15 : qlByte >> 4;
                int high = (u8(s, at + 128 + 32 * half + l) >> (2 * quarter)) & 3;
                int scale = s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 192 + e / 16);
                yield f16(s, at + 208) * scale * ((low | high << 4) - 32);
            }
            case Q8_K -> Float.intBitsToFloat(u8(s, at) | u8(s, at + 1) << 8 | u8(s, at + 2) << 16 | u8(s, at + 3) << 24)
                    * s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 4 + e);
        };
    }

    /** Quant {@code e} of a 32-element block whose nibbles start at {@code qs}: j and j + 16 share byte j. */
    private static int nibble(MemorySegment s, long qs, int e) {
        int b = u8(s, qs + e % 16);
        return e < 16 ? b & 15 : b >> 4;
    }

    /**
     * The 6-bit scale and min of sub-block {@code j}, read as one 96-bit field: the scales of 0-3 are bits
     * 0-5 of bytes 0-3, the mins bits 0-5 of bytes 4-7; for j = 4..7, the low four bits come from byte
     * j + 4 (scale low nibble, min high nibble) and the high two from bits 6-7 of bytes j - 4 and j.
     */
    private static int[] sixBitScaleAndMin(MemorySegment s, long scales, int j) {
        int scale = 0;
        int min = 0;
        for (int k = 0; k < 6; k++) {
            int scaleBit;
            int minBit;
            if (j < 4) {
                scaleBit = bit(s, scales, 8 * j + k);
                minBit = bit(s, scales, 8 * (j + 4) + k);
            } else if (k < 4) {
                scaleBit = bit(s, scales, 8 * (j + 4) + k);
                minBit = bit(s, scales, 8 * (j + 4) + 4 + k);
            } else {
                scaleBit = bit(s, scales, 8 * (j - 4) + 2 + k);
                minBit = bit(s, scales, 8 * j + 2 + k);
            }
            scale |= scaleBit << k;
            min |= minBit << k;
        }
        return new int[] {scale, min};
    }
}
