package org.commonweal.inference.tokenizer;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;

/**
 * The token strings, scores and attributes of a GGUF vocabulary, with its special tokens, read and checked
 * the way llama.cpp's {@code llama_vocab::load} reads them.
 */
final class Vocabulary {

    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String BOS = "tokenizer.ggml.bos_token_id";
    static final String EOS = "tokenizer.ggml.eos_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";

    // Token attributes, as llama.cpp derives them from tokenizer.ggml.token_type.
    static final int NORMAL = 1;
    static final int UNKNOWN = 1 << 1;
    static final int CONTROL = 1 << 2;
    static final int USER_DEFINED = 1 << 3;
    static final int UNUSED = 1 << 4;
    static final int BYTE = 1 << 5;
    static final int LSTRIP = 1 << 6;
    static final int RSTRIP = 1 << 7;

    /** Texts llama.cpp treats as end of generation (and as control tokens) wherever they appear. */
    private static final Set<String> END_OF_GENERATION = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>",
            "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>",
            "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>",
            "<｜end▁of▁sentence｜>", "<|fim_pad|>", "<|fim_repo|>", "<|repo_name|>", "<|file_sep|>");
    /** Fill-in-the-middle texts llama.cpp marks as control tokens. */
    private static final Set<String> FIM = Set.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
            "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<|fim_middle|>", "<fim-middle>", "<fim_middle>",
            "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
            "<reponame>", "<|file_sep|>", "<PRE>", "<SUF>", "<MID>", "<PAD>");

    /** The file read, for messages; the tokenizer keeps no reference to the file's metadata. */
    final Path path;
    final String[] texts;
    final float[] scores;
    final int[] attributes;
    final Map<String, Integer> ids;
    final int bos;
    final int eos;
    final int unknown;
    final boolean addBos;
    final boolean addEos;
    /** Control, user-defined and unknown tokens, longest text first: matched in this order in raw text. */
    final int[] specials;
    final BitSet endOfGeneration = new BitSet();

    /**
     * Reads the vocabulary; {@code defaultBos}, {@code defaultEos}, {@code defaultUnknown} and
     * {@code defaultAddBos} are llama.cpp's defaults for the tokenizer model (-1 for none).
     */
    Vocabulary(GgufFile file, int defaultBos, int defaultEos, int defaultUnknown, boolean defaultAddBos)
            throws GgufException {
        this.path = file.path();
        texts = file.strings(TOKENS);
        int n = texts.length;
        scores = scores(file, n);
        attributes = attributes(file, n);
        ids = HashMap.newHashMap(n);
        for (int id = 0; id < n; id++) {
            if (texts[id].isEmpty()) {
                texts[id] = "[EMPTY_" + id + "]"; // as llama.cpp names them, so that every text is distinct
            }
            Integer before = ids.putIfAbsent(texts[id], id);
            if (before != null) {
                throw problem(TOKENS, "has the token '" + texts[id] + "' twice, at ids " + before + " and " + id
                        + "; every token must be distinct");
            }
        }
        bos = specialId(file, BOS, defaultBos);
        eos = specialId(file, EOS, defaultEos);
        unknown = specialId(file, "tokenizer.ggml.unknown_token_id", defaultUnknown);
        addBos = file.bool(ADD_BOS, defaultAddBos);
        addEos = file.bool(ADD_EOS, false);
        if (addBos && bos < 0) {
            throw problem(ADD_BOS, "is true but the vocabulary has no BOS token; set " + BOS);
        }
        if (addEos && eos < 0) {
            throw problem(ADD_EOS, "is true but the vocabulary has no EOS token; set " + EOS);
        }
        for (int id = 0; id < n; id++) {
            if (END_OF_GENERATION.contains(texts[id])) {
                endOfGeneration.set(id);
            }
            if (END_OF_GENERATION.contains(texts[id]) || FIM.contains(texts[id])) {
                attributes[id] |= CONTROL; // llama.cpp overrides these whatever their stored type
            }
        }
        for (int id : new int[] {eos, specialId(file, "tokenizer.ggml.eot_token_id", -1),
                specialId(file, "tokenizer.ggml.eom_token_id", -1)}) {
            if (id >= 0) {
                endOfGeneration.set(id);
            }
        }
        specials = IntStream.range(0, n)
                .filter(id -> (attributes[id] & (CONTROL | USER_DEFINED | UNKNOWN)) != 0)
                .boxed()
                .sorted(Comparator.comparingInt((Integer id) -> -texts[id].length()).thenComparingInt(id -> id))
                .mapToInt(Integer::intValue)
                .toArray();
        stripWhitespaceAroundPhi3Specials(file);
    }

    /** The id of {@code text}, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    int size() {
        return texts.length;
    }

    GgufException problem(String key, String problem) {
        return new GgufException(path, "metadata key '" + key + "' " + problem);
    }

    /** llama.cpp makes Phi-3's special tokens swallow the whitespace after them (its Hugging Face config does). */
    private void stripWhitespaceAroundPhi3Specials(GgufFile file) throws GgufException {
        String name = file.findString("general.name").orElse("").toLowerCase(Locale.ROOT);
        if (!name.contains("phi-3") && !name.contains("phi3")) {
            return;
        }
        for (int id : specials) {
            attributes[id] |= RSTRIP;
        }
        for (String text : new String[] {"</s>"}) {
            int id = id(text);
            if (id >= 0) {
                attributes[id] |= RSTRIP;
            }
        }
        for (String text : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
            int id = id(text);
            if (id >= 0) {
                attributes[id] &= ~RSTRIP;
            }
        }
    }

    private int specialId(GgufFile file, String key, int defaultId) throws GgufException {
        if (!file.has(key)) {
            return defaultId < texts.length ? defaultId : -1; // llama.cpp drops a default that is out of range
        }
        long id = file.integer(key);
        if (id < 0 || id >= texts.length) {
            throw problem(key, "is " + id + ", outside the vocabulary of " + texts.length + " tokens; fix the id");
        }
        return (int) id;
    }

    private float[] scores(GgufFile file, int n) throws GgufException {
        if (!file.has(SCORES)) {
            return new float[n];
        }
        Object value = file.metadata().get(SCORES);
        float[] scores;
        if (value instanceof long[] integers) { // llama.cpp accepts int32 scores too
            scores = new float[integers.length];
            for (int i = 0; i < integers.length; i++) {
                scores[i] = integers[i];
            }
        } else {
            scores = file.floats(SCORES);
        }
        if (scores.length != n) {
            throw problem(SCORES, "has " + scores.length + " scores for " + n + " tokens; there must be one per token");
        }
        return scores;
    }

    private int[] attributes(GgufFile file, int n) throws GgufException {
        int[] attributes = new int[n];
        if (!file.has(TOKEN_TYPE)) {
            Arrays.fill(attributes, NORMAL);
            return attributes;
        }
        long[] types = file.integers(TOKEN_TYPE);
        if (types.length != n) {
            throw problem(TOKEN_TYPE, "has " + types.length + " types for " + n + " tokens; there must be one per token");
        }
        for (int i = 0; i < n; i++) {
            attributes[i] = switch ((int) types[i]) {
                case 1 -> NORMAL;
                case 2 -> UNKNOWN;
                case 3 -> CONTROL;
                case 4 -> USER_DEFINED;
                case 5 -> UNUSED;
                case 6 -> BYTE;
                default -> 0; // undefined: decodes to nothing, as in llama.cpp
            };
        }
        return attributes;
    }
}
