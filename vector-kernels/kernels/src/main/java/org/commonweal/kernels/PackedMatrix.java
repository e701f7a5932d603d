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

    private final WeightMatrix plain;
    private final LaneWeights lanes;
    private final InterleavedF32 interleaved;

    private PackedMatrix(WeightMatrix plain, LaneWeights lanes, InterleavedF32 interleaved) {
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
            return new PackedMatrix(null, null, InterleavedF32.repack(w, arena));
        }
        if (repacks(w.type())) {
            return new PackedMatrix(null, LaneWeights.repack(w, arena), null);
        }
        if (!copyOthers) {
            return new PackedMatrix(w, null, null);
        }
        MemorySegment copy = arena.allocate(w.byteSize(), 64);
        MemorySegment.copy(w.data(), w.offset(), copy, 0, w.byteSize());
        return new PackedMatrix(new WeightMatrix(w.type(), copy, 0, w.rows(), w.cols()), null, null);
    }

    public GgmlType type() {
        return lanes != null ? lanes.type() : interleaved != null ? GgmlType.F32 : plain.type();
    }

    public int rows() {
        return lanes != null ? lanes.rows() : interleaved != null ? interleaved.rows() : plain.rows();
    }

    public int cols() {
        return lanes != null ? lanes.cols() : interleaved != null ? interleaved.cols() : plain.cols();
    }

    /** Bytes this matrix occupies in its layout (a repacked row with padded blocks is a little longer). */
    public long byteSize() {
        return lanes != null ? lanes.rowBytes() * lanes.rows() : interleaved != null ? interleaved.data().byteSize() : plain.byteSize();
    }

    /** The memory the kernels read. */
    MemorySegment data() {
        return lanes != null ? lanes.data() : interleaved != null ? interleaved.data() : plain.data();
    }

    /** The repacked weights, or null if this matrix is kept in GGUF's layout. */
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
