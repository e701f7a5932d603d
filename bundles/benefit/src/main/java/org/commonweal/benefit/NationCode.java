package org.commonweal.benefit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A nation's code on the chain: 2 to 8 lowercase letters (e.g. {@code ke}); 8 bytes, zero-padded, in encodings. */
public record NationCode(String code) {

    public static final int BYTES = 8;

    public NationCode {
        if (code == null || code.length() < 2 || code.length() > BYTES || !code.chars().allMatch(c -> c >= 'a' && c <= 'z')) {
            throw new IllegalArgumentException("a nation code is 2.." + BYTES + " lowercase letters, not '" + code + "'");
        }
    }

    public byte[] bytes() {
        return Arrays.copyOf(code.getBytes(StandardCharsets.US_ASCII), BYTES);
    }

    /** The code these 8 bytes hold; anything but a canonical encoding is an {@link IllegalArgumentException}. */
    public static NationCode of(byte[] bytes) {
        int length = 0;
        while (length < bytes.length && bytes[length] != 0) {
            length++;
        }
        for (int i = length; i < bytes.length; i++) {
            if (bytes[i] != 0) {
                throw new IllegalArgumentException("a nation code is zero-padded at the end");
            }
        }
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("a nation code has " + BYTES + " bytes");
        }
        return new NationCode(new String(bytes, 0, length, StandardCharsets.US_ASCII));
    }

    @Override
    public String toString() {
        return code;
    }
}
