package org.commonweal.inference.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small vocabularies written for the test: pre-tokenizer choice and metadata that must be refused. */
class TokenizerMetadataTest {

    @TempDir
    Path dir;

    /** The 256 byte-level symbols, then "12", "<|eot|>"; one merge "1 2". */
    private static String[] byteLevelTokens() {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.charOf(b)));
        }
        tokens.add("12");
        tokens.add("<|eot|>");
        return tokens.toArray(String[]::new);
    }

    private GgufWriter bpe(String pre) {
        return bpe("gpt2", pre, "1 2");
    }

    private GgufWriter bpe(String model, String pre, String... merges) {
        String[] tokens = byteLevelTokens();
        int[] types = new int[tokens.length];
        java.util.Arrays.fill(types, 1);
        types[tokens.length - 1] = 3;
        return new GgufWriter().putString("tokenizer.ggml.model", model).putString("tokenizer.ggml.pre", pre)
                .putStrings("tokenizer.ggml.tokens", tokens).putI32s("tokenizer.ggml.token_type", types)
                .putStrings("tokenizer.ggml.merges", merges);
    }

    private GgufWriter spm(int tokens, int scores) {
        String[] texts = new String[tokens];
        for (int i = 0; i < tokens; i++) {
            texts[i] = "t" + i;
        }
        return spm(texts, scores);
    }

    private GgufWriter spm(String[] texts, int scores) {
        return new GgufWriter().putString("tokenizer.ggml.model", "llama").putStrings("tokenizer.ggml.tokens", texts)
                .putF32s("tokenizer.ggml.scores", new float[scores]);
    }

    private Tokenizer load(GgufWriter writer) throws IOException {
        Path path = dir.resolve("vocab-" + System.nanoTime() + ".gguf");
        writer.write(path);
        try (GgufFile file = GgufFile.open(path)) {
            return Tokenizer.fromGguf(file);
        }
    }

    private String refused(GgufWriter writer) {
        return assertThrows(GgufException.class, () -> load(writer)).getMessage();
    }

    @Test
    void qwen2SplitsDigitsOneByOneWhereLlama3KeepsThree() throws IOException {
        int one = '1'; // the byte-level symbols of printable ASCII are the characters themselves
        int twelve = 256;
        Tokenizer qwen2 = load(bpe("qwen2"));
        Tokenizer llama3 = load(bpe("llama-bpe"));
        assertEquals(twelve, llama3.find("12").orElseThrow());
        assertArrayEquals(new int[] {twelve, one + 2}, llama3.encode("123", false, false));
        assertArrayEquals(new int[] {one, one + 1, one + 2}, qwen2.encode("123", false, false));
    }

    @Test
    void unknownModelsAndPreTokenizersAreNamed() {
        String model = refused(bpe("bert", "gpt-2", "1 2"));
        assertTrue(model.contains("tokenizer.ggml.model") && model.contains("'bert'") && model.contains("llama, gpt2"), model);
        String pre = refused(bpe("tekken-9"));
        assertTrue(pre.contains("tokenizer.ggml.pre") && pre.contains("'tekken-9'") && pre.contains("llama-bpe")
                && pre.contains("qwen2"), pre);
    }

    @Test
    void inconsistentMetadataIsRefusedNamingTheKey() {
        String scores = refused(spm(300, 299));
        assertTrue(scores.contains("tokenizer.ggml.scores") && scores.contains("299 scores for 300 tokens"), scores);

        String types = refused(spm(300, 300).putI32s("tokenizer.ggml.token_type", new int[] {1, 1}));
        assertTrue(types.contains("tokenizer.ggml.token_type") && types.contains("2 types for 300 tokens"), types);

        GgufWriter noMerges = new GgufWriter().putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", "gpt-2").putStrings("tokenizer.ggml.tokens", byteLevelTokens());
        String merges = refused(noMerges);
        assertTrue(merges.contains("tokenizer.ggml.merges") && merges.contains("missing"), merges);

        String badMerge = refused(bpe("gpt2", "gpt-2", "1 2", "12"));
        assertTrue(badMerge.contains("tokenizer.ggml.merges") && badMerge.contains("entry 1"), badMerge);

        String bos = refused(spm(300, 300).putU32("tokenizer.ggml.bos_token_id", 300));
        assertTrue(bos.contains("tokenizer.ggml.bos_token_id") && bos.contains("300"), bos);

        String eos = refused(bpe("gpt-2").putU32("tokenizer.ggml.eos_token_id", 70000));
        assertTrue(eos.contains("tokenizer.ggml.eos_token_id") && eos.contains("70000"), eos);

        // SentencePiece adds BOS by default, and the default id 1 is outside a one-token vocabulary.
        String addBos = refused(spm(1, 1));
        assertTrue(addBos.contains("tokenizer.ggml.add_bos_token") && addBos.contains("no BOS"), addBos);

        String duplicate = refused(spm(new String[] {"a", "b", "a"}, 3));
        assertTrue(duplicate.contains("tokenizer.ggml.tokens") && duplicate.contains("ids 0 and 2"), duplicate);
    }

    @Test
    void aControlTokenOfAWrittenVocabularyIsParsedOnlyWhenAsked() throws IOException {
        Tokenizer tokenizer = load(bpe("gpt-2"));
        int eot = tokenizer.find("<|eot|>").orElseThrow();
        assertArrayEquals(new int[] {eot}, tokenizer.encode("<|eot|>", false, true));
        assertEquals(7, tokenizer.encode("<|eot|>", false, false).length); // "<|", "eot", "|>": 2 + 3 + 2 byte symbols
        assertEquals("", tokenizer.decode(new int[] {eot}, false));
        assertEquals("<|eot|>", tokenizer.decode(new int[] {eot}, true));
    }

}
