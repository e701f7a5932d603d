package org.commonweal.inference.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Streams token bytes out as text: a token may end inside a multi-byte UTF-8 character (byte-fallback and
 * byte-level tokens often do), so {@link #append} returns only whole characters and holds back an
 * incomplete sequence at the end until the bytes that complete it arrive. Bytes that cannot be part of a
 * character come out as U+FFFD. Not thread-safe: one stream per generation.
 */
public final class TextStream {

    private byte[] pending = new byte[0];

    /** The complete characters of the bytes so far that were not returned yet. */
    public String append(byte[] bytes) {
        byte[] all = Arrays.copyOf(pending, pending.length + bytes.length);
        System.arraycopy(bytes, 0, all, pending.length, bytes.length);
        int cut = all.length - incompleteTail(all);
        pending = Arrays.copyOfRange(all, cut, all.length);
        return new String(all, 0, cut, StandardCharsets.UTF_8);
    }

    /** What is left, an incomplete sequence as U+FFFD; the stream is then empty. */
    public String flush() {
        String rest = new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        return rest;
    }

    /**
     * The length of the incomplete but so far valid multi-byte sequence ending {@code bytes}, or 0: a lead
     * byte within the last three bytes, followed only by continuation bytes, fewer than it announces.
     */
    private static int incompleteTail(byte[] bytes) {
        for (int back = 1; back <= Math.min(3, bytes.length); back++) {
            int b = bytes[bytes.length - back] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // a continuation byte: the lead is further back
            }
            int expected = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 1;
            return expected > back ? back : 0;
        }
        return 0;
    }
}
