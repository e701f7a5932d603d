package org.commonweal.kernels.types;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix as GGUF stores it: {@code rows} rows of {@code cols} elements of one type, each row
 * a whole number of blocks, rows contiguous from {@code offset} in {@code data} (a mapped file or
 * off-heap memory; never a Java array). In ggml's terms {@code cols} is ne0, the input dimension.
 */
public record WeightMatrix(GgmlType type, MemorySegment data, long offset, int rows, int cols) {

    public WeightMatrix {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("a " + type + " matrix needs rows and cols > 0, not " + rows + "x" + cols);
        }
        long bytes = (long) rows * type.rowBytes(cols);
        if (offset < 0 || offset > data.byteSize() - bytes) {
            throw new IllegalArgumentException("a " + rows + "x" + cols + " " + type + " matrix needs " + bytes
                    + " bytes from offset " + offset + ", but the segment holds " + data.byteSize() + " bytes");
        }
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.rowBytes(cols);
    }

    /** Bytes of the whole matrix. */
    public long byteSize() {
        return rows * rowBytes();
    }

    /** Where row {@code row} starts in {@link #data()}. */
    public long rowOffset(int row) {
        return offset + row * rowBytes();
    }
}
