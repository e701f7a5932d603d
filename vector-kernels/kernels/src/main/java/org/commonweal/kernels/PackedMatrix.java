package org.commonweal.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;

/**
 * A weight matrix in the layout the fastest kernels read: Q4_0, Q5_0, Q8_0, Q4_K, Q5_K and Q6_K weights repacked once
 * ({@link LaneWeights}: one 32-byte load holds one element of 32 consecutive blocks), F32 weights six rows
 * interleaved ({@link InterleavedF32}: a matmul tile reads one stream), every other type as GGUF stores it,
 * where it is or copied into allocated memory. {@link MatrixKernels} gives a packed matrix
 * exactly the bits it gives the {@link WeightMatrix} it was packed from: the layout is only a matter of speed.
 * <p>
 * Packing reads the source once; the packed copy no longer needs it (a model file can be closed, or left
 * mapped for other uses). Memory comes from the caller's arena.
 */
public final class PackedMatrix {

    private final GgmlType type;
    private final int rows;
    private final int cols;
    /** The memory the kernels read, and how much of it this matrix occupies. */
    private final MemorySegment data;
    private final long byteSize;
    /** Exactly one of the three layouts is set. */
    private final WeightMatrix plain;
    private final LaneWeights lanes;
    private final InterleavedF32 interleaved;

    private PackedMatrix(WeightMatrix source, MemorySegment data, long byteSize, WeightMatrix plain, LaneWeights lanes,
            InterleavedF32 interleaved) {
        this.type = source.type();
        this.rows = source.rows();
        this.cols = source.cols();
        this.data = data;
        this.byteSize = byteSize;
        this.plain = plain;
        this.lanes = lanes;
        this.interleaved = interleaved;
    }

    /** Whether weights of {@code type} are repacked, rather than kept in GGUF's layout. */
    public static boolean repacks(GgmlType type) {
        return LaneWeights.supports(type) || type == GgmlType.F32;
    }

    /**
     * {@code w} in the kernels' layout: repacked into memory of {@code arena} if its type is
     * {@linkplain #repacks repacked}; otherwise copied there if {@code copyOthers} (allocated memory streams
     * faster than a mapped file on some machines), or used where it is.
     */
    public static PackedMatrix of(WeightMatrix w, Arena arena, boolean copyOthers) {
        if (w.type() == GgmlType.F32) {
            InterleavedF32 interleaved = InterleavedF32.repack(w, arena);
            return new PackedMatrix(w, interleaved.data(), interleaved.data().byteSize(), null, null, interleaved);
        }
        if (repacks(w.type())) {
            LaneWeights lanes = LaneWeights.repack(w, arena);
            return new PackedMatrix(w, lanes.data(), lanes.rowBytes() * lanes.rows(), null, lanes, null);
        }
        WeightMatrix plain = w;
        if (copyOthers) {
            MemorySegment copy = arena.allocate(w.byteSize(), 64);
            MemorySegment.copy(w.data(), w.offset(), copy, 0, w.byteSize());
            plain = new WeightMatrix(w.type(), copy, 0, w.rows(), w.cols());
        }
        return new PackedMatrix(w, plain.data(), plain.byteSize(), plain, null, null);
    }

    public GgmlType type() {
        return type;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes this matrix occupies in its layout (a repacked row with padded blocks is a little longer). */
    public long byteSize() {
        return byteSize;
    }

    /** The memory the kernels read. */
    MemorySegment data() {
        return data;
    }

    /** The lane = block weights ({@link LaneWeights}), or null in the other layouts. */
    LaneWeights lanes() {
        return lanes;
    }

    /** The interleaved F32 weights, or null if this matrix is not F32. */
    InterleavedF32 interleaved() {
        return interleaved;
    }

    /** The weights in GGUF's layout, or null if repacked. */
    WeightMatrix plain() {
        return plain;
    }

    @Override
    public String toString() {
        return "a " + rows() + "x" + cols() + " " + type() + " matrix" + (plain == null ? " (repacked)" : "");
    }
}
