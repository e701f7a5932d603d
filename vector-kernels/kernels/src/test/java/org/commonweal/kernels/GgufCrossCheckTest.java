package org.commonweal.kernels;

import org.commonweal.kernels.types.GgmlType;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Real files: tiny-llama-spm.Q8_0.gguf, .Q4_K_M.gguf and .Q4_0.gguf hold the SAME random model quantized
 * different ways (see shared/testdata/models/README.md), so each tensor dequantized from one file must
 * agree with the same tensor from the Q8_0 file within the quantization error. A wrong block layout
 * (a swapped nibble, a misplaced scale) gives values uncorrelated with the reference, which fails here.
 * Skipped, with the reason, when the models folder or a file is absent.
 */
class GgufCrossCheckTest {

    private static final String Q8_0 = "tiny-llama-spm.Q8_0.gguf";
    private static final String Q4_K_M = "tiny-llama-spm.Q4_K_M.gguf";
    private static final String Q4_0 = "tiny-llama-spm.Q4_0.gguf";

    /** At most this many rows of each tensor are compared (evenly spaced), to keep the test fast. */
    private static final int MAX_ROWS = 48;

    private static Path model(String name) {
        Optional<Path> folder = GgufTestFile.modelsFolder();
        assumeTrue(folder.isPresent(), "no shared/testdata/models folder above " + System.getProperty("user.dir")
                + "; the real-model cross-checks are skipped");
        Path file = folder.get().resolve(name);
        assumeTrue(Files.isRegularFile(file), file + " is absent; its cross-check is skipped");
        return file;
    }

    @Test
    void theFilesParseAndDescribeTheSameModel() throws IOException {
        try (GgufTestFile q8 = GgufTestFile.open(model(Q8_0)); GgufTestFile q4k = GgufTestFile.open(model(Q4_K_M))) {
            for (GgufTestFile f : new GgufTestFile[] {q8, q4k}) {
                assertEquals("llama", f.metadata.get("general.architecture"), f.path.toString());
                assertEquals(256L, ((Number) f.metadata.get("llama.embedding_length")).longValue());
                assertEquals(32, f.alignment);
                assertEquals(0, f.dataOffset % 32);
                assertEquals(39, f.tensors.size());
                assertTrue(f.metadata.get("tokenizer.ggml.tokens") instanceof GgufTestFile.SkippedArray a
                        && a.count() == 32000, "32000 tokens");
                // The last tensor ends exactly at (or within alignment padding of) the end of the file.
                GgufTestFile.Tensor last = f.tensors.values().stream()
                        .max((a, b) -> Long.compare(a.offset(), b.offset())).orElseThrow();
                long end = f.dataOffset + last.offset() + last.type().rowBytes(last.elements());
                assertTrue(end <= f.file.byteSize() && f.file.byteSize() - end < f.alignment,
                        f.path + ": data ends at " + end + ", file is " + f.file.byteSize());
            }
            for (GgufTestFile.Tensor t : q8.tensors.values()) {
                assertArrayEquals(t.dims(), q4k.tensor(t.name()).dims(), t.name());
                assertEquals(t.dims().length == 1 ? GgmlType.F32 : GgmlType.Q8_0, t.type(), t.name());
            }
            assertEquals(GgmlType.Q4_K, q4k.tensor("blk.0.ffn_gate.weight").type());
            assertEquals(GgmlType.Q4_K, q4k.tensor("token_embd.weight").type());
            assertEquals(GgmlType.Q6_K, q4k.tensor("output.weight").type());
            assertEquals(GgmlType.Q6_K, q4k.tensor("blk.2.ffn_down.weight").type());
        }
    }

    @Test
    void f32NormsAreIdenticalInBothFiles() throws IOException {
        try (GgufTestFile q8 = GgufTestFile.open(model(Q8_0)); GgufTestFile q4k = GgufTestFile.open(model(Q4_K_M))) {
            for (String name : new String[] {"blk.0.attn_norm.weight", "blk.3.ffn_norm.weight", "output_norm.weight"}) {
                float[] a = q8.row(name, 0);
                assertArrayEquals(a, q4k.row(name, 0), name);
                for (float v : a) {
                    assertTrue(v >= 0.6f && v <= 1.4f, name + " holds uniform [0.6, 1.4] weights, got " + v);
                }
            }
        }
    }

    @Test
    void q4_kAndQ6_kTensorsAgreeWithTheirQ8_0Versions() throws IOException {
        try (GgufTestFile q8 = GgufTestFile.open(model(Q8_0)); GgufTestFile q4k = GgufTestFile.open(model(Q4_K_M))) {
            compareAll(q8, q4k);
        }
    }

    @Test
    void q4_0TensorsAgreeWithTheirQ8_0Versions() throws IOException {
        try (GgufTestFile q8 = GgufTestFile.open(model(Q8_0)); GgufTestFile q40 = GgufTestFile.open(model(Q4_0))) {
            compareAll(q8, q40);
        }
    }

