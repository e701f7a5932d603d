package org.commonweal.kernels;

import java.lang.foreign.MemorySegment;

/** Placeholder until the reference dequantization lands from the kernels-quant branch. */
public final class Dequantize {
    private Dequantize() {
    }

    public static void row(GgmlType type, MemorySegment src, long offset, float[] dst, int dstOffset, int n) {
        throw new UnsupportedOperationException(type + " is not supported yet");
    }
}
