package org.commonweal.inference.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pre-tokenizers of byte-level BPE vocabularies: each splits text into words with a list of regular
 * expressions applied in turn, every expression splitting each piece the previous ones left (matches and
 * the gaps between them both become pieces), as llama.cpp's {@code unicode_regex_split} does. The
 * expressions are those of the models' Hugging Face tokenizers, written for java.util.regex: \s is Unicode
 * White_Space, \p{L} and \p{N} the Unicode letter and number categories, and a trailing "|\s+" stands
 * for llama.cpp's hand-written GPT-2 scanner, which also takes a lone space before a non-space.
 */
enum PreTokenizer {

    GPT2(List.of("gpt-2", "phi-2", "mpt", "olmo"), false, false, true,
            Regex.GPT2),
    LLAMA3(List.of("llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral"), true, true, true,
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    /** Llama 3's expression with digits taken one by one. */
    QWEN2(List.of("qwen2", "deepseek-r1-qwen"), false, false, false,
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    FALCON(List.of("falcon"), false, false, true,
            "[\\p{P}\\$\\+<=>\\^~\\|`]+", Regex.GPT2, "[0-9][0-9][0-9]"),
    DEEPSEEK_LLM(List.of("deepseek-llm"), false, false, false,
            "[\\r\\n]",
            "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}"
                    + "\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}"
                    + "\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
                    + "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}"
                    + "\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}"
                    + "\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}"
                    + "\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
                    + "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}"
                    + "\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}"
                    + "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}"
                    + "\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}"
                    + "\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
                    + "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
            "\\s+\\z",
            "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
            "\\p{N}+"),
    /** What llama.cpp uses for a BPE vocabulary without a pre-tokenizer name (or named "default"). */
    DEFAULT(List.of("default"), false, false, true,
            "[\\p{P}\\$\\+<=>\\^~\\|]+", Regex.GPT2, "\\p{N}+", "[0-9][0-9][0-9]");

    private static final class Regex {
        static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    }

    private final List<String> names;
    /** Whether a word that is a token as a whole is taken as is, without merges (llama.cpp's ignore_merges). */
    final boolean ignoreMerges;
    /** Whether llama.cpp adds BOS by default (when add_bos_token is absent). */
    final boolean addBosByDefault;
    /** Whether decoding removes spaces before punctuation and contractions (llama.cpp's clean_spaces). */
    final boolean cleanSpaces;
    private final Pattern[] patterns;

    PreTokenizer(List<String> names, boolean ignoreMerges, boolean addBosByDefault, boolean cleanSpaces,
            String... regexes) {
        this.names = names;
        this.ignoreMerges = ignoreMerges;
        this.addBosByDefault = addBosByDefault;
        this.cleanSpaces = cleanSpaces;
        this.patterns = Arrays.stream(regexes)
                .map(r -> Pattern.compile(r, Pattern.UNICODE_CHARACTER_CLASS))
                .toArray(Pattern[]::new);
    }

    /** The pre-tokenizer llama.cpp knows by {@code name}, or null. */
    static PreTokenizer named(String name) {
        for (PreTokenizer p : values()) {
            if (p.names.contains(name)) {
                return p;
            }
        }
        return null;
    }

    static List<String> supportedNames() {
        List<String> all = new ArrayList<>();
        for (PreTokenizer p : values()) {
            all.addAll(p.names);
        }
        return all;
    }

    /** The words of {@code text} as start and end char indices, in order: {start0, end0, start1, end1, ...}. */
    IntArray split(String text) {
        IntArray pieces = new IntArray();
        pieces.add(0);
        pieces.add(text.length());
        for (Pattern pattern : patterns) {
            IntArray next = new IntArray();
            Matcher m = pattern.matcher(text);
            for (int i = 0; i < pieces.size(); i += 2) {
                int start = pieces.get(i);
                int end = pieces.get(i + 1);
                // The region's bounds are opaque and anchoring: lookaheads and \z see the piece's end as
                // the end of the text, as std::regex does on a sub-range.
                m.region(start, end);
                int last = start;
                while (m.find()) {
                    if (m.end() == m.start()) {
                        continue;
                    }
                    if (m.start() > last) {
                        next.add(last);
                        next.add(m.start());
                    }
                    next.add(m.start());
                    next.add(m.end());
                    last = m.end();
                }
                if (last < end) {
                    next.add(last);
                    next.add(end);
                }
            }
            pieces = next;
        }
        return pieces;
    }
}
