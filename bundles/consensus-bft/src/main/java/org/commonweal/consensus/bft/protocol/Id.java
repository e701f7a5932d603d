package org.commonweal.consensus.bft.protocol;

import java.util.Arrays;
import java.util.HexFormat;

/** A 32-byte block id (SHA-256), compared by content. */
public record Id(byte[] bytes) {

    public Id {
        if (bytes.length != 32) {
            throw new IllegalArgumentException("a block id has 32 bytes, not " + bytes.length);
        }
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Id id && Arrays.equals(bytes, id.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes, 0, 4);
    }
}
