package org.commonweal.inference.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;

import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;

/**
 * A GGUF file (versions 2 and 3, little-endian, as llama.cpp writes them): the metadata, the tensor infos
 * and the tensor data, either memory-mapped or copied into allocated off-heap memory (see {@link Loading}).
 * <p>
 * Opening checks the whole structure before anything is used: the magic and version, every count and
 * length against the bytes that remain, every value type, every tensor's type, dimensions, alignment and
 * extent, and that no two tensors overlap. A file that fails a check is refused with a
 * {@link GgufException} naming the file and the problem; nothing is allocated beyond what the file's size
 * justifies.
 * <p>
 * Metadata values are kept as Java values: {@code Long} for every integer type, {@code Float},
 * {@code Double}, {@code Boolean}, {@code String}; arrays as {@code long[]}, {@code float[]},
 * {@code double[]}, {@code boolean[]}, {@code String[]}, or {@code Object[]} for arrays of arrays.
 * <p>
 * Closing releases the tensor memory: every segment and matrix obtained from the file is then unusable.
 */
public final class GgufFile implements AutoCloseable {

    /** How tensor data is held. */
    public enum Loading {
        /**
         * Mapped from the file: nothing is read at start, pages come from the page cache on first use and
         * many processes share them. On some VMs mapped memory streams several times slower than allocated.
         */
        MAPPED,
        /** Copied once into allocated off-heap memory: a full read at start, the fastest streaming after. */
        ALLOCATED
    }

    /** "GGUF" read as a little-endian 32-bit integer. */
    private static final int MAGIC = 0x46554747;
    private static final int MAX_DIMS = 4;
    private static final int MAX_ARRAY_NESTING = 3;
    private static final long DEFAULT_ALIGNMENT = 32;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final int version;
    private final long alignment;
    private final Map<String, Object> metadata;
    private final Map<String, TensorInfo> tensors;
    private final Loading loading;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, long[]> rawExtents;

    private GgufFile(Path path, int version, long alignment, Map<String, Object> metadata,
            Map<String, TensorInfo> tensors, Loading loading, Arena arena, MemorySegment data,
            Map<String, long[]> rawExtents) {
        this.rawExtents = Collections.unmodifiableMap(rawExtents);
        this.path = path;
        this.version = version;
        this.alignment = alignment;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.loading = loading;
        this.arena = arena;
        this.data = data;
    }

    /** Opens {@code path} with its tensor data mapped. */
    public static GgufFile open(Path path) throws IOException {
        return open(path, Loading.MAPPED, bytes -> { });
    }

