package org.commonweal.benefit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;

import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.commonweal.crypto.Sha256;

/**
 * The encryption of a reveal to its auditor: X25519 with a fresh ephemeral key, then AES-256-GCM.
 * <pre>
 * shared = X25519(ephemeral secret, auditor's audit key)
 * key    = SHA-256("commonweal/benefit/reveal/v1" || shared || ephemeral public || auditor's audit key)
 * sealed = ephemeral public 32 || AES-256-GCM(key, nonce 12 zero bytes, aad = receipt id, plaintext) (tag 16)
 * </pre>
 * The key is used once, so a fixed nonce is safe. A node that is accused may disclose the ephemeral secret: every
 * node then derives the same key (the ledger checks the secret against the ephemeral public key), so the reveal
 * becomes public exactly as the auditor read it, and anyone can re-execute it.
 * <p>
 * An auditor's audit key is derived from its node key without a new key file: the X25519 secret is
 * {@code SHA-256("commonweal/benefit/audit-key/v1" || Ed25519 signature of "commonweal/benefit/audit-key/v1")};
 * Ed25519 signatures are deterministic, so the same node key gives the same audit key, and only its holder can.
 */
public final class RevealCipher {

    public static final int KEY_BYTES = 32;
    /** What sealing adds to the plaintext: the ephemeral key and the tag. */
    public static final int OVERHEAD = KEY_BYTES + 16;
    public static final byte[] AUDIT_KEY_MESSAGE = "commonweal/benefit/audit-key/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEY_DOMAIN = "commonweal/benefit/reveal/v1".getBytes(StandardCharsets.US_ASCII);

    private RevealCipher() {
    }

    /** The X25519 secret of an auditor from its node key's signature of {@link #AUDIT_KEY_MESSAGE}. */
    public static byte[] auditSecret(byte[] signatureOfAuditKeyMessage) {
        return Sha256.hash(AUDIT_KEY_MESSAGE, signatureOfAuditKeyMessage);
    }

    /** The X25519 public key of {@code secret}. */
    public static byte[] publicKey(byte[] secret) {
        check(secret, "an X25519 secret");
        byte[] point = new byte[KEY_BYTES];
        X25519.generatePublicKey(secret, 0, point, 0);
        return point;
    }

    /** Seals {@code plaintext} for the holder of {@code auditKey}; {@code ephemeralSecret} (32 random bytes) is used once. */
    public static byte[] seal(byte[] auditKey, byte[] receiptId, byte[] plaintext, byte[] ephemeralSecret) {
        byte[] ephemeralPublic = publicKey(ephemeralSecret);
        byte[] shared = agree(ephemeralSecret, auditKey);
        if (shared == null) {
            throw new IllegalArgumentException("the audit key is a low-order point: no secret can be agreed with it");
        }
        byte[] body;
        try {
            body = gcm(true, key(shared, ephemeralPublic, auditKey), receiptId, plaintext);
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("AES-GCM failed to encrypt", e);
        }
        return ByteBuffer.allocate(KEY_BYTES + body.length).put(ephemeralPublic).put(body).array();
    }

    /** Seals with a fresh ephemeral secret. */
    public static byte[] seal(byte[] auditKey, byte[] receiptId, byte[] plaintext, SecureRandom random) {
        byte[] secret = new byte[KEY_BYTES];
        random.nextBytes(secret);
        return seal(auditKey, receiptId, plaintext, secret);
    }

    /** Opens a sealed reveal with the auditor's secret. */
    public static byte[] open(byte[] auditSecret, byte[] receiptId, byte[] sealed) throws InvalidCipherTextException {
        byte[] ephemeralPublic = ephemeralPublic(sealed);
        byte[] key = key(agreed(auditSecret, ephemeralPublic), ephemeralPublic, publicKey(auditSecret));
        return gcm(false, key, receiptId, Arrays.copyOfRange(sealed, KEY_BYTES, sealed.length));
    }

    /**
     * Opens a sealed reveal with its disclosed ephemeral secret (anyone can: the ledger does on a dispute). Fails if
     * the secret is not the one of the sealed ephemeral public key.
     */
    public static byte[] openDisclosed(byte[] ephemeralSecret, byte[] auditKey, byte[] receiptId, byte[] sealed)
            throws InvalidCipherTextException {
        byte[] ephemeralPublic = ephemeralPublic(sealed);
        if (!Arrays.equals(publicKey(ephemeralSecret), ephemeralPublic)) {
            throw new InvalidCipherTextException("the disclosed secret is not the reveal's ephemeral key");
        }
        byte[] key = key(agreed(ephemeralSecret, auditKey), ephemeralPublic, auditKey);
        return gcm(false, key, receiptId, Arrays.copyOfRange(sealed, KEY_BYTES, sealed.length));
    }

    private static byte[] ephemeralPublic(byte[] sealed) throws InvalidCipherTextException {
        if (sealed.length < OVERHEAD) {
            throw new InvalidCipherTextException("a sealed reveal has at least " + OVERHEAD + " bytes, not " + sealed.length);
        }
        return Arrays.copyOf(sealed, KEY_BYTES);
    }

    /** The shared secret, or null for a low-order point (whose secret is all zeros, known to everyone). */
    private static byte[] agree(byte[] secret, byte[] point) {
        check(secret, "an X25519 secret");
        check(point, "an X25519 public key");
        byte[] shared = new byte[KEY_BYTES];
        return X25519.calculateAgreement(secret, 0, point, 0, shared, 0) ? shared : null;
    }

    private static byte[] agreed(byte[] secret, byte[] point) throws InvalidCipherTextException {
        byte[] shared = agree(secret, point);
        if (shared == null) {
            throw new InvalidCipherTextException("a low-order X25519 point in the reveal");
        }
        return shared;
    }

    /** Whether {@code key} is an X25519 public key a secret can be agreed with (not a low-order point). */
    public static boolean usableAuditKey(byte[] key) {
        return key != null && key.length == KEY_BYTES && agree(Sha256.hash(key), key) != null;
    }

    private static byte[] key(byte[] shared, byte[] ephemeralPublic, byte[] auditKey) {
        return Sha256.hash(KEY_DOMAIN, shared, ephemeralPublic, auditKey);
    }

    private static byte[] gcm(boolean encrypt, byte[] key, byte[] aad, byte[] input) throws InvalidCipherTextException {
        GCMBlockCipher cipher = (GCMBlockCipher) GCMBlockCipher.newInstance(AESEngine.newInstance());
        cipher.init(encrypt, new AEADParameters(new KeyParameter(key), 128, new byte[12], aad));
        byte[] output = new byte[cipher.getOutputSize(input.length)];
        int n = cipher.processBytes(input, 0, input.length, output, 0);
        n += cipher.doFinal(output, n);
        return n == output.length ? output : Arrays.copyOf(output, n);
    }

    private static void check(byte[] bytes, String what) {
        if (bytes == null || bytes.length != KEY_BYTES) {
            throw new IllegalArgumentException(what + " has " + KEY_BYTES + " bytes");
        }
    }
}
