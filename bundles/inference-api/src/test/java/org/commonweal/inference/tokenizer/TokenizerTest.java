package org.commonweal.inference.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Pattern;

import org.commonweal.inference.TestData;
import org.commonweal.inference.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Behaviour beyond the test vectors: BOS, special tokens, decoding, end of generation. */
class TokenizerTest {

    static Tokenizer load(String name) throws IOException {
        Path vocab = TestData.require("tokenizer", "ggml-vocab-" + name + ".gguf");
        try (GgufFile file = GgufFile.open(vocab)) {
            return Tokenizer.fromGguf(file);
        }
    }

    @Test
    void theReferenceModelsPromptsGiveLlamaCppsIdsWithBos() throws IOException {
        Path model = TestData.require("models", "tiny-llama-spm.Q8_0.gguf");
        Path reference = TestData.require("models", "tiny-llama-spm.Q8_0.ref.json");
        JsonNode ref = new ObjectMapper().readTree(reference.toFile());
        try (GgufFile file = GgufFile.open(model)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            assertEquals(ref.get("n_vocab").asInt(), tokenizer.vocabularySize());
            assertEquals(OptionalInt.of(ref.get("bos_id").asInt()), tokenizer.bos());
            assertEquals(OptionalInt.of(ref.get("eos_id").asInt()), tokenizer.eos());
            assertEquals(3, ref.get("prompts").size());
            for (JsonNode prompt : ref.get("prompts")) {
                int[] expected = new int[prompt.get("token_ids").size()];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = prompt.get("token_ids").get(i).asInt();
                    assertEquals(prompt.get("token_texts").get(i).asText(), tokenizer.text(expected[i]));
                }
                String text = prompt.get("text").asText();
                assertArrayEquals(expected, tokenizer.encode(text, true, false), prompt.get("name").asText());
                // llama.cpp's detokenize lets the BOS take the place of the prefix space: the space stays.
                assertEquals(" " + text, tokenizer.decode(expected, false));
                assertEquals("<s> " + text, tokenizer.decode(expected, true));
                int[] withoutBos = Arrays.copyOfRange(expected, 1, expected.length);
                assertEquals(text, tokenizer.decode(withoutBos, false));
            }
        }
    }

    /**
     * decode(encode(x)) is x wherever llama.cpp guarantees it: always for SentencePiece and for BPE without
     * space clean-up; for BPE with clean-up (gpt-2, llama-bpe, falcon) when x has no space before
     * punctuation or an apostrophe, which the clean-up removes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "llama3-bpe", "deepseek-llm", "falcon"})
    void decodingGivesTheTextBack(String name) throws IOException {
        Path vocab = TestData.require("tokenizer", "ggml-vocab-" + name + ".gguf");
        Tokenizer tokenizer = load(name);
        boolean cleansSpaces = List.of("gpt-2", "llama3-bpe", "falcon").contains(name);
        Pattern cleaned = Pattern.compile(" [?!.,']");
        int checked = 0;
        for (TokenizerVectorsTest.Vector v : TokenizerVectorsTest.vectors(vocab)) {
            if (cleansSpaces && cleaned.matcher(v.text()).find()) {
                continue;
            }
            assertEquals(v.text(), tokenizer.decode(tokenizer.encode(v.text(), false, false), false), "line " + v.line());
            checked++;
        }
        assertTrue(checked >= 40, "only " + checked + " lines were checked");
    }

    @Test
    void bpeDecodingCleansSpacesAsLlamaCppDoes() throws IOException {
        Tokenizer gpt2 = load("gpt-2");
        assertEquals("Hello, world! I'm sure 'tis he's", gpt2.decode(
                gpt2.encode("Hello , world ! I 'm sure 'tis he 's", false, false), false));
        Tokenizer deepseek = load("deepseek-llm"); // clean_spaces is off for deepseek-llm
        assertEquals("Hello , world !", deepseek.decode(deepseek.encode("Hello , world !", false, false), false));
    }

    @Test
    void specialTokenTextsAreTokensOnlyWhenParsed() throws IOException {
        Tokenizer llama3 = load("llama3-bpe");
        int eot = llama3.find("<|eot_id|>").orElseThrow();
        assertEquals(128009, eot);
        String text = "Hi<|eot_id|>there";
        int[] parsed = llama3.encode(text, false, true);
        assertArrayEquals(new int[] {llama3.encode("Hi", false, false)[0], eot,
                llama3.encode("there", false, false)[0]}, parsed);
        int[] plain = llama3.encode(text, false, false);
        assertFalse(Arrays.stream(plain).anyMatch(t -> t == eot), Arrays.toString(plain));
        assertEquals(text, llama3.decode(plain, false));
        assertEquals("Hithere", llama3.decode(parsed, false));
        assertEquals(text, llama3.decode(parsed, true));

        Tokenizer spm = load("llama-spm");
        // After a special token SentencePiece starts a new word: "Hello" becomes "▁Hello".
        assertArrayEquals(new int[] {1, 15043, 2}, spm.encode("<s>Hello</s>", false, true));
        assertNotEquals(1, spm.encode("<s>Hello", false, false)[0]);
    }

    @Test
    void loneSurrogatesAreEncodedAsReplacementCharacters() throws IOException {
        for (String name : List.of("llama-spm", "llama3-bpe")) {
            Tokenizer tokenizer = load(name);
            assertArrayEquals(tokenizer.encode("a\uFFFDb\uFFFD", false, false),
                    tokenizer.encode("a\uD800b\uDC00", false, false), name);
            assertArrayEquals(tokenizer.encode("a🦙b", false, false), tokenizer.encode("a\uD83E\uDD99b", false, false), name);
        }
    }

    @Test
    void userDefinedTokensAreMatchedEvenWithoutParsingSpecials() throws IOException {
        Tokenizer deepseek = load("deepseek-llm");
        int o = deepseek.find("ö").orElseThrow();
        assertEquals(100003, o);
        int[] ids = deepseek.encode("schön", false, false);
        assertTrue(Arrays.stream(ids).anyMatch(t -> t == o), Arrays.toString(ids));
    }

    @Test
    void bosIsAddedAsTheVocabularyAsks() throws IOException {
        Tokenizer llama3 = load("llama3-bpe");
        int[] ids = llama3.encode("Hello world", true, false);
        assertArrayEquals(new int[] {128000, 9906, 1917}, ids);
        Tokenizer gpt2 = load("gpt-2"); // no add_bos_token: llama.cpp's default for gpt-2 is none
        assertArrayEquals(gpt2.encode("Hello world", false, false), gpt2.encode("Hello world", true, false));
        Tokenizer spm = load("llama-spm");
        assertArrayEquals(new int[] {1}, spm.encode("", true, false));
        assertArrayEquals(new int[0], spm.encode("", false, false));
    }

    @Test
    void endOfGenerationFollowsLlamaCpp() throws IOException {
        Tokenizer llama3 = load("llama3-bpe");
        assertTrue(llama3.isEndOfGeneration(128001)); // <|end_of_text|>, the EOS
        assertTrue(llama3.isEndOfGeneration(128009)); // <|eot_id|>
        assertTrue(llama3.isEndOfGeneration(128008)); // <|eom_id|>
        assertFalse(llama3.isEndOfGeneration(128000)); // <|begin_of_text|>
        assertFalse(llama3.isEndOfGeneration(9906));
        Tokenizer phi3 = load("phi-3");
        assertTrue(phi3.isEndOfGeneration(phi3.find("<|end|>").orElseThrow()));
        assertTrue(phi3.isEndOfGeneration(32000)); // <|endoftext|>, the EOS
        assertFalse(phi3.isEndOfGeneration(phi3.find("<|assistant|>").orElseThrow()));
        Tokenizer spm = load("llama-spm");
        assertTrue(spm.isEndOfGeneration(2));
        assertFalse(spm.isEndOfGeneration(1));
    }

    @Test
    void tokenBytesUndoTheVocabularysEncoding() throws IOException {
        Tokenizer spm = load("llama-spm");
        assertArrayEquals(new byte[] {'\n'}, spm.bytes(spm.find("<0x0A>").orElseThrow(), false));
        assertEquals(" Hello", new String(spm.bytes(15043, false), StandardCharsets.UTF_8));
        assertArrayEquals(new byte[0], spm.bytes(1, false));
        assertEquals("<s>", new String(spm.bytes(1, true), StandardCharsets.UTF_8));
        Tokenizer gpt2 = load("gpt-2");
        int world = gpt2.find("\u0120world").orElseThrow();
        assertEquals(" world", new String(gpt2.bytes(world, false), StandardCharsets.UTF_8));
        assertEquals("\u0120world", gpt2.text(world));
        assertTrue(gpt2.find("no such token anywhere").isEmpty());
    }

    @Test
    void streamingTokenBytesGivesWholeCharacters() throws IOException {
        Tokenizer spm = load("llama-spm");
        // "🦙" is not in the vocabulary: four byte tokens, each alone an incomplete character.
        int[] ids = spm.encode("a🦙b", false, false);
        TextStream stream = new TextStream();
        List<String> parts = new ArrayList<>();
        for (int id : ids) {
            parts.add(stream.append(spm.bytes(id, false)));
        }
        parts.add(stream.flush());
        assertEquals(" a🦙b", String.join("", parts));
        assertTrue(parts.contains("🦙"), parts.toString());
        assertFalse(String.join("", parts).contains("\uFFFD"));
    }

    /** Prints rough load and encode speeds; fails only if loading is absurdly slow. */
    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "gpt-2", "llama3-bpe", "deepseek-llm"})
    void loadsAndEncodesFast(String name) throws IOException {
        Path vocab = TestData.require("tokenizer", "ggml-vocab-" + name + ".gguf");
        long t0 = System.nanoTime();
        try (GgufFile file = GgufFile.open(vocab)) {
            long t1 = System.nanoTime();
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            long t2 = System.nanoTime();
            StringBuilder text = new StringBuilder();
            for (TokenizerVectorsTest.Vector v : TokenizerVectorsTest.vectors(vocab)) {
                text.append(v.text()).append(' ');
            }
            String big = text.toString().repeat(50);
            int tokens = 0;
            for (int warm = 0; warm < 5; warm++) {
                tokens = tokenizer.encode(big, false, false).length;
            }
            long t3 = System.nanoTime();
            int rounds = 10;
            for (int i = 0; i < rounds; i++) {
                tokenizer.encode(big, false, false);
            }
            double ms = (System.nanoTime() - t3) / 1e6 / rounds;
            System.out.printf("%s: GGUF open %d ms, tokenizer %d ms; encode %d tokens (%d chars) in %.1f ms, %.0f tokens/ms%n",
                    name, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, tokens, big.length(), ms, tokens / ms);
            assertTrue(t2 - t1 < 5_000_000_000L, "building the tokenizer took " + (t2 - t1) / 1_000_000 + " ms");
        }
    }

    @Test
    void phi3SpecialTokensSwallowTheWhitespaceAfterThem() throws IOException {
        Tokenizer phi3 = load("phi-3");
        int user = phi3.find("<|user|>").orElseThrow();
        int end = phi3.find("<|end|>").orElseThrow();
        // llama.cpp strips the whitespace right of Phi-3's special tokens; the text after one starts a word.
        assertArrayEquals(new int[] {user, 15043, end}, phi3.encode("<|user|>\n  Hello<|end|>\n", false, true));
    }
}
