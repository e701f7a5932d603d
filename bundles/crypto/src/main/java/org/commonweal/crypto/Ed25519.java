package org.commonweal.crypto;

import java.security.SecureRandom;
import java.util.Arrays;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.math.ec.rfc8032.Ed25519.PublicPoint;

/**
 * Ed25519 (RFC 8032, pure) with Bouncy Castle: about ten times faster than the JDK's EdDSA here, and
 * the same bytes as every other implementation.
 */
public final class Ed25519 {

    public static final int SIGNATURE_LENGTH = 64;

    private Ed25519() {
    }

    /** A new key from {@code random} (use a {@link SecureRandom}). */
    public static PrivateKey generate(SecureRandom random) {
        return new PrivateKey(new Ed25519PrivateKeyParameters(random));
    }

    /** The key with this 32-byte seed (RFC 8032's private key). */
    public static PrivateKey fromSeed(byte[] seed) {
        if (seed == null || seed.length != Ed25519PrivateKeyParameters.KEY_SIZE) {
            throw new IllegalArgumentException("an Ed25519 seed has " + Ed25519PrivateKeyParameters.KEY_SIZE + " bytes, not "
                    + (seed == null ? "none" : seed.length));
        }
        return new PrivateKey(new Ed25519PrivateKeyParameters(seed, 0));
    }

    /**
     * Whether {@code signature} is {@code key}'s signature of {@code message}. Anything malformed (a
     * signature of the wrong length, a key that is not a curve point, a non-canonical signature) is
     * simply not a valid signature: false, never an exception.
     *
     * <p>Decompressing the key is about a tenth of a verification, and a chain sees the same senders again and
     * again, so decoded keys are kept in {@link DecodedKeys}. The answer is Bouncy Castle's for the key bytes:
     * a key is kept decoded only if it passes the checks Bouncy Castle's byte-array verification makes on it and
     * re-encodes to exactly its bytes (the bytes that are hashed), so both paths compute the same function.
     */
    public static boolean verify(PublicKey key, byte[] message, byte[] signature) {
        if (key == null || message == null || signature == null || signature.length != SIGNATURE_LENGTH) {
            return false;
        }
        PublicPoint point = DecodedKeys.point(key.unsafeBytes());
        if (point == null) {
            return org.bouncycastle.math.ec.rfc8032.Ed25519.verify(signature, 0, key.unsafeBytes(), 0, message, 0,
                    message.length);
        }
        return org.bouncycastle.math.ec.rfc8032.Ed25519.verify(signature, 0, point, message, 0, message.length);
    }

    /**
     * Recently used keys, decoded: a direct-mapped table of {@value #SLOTS} slots (bounded memory, no lock; a
     * slot holds an immutable pair, so a racing reader sees a whole pair or the previous one).
     */
    static final class DecodedKeys {

        static final int SLOTS = 1 << 14;

        private record Slot(byte[] key, PublicPoint point) {
        }

        private static final Slot[] TABLE = new Slot[SLOTS];

        private DecodedKeys() {
        }

        /** {@code key} decoded, or null when it is not a valid point or does not re-encode to its bytes. */
        static PublicPoint point(byte[] key) {
            int slot = Arrays.hashCode(key) & (SLOTS - 1);
            Slot kept = TABLE[slot];
            if (kept != null && Arrays.equals(kept.key(), key)) {
                return kept.point();
            }
            PublicPoint point =
                    org.bouncycastle.math.ec.rfc8032.Ed25519.validatePublicKeyPartialExport(key, 0);
            if (point == null) {
                return null;
            }
            byte[] encoded = new byte[key.length];
            org.bouncycastle.math.ec.rfc8032.Ed25519.encodePublicPoint(point, encoded, 0);
            if (!Arrays.equals(encoded, key)) {
                return null;
            }
            TABLE[slot] = new Slot(key.clone(), point);
            return point;
        }
    }
}
