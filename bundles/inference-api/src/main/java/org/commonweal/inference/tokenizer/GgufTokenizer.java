package org.commonweal.inference.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.OptionalInt;

import org.commonweal.inference.gguf.GgufException;
import org.commonweal.inference.gguf.GgufFile;

/**
 * A tokenizer over a GGUF vocabulary: special-token matching, BOS/EOS and detokenization as in llama.cpp,
 * with the raw text between special tokens handed to a SentencePiece or a byte-level BPE {@link Encoder}.
 */
final class GgufTokenizer implements Tokenizer {

    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";

    /** Turns raw text (no special tokens in it) into token ids. */
    interface Encoder {
        void encode(String text, IntArray out);
    }

    /** A piece of the text to encode: raw text, or a special token found in it. */
    private sealed interface Fragment {
    }

    private record Raw(String text) implements Fragment {
    }

    private record Special(int token) implements Fragment {
    }

    private final Vocabulary vocab;
    private final Encoder encoder;
    private final boolean sentencePiece;
    /** SentencePiece: a space is put before raw text at the start and after a special token. */
    private final boolean addSpacePrefix;
    private final boolean cleanSpaces;

    private GgufTokenizer(Vocabulary vocab, Encoder encoder, boolean sentencePiece, boolean addSpacePrefix,
            boolean cleanSpaces) {
        this.vocab = vocab;
        this.encoder = encoder;
        this.sentencePiece = sentencePiece;
        this.addSpacePrefix = addSpacePrefix;
        this.cleanSpaces = cleanSpaces;
    }

    static GgufTokenizer load(GgufFile file) throws GgufException {
        String model = file.string(MODEL);
        switch (model) {
            case "llama" -> {
                Vocabulary vocab = new Vocabulary(file, 1, 2, 0, true);
                boolean prefix = file.bool("tokenizer.ggml.add_space_prefix", true);
                return new GgufTokenizer(vocab, new SpmEncoder(vocab), true, prefix, false);
            }
            case "gpt2" -> {
                String name = file.findString(PRE).orElse("default");
                PreTokenizer pre = PreTokenizer.named(name);
                if (pre == null) {
                    throw new GgufException(file.path(), "metadata key '" + PRE + "' is '" + name
                            + "', a pre-tokenizer this tokenizer does not support (supported: "
                            + String.join(", ", PreTokenizer.supportedNames()) + ")");
                }
                Vocabulary vocab = new Vocabulary(file, 11, 11, -1, pre.addBosByDefault);
                boolean prefix = file.bool("tokenizer.ggml.add_space_prefix", false);
                return new GgufTokenizer(vocab, new BpeEncoder(vocab, pre, file), false, prefix, pre.cleanSpaces);
            }
            default -> throw new GgufException(file.path(), "metadata key '" + MODEL + "' is '" + model
                    + "', a tokenizer model this tokenizer does not support (supported: llama, gpt2)");
        }
    }

    @Override
    public int vocabularySize() {
        return vocab.size();
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntArray out = new IntArray();
        if (addSpecial && vocab.addBos) {
            out.add(vocab.bos);
        }
        boolean afterSpecial = true;
        for (Fragment fragment : partition(wellFormed(text), parseSpecial)) {
            if (fragment instanceof Special(int token)) {
                out.add(token);
                afterSpecial = true;
            } else if (fragment instanceof Raw(String raw)) {
                if (sentencePiece) {
                    raw = ((addSpacePrefix && afterSpecial) ? " " + raw : raw).replace(' ', '\u2581');
                }
                encoder.encode(raw, out);
                afterSpecial = false;
            }
        }
        if (addSpecial && vocab.addEos) {
            out.add(vocab.eos);
        }
        return out.toArray();
    }

