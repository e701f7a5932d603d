package org.commonweal.inference.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class TextStreamTest {

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    @Test
    void holdsBackASplitCharacterUntilItIsComplete() {
        byte[] text = "aé😀b".getBytes(StandardCharsets.UTF_8); // 1 + 2 + 4 + 1 bytes
        for (int cut1 = 0; cut1 <= text.length; cut1++) {
            for (int cut2 = cut1; cut2 <= text.length; cut2++) {
                TextStream stream = new TextStream();
                String out = stream.append(Arrays.copyOfRange(text, 0, cut1))
                        + stream.append(Arrays.copyOfRange(text, cut1, cut2))
                        + stream.append(Arrays.copyOfRange(text, cut2, text.length));
                assertEquals("aé😀b", out, "cut at " + cut1 + " and " + cut2);
                assertEquals("", stream.flush());
            }
        }
    }

    @Test
    void returnsOnlyCompleteCharacters() {
        TextStream stream = new TextStream();
        assertEquals("a", stream.append(bytes('a', 0xF0, 0x9F)));
        assertEquals("", stream.append(bytes(0x98)));
        assertEquals("😀", stream.append(bytes(0x80)));
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        TextStream stream = new TextStream();
        assertEquals("a\uFFFDb", stream.append(bytes('a', 0xFF, 'b')));
        assertEquals("", stream.append(bytes(0xE2, 0x82)));
        assertEquals("\uFFFD", stream.flush()); // an incomplete character at the end
        assertEquals("", stream.flush());
        assertEquals("\uFFFDx", stream.append(bytes(0x82, 'x'))); // a continuation byte with no lead
    }
}
