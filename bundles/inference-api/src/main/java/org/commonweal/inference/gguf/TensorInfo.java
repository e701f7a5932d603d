package org.commonweal.inference.gguf;

import java.util.Arrays;

import org.commonweal.kernels.types.GgmlType;

/**
 * One tensor of a GGUF file: its name, ggml dimensions ({@code dims[0]} = ne0, the contiguous one), type,
 * and where its bytes are in the tensor data section.
 */
public record TensorInfo(String name, long[] dims, GgmlType type, long offset, long byteSize) {

    public TensorInfo {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** The number of rows: every dimension but the first, multiplied. */
    public long rows() {
        return elements() / dims[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && Arrays.equals(dims, t.dims) && type == t.type
                && offset == t.offset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
