package org.commonweal.inference.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.commonweal.kernels.types.GgmlType;

/**
 * Writes GGUF version 3 files: metadata, then tensor infos, then the tensor data, each tensor aligned to
 * {@value #ALIGNMENT} bytes, as llama.cpp reads them. Tensor bytes are produced by a callback that fills
 * the tensor's region of the (mapped) output file, so multi-gigabyte models are written without holding
 * them in memory. The file appears under its name only when complete.
 */
public final class GgufWriter {

    public static final int ALIGNMENT = 32;

    private record Tensor(String name, GgmlType type, long[] dims, Consumer<MemorySegment> fill) {
        long bytes() {
            long elements = 1;
            for (long d : dims) {
                elements *= d;
            }
            return type.rowBytes(dims[0]) * (elements / dims[0]);
        }
    }

    private record Value(GgufValueType type, Object value) {
    }

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putU32(String key, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(key + " = " + value + " does not fit in uint32");
        }
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putI32(String key, int value) {
        return put(key, GgufValueType.INT32, (long) value);
    }

    public GgufWriter putF32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    public GgufWriter putStrings(String key, String[] values) {
        return put(key, GgufValueType.ARRAY, values.clone());
    }

    public GgufWriter putF32s(String key, float[] values) {
        return put(key, GgufValueType.ARRAY, values.clone());
    }

    /** An array of int32 values. */
    public GgufWriter putI32s(String key, int[] values) {
        return put(key, GgufValueType.ARRAY, values.clone());
    }

    /** A value as another file stores it ({@link GgufFile#rawValue}): its type id, then the value. */
    public GgufWriter putRaw(String key, byte[] typeAndValue) {
        return put(key, null, typeAndValue.clone());
    }

    private GgufWriter put(String key, GgufValueType type, Object value) {
        if (metadata.putIfAbsent(key, new Value(type, value)) != null) {
            throw new IllegalArgumentException("metadata key '" + key + "' is already set");
        }
        return this;
    }

    /**
     * Adds a tensor of ggml shape {@code dims} (ne0 first); {@code fill} writes its
     * {@code type.rowBytes(dims[0]) * rows} bytes into the segment it is given.
     */
    public GgufWriter tensor(String name, GgmlType type, long[] dims, Consumer<MemorySegment> fill) {
        for (Tensor t : tensors) {
            if (t.name.equals(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' is already added");
            }
        }
        type.rowBytes(dims[0]);
        tensors.add(new Tensor(name, type, dims.clone(), fill));
        return this;
    }

    /** An F32 tensor holding {@code values}. */
    public GgufWriter tensor(String name, long[] dims, float[] values) {
        return tensor(name, GgmlType.F32, dims, segment -> MemorySegment.copy(values, 0, segment,
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length));
    }

    /** Writes the file to {@code target} (through a temporary file beside it, moved into place at the end). */
    public void write(Path target) throws IOException {
        long dataStart = align(encode(new long[tensors.size()]).length);
        long size = dataStart;
        long[] offsets = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = size - dataStart;
            size = align(size + tensors.get(i).bytes());
        }
        Path temporary = target.resolveSibling(target.getFileName() + ".partial");
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING);
                Arena arena = Arena.ofConfined()) {
            byte[] full = encode(offsets);
            channel.write(ByteBuffer.wrap(full), 0);
            if (size > full.length) {
                MemorySegment file = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
                for (int i = 0; i < tensors.size(); i++) {
                    Tensor t = tensors.get(i);
                    t.fill.accept(file.asSlice(dataStart + offsets[i], t.bytes()));
                }
                file.force();
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The header, metadata and tensor infos (their length does not depend on the offsets). */
    private byte[] encode(long[] offsets) {
        Out out = new Out();
        out.u32(0x46554747);
        out.u32(3);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            out.string(e.getKey());
            Value v = e.getValue();
            if (v.type == null) {
                out.raw((byte[]) v.value);
                continue;
            }
            out.u32(v.type.id());
            out.value(v.type, v.value);
        }
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            out.string(t.name);
            out.u32(t.dims.length);
            for (long d : t.dims) {
                out.u64(d);
            }
            out.u32(t.type.id());
            out.u64(offsets[i]);
        }
        return out.bytes();
    }

    private static long align(long at) {
        return (at + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** A growable little-endian byte buffer. */
    private static final class Out {
        private ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (buffer.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + n))
                        .order(ByteOrder.LITTLE_ENDIAN);
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
        }

        void u32(long v) {
            ensure(4);
            buffer.putInt((int) v);
        }

        void u64(long v) {
            ensure(8);
            buffer.putLong(v);
        }

        void raw(byte[] bytes) {
            ensure(bytes.length);
            buffer.put(bytes);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            ensure(b.length);
            buffer.put(b);
        }

        void value(GgufValueType type, Object value) {
            switch (type) {
                case STRING -> string((String) value);
                case UINT32, INT32 -> u32((Long) value);
                case FLOAT32 -> {
                    ensure(4);
                    buffer.putFloat((Float) value);
                }
                case BOOL -> {
                    ensure(1);
                    buffer.put((byte) ((Boolean) value ? 1 : 0));
                }
                case ARRAY -> array(value);
                default -> throw new IllegalStateException(type.toString());
            }
        }

        void array(Object value) {
            switch (value) {
                case String[] strings -> {
                    u32(GgufValueType.STRING.id());
                    u64(strings.length);
                    for (String s : strings) {
                        string(s);
                    }
                }
                case float[] floats -> {
                    u32(GgufValueType.FLOAT32.id());
                    u64(floats.length);
                    ensure(4 * floats.length);
                    for (float f : floats) {
                        buffer.putFloat(f);
                    }
                }
                case int[] ints -> {
                    u32(GgufValueType.INT32.id());
                    u64(ints.length);
                    ensure(4 * ints.length);
                    for (int i : ints) {
                        buffer.putInt(i);
                    }
                }
                default -> throw new IllegalStateException(value.getClass().toString());
            }
        }

        byte[] bytes() {
            byte[] b = new byte[buffer.position()];
            buffer.duplicate().flip().get(b);
            return b;
        }
    }
}
