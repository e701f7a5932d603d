package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** A heap byte buffer for building blocks by hand in tests: little-endian writes at byte positions. */
final class Block {

    final byte[] bytes;
    final MemorySegment segment;

    Block(int size) {
        bytes = new byte[size];
        segment = MemorySegment.ofArray(bytes);
    }

    Block u8(long at, int value) {
        if (value < -128 || value > 255) {
            throw new IllegalArgumentException("byte value " + value + " out of range");
        }
        bytes[(int) at] = (byte) value;
        return this;
    }

    Block f16(long at, float value) {
        short bits = Half.floatToF16(value);
        if (Half.f16ToFloat(bits) != value) {
            throw new IllegalArgumentException(value + " is not exact in F16; pick a value that is");
        }
        return u16(at, bits);
    }

    Block u16(long at, int bits) {
        segment.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at, (short) bits);
        return this;
    }

    Block f32(long at, float value) {
        segment.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at, value);
        return this;
    }

    /** Dequantizes {@code n} elements of {@code type} stored from {@code offset}. */
    float[] dequantize(GgmlType type, long offset, int n) {
        float[] out = new float[n];
        Dequantize.row(type, segment, offset, out, 0, n);
        return out;
    }

    /** Bytes {@code [from, from + count)} as unsigned ints, for readable assertions. */
    int[] unsigned(int from, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = bytes[from + i] & 0xff;
        }
        return out;
    }
}
