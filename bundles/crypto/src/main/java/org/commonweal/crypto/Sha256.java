package org.commonweal.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256, the chain's one hash function (the JDK's implementation: intrinsified on x86 and ARM). */
public final class Sha256 {

    /** Bytes in a SHA-256 digest. */
    public static final int LENGTH = 32;

    private Sha256() {
    }

    /** A fresh digest; one per thread (MessageDigest is not thread-safe). */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    public static byte[] hash(byte[] data) {
        return newDigest().digest(data);
    }

    /** The hash of the concatenation of {@code parts}, without building it. */
    public static byte[] hash(byte[]... parts) {
        MessageDigest digest = newDigest();
        for (byte[] part : parts) {
            digest.update(part);
        }
        return digest.digest();
    }
}
