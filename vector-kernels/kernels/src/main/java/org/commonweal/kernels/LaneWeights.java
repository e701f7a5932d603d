package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0, Q5_0, Q8_0, Q4_K, Q5_K or Q6_K weights repacked once (at load) for {@link LaneKernels}, where SIMD lane {@code l}
 * accumulates whole blocks {@code l, l+16, l+32, ...} ("lane = block", see {@link ReferenceDot}); for
 * the K-quants a "block" here is a 32-element sub-block (eight per 256-element super-block).
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
 * <li>Q5_K: Q4_K's layout with the quants' fifth bits among the nibbles: 720 bytes for 704 in GGUF. Four
 * steps k = 0..3 of 160 bytes: a row of fifth bits, byte {@code 160 k + p} holding, for sub-block
 * {@code perm(p)} and i = 0..3, the fifth bit of element {@code 4k + i} in its bit {@code i} and that of
 * element {@code 4k + i + 16} in its bit {@code 4 + i}; then nibble rows j = 4k .. 4k+3 as Q4_K's (low four
 * bits of elements j and j + 16 of sub-block {@code perm(p)} in byte {@code 160 k + 32 + 32 (j - 4k) + p}).
 * Shifted left by {@code 4 - i}, the fifth-bit byte has the low element's fifth bit at bit 4 and the high
 * element's at bit 8, just above its nibble (int shifts of constant count). The kernels read each step's
 * 160 bytes in order (the fifth bits in a block of their own after the nibbles, read between them, cost
 * a quarter of the two-row matvec's speed from memory). Then Q4_K's scales (640), mins (672), d (704)
 * and dmin (712).
 * <li>Q5_0: 704 bytes per group, GGUF's size: the quants as Q5_K's (640 bytes; block {@code perm(p)}'s fifth bits
 * and nibbles where Q5_K has sub-block {@code perm(p)}'s), then the 32 F16 scales as Q4_0's (scale {@code p} at
 * {@code 640 + 2 p}). Padding blocks are all zero (multiplier -16 against zero activations, scale 0).
 * <li>Q6_K: 840 bytes per group, exactly the GGUF size of its four super-blocks. The 6-bit quants q
 * (unsigned, 0..63) are 12 rows of 32 little-endian shorts: for octet {@code o} (elements
 * {@code 8o .. 8o+7} of a sub-block; o = 0, 1 its first half A, o = 2, 3 its second half B) and
 * {@code i} = 0, 1, 2, the short at byte {@code 192 o + 64 i + 2 p} belongs to sub-block {@code perm(p)}
 * and holds, with {@code q0 .. q7} that octet's eight quants,
 * <pre>
 *   i = 0:  q0 | q1 << 6 | (q6 & 15) << 12
 *   i = 1:  q2 | q3 << 6 | (q6 >> 4) << 12 | (q7 & 3) << 14
 *   i = 2:  q4 | q5 << 6 | (q7 >> 2) << 12
 * </pre>
 * so that one 64-byte load, seen as 16 ints of two shorts ({@code v0, v1, v2} for i = 0, 1, 2), gives
 * any of the octet's quants for all 32 sub-blocks with at most two int shifts and two masks that keep
 * the shorts apart: q0 = {@code v0 & 0x3F003F}, q1 = {@code v0 >>> 6 & 0x3F003F}, ...,
 * q6 = {@code v0 >>> 12 & 0xF000F | v1 >>> 8 & 0x300030}, q7 = {@code v1 >>> 14 & 0x30003 | v2 >>> 10 & 0x3C003C}.
 * Then the int8 scales: byte {@code 768 + p} the scale of half A of sub-block {@code perm(p)}, byte
 * {@code 800 + p} that of half B; then the four super-blocks' F16 d at {@code 832}. Padding sub-blocks
 * are all zero: q = 0 (its multiplier -32 meets zero activations), scales 0, d 0.
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

    /*
     * Per type (by ordinal): bytes of quants per group and bytes per group. Tables keep quantBytes() and
     * groupBytes() a few bytecodes long: with a conditional per type, groupBytes() grew past C2's inlining
     * size for call sites it does not count as hot (the matvec kernels' rowOffset, once per row): in three
     * alternating runs the Q4_K lane matvec (two rows at a time, weights in L2) ran at 23 GB/s with the
     * conditional, 24-32 with the tables.
     */
    private static final int[] QUANT_BYTES = new int[GgmlType.values().length];
    private static final int[] GROUP_BYTES = new int[GgmlType.values().length];

    static {
        QUANT_BYTES[GgmlType.Q4_0.ordinal()] = 512;
        QUANT_BYTES[GgmlType.Q5_0.ordinal()] = 640;
        QUANT_BYTES[GgmlType.Q8_0.ordinal()] = 1024;
        QUANT_BYTES[GgmlType.Q4_K.ordinal()] = 512;
        QUANT_BYTES[GgmlType.Q5_K.ordinal()] = 640;
        QUANT_BYTES[GgmlType.Q6_K.ordinal()] = 768;
        GROUP_BYTES[GgmlType.Q4_0.ordinal()] = 512 + 2 * GROUP;
        GROUP_BYTES[GgmlType.Q5_0.ordinal()] = 640 + 2 * GROUP;
        GROUP_BYTES[GgmlType.Q8_0.ordinal()] = 1024 + 2 * GROUP;
        GROUP_BYTES[GgmlType.Q4_K.ordinal()] = 512 + 64 + 16;
        GROUP_BYTES[GgmlType.Q5_K.ordinal()] = 640 + 64 + 16;
        GROUP_BYTES[GgmlType.Q6_K.ordinal()] = 768 + 64 + 8;
    }

    /** Bytes of quants per group: 512 (Q4_0, Q4_K), 640 (Q5_0, Q5_K), 768 (Q6_K) or 1024 (Q8_0). */
    int quantBytes() {
        return QUANT_BYTES[type.ordinal()];
    }

    /** Bytes per group: 576 (Q4_0), 704 (Q5_0), 1088 (Q8_0), 592 (Q4_K), 720 (Q5_K), 840 (Q6_K). */
    int groupBytes() {
        return GROUP_BYTES[type.ordinal()];
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
        return type == GgmlType.Q4_0 || type == GgmlType.Q5_0 || type == GgmlType.Q8_0 || type == GgmlType.Q4_K
                || type == GgmlType.Q5_K || type == GgmlType.Q6_K;
    }

    /**
     * {@code w} (Q4_0, Q5_0, Q8_0, Q4_K, Q5_K or Q6_K) repacked into memory of {@code arena}. A group at a time: its GGUF blocks
     * copied into an array, rearranged there, and the group copied out (a byte at a time through the segments
     * would be ten times slower, and this runs over a whole model at load).
     */
    static LaneWeights repack(WeightMatrix w, Arena arena) {
        if (w.type() == GgmlType.Q6_K) {
            return repackQ6_K(w, arena);
        }
        if (!supports(w.type())) {
            throw new IllegalArgumentException("lane = block kernels exist for Q4_0, Q5_0, Q8_0, Q4_K, Q5_K and Q6_K weights, not " + w.type());
        }
        LaneWeights shape = new LaneWeights(w.type(), MemorySegment.NULL, w.rows(), w.cols());
        MemorySegment out = arena.allocate(shape.rowBytes() * w.rows(), 64);
        LaneWeights lw = new LaneWeights(w.type(), out, w.rows(), w.cols());
        int typeSize = w.type().typeSize();
        int blocksPerGroup = w.type() == GgmlType.Q4_K || w.type() == GgmlType.Q5_K ? GROUP / 8 : GROUP;
        byte[] src = new byte[blocksPerGroup * typeSize];
        byte[] dst = new byte[lw.groupBytes()];
        int ggufBlocks = w.cols() / w.type().blockSize();
        for (int r = 0; r < w.rows(); r++) {
            for (int g = 0; g < lw.groups(); g++) {
                int first = g * blocksPerGroup;
                int count = Math.min(blocksPerGroup, ggufBlocks - first);
                MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, w.rowOffset(r) + (long) first * typeSize, src, 0, count * typeSize);
                switch (w.type()) {
                    case Q4_K -> groupQ4_K(src, count, dst, false);
                    case Q5_K -> groupQ4_K(src, count, dst, true);
                    case Q5_0 -> groupQ5_0(src, count, dst);
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

    /**
     * One Q5_0 group from its first {@code count} GGUF blocks in {@code src}; the rest padding (all zero). A GGUF block
     * is d (F16), qh (32 bits, little-endian: bit l the fifth bit of element l), then 16 bytes of nibbles (byte j:
     * element j low, element j + 16 high).
     */
    private static void groupQ5_0(byte[] src, int count, byte[] dst) {
        java.util.Arrays.fill(dst, (byte) 0);
        for (int p = 0; p < GROUP; p++) {
            int b = perm(p);
            if (b >= count) {
                continue;
            }
            int block = 22 * b;
            int qh = (src[block + 2] & 0xFF) | (src[block + 3] & 0xFF) << 8 | (src[block + 4] & 0xFF) << 16
                    | (src[block + 5] & 0xFF) << 24;
            for (int k = 0; k < 4; k++) {
                int h = 0;
                for (int i = 0; i < 4; i++) {
                    h |= (qh >>> (4 * k + i) & 1) << i;
                    h |= (qh >>> (4 * k + i + 16) & 1) << (4 + i);
                }
                dst[160 * k + p] = (byte) h;
                for (int i = 0; i < 4; i++) {
                    dst[160 * k + 32 + 32 * i + p] = src[block + 6 + 4 * k + i];
                }
            }
            dst[640 + 2 * p] = src[block];
            dst[640 + 2 * p + 1] = src[block + 1];
        }
    }

    /**
     * One Q4_K or Q5_K ({@code five}) group (32 sub-blocks) from its first {@code count} GGUF super-blocks in
     * {@code src}; the rest padding (all zero: quants 0, scales 0, d 0). GGUF's Q5_K super-block is Q4_K's
     * with {@code qh[32]} (byte {@code l}'s bit {@code s}: the fifth bit of element {@code l} of sub-block s)
     * between the scales and the nibbles.
     */
    private static void groupQ4_K(byte[] src, int count, byte[] dst, boolean five) {
        java.util.Arrays.fill(dst, (byte) 0);
        int size = five ? 176 : 144;
        int extra = five ? 128 : 0;
        for (int p = 0; p < GROUP; p++) {
            int u = perm(p);
            int b = u / 8;
            int s = u % 8;
            if (b >= count) {
                continue;
            }
            int block = size * b;
            int qs = block + (five ? 48 : 16) + 32 * (s / 2);
            int shift = 4 * (s % 2);
            for (int j = 0; j < 16; j++) {
                int lo = (src[qs + j] >> shift) & 0xF;
                int hi = (src[qs + j + 16] >> shift) & 0xF;
                dst[(five ? 160 * (j >> 2) + 32 + 32 * (j & 3) : 32 * j) + p] = (byte) (lo | hi << 4);
            }
            if (five) {
                for (int k = 0; k < 4; k++) {
                    int h = 0;
                    for (int i = 0; i < 4; i++) {
                        h |= ((src[block + 16 + 4 * k + i] >> s) & 1) << i;
                        h |= ((src[block + 16 + 4 * k + i + 16] >> s) & 1) << (4 + i);
                    }
                    dst[160 * k + p] = (byte) h;
                }
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
            dst[extra + 512 + p] = (byte) scale;
            dst[extra + 544 + p] = (byte) min;
        }
        for (int k = 0; k < count; k++) {
            dst[extra + 576 + 2 * k] = src[size * k];
            dst[extra + 576 + 2 * k + 1] = src[size * k + 1];
            dst[extra + 584 + 2 * k] = src[size * k + 2];
            dst[extra + 584 + 2 * k + 1] = src[size * k + 3];
        }
    }

    /**
     * Q6_K: each row copied once into a byte array, its super-blocks' 6-bit quants unpacked (see
     * {@link Dequantize} for the GGUF bit positions), packed into the group layout in a second byte array
     * (zeros: padding adds nothing), and copied out in one bulk copy.
     */
    private static LaneWeights repackQ6_K(WeightMatrix w, Arena arena) {
        LaneWeights shape = new LaneWeights(w.type(), MemorySegment.NULL, w.rows(), w.cols());
        MemorySegment out = arena.allocate(shape.rowBytes() * w.rows(), 64);
        LaneWeights lw = new LaneWeights(w.type(), out, w.rows(), w.cols());
        int superBlocks = w.cols() / 256;
        byte[] src = new byte[(int) w.rowBytes()];
        byte[] dst = new byte[(int) lw.rowBytes()];
        int[] f = new int[256];
        for (int r = 0; r < w.rows(); r++) {
            MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, w.rowOffset(r), src, 0, src.length);
            java.util.Arrays.fill(dst, (byte) 0);
            for (int b = 0; b < superBlocks; b++) {
                int at = 210 * b;
                for (int h = 0; h < 2; h++) {
                    int ql = at + 64 * h;
                    int qh = at + 128 + 32 * h;
                    int e = 128 * h;
                    for (int l = 0; l < 32; l++) {
                        int a = src[ql + l];
                        int c = src[ql + 32 + l];
                        int hi = src[qh + l];
                        f[e + l] = (a & 0xF) | (hi & 3) << 4;
                        f[e + 32 + l] = (c & 0xF) | (hi & 0xC) << 2;
                        f[e + 64 + l] = (a >> 4 & 0xF) | (hi & 0x30);
                        f[e + 96 + l] = (c >> 4 & 0xF) | (hi >> 2 & 0x30);
                    }
                }
                int go = (b >> 2) * 840;
                for (int s = 0; s < 8; s++) {
                    int i = 8 * (b & 3) + s;
                    int p = i < 16 ? 2 * i : 2 * (i - 16) + 1;
                    for (int o = 0; o < 4; o++) {
                        int e = 32 * s + 8 * o;
                        int s0 = f[e] | f[e + 1] << 6 | (f[e + 6] & 15) << 12;
                        int s1 = f[e + 2] | f[e + 3] << 6 | (f[e + 6] >> 4) << 12 | (f[e + 7] & 3) << 14;
                        int s2 = f[e + 4] | f[e + 5] << 6 | (f[e + 7] >> 2) << 12;
                        int q = go + 192 * o + 2 * p;
                        dst[q] = (byte) s0;
                        dst[q + 1] = (byte) (s0 >> 8);
                        dst[q + 64] = (byte) s1;
                        dst[q + 65] = (byte) (s1 >> 8);
                        dst[q + 128] = (byte) s2;
                        dst[q + 129] = (byte) (s2 >> 8);
                    }
                    dst[go + 768 + p] = src[at + 192 + 2 * s];
                    dst[go + 800 + p] = src[at + 192 + 2 * s + 1];
                }
                dst[go + 832 + 2 * (b & 3)] = src[at + 208];
                dst[go + 833 + 2 * (b & 3)] = src[at + 209];
            }
            MemorySegment.copy(dst, 0, out, ValueLayout.JAVA_BYTE, lw.rowOffset(r), dst.length);
        }
        return lw;
    }
}