    /**
     * Opens {@code path}, checking its whole structure, with the tensor data held as {@code loading} says;
     * {@code progress} hears the bytes copied so far while {@link Loading#ALLOCATED} data is read.
     */
    public static GgufFile open(Path path, Loading loading, LongConsumer progress) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new GgufException(path, "no such file");
        }
        Arena mapping = Arena.ofShared();
        boolean keepMapping = false;
        try (channel) {
            long size = channel.size();
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, mapping);
            Parser parser = new Parser(path, file);
            GgufFile parsed = parser.parse(loading, mapping, channel, progress);
            keepMapping = loading == Loading.MAPPED;
            return parsed;
        } finally {
            if (!keepMapping) {
                mapping.close();
            }
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long alignment() {
        return alignment;
    }

    public Loading loading() {
        return loading;
    }

    /** Every metadata key and value, in file order (see the class comment for the value types). */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** The string under {@code key}; fails naming the key if it is missing or not a string. */
    public String string(String key) throws GgufException {
        return typed(key, String.class, "a string");
    }

    public Optional<String> findString(String key) throws GgufException {
        return has(key) ? Optional.of(string(key)) : Optional.empty();
    }

    /** The integer under {@code key}, of any integer type. */
    public long integer(String key) throws GgufException {
        return typed(key, Long.class, "an integer");
    }

    public long integer(String key, long defaultValue) throws GgufException {
        return has(key) ? integer(key) : defaultValue;
    }

    /** The number under {@code key}: a float of either width, or an integer. */
    public double number(String key) throws GgufException {
        Object value = required(key);
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        throw wrongType(key, value, "a number");
    }

    public double number(String key, double defaultValue) throws GgufException {
        return has(key) ? number(key) : defaultValue;
    }

    public boolean bool(String key, boolean defaultValue) throws GgufException {
        return has(key) ? typed(key, Boolean.class, "a boolean") : defaultValue;
    }

    public String[] strings(String key) throws GgufException {
        return typed(key, String[].class, "an array of strings").clone();
    }

    public float[] floats(String key) throws GgufException {
        return typed(key, float[].class, "an array of float32").clone();
    }

    public long[] integers(String key) throws GgufException {
        return typed(key, long[].class, "an array of integers").clone();
    }

    private Object required(String key) throws GgufException {
        Object value = metadata.get(key);
        if (value == null) {
            throw new GgufException(path, "metadata key '" + key + "' is missing");
        }
        return value;
    }

    private <T> T typed(String key, Class<T> type, String what) throws GgufException {
        Object value = required(key);
        if (!type.isInstance(value)) {
            throw wrongType(key, value, what);
        }
        return type.cast(value);
    }

    private GgufException wrongType(String key, Object value, String what) {
        return new GgufException(path, "metadata key '" + key + "' should be " + what + " but is "
                + (value.getClass().isArray() ? "an array of " + value.getClass().getComponentType().getSimpleName()
                        : "a " + value.getClass().getSimpleName()));
    }

    /**
     * The metadata value of {@code key} exactly as the file stores it (its value type id, then the value),
     * read again from the file: to copy it into another file without changing its type.
     */
    public byte[] rawValue(String key) throws IOException {
        long[] extent = rawExtents.get(key);
        if (extent == null) {
            throw new GgufException(path, "metadata key '" + key + "' is missing");
        }
        byte[] bytes = new byte[Math.toIntExact(extent[1] - extent[0])];
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, extent[0] + buffer.position()) < 0) {
                    throw new GgufException(path, "changed since it was opened (it is shorter now)");
                }
            }
        }
        return bytes;
    }

    /** Every tensor, in file order. */
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    public Optional<TensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor called {@code name}; fails naming it if the file has none. */
    public TensorInfo tensor(String name) throws GgufException {
        TensorInfo tensor = tensors.get(name);
        if (tensor == null) {
            throw new GgufException(path, "tensor '" + name + "' is missing");
        }
        return tensor;
    }

    /** The tensor data section: mapped or allocated, as opened. */
    public MemorySegment data() {
        return data;
    }

    /** The bytes of one tensor. */
    public MemorySegment bytes(TensorInfo tensor) {
        return data.asSlice(tensor.offset(), tensor.byteSize());
    }

    /**
     * The 2-D tensor {@code name} as a weight matrix of {@code rows} x {@code cols} (ne1 x ne0); fails
     * naming the tensor if its shape is not that.
     */
    public WeightMatrix matrix(String name, long rows, long cols) throws GgufException {
        TensorInfo t = tensor(name);
        long[] dims = t.dims();
        if (dims.length != 2 || dims[0] != cols || dims[1] != rows) {
            throw new GgufException(path, "tensor '" + name + "' has shape " + java.util.Arrays.toString(dims)
                    + " but the model's hyperparameters need [" + cols + ", " + rows + "]");
        }
        return new WeightMatrix(t.type(), data, t.offset(), Math.toIntExact(rows), Math.toIntExact(cols));
    }

    /**
     * The 1-D tensor {@code name} of {@code n} elements (norm weights, biases, RoPE factors) as floats; F32, F16 or BF16
     * (ggml keeps such tensors unquantized). Read here, without the kernels, so this API does not depend on them.
     */
    public float[] vector(String name, long n) throws GgufException {
        TensorInfo t = tensor(name);
        if (t.elements() != n || t.dims().length != 1) {
            throw new GgufException(path, "tensor '" + name + "' has shape " + java.util.Arrays.toString(t.dims())
                    + " but the model's hyperparameters need [" + n + "]");
        }
        float[] out = new float[Math.toIntExact(n)];
        switch (t.type()) {
            case F32 -> MemorySegment.copy(data, F32, t.offset(), out, 0, out.length);
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(data.get(U16, t.offset() + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat(data.get(U16, t.offset() + 2L * i) << 16);
                }
            }
            default -> throw new GgufException(path, "tensor '" + name + "' is a vector of type " + t.type()
                    + "; vectors (norms, biases) are read as F32, F16 or BF16 only");
        }
        return out;
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return path + " (GGUF v" + version + ", " + metadata.size() + " metadata keys, " + tensors.size() + " tensors)";
    }

    /** Reads the header, metadata and tensor infos, checking every length before it is used. */
    private static final class Parser {

        private final Path path;
        private final MemorySegment file;
        private final long size;
        private long pos;
        /** Per metadata key, where its value type and value lie in the file. */
        private final Map<String, long[]> rawExtents = new LinkedHashMap<>();

        Parser(Path path, MemorySegment file) {
            this.path = path;
            this.file = file;
            this.size = file.byteSize();
        }

        GgufFile parse(Loading loading, Arena mapping, FileChannel channel, LongConsumer progress) throws IOException {
            if (size < 24) {
                throw new GgufException(path, "is " + size + " bytes long, too short for a GGUF header (24 bytes)"
                        + (size == 0 ? "; the file is empty" : "; is it truncated?"));
            }
            int magic = file.get(U32, 0);
            if (magic != MAGIC) {
                throw new GgufException(path, "is not a GGUF file: it starts with bytes " + hex(file, 4)
                        + ", not 'GGUF'");
            }
            pos = 4;
            int version = file.get(U32, pos);
            pos += 4;
            if (version == 1) {
                throw new GgufException(path, "is GGUF version 1, which has 32-bit counts and is not supported; "
                        + "convert it again with a current llama.cpp (convert_hf_to_gguf.py or gguf-py)");
            }
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw new GgufException(path, "is a big-endian GGUF file; only little-endian files are supported");
            }
            if (version != 2 && version != 3) {
                throw new GgufException(path, "has GGUF version " + Integer.toUnsignedString(version)
                        + "; versions 2 and 3 are supported");
            }
            long tensorCount = u64("the tensor count");
            long kvCount = u64("the metadata count");
            // A metadata entry takes at least 13 bytes (key length, a 1-byte key, type, a 1-byte value).
            checkCount(kvCount, 13, "metadata entries");
            Map<String, Object> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = string("the key of metadata entry " + i);
                if (metadata.containsKey(key)) {
                    throw new GgufException(path, "metadata key '" + key + "' appears twice");
                }
                long typeAt = pos;
                GgufValueType type = valueType("metadata key '" + key + "'");
                metadata.put(key, value(type, "metadata key '" + key + "'", 0));
                rawExtents.put(key, new long[] {typeAt, pos});
            }
            long alignment = DEFAULT_ALIGNMENT;
            Object a = metadata.get("general.alignment");
            if (a != null) {
                if (!(a instanceof Long l) || l <= 0 || l > (1 << 20) || Long.bitCount(l) != 1) {
                    throw new GgufException(path, "general.alignment is " + a + "; it must be a power of two");
                }
                alignment = l;
            }
            // A tensor info takes at least 8 + 1 + 4 + 8 + 4 + 8 bytes.
            checkCount(tensorCount, 33, "tensor infos");
            List<long[]> raw = new ArrayList<>();
            Map<String, TensorInfo> infos = new LinkedHashMap<>();
            List<String> names = new ArrayList<>();
            List<Integer> typeIds = new ArrayList<>();
            for (long i = 0; i < tensorCount; i++) {
                String name = string("the name of tensor " + i);
                if (names.contains(name)) {
                    throw new GgufException(path, "tensor '" + name + "' appears twice");
                }
                names.add(name);
                int nDims = u32("the dimension count of tensor '" + name + "'");
                if (nDims < 1 || nDims > MAX_DIMS) {
                    throw new GgufException(path, "tensor '" + name + "' has " + Integer.toUnsignedString(nDims)
                            + " dimensions; ggml tensors have 1 to " + MAX_DIMS);
                }
                long[] dims = new long[nDims];
                for (int d = 0; d < nDims; d++) {
                    dims[d] = u64("dimension " + d + " of tensor '" + name + "'");
                }
                typeIds.add(u32("the type of tensor '" + name + "'"));
                long offset = u64("the data offset of tensor '" + name + "'");
                long[] entry = new long[nDims + 1];
                entry[0] = offset;
                System.arraycopy(dims, 0, entry, 1, nDims);
                raw.add(entry);
            }
            long dataStart = align(pos, alignment);
            long dataSize = Math.max(0, size - dataStart);
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                long[] entry = raw.get(i);
                long[] dims = java.util.Arrays.copyOfRange(entry, 1, entry.length);
                TensorInfo info = tensorInfo(name, dims, typeIds.get(i), entry[0], alignment, dataSize);
                infos.put(name, info);
            }
            checkOverlaps(infos.values());
            if (tensorCount > 0 && dataStart > size) {
                throw new GgufException(path, "ends before its tensor data starts (at byte " + dataStart + "); is it truncated?");
            }
            MemorySegment fileData = file.asSlice(Math.min(dataStart, size), dataSize);
            if (loading == Loading.MAPPED) {
                return new GgufFile(path, version, alignment, metadata, infos, loading, mapping, fileData, rawExtents);
            }
            Arena arena = Arena.ofShared();
            try {
                MemorySegment copy = allocate(arena, dataSize);
                copy(channel, dataStart, copy, progress);
                return new GgufFile(path, version, alignment, metadata, infos, loading, arena, copy, rawExtents);
            } catch (IOException | RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }

        private MemorySegment allocate(Arena arena, long bytes) throws GgufException {
            try {
                return arena.allocate(Math.max(bytes, 1), 64);
            } catch (OutOfMemoryError e) {
                throw new GgufException(path, "its " + bytes / (1 << 20) + " MiB of tensor data do not fit in "
                        + "memory; load it mapped instead (inference.loading=mapped)", e);
            }
        }

        private void copy(FileChannel channel, long from, MemorySegment to, LongConsumer progress) throws IOException {
            long chunk = 64L << 20;
            for (long done = 0; done < to.byteSize(); ) {
                var buffer = to.asSlice(done, Math.min(chunk, to.byteSize() - done)).asByteBuffer();
                while (buffer.hasRemaining()) {
                    int n = channel.read(buffer, from + done + buffer.position());
                    if (n < 0) {
                        throw new GgufException(path, "ended while its tensor data was being read; was it truncated?");
                    }
                }
                done += buffer.capacity();
                progress.accept(done);
            }
        }

        private TensorInfo tensorInfo(String name, long[] dims, int typeId, long offset, long alignment, long dataSize)
                throws GgufException {
            GgmlType type;
            try {
                type = GgmlType.byId(typeId);
            } catch (IllegalArgumentException e) {
                throw new GgufException(path, "tensor '" + name + "' has ggml type id " + Integer.toUnsignedString(typeId)
                        + ", which is not supported (supported: " + java.util.Arrays.toString(GgmlType.values()) + ")");
            }
            long elements = 1;
            for (long d : dims) {
                if (d <= 0) {
                    throw new GgufException(path, "tensor '" + name + "' has dimension " + Long.toUnsignedString(d)
                            + " in " + shape(dims) + "; every dimension must be at least 1");
                }
                try {
                    elements = Math.multiplyExact(elements, d);
                } catch (ArithmeticException e) {
                    throw new GgufException(path, "tensor '" + name + "' has an absurd shape " + shape(dims));
                }
            }
            if (dims[0] % type.blockSize() != 0) {
                throw new GgufException(path, "tensor '" + name + "' is " + type + " with rows of " + dims[0]
                        + " elements, not a multiple of its block size " + type.blockSize());
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(elements / type.blockSize(), (long) type.typeSize());
            } catch (ArithmeticException e) {
                throw new GgufException(path, "tensor '" + name + "' has an absurd shape " + shape(dims));
            }
            if (offset % alignment != 0) {
                throw new GgufException(path, "tensor '" + name + "' starts at data offset " + Long.toUnsignedString(offset)
                        + ", which is not a multiple of the file's alignment " + alignment);
            }
            if (offset < 0 || bytes > dataSize || offset > dataSize - bytes) {
                throw new GgufException(path, "tensor '" + name + "' (" + type + " " + shape(dims) + ", " + bytes
                        + " bytes at data offset " + Long.toUnsignedString(offset) + ") reaches past the end of the file ("
                        + dataSize + " bytes of tensor data); is the file truncated?");
            }
            return new TensorInfo(name, dims, type, offset, bytes);
        }

        private void checkOverlaps(java.util.Collection<TensorInfo> infos) throws GgufException {
            List<TensorInfo> sorted = new ArrayList<>(infos);
            sorted.sort(Comparator.comparingLong(TensorInfo::offset));
            for (int i = 1; i < sorted.size(); i++) {
                TensorInfo before = sorted.get(i - 1);
                TensorInfo after = sorted.get(i);
                if (before.offset() + before.byteSize() > after.offset()) {
                    throw new GgufException(path, "tensors '" + before.name() + "' and '" + after.name()
                            + "' overlap (bytes " + before.offset() + ".." + (before.offset() + before.byteSize())
                            + " and " + after.offset() + "..)");
                }
            }
        }

        private Object value(GgufValueType type, String what, int nesting) throws GgufException {
            return switch (type) {
                case UINT8 -> (long) Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, advance(1, what)));
                case INT8 -> (long) file.get(ValueLayout.JAVA_BYTE, advance(1, what));
                case UINT16 -> (long) Short.toUnsignedInt(file.get(U16, advance(2, what)));
                case INT16 -> (long) file.get(U16, advance(2, what));
                case UINT32 -> Integer.toUnsignedLong(file.get(U32, advance(4, what)));
                case INT32 -> (long) file.get(U32, advance(4, what));
                case UINT64, INT64 -> file.get(U64, advance(8, what));
                case FLOAT32 -> file.get(F32, advance(4, what));
                case FLOAT64 -> file.get(F64, advance(8, what));
                case BOOL -> file.get(ValueLayout.JAVA_BYTE, advance(1, what)) != 0;
                case STRING -> string(what);
                case ARRAY -> array(what, nesting);
            };
        }

        private Object array(String what, int nesting) throws GgufException {
            if (nesting >= MAX_ARRAY_NESTING) {
                throw new GgufException(path, what + " nests arrays more than " + MAX_ARRAY_NESTING + " deep");
            }
            GgufValueType type = valueType(what + " (its element type)");
            long count = u64(what + " (its length)");
            checkCount(count, type.minBytes(), "elements in " + what);
            int n = (int) count;
            switch (type) {
                case FLOAT32 -> {
                    float[] values = new float[n];
                    MemorySegment.copy(file, F32, advance(4L * n, what), values, 0, n);
                    return values;
                }
                case FLOAT64 -> {
                    double[] values = new double[n];
                    MemorySegment.copy(file, F64, advance(8L * n, what), values, 0, n);
                    return values;
                }
                case BOOL -> {
                    boolean[] values = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        values[i] = (Boolean) value(type, what, nesting + 1);
                    }
                    return values;
                }
                case STRING -> {
                    String[] values = new String[n];
                    for (int i = 0; i < n; i++) {
                        values[i] = string(what);
                    }
                    return values;
                }
                case ARRAY -> {
                    Object[] values = new Object[n];
                    for (int i = 0; i < n; i++) {
                        values[i] = array(what, nesting + 1);
                    }
                    return values;
                }
                default -> {
                    long[] values = new long[n];
                    for (int i = 0; i < n; i++) {
                        values[i] = (Long) value(type, what, nesting + 1);
                    }
                    return values;
                }
            }
        }

        private GgufValueType valueType(String what) throws GgufException {
            int id = u32("the value type of " + what);
            GgufValueType type = GgufValueType.byId(id);
            if (type == null) {
                throw new GgufException(path, what + " has unknown value type " + Integer.toUnsignedString(id)
                        + " at byte " + (pos - 4) + "; the file is corrupt or from a newer GGUF version");
            }
            return type;
        }

        private String string(String what) throws GgufException {
            long length = u64("the length of " + what);
            checkCount(length, 1, "bytes in " + what);
            long at = advance(length, what);
            byte[] bytes = file.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE);
            return new String(bytes, StandardCharsets.UTF_8);
        }

        private int u32(String what) throws GgufException {
            return file.get(U32, advance(4, what));
        }

        private long u64(String what) throws GgufException {
            return file.get(U64, advance(8, what));
        }

        /** Moves past {@code bytes} bytes, returning where they start; fails if the file ends first. */
        private long advance(long bytes, String what) throws GgufException {
            if (bytes < 0 || bytes > size - pos) {
                throw new GgufException(path, "ends inside " + what + " (byte " + pos + " of " + size
                        + "); the file is truncated or corrupt");
            }
            long at = pos;
            pos += bytes;
            return at;
        }

        /** Fails if {@code count} items of at least {@code minBytes} each cannot fit in the bytes left. */
        private void checkCount(long count, int minBytes, String what) throws GgufException {
            long left = size - pos;
            if (count < 0 || count > Integer.MAX_VALUE - 8 || count > left / Math.max(minBytes, 1)) {
                throw new GgufException(path, "claims " + Long.toUnsignedString(count) + " " + what + " at byte " + pos
                        + ", more than the " + left + " bytes left can hold; the file is truncated or corrupt");
            }
        }

        private static long align(long at, long alignment) {
            return (at + alignment - 1) / alignment * alignment;
        }

        private static String shape(long[] dims) {
            StringBuilder s = new StringBuilder("[");
            for (int i = 0; i < dims.length; i++) {
                s.append(i == 0 ? "" : ", ").append(Long.toUnsignedString(dims[i]));
            }
            return s.append(']').toString();
        }

        private static String hex(MemorySegment file, int n) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) {
                s.append(String.format("%02x ", file.get(ValueLayout.JAVA_BYTE, i)));
            }
            return s.toString().trim();
        }
    }
}
