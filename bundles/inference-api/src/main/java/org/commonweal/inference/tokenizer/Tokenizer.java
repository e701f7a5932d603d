package org.commonweal.inference.tokenizer;

import java.util.OptionalInt;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;

/**
 * Text to token ids and back, as llama.cpp does it for the same GGUF vocabulary. Instances are immutable
 * and safe to share between threads.
 */
public interface Tokenizer {

    /**
     * The tokenizer that {@code file}'s {@code tokenizer.*} metadata describes: SentencePiece-style for
     * {@code tokenizer.ggml.model = llama}, byte-level BPE for {@code gpt2} with the pre-tokenizer named by
     * {@code tokenizer.ggml.pre}. Fails naming the key and the problem if the model or pre-tokenizer is not
     * supported or the metadata is inconsistent.
     */
    static Tokenizer fromGguf(GgufFile file) throws GgufException {
        return GgufTokenizer.load(file);
    }

    /** The number of tokens in the vocabulary; ids are 0 to this minus one. */
    int vocabularySize();

    /**
     * The token ids for {@code text}. {@code addSpecial} adds BOS and EOS as the vocabulary asks
     * ({@code add_bos_token}, {@code add_eos_token}, or llama.cpp's defaults when absent).
     * {@code parseSpecial} turns control-token texts in {@code text} (such as {@code <|eot_id|>}) into those
     * tokens; user-defined tokens are always matched, as in llama.cpp.
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * The bytes {@code token} contributes to decoded text: SentencePiece's '▁' as a space, a byte token
     * {@code <0xNN>} as that byte, byte-level BPE symbols as the bytes they stand for. Control and unknown
     * tokens give their text only if {@code renderSpecial}, else nothing.
     */
    byte[] bytes(int token, boolean renderSpecial);

    /**
     * The text of {@code tokens} as llama.cpp's {@code llama_detokenize} gives it (without removing special
     * tokens): the concatenated bytes as UTF-8 (invalid sequences become U+FFFD), the leading space of a
     * SentencePiece vocabulary removed from the first token (a BOS at the start takes that place, so the
     * text after it keeps its space), and for BPE vocabularies that ask for it, llama.cpp's clean-up of
     * spaces before punctuation and contractions.
     */
    String decode(int[] tokens, boolean renderSpecial);

    /** The vocabulary string of {@code token}, as stored in the GGUF file. */
    String text(int token);

    OptionalInt bos();

    OptionalInt eos();

    /**
     * Whether generation should stop at {@code token}: llama.cpp's end-of-generation set (EOS, EOT, EOM and
     * control tokens such as {@code <|eot_id|>}, {@code <|im_end|>}, {@code <|end|>}, {@code <end_of_turn>},
     * {@code <|endoftext|>}).
     */
    boolean isEndOfGeneration(int token);

    /** The id of the token whose vocabulary string is exactly {@code tokenText}. */
    OptionalInt find(String tokenText);
}
