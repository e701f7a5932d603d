package org.commonweal.crypto;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/**
 * An Ed25519 private key. It signs; it never shows its bytes (not even in {@link #toString()}); only
 * {@link KeyFiles} writes it out.
 */
public final class PrivateKey {

    private final Ed25519PrivateKeyParameters key;
    private final PublicKey publicKey;

    PrivateKey(Ed25519PrivateKeyParameters key) {
        this.key = key;
        this.publicKey = PublicKey.of(key.generatePublicKey().getEncoded());
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    /** The 64-byte Ed25519 signature of {@code message} (RFC 8032, pure Ed25519). */
    public byte[] sign(byte[] message) {
        byte[] signature = new byte[Ed25519.SIGNATURE_LENGTH];
        key.sign(org.bouncycastle.math.ec.rfc8032.Ed25519.Algorithm.Ed25519, null, message, 0, message.length, signature, 0);
        return signature;
    }

    Ed25519PrivateKeyParameters parameters() {
        return key;
    }

    @Override
    public String toString() {
        return "Ed25519 private key of " + publicKey;
    }
}
