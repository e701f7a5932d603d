package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0, Q8_0 or Q4_K weights repacked once (at load) for {@link LaneKernels}, where SIMD lane {@code l}
 * accumulates whole blocks {@code l, l+16, l+32, ...} ("lane = block", see {@link ReferenceDot}); for
 * Q4_K a "block" here is a 32-element sub-block (eight per 256-element super-block).
 * <p>
 * Each row is cut into groups of {@value #GROUP} consecutive blocks (the last group padded with blocks
 * whose quants are zero multipliers and whose scale is zero: they add exactly nothing). A group is
 * {@code quantBytes()} bytes of quants, then {@value #GROUP} F16 scales (64 bytes), so a repacked row
 * is as long as the GGUF row when the block count is a multiple of 32:
 * <ul>
 * <li>quant byte {@code 32 * j + p} belongs to block {@code perm(p) = p / 2 + 16 * (p % 2)} of the group:
 * for Q8_0 its element {@code j} (j = 0..31); for Q4_0 its GGUF byte {@code j} (j = 0..15), i.e. element
 * {@code j} in the low nibble and {@code j + 16} in the high one. One 32-byte load widened to 32 shorts
 * then holds one element of all 32 blocks; seen as 16 ints, the low shorts are blocks 0..15 of the
 * group and the high shorts blocks 16..31, each in the lane its block accumulates into.
 * <li>scale {@code p} (F16 at {@code quantBytes() + 2 * p}) is the scale of block {@code perm(p)}: one
 * 64-byte load gives blocks 0..15's scales in the low halves of 16 ints, 16..31's in the high halves.
 * <li>Q4_K: the quants as Q4_0's (sub-block {@code perm(p)}'s elements j and j + 16 in byte
 * {@code 32 * j + p}, unsigned nibbles), then per group 32 sub-block scales and 32 mins as bytes
 * (position {@code p}: sub-block {@code perm(p)}), then the four super-blocks' F16 d, then their F16
 * dmin: 592 bytes for 576 in GGUF (the 6-bit scales unpacked).
 * </ul>
 */
record LaneWeights(GgmlType type, MemorySegment data, int rows, int cols) {

    /** Blocks per group: 32 shorts fill a 512-bit vector. */
    static final int GROUP = 32;

    /** Blocks per row (32 elements each). */
    int blocks() {
        return cols / 32;
    }

    /** Groups per row, the last one possibly padded. */
    int groups() {
        return (blocks() + GROUP - 1) / GROUP;
    }

    /** Bytes of quants per group: 512 (Q4_0, Q4_K) or 1024 (Q8_0). */
    int quantBytes() {
        return type == GgmlType.Q8_0 ? 1024 : 512;
    }

    int groupBytes() {
        return type == GgmlType.Q4_K ? 512 + 64 + 16 : quantBytes() + 2 * GROUP;
    }

    long rowBytes() {
        return (long) groups() * groupBytes();
    }

    long rowOffset(int row) {
        return row * rowBytes();
    }

    /** The block of a group held at position {@code p} (bytes of a quant row, scales). */
    static int perm(int p) {
        return (p >> 1) + 16 * (p & 1);
    }

    /** Whether weights of {@code type} have a repacked layout here. */
    static boolean supports(GgmlType type) {
        return type == GgmlType.Q4_0 || type == GgmlType.Q8_0 || type == GgmlType.Q4_K;
    }

