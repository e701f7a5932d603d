package org.commonweal.inference.tokenizer;

import java.util.Arrays;

/**
 * llama.cpp's clean-up of decoded BPE text (its {@code clean_spaces}, after Hugging Face's
 * {@code clean_up_tokenization_spaces}): three passes over the bytes that drop the space before
 * {@code ? ! . ,}, around a lone apostrophe, and before the contractions 's 'm 're 've.
 */
final class SpaceCleaner {

    private SpaceCleaner() {
    }

    static byte[] clean(byte[] text) {
        return contractions(apostrophes(punctuation(text)));
    }

    /** " ?", " !", " .", " ," lose the space. */
    private static byte[] punctuation(byte[] in) {
        byte[] out = new byte[in.length];
        int n = 0;
        for (int i = 0; i < in.length; i++) {
            byte x = in[i];
            if (i > 0 && in[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                n--;
            }
            out[n++] = x;
        }
        return Arrays.copyOf(out, n);
    }

    /** " ' " becomes "'"; the dropped space after it does not count as a space before the next byte. */
    private static byte[] apostrophes(byte[] in) {
        byte[] text = in.clone();
        byte[] out = new byte[text.length];
        int n = 0;
        for (int i = 0; i < text.length; i++) {
            byte x = text[i];
            if (i > 0 && x == '\'' && i + 1 < text.length && text[i - 1] == ' ' && text[i + 1] == ' ') {
                n--;
                text[++i] = 0;
            }
            out[n++] = x;
        }
        return Arrays.copyOf(out, n);
    }

    /** " 's", " 'm", " 're", " 've" lose the space; " 't", " 'd" and " 'll" keep it, as in llama.cpp. */
    private static byte[] contractions(byte[] in) {
        byte[] out = new byte[in.length];
        int n = 0;
        for (int i = 0; i < in.length; i++) {
            byte x = in[i];
            if (i > 0 && in[i - 1] == ' ' && x == '\'' && i + 1 < in.length) {
                byte x1 = in[i + 1];
                boolean twoLetters = i + 2 < in.length
                        && ((x1 == 'r' && in[i + 2] == 'e') || (x1 == 'v' && in[i + 2] == 'e'));
                if (x1 == 's' || x1 == 'm' || twoLetters) {
                    n--;
                }
            }
            out[n++] = x;
        }
        return Arrays.copyOf(out, n);
    }
}
