package org.commonweal.inference.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.commonweal.inference.TestData;
import org.commonweal.inference.gguf.GgufFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * llama.cpp's tokenizer test vectors ({@code shared/testdata/tokenizer}): every test string of every
 * vocabulary must give exactly the expected ids (no BOS/EOS, special tokens not parsed).
 */
class TokenizerVectorsTest {

    private static final byte[] SEPARATOR = "\n__ggml_vocab_test__\n".getBytes(StandardCharsets.UTF_8);

    /** One test string and the ids expected for it. */
    record Vector(int line, String text, int[] ids) {
    }

    /** The test strings of {@code vocab}.inp with the ids of {@code vocab}.out, in order. */
    static List<Vector> vectors(Path vocab) throws IOException {
        byte[] inp = Files.readAllBytes(Path.of(vocab + ".inp"));
        List<String> texts = new ArrayList<>();
        int from = 0;
        for (int at = indexOf(inp, SEPARATOR, from); at >= 0; at = indexOf(inp, SEPARATOR, from)) {
            texts.add(new String(inp, from, at - from, StandardCharsets.UTF_8));
            from = at + SEPARATOR.length;
        }
        List<String> lines = Files.readAllLines(Path.of(vocab + ".out"), StandardCharsets.UTF_8);
        assertEquals(texts.size(), lines.size(), "tests in " + vocab + ".inp and lines in .out");
        List<Vector> vectors = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String line = lines.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            vectors.add(new Vector(i + 1, texts.get(i), ids));
        }
        return vectors;
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "llama3-bpe", "deepseek-llm", "falcon"})
    void everyTestStringGivesLlamaCppsIds(String name) throws IOException {
        Path vocab = TestData.require("tokenizer", "ggml-vocab-" + name + ".gguf");
        List<Vector> vectors = vectors(vocab);
        assertEquals(46, vectors.size(), "the README promises 46 tests per vocabulary");
        try (GgufFile file = GgufFile.open(vocab)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            List<String> failures = new ArrayList<>();
            for (Vector v : vectors) {
                int[] ids = tokenizer.encode(v.text(), false, false);
                if (!Arrays.equals(v.ids(), ids)) {
                    failures.add("line " + v.line() + " '" + v.text() + "': expected " + Arrays.toString(v.ids())
                            + " got " + Arrays.toString(ids));
                }
            }
            assertTrue(failures.isEmpty(), name + ": " + (vectors.size() - failures.size()) + "/" + vectors.size()
                    + " pass; failures:\n" + String.join("\n", failures));
        }
    }
}