    /**
     * ggml's Q8_0 and Q4_0 quantizers give back the very bytes they started from when fed their own
     * dequantized output (the largest element maps back to quant 127, or 0, so the scale comes out
     * the same). So re-quantizing blocks llama-quantize wrote must reproduce them byte for byte: real
     * blocks for the quantizers' scale, rounding and packing.
     */
    @Test
    void requantizingRealQ8_0AndQ4_0BlocksReproducesTheirBytes() throws IOException {
        try (GgufTestFile q8 = GgufTestFile.open(model(Q8_0))) {
            requantize(q8, "blk.1.ffn_up.weight", GgmlType.Q8_0);
            requantize(q8, "token_embd.weight", GgmlType.Q8_0);
        }
        try (GgufTestFile q40 = GgufTestFile.open(model(Q4_0))) {
            requantize(q40, "blk.1.ffn_up.weight", GgmlType.Q4_0);
            requantize(q40, "token_embd.weight", GgmlType.Q4_0);
        }
    }

    private static void requantize(GgufTestFile f, String name, GgmlType type) {
        GgufTestFile.Tensor t = f.tensor(name);
        assertEquals(type, t.type(), name);
        int n = t.rowLength();
        int rowBytes = (int) type.rowBytes(n);
        MemorySegment out = MemorySegment.ofArray(new byte[rowBytes]);
        long step = Math.max(1, t.rows() / MAX_ROWS);
        for (long r = 0; r < t.rows(); r += step) {
            float[] x = f.row(name, r);
            if (type == GgmlType.Q8_0) {
                Quantize.q8_0(x, 0, n, out, 0);
            } else {
                Quantize.q4_0(x, 0, n, out, 0);
            }
            long start = f.tensorStart(name) + r * rowBytes;
            long mismatch = f.file.asSlice(start, rowBytes).mismatch(out);
            assertEquals(-1, mismatch, name + " row " + r + ": re-quantized bytes differ first at byte " + mismatch);
        }
    }

    /**
     * How close a type must come to the Q8_0 decoding of the same weights: correlation at least
     * {@code minCorrelation}; RMS and largest difference at most the given fractions of the reference's
     * standard deviation. Measured on these files (Q4_0: corr 0.9962, rms 0.087, max 0.41; Q4_K: 0.9974,
     * 0.072, 0.27; Q6_K: 0.99983, 0.019, 0.077) with some margin; a wrong layout gives correlation near 0
     * and differences of several standard deviations.
     */
    private record Expect(double minCorrelation, double maxRms, double maxDiff) {
    }

    private static final Map<GgmlType, Expect> EXPECT = Map.of(
            GgmlType.Q4_0, new Expect(0.995, 0.10, 0.6),
            GgmlType.Q4_K, new Expect(0.996, 0.085, 0.45),
            GgmlType.Q6_K, new Expect(0.9997, 0.025, 0.12));

    /**
     * Every 2-D tensor of {@code other} against the same tensor of {@code reference} (the Q8_0 file), on
     * evenly spaced rows. As a control, each row is also compared with the NEXT row of the reference,
     * which must show no correlation: the check can tell agreement from chance.
     */
    private static void compareAll(GgufTestFile reference, GgufTestFile other) {
        for (GgufTestFile.Tensor t : other.tensors.values()) {
            if (t.dims().length != 2) {
                continue;
            }
            Expect expect = EXPECT.get(t.type());
            assertTrue(expect != null, t.name() + " is " + t.type() + ", which this test has no bound for");
            Stats same = new Stats();
            Stats shifted = new Stats();
            long step = Math.max(1, t.rows() / MAX_ROWS);
            for (long r = 0; r + 1 < t.rows(); r += step) {
                float[] got = other.row(t.name(), r);
                same.add(reference.row(t.name(), r), got);
                shifted.add(reference.row(t.name(), r + 1), got);
            }
            String line = String.format("%s %s: corr %.5f, rms diff %.4f std, max diff %.3f std, next-row corr %.3f;"
                    + " expected %s%n", t.name(), t.type(), same.correlation(), same.rmsDiff() / same.refStd(),
                    same.maxDiff / same.refStd(), shifted.correlation(), expect);
            assertTrue(same.correlation() >= expect.minCorrelation(), line);
            assertTrue(same.rmsDiff() <= expect.maxRms() * same.refStd(), line);
            assertTrue(same.maxDiff <= expect.maxDiff() * same.refStd(), line);
            assertTrue(Math.abs(shifted.correlation()) < 0.1, line);
        }
    }

    /** Running sums for correlation and differences between a reference and another decoding. */
    private static final class Stats {
        long n;
        double sumRef;
        double sumGot;
        double sumRef2;
        double sumGot2;
        double sumCross;
        double sumDiff2;
        double maxDiff;

        void add(float[] ref, float[] got) {
            for (int i = 0; i < ref.length; i++) {
                double a = ref[i];
                double b = got[i];
                assertTrue(Double.isFinite(b), "non-finite value " + b);
                n++;
                sumRef += a;
                sumGot += b;
                sumRef2 += a * a;
                sumGot2 += b * b;
                sumCross += a * b;
                sumDiff2 += (a - b) * (a - b);
                maxDiff = Math.max(maxDiff, Math.abs(a - b));
            }
        }

        double refStd() {
            return Math.sqrt(sumRef2 / n - (sumRef / n) * (sumRef / n));
        }

        double rmsDiff() {
            return Math.sqrt(sumDiff2 / n);
        }

        double correlation() {
            double cov = sumCross / n - (sumRef / n) * (sumGot / n);
            double varGot = sumGot2 / n - (sumGot / n) * (sumGot / n);
            return cov / (refStd() * Math.sqrt(varGot));
        }
    }
}
