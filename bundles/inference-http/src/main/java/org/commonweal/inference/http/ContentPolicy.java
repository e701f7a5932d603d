package org.commonweal.inference.http;

import java.text.Normalizer;
import java.util.List;
import java.util.Locale;

import org.commonweal.inference.CulturePack;

/**
 * A culture pack's content policy applied to what a person asks: a rule matches when one of its words or
 * phrases appears as whole words in a user message, ignoring case, accents' composition and punctuation.
 */
final class ContentPolicy {

    private ContentPolicy() {
    }

    /** The first rule of {@code pack} that matches one of {@code texts}, or null. */
    static CulturePack.PolicyRule match(CulturePack pack, List<String> texts) {
        if (pack.policy().isEmpty()) {
            return null;
        }
        StringBuilder all = new StringBuilder(" ");
        for (String text : texts) {
            all.append(normalize(text)).append(' ');
        }
        String haystack = all.toString();
        for (CulturePack.PolicyRule rule : pack.policy()) {
            for (String word : rule.words()) {
                String needle = normalize(word);
                if (!needle.isEmpty() && haystack.contains(" " + needle + " ")) {
                    return rule;
                }
            }
        }
        return null;
    }

    /** Lower case, NFC, every run of non-letters-or-digits one space. */
    static String normalize(String text) {
        String nfc = Normalizer.normalize(text, Normalizer.Form.NFC).toLowerCase(Locale.ROOT);
        StringBuilder out = new StringBuilder(nfc.length());
        boolean space = true;
        for (int i = 0; i < nfc.length(); ) {
            int cp = nfc.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetterOrDigit(cp) || Character.getType(cp) == Character.NON_SPACING_MARK
                    || Character.getType(cp) == Character.COMBINING_SPACING_MARK) {
                out.appendCodePoint(cp);
                space = false;
            } else if (!space) {
                out.append(' ');
                space = true;
            }
        }
        return out.toString().trim();
    }
}
