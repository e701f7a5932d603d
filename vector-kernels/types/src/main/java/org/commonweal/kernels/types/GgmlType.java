package org.commonweal.kernels.types;

/**
 * The tensor types of GGUF files that Commonweal reads, with ggml's numeric ids and block layouts:
 * {@code blockSize} elements are stored in {@code typeSize} bytes. A row of {@code n} elements
 * ({@code n} a multiple of the block size) takes {@code n / blockSize * typeSize} bytes.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 2 + 16),
    Q4_1(3, 32, 2 + 2 + 16),
    Q5_0(6, 32, 2 + 4 + 16),
    Q8_0(8, 32, 2 + 32),
    Q4_K(12, 256, 2 + 2 + 12 + 128),
    Q5_K(13, 256, 2 + 2 + 12 + 32 + 128),
    Q6_K(14, 256, 128 + 64 + 16 + 2),
    Q8_K(15, 256, 4 + 256 + 2 * 16),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    /** ggml's numeric type id, as stored in a GGUF tensor info. */
    public int id() {
        return id;
    }

    /** Elements per block. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    /** Bytes taken by a row of {@code elements}; fails if they are not a whole number of blocks. */
    public long rowBytes(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            throw new IllegalArgumentException(this + " rows hold whole blocks of " + blockSize + " elements; "
                    + elements + " is not a multiple of " + blockSize);
        }
        return elements / blockSize * typeSize;
    }

    /** The type with this ggml id; fails naming the id for types Commonweal does not read. */
    public static GgmlType byId(int id) {
        for (GgmlType type : values()) {
            if (type.id == id) {
                return type;
            }
        }
        throw new IllegalArgumentException("ggml type id " + id + " is not supported; supported: "
                + java.util.Arrays.toString(values()));
    }
}
