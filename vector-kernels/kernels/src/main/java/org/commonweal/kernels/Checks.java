package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Argument checks shared by {@link Ops} and {@link ScalarOps}, so both reject the same inputs with the
 * same message: what was wrong, the sizes involved, and what to pass instead. Every kernel checks its
 * ranges up front, so no kernel ever reads or writes outside the range it was given.
 */
final class Checks {

    private Checks() {
    }

    /** {@code a[off, off + n)} must lie inside {@code a}. */
    static void range(String op, String name, float[] a, int off, int n) {
        Objects.requireNonNull(a, () -> op + ": " + name + " is null");
        if (n < 0) {
            throw new IllegalArgumentException(op + ": length " + n + " of " + name + " is negative; pass n >= 0");
        }
        if (off < 0 || off > a.length - n) {
            throw new IllegalArgumentException(op + ": " + name + "[" + off + ", " + ((long) off + n)
                    + ") is outside " + name + ".length " + a.length
                    + "; pass an offset and length that fit in the array");
        }
    }

    /** At least one element: the kernel divides by {@code n} or by a sum over the elements. */
    static void positive(String op, String what, int n) {
        if (n < 1) {
            throw new IllegalArgumentException(op + ": " + what + " is " + n + "; it must be at least 1");
        }
    }

    /**
     * Checks a KV-cache view and returns the bytes per element: F32 (4) or F16 (2), nothing else.
     * Position {@code t}'s vector is {@code headDim} elements at {@code headOffsetBytes + t * rowStrideBytes}.
     */
    static int cache(String op, MemorySegment cache, GgmlType type, long headOffsetBytes, long rowStrideBytes,
            int headDim, int nPositions) {
        Objects.requireNonNull(cache, () -> op + ": cache segment is null");
        Objects.requireNonNull(type, () -> op + ": cache type is null");
        if (!cache.isNative() && !(cache.heapBase().orElse(null) instanceof byte[])) {
            throw new IllegalArgumentException(op + ": the cache segment is a heap segment over "
                    + cache.heapBase().map(base -> base.getClass().getSimpleName()).orElse("nothing")
                    + "; the Vector API reads only native segments or byte[] ones: allocate it from an Arena"
                    + " or wrap a byte[]");
        }
        int elementBytes = switch (type) {
            case F32 -> 4;
            case F16 -> 2;
            default -> throw new IllegalArgumentException(op + ": KV cache type " + type
                    + " is not supported; store the cache as F32 or F16");
        };
        positive(op, "headDim", headDim);
        if (nPositions < 0) {
            throw new IllegalArgumentException(op + ": nPositions " + nPositions + " is negative; pass >= 0");
        }
        long vectorBytes = (long) headDim * elementBytes;
        if (headOffsetBytes < 0) {
            throw new IllegalArgumentException(op + ": headOffsetBytes " + headOffsetBytes
                    + " is negative; pass the byte offset of this head's first vector");
        }
        if (rowStrideBytes < vectorBytes) {
            throw new IllegalArgumentException(op + ": rowStrideBytes " + rowStrideBytes
                    + " is smaller than one head vector (" + headDim + " x " + type + " = " + vectorBytes
                    + " bytes), so positions would overlap; pass the bytes between consecutive positions");
        }
        if (nPositions == 0) {
            return elementBytes;
        }
        long end;
        try {
            end = Math.addExact(Math.addExact(headOffsetBytes,
                    Math.multiplyExact(nPositions - 1L, rowStrideBytes)), vectorBytes);
        } catch (ArithmeticException overflow) {
            end = Long.MAX_VALUE;
        }
        if (end > cache.byteSize()) {
            throw new IllegalArgumentException(op + ": " + nPositions + " positions of " + headDim + " x " + type
                    + " at headOffsetBytes " + headOffsetBytes + " with rowStrideBytes " + rowStrideBytes
                    + " need " + (end == Long.MAX_VALUE ? "more than Long.MAX_VALUE" : String.valueOf(end))
                    + " bytes, but the segment holds " + cache.byteSize()
                    + "; pass fewer positions or the right offset and stride");
        }
        return elementBytes;
    }

    static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        positive("rmsNorm", "n", n);
        range("rmsNorm", "out", out, outOff, n);
        range("rmsNorm", "x", x, xOff, n);
        range("rmsNorm", "weight", weight, 0, n);
        if (!(eps >= 0.0f) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException("rmsNorm: eps " + eps
                    + " is not a finite number >= 0; pass the model's epsilon (for example 1e-5)");
        }
    }

    static void rope(float[] x, int off, int nHeads, int headDim, int position, float base) {
        if (headDim < 2 || headDim % 2 != 0) {
            throw new IllegalArgumentException("rope: headDim " + headDim
                    + " is not a positive even number; RoPE rotates pairs of elements");
        }
        if (nHeads < 0) {
            throw new IllegalArgumentException("rope: nHeads " + nHeads + " is negative; pass >= 0");
        }
        if (position < 0) {
            throw new IllegalArgumentException("rope: position " + position + " is negative; pass >= 0");
        }
        if (!(base > 0.0f) || Float.isInfinite(base)) {
            throw new IllegalArgumentException("rope: base " + base
                    + " is not a finite number > 0; pass the model's rope frequency base (for example 10000)");
        }
        long n = (long) nHeads * headDim;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rope: nHeads " + nHeads + " x headDim " + headDim
                    + " does not fit in an array");
        }
        range("rope", "x (nHeads " + nHeads + " x headDim " + headDim + ")", x, off, (int) n);
    }

    /** out[outOff, +n) = f(a[aOff, +n), b[bOff, +n)). */
    static void binary(String op, float[] out, int outOff, float[] a, String aName, int aOff,
            float[] b, String bName, int bOff, int n) {
        range(op, "out", out, outOff, n);
        range(op, aName, a, aOff, n);
        range(op, bName, b, bOff, n);
    }

    /**
     * One query position and one head over {@code nPositions} cached positions: {@code perPosition} holds
     * one float per position (scores or probabilities, from index 0), {@code head} holds one head vector.
     */
    static int attention(String op, float[] perPosition, String perPositionName, float[] head, String headName,
            int headOff, MemorySegment cache, GgmlType type, long headOffsetBytes, long rowStrideBytes,
            int headDim, int nPositions) {
        int elementBytes = cache(op, cache, type, headOffsetBytes, rowStrideBytes, headDim, nPositions);
        range(op, perPositionName + " (one per position)", perPosition, 0, nPositions);
        range(op, headName + " (headDim)", head, headOff, headDim);
        if (perPosition == head && headOff < nPositions) {
            throw new IllegalArgumentException(op + ": " + headName + "[" + headOff + ", " + (headOff + headDim)
                    + ") and " + perPositionName + "[0, " + nPositions + ") overlap in the same array;"
                    + " pass separate ranges");
        }
        return elementBytes;
    }
}
