package org.commonweal.crypto;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * An Ed25519 public key: 32 bytes, equal by content, ordered by its bytes as unsigned numbers (the order of the
 * chain's state tree), shown as lowercase hex.
 */
public final class PublicKey implements Comparable<PublicKey> {

    public static final int LENGTH = 32;

    private final byte[] bytes;

    private PublicKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The key with these 32 bytes (copied); fails naming the length otherwise. */
    public static PublicKey of(byte[] bytes) {
        if (bytes == null || bytes.length != LENGTH) {
            throw new IllegalArgumentException("an Ed25519 public key has " + LENGTH + " bytes, not "
                    + (bytes == null ? "none" : bytes.length));
        }
        return new PublicKey(bytes.clone());
    }

    /** The key written as 64 hex digits. */
    public static PublicKey fromHex(String hex) {
        if (hex == null || hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("an Ed25519 public key is " + 2 * LENGTH + " hex digits, not '" + hex + "'");
        }
        try {
            return new PublicKey(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + hex + "' is not a hex Ed25519 public key: " + e.getMessage(), e);
        }
    }

    /** A copy of the 32 bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** For this package's hot paths: the array itself, never to be modified. */
    byte[] unsafeBytes() {
        return bytes;
    }

    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public int compareTo(PublicKey other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PublicKey key && Arrays.equals(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "ed25519:" + hex();
    }
}