    /**
     * {@code w} (Q4_0, Q8_0 or Q4_K) repacked into memory of {@code arena}. A group at a time: its GGUF blocks
     * copied into an array, rearranged there, and the group copied out (a byte at a time through the segments
     * would be ten times slower, and this runs over a whole model at load).
     */
    static LaneWeights repack(WeightMatrix w, Arena arena) {
        if (!supports(w.type())) {
            throw new IllegalArgumentException("lane = block kernels exist for Q4_0, Q8_0 and Q4_K weights, not " + w.type());
        }
        LaneWeights shape = new LaneWeights(w.type(), MemorySegment.NULL, w.rows(), w.cols());
        MemorySegment out = arena.allocate(shape.rowBytes() * w.rows(), 64);
        LaneWeights lw = new LaneWeights(w.type(), out, w.rows(), w.cols());
        int typeSize = w.type().typeSize();
        int blocksPerGroup = w.type() == GgmlType.Q4_K ? GROUP / 8 : GROUP;
        byte[] src = new byte[blocksPerGroup * typeSize];
        byte[] dst = new byte[lw.groupBytes()];
        int ggufBlocks = w.cols() / w.type().blockSize();
        for (int r = 0; r < w.rows(); r++) {
            for (int g = 0; g < lw.groups(); g++) {
                int first = g * blocksPerGroup;
                int count = Math.min(blocksPerGroup, ggufBlocks - first);
                MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, w.rowOffset(r) + (long) first * typeSize, src, 0, count * typeSize);
                switch (w.type()) {
                    case Q4_K -> groupQ4_K(src, count, dst);
                    default -> group(w.type(), src, count, dst);
                }
                MemorySegment.copy(dst, 0, out, ValueLayout.JAVA_BYTE, lw.rowOffset(r) + (long) g * lw.groupBytes(), dst.length);
            }
        }
        return lw;
    }

    /** One Q4_0 or Q8_0 group from its first {@code count} GGUF blocks in {@code src}; the rest padding. */
    private static void group(GgmlType type, byte[] src, int count, byte[] dst) {
        boolean q4 = type == GgmlType.Q4_0;
        int perBlock = q4 ? 16 : 32;
        int typeSize = type.typeSize();
        int quantBytes = q4 ? 512 : 1024;
        for (int p = 0; p < GROUP; p++) {
            int b = perm(p);
            if (b >= count) {
                // Padding: zero multipliers (Q4_0: nibble 8), scale 0.
                for (int j = 0; j < perBlock; j++) {
                    dst[32 * j + p] = q4 ? (byte) 0x88 : 0;
                }
                dst[quantBytes + 2 * p] = 0;
                dst[quantBytes + 2 * p + 1] = 0;
                continue;
            }
            int block = b * typeSize;
            for (int j = 0; j < perBlock; j++) {
                dst[32 * j + p] = src[block + 2 + j];
            }
            dst[quantBytes + 2 * p] = src[block];
            dst[quantBytes + 2 * p + 1] = src[block + 1];
        }
    }

    /** One Q4_K group (32 sub-blocks) from its first {@code count} GGUF super-blocks in {@code src}; the rest padding. */
    private static void groupQ4_K(byte[] src, int count, byte[] dst) {
        java.util.Arrays.fill(dst, (byte) 0);
        for (int p = 0; p < GROUP; p++) {
            int u = perm(p);
            int b = u / 8;
            int s = u % 8;
            if (b >= count) {
                continue;
            }
            int block = 144 * b;
            int qs = block + 16 + 32 * (s / 2);
            int shift = 4 * (s % 2);
            for (int j = 0; j < 16; j++) {
                int lo = (src[qs + j] >> shift) & 0xF;
                int hi = (src[qs + j + 16] >> shift) & 0xF;
                dst[32 * j + p] = (byte) (lo | hi << 4);
            }
            int scales = block + 4;
            int scale;
            int min;
            if (s < 4) {
                scale = src[scales + s] & 63;
                min = src[scales + s + 4] & 63;
            } else {
                int packed = src[scales + s + 4] & 0xff;
                scale = (packed & 0xf) | (((src[scales + s - 4] & 0xff) >>> 6) << 4);
                min = (packed >>> 4) | (((src[scales + s] & 0xff) >>> 6) << 4);
            }
            dst[512 + p] = (byte) scale;
            dst[544 + p] = (byte) min;
        }
        for (int k = 0; k < count; k++) {
            dst[576 + 2 * k] = src[144 * k];
            dst[576 + 2 * k + 1] = src[144 * k + 1];
            dst[584 + 2 * k] = src[144 * k + 2];
            dst[584 + 2 * k + 1] = src[144 * k + 3];
        }
    }
}
