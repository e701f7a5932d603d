package org.commonweal.inference.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.commonweal.inference.TestData;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.types.WeightMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {

    @TempDir
    Path dir;

    @Test
    void readsTheReferenceModelMappedAndAllocatedAlike() throws IOException {
        Path model = TestData.require("models", "tiny-llama-spm.Q4_K_M.gguf");
        try (GgufFile mapped = GgufFile.open(model);
                GgufFile allocated = GgufFile.open(model, GgufFile.Loading.ALLOCATED, bytes -> { })) {
            assertEquals(3, mapped.version());
            assertEquals("llama", mapped.string("general.architecture"));
            assertEquals(256, mapped.integer("llama.embedding_length"));
            assertEquals(32000, mapped.strings("tokenizer.ggml.tokens").length);
            assertEquals(32000, mapped.floats("tokenizer.ggml.scores").length);
            assertEquals(39, mapped.tensors().size());
            TensorInfo output = mapped.tensor("output.weight");
            assertEquals(GgmlType.Q6_K, output.type());
            assertArrayEquals(new long[] {256, 32000}, output.dims());
            WeightMatrix q = mapped.matrix("blk.0.attn_q.weight", 256, 256);
            assertEquals(GgmlType.Q4_K, q.type());
            assertEquals(mapped.bytes(output).mismatch(allocated.bytes(output)), -1L);
            assertArrayEquals(mapped.vector("output_norm.weight", 256), allocated.vector("output_norm.weight", 256));
        }
    }

    @Test
    void writesWhatItReads() throws IOException {
        Path file = dir.resolve("small.gguf");
        float[] norm = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
        new GgufWriter().putString("general.architecture", "llama").putU32("llama.block_count", 2)
                .putF32("eps", 1e-5f).putBool("flag", true).putStrings("names", new String[] {"a", "ü"})
                .putF32s("scores", new float[] {0.5f, -1f}).putI32s("types", new int[] {1, 3})
                .tensor("norm", new long[] {32}, norm)
                .tensor("w", GgmlType.Q8_0, new long[] {32, 3}, s -> s.fill((byte) 1))
                .write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals("llama", f.string("general.architecture"));
            assertEquals(2, f.integer("llama.block_count"));
            assertEquals(1e-5f, (float) f.number("eps"));
            assertTrue(f.bool("flag", false));
            assertArrayEquals(new String[] {"a", "ü"}, f.strings("names"));
            assertArrayEquals(new float[] {0.5f, -1f}, f.floats("scores"));
            assertArrayEquals(new long[] {1, 3}, f.integers("types"));
            assertArrayEquals(norm, f.vector("norm", 32));
            assertEquals(3 * 34, f.tensor("w").byteSize());
            assertEquals(0, f.tensor("w").offset() % GgufWriter.ALIGNMENT);
            GgufException wrong = assertThrows(GgufException.class, () -> f.string("llama.block_count"));
            assertTrue(wrong.getMessage().contains("'llama.block_count' should be a string but is a Long"), wrong.getMessage());
            GgufException missing = assertThrows(GgufException.class, () -> f.matrix("w", 3, 64));
            assertTrue(missing.getMessage().contains("tensor 'w' has shape [32, 3]"), missing.getMessage());
        }
        assertTrue(Files.notExists(dir.resolve("small.gguf.partial")));
    }

    // ------------------------------------------------------------------ malformed and hostile files

    private Path valid() throws IOException {
        Path file = dir.resolve("valid.gguf");
        new GgufWriter().putString("general.architecture", "llama")
                .tensor("a", new long[] {8}, new float[8])
                .tensor("b", new long[] {8}, new float[8])
                .write(file);
        return file;
    }

    private String refused(byte[] bytes) throws IOException {
        Path file = dir.resolve("bad.gguf");
        Files.write(file, bytes);
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(file).close());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        return e.getMessage();
    }

    private static void putLong(byte[] b, int at, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
    }

    private static void putInt(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    /** Where tensor {@code name}'s info starts (its name's length field). */
    private static int tensorInfo(byte[] b, String name) {
        byte[] needle = ("\u0001\0\0\0\0\0\0\0" + name).getBytes();
        for (int i = b.length - needle.length; i >= 0; i--) {
            if (Arrays.equals(b, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError(name);
    }

    @Test
    void refusesEmptyShortAndForeignFiles() throws IOException {
        assertTrue(refused(new byte[0]).contains("the file is empty"));
        assertTrue(refused(new byte[10]).contains("too short for a GGUF header"));
        byte[] png = new byte[64];
        png[0] = (byte) 0x89;
        png[1] = 'P';
        assertTrue(refused(png).contains("is not a GGUF file: it starts with bytes 89 50 00 00"));
    }

    @Test
    void refusesOtherVersionsAndByteOrders() throws IOException {
        byte[] b = Files.readAllBytes(valid());
        putInt(b, 4, 1);
        assertTrue(refused(b).contains("GGUF version 1"));
        putInt(b, 4, 7);
        assertTrue(refused(b).contains("has GGUF version 7; versions 2 and 3 are supported"));
        putInt(b, 4, Integer.reverseBytes(3));
        assertTrue(refused(b).contains("big-endian"));
        putInt(b, 4, 2);
        GgufFile.open(write(b)).close();
    }

    private Path write(byte[] b) throws IOException {
        Path file = dir.resolve("patched.gguf");
        Files.write(file, b);
        return file;
    }

    @Test
    void refusesAbsurdCountsWithoutAllocating() throws IOException {
        byte[] b = Files.readAllBytes(valid());
        putLong(b, 8, Long.MAX_VALUE);
        assertTrue(refused(b).contains("claims 9223372036854775807 tensor infos"));
        b = Files.readAllBytes(valid());
        putLong(b, 16, 1L << 40);
        assertTrue(refused(b).contains("claims 1099511627776 metadata entries"));
        b = Files.readAllBytes(valid());
        putLong(b, 24, 1L << 50); // the first key's length
        assertTrue(refused(b).contains("bytes in the key of metadata entry 0"));
    }

    @Test
    void refusesTruncatedFilesAtEveryLength() throws IOException {
        byte[] b = Files.readAllBytes(valid());
        for (int length = 0; length < b.length; length++) {
            String message = refused(Arrays.copyOf(b, length));
            assertTrue(message.contains("truncated") || message.contains("empty") || message.contains("too short"),
                    length + ": " + message);
        }
    }

    @Test
    void refusesUnknownValueAndTensorTypes() throws IOException {
        byte[] b = Files.readAllBytes(valid());
        int typeAt = 24 + 8 + "general.architecture".length();
        putInt(b, typeAt, 99);
        assertTrue(refused(b).contains("metadata key 'general.architecture' has unknown value type 99"));
        b = Files.readAllBytes(valid());
        int info = tensorInfo(b, "b");
        putInt(b, info + 8 + 1 + 4 + 8, 77);
        assertTrue(refused(b).contains("tensor 'b' has ggml type id 77, which is not supported"));
    }

    @Test
    void refusesBadShapesOffsetsAndOverlaps() throws IOException {
        byte[] b = Files.readAllBytes(valid());
        int info = tensorInfo(b, "b");
        int dims = info + 8 + 1;
        int dim0 = dims + 4;
        int offset = dim0 + 8 + 4;
        byte[] patched = b.clone();
        putInt(patched, dims, 9);
        assertTrue(refused(patched).contains("tensor 'b' has 9 dimensions"));
        patched = b.clone();
        putLong(patched, dim0, 0);
        assertTrue(refused(patched).contains("every dimension must be at least 1"));
        patched = b.clone();
        putLong(patched, dim0, 1L << 40);
        assertTrue(refused(patched).contains("reaches past the end of the file"));
        patched = b.clone();
        putLong(patched, offset, 4);
        assertTrue(refused(patched).contains("not a multiple of the file's alignment 32"));
        patched = b.clone();
        putLong(patched, offset, -32);
        assertTrue(refused(patched).contains("reaches past the end"));
        patched = b.clone();
        putLong(patched, offset, 0);
        assertTrue(refused(patched).contains("tensors 'a' and 'b' overlap"), refused(patched));
    }

    @Test
    void aClosedFileReleasesItsMemory() throws IOException {
        GgufFile f = GgufFile.open(valid(), GgufFile.Loading.ALLOCATED, bytes -> { });
        MemorySegment data = f.data();
        f.close();
        assertThrows(IllegalStateException.class, () -> data.get(ValueLayout.JAVA_BYTE, 0));
    }
}
