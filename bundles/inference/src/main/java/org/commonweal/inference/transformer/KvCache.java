package org.commonweal.inference.transformer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.Half;

/**
 * The keys and values of one sequence, for every layer and up to {@code capacity} positions, in F32 or F16,
 * off-heap: layer {@code l}'s keys are rows of {@code kvDim} elements, one per position, followed by its
 * values in the same layout. Memory is allocated once, for the capacity the sequence was admitted with,
 * and released by {@link #close}.
 */
public final class KvCache implements AutoCloseable {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GgmlType type;
    private final int capacity;
    private final int kvDim;
    private final long rowBytes;
    private final long layerBytes;
    private final Arena arena;
    private final MemorySegment data;
    private int length;

    public KvCache(ModelConfig config, GgmlType type, int capacity) {
        if (type != GgmlType.F32 && type != GgmlType.F16) {
            throw new IllegalArgumentException("the KV cache holds F32 or F16, not " + type);
        }
        if (capacity <= 0 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("a KV cache holds 1.." + config.contextLength() + " positions, not " + capacity);
        }
        this.type = type;
        this.capacity = capacity;
        this.kvDim = config.kvDim();
        this.rowBytes = (long) kvDim * (type == GgmlType.F32 ? 4 : 2);
        this.layerBytes = 2 * rowBytes * capacity;
        this.arena = Arena.ofShared();
        this.data = arena.allocate(layerBytes * config.layers(), 64);
    }

    /** Bytes a cache of {@code capacity} positions takes. */
    public static long bytes(ModelConfig config, GgmlType type, int capacity) {
        return 2L * config.kvDim() * (type == GgmlType.F32 ? 4 : 2) * capacity * config.layers();
    }

    public GgmlType type() {
        return type;
    }

    public int capacity() {
        return capacity;
    }

    /** Positions filled so far: the next token goes at this position. */
    public int length() {
        return length;
    }

    /** Forgets positions from {@code length} on (they will be overwritten). */
    public void truncate(int length) {
        if (length < 0 || length > this.length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + this.length + " positions to " + length);
        }
        this.length = length;
    }

    void advance(int positions) {
        length += positions;
    }

    MemorySegment data() {
        return data;
    }

    long rowBytes() {
        return rowBytes;
    }

    long keysOffset(int layer) {
        return layer * layerBytes;
    }

    long valuesOffset(int layer) {
        return layer * layerBytes + rowBytes * capacity;
    }

    /** Stores the key and value rows of one position of one layer. */
    void store(int layer, int position, float[] k, int kOff, float[] v, int vOff) {
        long keyAt = keysOffset(layer) + position * rowBytes;
        long valueAt = valuesOffset(layer) + position * rowBytes;
        if (type == GgmlType.F32) {
            MemorySegment.copy(k, kOff, data, F32, keyAt, kvDim);
            MemorySegment.copy(v, vOff, data, F32, valueAt, kvDim);
        } else {
            for (int i = 0; i < kvDim; i++) {
                data.set(F16, keyAt + 2L * i, Half.floatToF16(k[kOff + i]));
                data.set(F16, valueAt + 2L * i, Half.floatToF16(v[vOff + i]));
            }
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
