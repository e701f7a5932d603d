package org.commonweal.consensus.bft.network;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.UnaryOperator;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * {@code Noise_XX_25519_ChaChaPoly_SHA256} (The Noise Protocol Framework, revision 34): X25519, SHA-256 and
 * HMAC from Bouncy Castle's lightweight API, ChaCha20-Poly1305 from the JDK (see {@link CipherState}):
 *
 * <pre>
 * XX:
 *   -&gt; e
 *   &lt;- e, ee, s, es
 *   -&gt; s, se
 * </pre>
 *
 * Both sides learn the other's static X25519 key and prove they hold its private half; the handshake hash
 * commits to the prologue and every byte exchanged. {@link #split()} gives one {@link CipherState} per
 * direction for the transport phase: ChaCha20-Poly1305 with a 64-bit counter nonce, so a record that is
 * altered, replayed, dropped or reordered fails authentication. Checked byte for byte against the published
 * test vectors (NoiseTest). Not thread-safe: one handshake per connection, on one thread.
 */
final class Noise {

    static final String PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_SHA256";
    static final int DH_LENGTH = 32;
    static final int HASH_LENGTH = 32;
    static final int TAG_LENGTH = 16;
    /** The largest Noise message (handshake or transport), in bytes. */
    static final int MAX_MESSAGE = 65535;

    private final boolean initiator;
    private final byte[] staticPrivate;
    private final byte[] staticPublic;
    private final SecureRandom random;
    private byte[] ephemeralPrivate;
    private byte[] ephemeralPublic;
    private byte[] remoteEphemeral;
    private byte[] remoteStatic;
    private final Symmetric symmetric;
    private byte[] lastPayloadHash;
    /** 0, 1, 2: the next handshake message; 3: done; -1: failed. */
    private int step;

    /**
     * {@code staticPrivate}: this side's 32-byte X25519 key. {@code ephemeralPrivate}: null to draw one from
     * {@code random} (tests give a fixed one to replay the published vectors).
     */
    Noise(boolean initiator, byte[] prologue, byte[] staticPrivate, byte[] ephemeralPrivate, SecureRandom random) {
        this.initiator = initiator;
        this.staticPrivate = staticPrivate.clone();
        this.staticPublic = publicKey(this.staticPrivate);
        this.random = random;
        if (ephemeralPrivate != null) {
            this.ephemeralPrivate = ephemeralPrivate.clone();
        }
        this.symmetric = new Symmetric(PROTOCOL_NAME.getBytes(StandardCharsets.US_ASCII));
        symmetric.mixHash(prologue);
    }

    /** A new X25519 private key. */
    static byte[] generatePrivate(SecureRandom random) {
        byte[] key = new byte[DH_LENGTH];
        X25519.generatePrivateKey(random, key);
        return key;
    }

    static byte[] publicKey(byte[] privateKey) {
        byte[] key = new byte[DH_LENGTH];
        X25519.generatePublicKey(privateKey, 0, key, 0);
        return key;
    }

    byte[] staticPublic() {
        return staticPublic.clone();
    }

    /** The other side's static key: known after message 2 (initiator) or 3 (responder). */
    byte[] remoteStatic() {
        if (remoteStatic == null) {
            throw new IllegalStateException("the remote static key is not known yet");
        }
        return remoteStatic.clone();
    }

    /** Whether this side writes the next handshake message. */
    boolean writesNext() {
        return step >= 0 && step < 3 && (step % 2 == 0) == initiator;
    }

    boolean complete() {
        return step == 3;
    }

    /** The handshake hash so far: after the handshake, the session's unique transcript hash. */
    byte[] handshakeHash() {
        return symmetric.h.clone();
    }

    /**
     * The next handshake message; {@code payload} gets the handshake hash as it stands just before the payload
     * is encrypted (to bind a signature to this handshake) and returns the payload to send.
     */
    byte[] writeMessage(UnaryOperator<byte[]> payload) throws GeneralSecurityException {
        if (!writesNext()) {
            throw new IllegalStateException("not this side's turn to write (step " + step + ")");
        }
        Buffer out = new Buffer();
        try {
            switch (step) {
                case 0 -> writeEphemeral(out);
                case 1 -> {
                    writeEphemeral(out);
                    symmetric.mixKey(dh(ephemeralPrivate, remoteEphemeral)); // ee
                    out.put(symmetric.encryptAndHash(staticPublic));
                    symmetric.mixKey(dh(staticPrivate, remoteEphemeral)); // es, responder side
                }
                default -> {
                    out.put(symmetric.encryptAndHash(staticPublic));
                    symmetric.mixKey(dh(staticPrivate, remoteEphemeral)); // se, initiator side
                }
            }
            out.put(symmetric.encryptAndHash(payload.apply(symmetric.h.clone())));
            step++;
            if (out.length() > MAX_MESSAGE) {
                throw new IllegalArgumentException("a handshake message has " + out.length() + " bytes, over " + MAX_MESSAGE);
            }
            return out.bytes();
        } catch (GeneralSecurityException | RuntimeException e) {
            step = -1;
            throw e;
        }
    }

    /** The payload of a received handshake message; {@link #lastPayloadHash()} is what its sender signed. */
    byte[] readMessage(byte[] message) throws GeneralSecurityException {
        if (step < 0 || step >= 3 || writesNext()) {
            throw new IllegalStateException("not this side's turn to read (step " + step + ")");
        }
        try {
            Reader in = new Reader(message);
            switch (step) {
                case 0 -> remoteEphemeral = readEphemeral(in);
                case 1 -> {
                    remoteEphemeral = readEphemeral(in);
                    symmetric.mixKey(dh(ephemeralPrivate, remoteEphemeral)); // ee
                    remoteStatic = symmetric.decryptAndHash(in.take(DH_LENGTH + TAG_LENGTH));
                    symmetric.mixKey(dh(ephemeralPrivate, remoteStatic)); // es, initiator side
                }
                default -> {
                    remoteStatic = symmetric.decryptAndHash(in.take(DH_LENGTH + TAG_LENGTH));
                    symmetric.mixKey(dh(ephemeralPrivate, remoteStatic)); // se, responder side
                }
            }
            lastPayloadHash = symmetric.h.clone();
            byte[] payload = symmetric.decryptAndHash(in.rest());
            step++;
            return payload;
        } catch (GeneralSecurityException | RuntimeException e) {
            step = -1;
            throw e;
        }
    }

    /** The handshake hash just before the payload of the last message read: what its sender's payload saw. */
    byte[] lastPayloadHash() {
        return lastPayloadHash.clone();
    }

    /** The transport ciphers: [0] sends, [1] receives. */
    CipherState[] split() {
        if (!complete()) {
            throw new IllegalStateException("the handshake is not complete");
        }
        byte[][] keys = hkdf(symmetric.ck, new byte[0]);
        CipherState first = new CipherState(keys[0]);
        CipherState second = new CipherState(keys[1]);
        Arrays.fill(ephemeralPrivate, (byte) 0);
        return initiator ? new CipherState[] {first, second} : new CipherState[] {second, first};
    }

    private void writeEphemeral(Buffer out) {
        if (ephemeralPrivate == null) {
            ephemeralPrivate = generatePrivate(random);
        }
        ephemeralPublic = publicKey(ephemeralPrivate);
        out.put(ephemeralPublic);
        symmetric.mixHash(ephemeralPublic);
    }

    private byte[] readEphemeral(Reader in) {
        byte[] e = in.take(DH_LENGTH);
        symmetric.mixHash(e);
        return e;
    }

    private static byte[] dh(byte[] privateKey, byte[] publicKey) throws GeneralSecurityException {
        byte[] shared = new byte[DH_LENGTH];
        if (!X25519.calculateAgreement(privateKey, 0, publicKey, 0, shared, 0)) {
            // A low-order point gives an all-zero secret: refuse rather than derive keys from it.
            throw new GeneralSecurityException("the peer sent a degenerate X25519 key");
        }
        return shared;
    }

    /** Noise's HKDF with HMAC-SHA256: two 32-byte outputs. */
    private static byte[][] hkdf(byte[] chainingKey, byte[] input) {
        byte[] temp = hmac(chainingKey, input);
        byte[] first = hmac(temp, new byte[] {1});
        byte[] second = hmac(temp, concat(first, new byte[] {2}));
        return new byte[][] {first, second};
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        HMac mac = new HMac(new SHA256Digest());
        mac.init(new KeyParameter(key));
        mac.update(data, 0, data.length);
        byte[] out = new byte[HASH_LENGTH];
        mac.doFinal(out, 0);
        return out;
    }

    private static byte[] sha256(byte[] a, byte[] b) {
        SHA256Digest digest = new SHA256Digest();
        digest.update(a, 0, a.length);
        digest.update(b, 0, b.length);
        byte[] out = new byte[HASH_LENGTH];
        digest.doFinal(out, 0);
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Noise's SymmetricState: chaining key, handshake hash and the handshake's cipher. */
    private static final class Symmetric {
        byte[] ck;
        byte[] h;
        CipherState cipher;

        Symmetric(byte[] protocolName) {
            h = protocolName.length <= HASH_LENGTH ? Arrays.copyOf(protocolName, HASH_LENGTH) : sha256(protocolName, new byte[0]);
            ck = h.clone();
        }

        void mixHash(byte[] data) {
            h = sha256(h, data);
        }

        void mixKey(byte[] input) {
            byte[][] keys = hkdf(ck, input);
            ck = keys[0];
            cipher = new CipherState(keys[1]);
        }

        byte[] encryptAndHash(byte[] plaintext) throws GeneralSecurityException {
            byte[] ciphertext = cipher == null ? plaintext.clone() : cipher.encrypt(h, plaintext);
            mixHash(ciphertext);
            return ciphertext;
        }

        byte[] decryptAndHash(byte[] ciphertext) throws GeneralSecurityException {
            byte[] plaintext = cipher == null ? ciphertext.clone() : cipher.decrypt(h, ciphertext, 0, ciphertext.length);
            mixHash(ciphertext);
            return plaintext;
        }
    }

    /**
     * A key and a 64-bit message counter (the nonce: 4 zero bytes, then the counter little-endian). Each
     * encryption or successful decryption moves the counter on, so a nonce is never used twice with a key and
     * the receiver accepts records only in the order they were sent, each once. The AEAD is the JDK's
     * ChaCha20-Poly1305: the same bytes as Bouncy Castle's (the test vector checks them), about eight times
     * faster here once its intrinsics are compiled. Not thread-safe.
     */
    static final class CipherState {
        private final SecretKeySpec key;
        private final Cipher aead;
        private final byte[] nonce = new byte[12];
        private long n;

        CipherState(byte[] key) {
            this.key = new SecretKeySpec(key, "ChaCha20");
            try {
                this.aead = Cipher.getInstance("ChaCha20-Poly1305");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("this JDK has no ChaCha20-Poly1305 (Java 11 and later do)", e);
            }
        }

        byte[] encrypt(byte[] ad, byte[] plaintext) throws GeneralSecurityException {
            return encrypt(ad, plaintext, 0, plaintext.length);
        }

        byte[] encrypt(byte[] ad, byte[] plaintext, int offset, int length) throws GeneralSecurityException {
            init(Cipher.ENCRYPT_MODE, ad);
            byte[] out = aead.doFinal(plaintext, offset, length);
            n++;
            return out;
        }

        /** Throws {@link TamperedException} when the record does not authenticate; the counter then stays. */
        byte[] decrypt(byte[] ad, byte[] ciphertext, int offset, int length) throws GeneralSecurityException {
            if (length < TAG_LENGTH) {
                throw new TamperedException("a record of " + length + " bytes is shorter than its authentication tag");
            }
            init(Cipher.DECRYPT_MODE, ad);
            byte[] out;
            try {
                out = aead.doFinal(ciphertext, offset, length);
            } catch (AEADBadTagException e) {
                throw new TamperedException("a record failed authentication (altered, replayed, reordered or from"
                        + " another session)");
            }
            n++;
            return out;
        }

        private void init(int mode, byte[] ad) throws GeneralSecurityException {
            if (n == -1L) { // 2^64 - 1 is reserved; no connection lives that long, but never wrap
                throw new GeneralSecurityException("the nonce space of this session is exhausted");
            }
            long v = n;
            for (int i = 4; i < 12; i++) {
                nonce[i] = (byte) v;
                v >>>= 8;
            }
            aead.init(mode, key, new IvParameterSpec(nonce));
            if (ad.length > 0) {
                aead.updateAAD(ad);
            }
        }
    }

    /** A record or handshake message that does not authenticate. */
    static final class TamperedException extends GeneralSecurityException {
        private static final long serialVersionUID = 1L;

        TamperedException(String message) {
            super(message);
        }
    }

    private static final class Buffer {
        private byte[] bytes = new byte[128];
        private int length;

        void put(byte[] b) {
            if (length + b.length > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + b.length));
            }
            System.arraycopy(b, 0, bytes, length, b.length);
            length += b.length;
        }

        int length() {
            return length;
        }

        byte[] bytes() {
            return Arrays.copyOf(bytes, length);
        }
    }

    private static final class Reader {
        private final byte[] bytes;
        private int position;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        byte[] take(int n) {
            if (bytes.length - position < n) {
                throw new IllegalArgumentException("a handshake message ends early (" + bytes.length + " bytes)");
            }
            byte[] out = Arrays.copyOfRange(bytes, position, position + n);
            position += n;
            return out;
        }

        byte[] rest() {
            return take(bytes.length - position);
        }
    }
}
