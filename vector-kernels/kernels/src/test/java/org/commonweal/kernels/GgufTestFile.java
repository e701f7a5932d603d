package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A minimal GGUF (version 3) reader for tests: maps the file, reads the header, the metadata (scalars and
 * strings kept; arrays skipped and recorded as their element count), the tensor infos and the start of
 * the tensor data. Little-endian files only, which is what llama.cpp writes.
 */
final class GgufTestFile implements AutoCloseable {

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One tensor: ggml dimensions (ne0 first, the contiguous one), raw type id, offset in the data section. */
    record Tensor(String name, long[] dims, int typeId, long offset) {

        GgmlType type() {
            return GgmlType.byId(typeId);
        }

        long elements() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }

        /** Elements per row: ne0. */
        int rowLength() {
            return Math.toIntExact(dims[0]);
        }

        long rows() {
            return elements() / dims[0];
        }
    }

    /** A metadata array, not kept: its element type id and element count. */
    record SkippedArray(int elementType, long count) {
    }

    final Path path;
    final int version;
    final Map<String, Object> metadata = new LinkedHashMap<>();
    final Map<String, Tensor> tensors = new LinkedHashMap<>();
    final long alignment;
    final long dataOffset;
    final MemorySegment file;
    private final Arena arena;
    private long pos;

    private GgufTestFile(Path path) throws IOException {
        this.path = path;
        arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
        int magic = file.get(U32, 0);
        if (magic != 0x46554747) { // "GGUF" read little-endian
            throw new IOException(path + " is not a GGUF file: magic 0x" + Integer.toHexString(magic));
        }
        pos = 4;
        version = u32();
        if (version != 3) {
            throw new IOException(path + ": GGUF version " + version + ", this reader knows version 3");
        }
        long tensorCount = u64();
        long kvCount = u64();
        for (long i = 0; i < kvCount; i++) {
            String key = string();
            metadata.put(key, value(u32()));
        }
        for (long i = 0; i < tensorCount; i++) {
            String name = string();
            long[] dims = new long[u32()];
            for (int d = 0; d < dims.length; d++) {
                dims[d] = u64();
            }
            tensors.put(name, new Tensor(name, dims, u32(), u64()));
        }
        alignment = metadata.get("general.alignment") instanceof Number a ? a.longValue() : 32;
        dataOffset = (pos + alignment - 1) / alignment * alignment;
    }

    static GgufTestFile open(Path path) throws IOException {
        return new GgufTestFile(path);
    }

    /** The tensor's bytes start at this offset of {@link #file}; fails naming the tensor if absent. */
    long tensorStart(String name) {
        return tensor(name).offset() + dataOffset;
    }

    Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path + " has no tensor " + name + "; it has " + tensors.keySet());
        }
        return t;
    }

    /** Dequantizes row {@code row} of the tensor. */
    float[] row(String name, long row) {
        Tensor t = tensor(name);
        float[] out = new float[t.rowLength()];
        long start = tensorStart(name) + row * t.type().rowBytes(t.rowLength());
        Dequantize.row(t.type(), file, start, out, 0, out.length);
        return out;
    }

    private int u32() {
        int v = file.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64() {
        long v = file.get(U64, pos);
        pos += 8;
        return v;
    }

    private String string() {
        int length = Math.toIntExact(u64());
        byte[] bytes = file.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
        pos += length;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Reads one value of GGUF value type {@code type}; arrays are skipped. */
    private Object value(int type) {
        return switch (type) {
            case 0 -> Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, pos++));   // UINT8
            case 1 -> (int) file.get(ValueLayout.JAVA_BYTE, pos++);                 // INT8
            case 2 -> Short.toUnsignedInt(shortAndSkip());                          // UINT16
            case 3 -> (int) shortAndSkip();                                         // INT16
            case 4 -> Integer.toUnsignedLong(u32());                                // UINT32
            case 5 -> u32();                                                        // INT32
            case 6 -> Float.intBitsToFloat(u32());                                  // FLOAT32
            case 7 -> file.get(ValueLayout.JAVA_BYTE, pos++) != 0;                  // BOOL
            case 8 -> string();                                                     // STRING
            case 9 -> skipArray();                                                  // ARRAY
            case 10, 11 -> u64();                                                   // UINT64, INT64
            case 12 -> Double.longBitsToDouble(u64());                              // FLOAT64
            default -> throw new IllegalStateException(path + ": unknown GGUF value type " + type + " at byte " + (pos - 4));
        };
    }

    private short shortAndSkip() {
        short v = file.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
        pos += 2;
        return v;
    }

    private SkippedArray skipArray() {
        int elementType = u32();
        long count = u64();
        long fixed = switch (elementType) {
            case 0, 1, 7 -> 1;
            case 2, 3 -> 2;
            case 4, 5, 6 -> 4;
            case 10, 11, 12 -> 8;
            default -> -1;
        };
        if (fixed > 0) {
            pos += fixed * count;
        } else if (elementType == 8) {
            for (long i = 0; i < count; i++) {
                long length = u64(); // (not "pos += u64()": that adds to pos as it was before the read)
                pos += length;       // the string's bytes, not decoded
            }
        } else {
            for (long i = 0; i < count; i++) {
                value(elementType); // strings and nested arrays: read one by one
            }
        }
        return new SkippedArray(elementType, count);
    }

    @Override
    public void close() {
        arena.close();
    }

    /**
     * The shared test models folder ({@code shared/testdata/models}), looked for in the working directory
     * and each of its parents, so it is found from the module directory and from a worktree.
     */
    static Optional<Path> modelsFolder() {
        for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared/testdata/models");
            if (Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