    /**
     * {@code text} cut into raw strings and special token ids: each special token in turn, longest first,
     * is found in the raw strings left by the ones before. Without {@code parseSpecial} only user-defined
     * tokens are matched. A token marked to strip whitespace takes the whitespace next to it away.
     */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(new Raw(text));
        BitSet present = null; // the chars of text: most special tokens can be ruled out by their first char
        for (int special : vocab.specials) {
            int attributes = vocab.attributes[special];
            if (!parseSpecial && (attributes & (Vocabulary.CONTROL | Vocabulary.UNKNOWN)) != 0) {
                continue;
            }
            String token = vocab.texts[special];
            if (present == null) {
                present = new BitSet(Character.MAX_VALUE + 1);
                for (int i = 0; i < text.length(); i++) {
                    present.set(text.charAt(i));
                }
            }
            if (!present.get(token.charAt(0)) || !text.contains(token)) {
                continue;
            }
            List<Fragment> next = new ArrayList<>(fragments.size() + 2);
            for (Fragment fragment : fragments) {
                if (!(fragment instanceof Raw(String raw))) {
                    next.add(fragment);
                    continue;
                }
                int from = 0;
                for (int at = raw.indexOf(token); at >= 0; at = raw.indexOf(token, from)) {
                    int leftEnd = at;
                    if ((attributes & Vocabulary.LSTRIP) != 0) {
                        while (leftEnd > from && isSpace(raw.charAt(leftEnd - 1))) {
                            leftEnd--;
                        }
                    }
                    if (leftEnd > from) {
                        next.add(new Raw(raw.substring(from, leftEnd)));
                    }
                    next.add(new Special(special));
                    from = at + token.length();
                    if ((attributes & Vocabulary.RSTRIP) != 0) {
                        while (from < raw.length() && isSpace(raw.charAt(from))) {
                            from++;
                        }
                    }
                }
                if (from < raw.length()) {
                    next.add(new Raw(raw.substring(from)));
                }
            }
            fragments = next;
        }
        return fragments;
    }

    /** {@code text} with lone surrogates as U+FFFD, as llama.cpp reads bytes that are not UTF-8. */
    private static String wellFormed(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                if (out != null) {
                    out.append(c).append(text.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (out == null) {
                    out = new StringBuilder(text.length()).append(text, 0, i);
                }
                out.append('\uFFFD');
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /** C's isspace, which llama.cpp strips with. */
    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    @Override
    public byte[] bytes(int token, boolean renderSpecial) {
        checkToken(token);
        int attributes = vocab.attributes[token];
        String text = vocab.texts[token];
        if ((attributes & (Vocabulary.CONTROL | Vocabulary.UNKNOWN)) != 0) {
            return renderSpecial ? text.getBytes(StandardCharsets.UTF_8) : new byte[0];
        }
        if ((attributes & Vocabulary.USER_DEFINED) != 0) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if ((attributes & Vocabulary.NORMAL) != 0) {
            return sentencePiece ? text.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8) : ByteLevel.decode(text);
        }
        if ((attributes & Vocabulary.BYTE) != 0 && text.length() == 6 && text.startsWith("<0x")) {
            return new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)};
        }
        return new byte[0]; // unused and undefined tokens, as llama.cpp
    }

    @Override
    public String decode(int[] tokens, boolean renderSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < tokens.length; i++) {
            byte[] piece = bytes(tokens[i], renderSpecial);
            // llama.cpp takes the space SentencePiece put before the text away from the first token only,
            // whatever that token is: after a BOS the space stays.
            int skip = i == 0 && addSpacePrefix && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
        }
        byte[] text = out.toByteArray();
        if (cleanSpaces) {
            text = SpaceCleaner.clean(text);
        }
        return new String(text, StandardCharsets.UTF_8);
    }

    @Override
    public String text(int token) {
        checkToken(token);
        return vocab.texts[token];
    }

    @Override
    public OptionalInt bos() {
        return vocab.bos < 0 ? OptionalInt.empty() : OptionalInt.of(vocab.bos);
    }

    @Override
    public OptionalInt eos() {
        return vocab.eos < 0 ? OptionalInt.empty() : OptionalInt.of(vocab.eos);
    }

    @Override
    public boolean isEndOfGeneration(int token) {
        return token >= 0 && vocab.endOfGeneration.get(token);
    }

    @Override
    public OptionalInt find(String tokenText) {
        int id = vocab.id(tokenText);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    private void checkToken(int token) {
        if (token < 0 || token >= vocab.size()) {
            throw new IllegalArgumentException("token " + token + " is not in the vocabulary of " + vocab.size()
                    + " tokens (ids 0 to " + (vocab.size() - 1) + ")");
        }
    }

    @Override
    public String toString() {
        return (sentencePiece ? "SentencePiece" : "byte-level BPE") + " tokenizer of " + vocab.size() + " tokens from "
                + vocab.path.getFileName();
    }
}
