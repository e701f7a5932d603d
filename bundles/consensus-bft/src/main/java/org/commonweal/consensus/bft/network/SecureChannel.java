package org.commonweal.consensus.bft.network;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.IntPredicate;
import java.util.function.UnaryOperator;

import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PublicKey;

/**
 * One authenticated, encrypted connection between two validators: the handshake that proves who is at the
 * other end, then length-limited messages in encrypted records. The wire format is defined here and only here.
 *
 * <h2>Handshake</h2>
 * {@link Noise} XX with the prologue {@code "commonweal/bft-net/v1" || chain id (u32)}, so peers of another chain
 * or protocol version fail the handshake. Each handshake message is {@code u16 length || message}; the sizes are
 * fixed (32, 196 and 164 bytes) and anything else is refused before it is read. Messages 2 (the responder's) and
 * 3 (the initiator's) carry, encrypted, the sender's identity:
 *
 * <pre>
 * validator index (u32) || Ed25519 node key (32) || Ed25519 signature (64) over
 *     "commonweal/bft-net/identity/v1" || chain id (u32) || validator index (u32) || static X25519 key (32)
 *     || handshake hash at that point (32)
 * </pre>
 *
 * The Noise handshake proves each side holds the private half of its static X25519 key (which is made afresh
 * for every transport and never leaves memory); the signature binds that key, and this very handshake (its
 * transcript hash), to the validator's node key, so a signature cannot be replayed into another session. The
 * key must be the one the validator set has for that index, or the connection is refused.
 *
 * <h2>Records and messages</h2>
 * After the handshake, each direction is a sequence of records {@code u16 length || ChaCha20-Poly1305
 * ciphertext} (at most 65,535 bytes, Noise's limit; the nonce is the record's number, so a record altered,
 * replayed, dropped or reordered fails authentication and ends the connection). A message is one or more
 * records: the first record's plaintext starts with the message length (u32) and no record holds parts of two
 * messages. A message of length 0 is a keepalive. The length is read only after its record authenticates, and a
 * length over the limit ends the connection before anything is allocated for it. Not thread-safe: one reader
 * and one writer thread at most.
 */
final class SecureChannel implements Closeable {

    static final int IDENTITY_LENGTH = 4 + PublicKey.LENGTH + Ed25519.SIGNATURE_LENGTH;
    static final int MESSAGE_1 = Noise.DH_LENGTH;
    static final int MESSAGE_2 = Noise.DH_LENGTH + Noise.DH_LENGTH + Noise.TAG_LENGTH + IDENTITY_LENGTH + Noise.TAG_LENGTH;
    static final int MESSAGE_3 = Noise.DH_LENGTH + Noise.TAG_LENGTH + IDENTITY_LENGTH + Noise.TAG_LENGTH;
    static final int MAX_RECORD_PLAINTEXT = Noise.MAX_MESSAGE - Noise.TAG_LENGTH;
    private static final byte[] PROLOGUE = "commonweal/bft-net/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] IDENTITY_DOMAIN = "commonweal/bft-net/identity/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_AD = new byte[0];
    private static final SecureRandom RANDOM = new SecureRandom();

    /** This validator: its index, its node key's signature, and the static X25519 key of this transport. */
    record Identity(int chainId, int index, PublicKey key, UnaryOperator<byte[]> sign, byte[] staticPrivate) {
    }

    /** The handshake was completed or attempted with something that is not the expected validator. */
    static final class RefusedException extends IOException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    /** The authenticated peer broke the protocol: the connection ends. */
    static final class ViolationException extends IOException {
        private static final long serialVersionUID = 1L;

        enum Kind { OVERSIZED, TAMPERED, MALFORMED }

        final Kind kind;

        ViolationException(Kind kind, String message) {
            super(message);
            this.kind = kind;
        }
    }

    private final Socket socket;
    private final int peer;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final Noise.CipherState sender;
    private final Noise.CipherState receiver;
    private final int maxMessageBytes;
    private final byte[] record = new byte[Noise.MAX_MESSAGE];

    private SecureChannel(Socket socket, int peer, DataInputStream in, DataOutputStream out, Noise.CipherState[] ciphers,
            int maxMessageBytes) {
        this.socket = socket;
        this.peer = peer;
        this.in = in;
        this.out = out;
        this.sender = ciphers[0];
        this.receiver = ciphers[1];
        this.maxMessageBytes = maxMessageBytes;
    }

    /** The validator at the other end (authenticated). */
    int peer() {
        return peer;
    }

    Socket socket() {
        return socket;
    }

    /** Dials side: the responder must prove it is validator {@code expected}. */
    static SecureChannel initiate(Socket socket, Identity me, ValidatorSet validators, int expected, int maxMessageBytes)
            throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), Noise.MAX_MESSAGE + 2));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), Noise.MAX_MESSAGE + 2));
        Noise noise = new Noise(true, prologue(me.chainId()), me.staticPrivate(), null, RANDOM);
        try {
            writeHandshake(out, noise.writeMessage(h -> new byte[0]));
            byte[] payload;
            try {
                payload = noise.readMessage(readHandshake(in, MESSAGE_2, 2));
            } catch (Noise.TamperedException e) {
                throw new RefusedException("its handshake does not authenticate: another chain id or protocol version?");
            }
            int index = verifyIdentity(payload, noise.remoteStatic(), noise.lastPayloadHash(), me.chainId(), validators,
                    i -> i == expected, "it should be validator " + expected);
            writeHandshake(out, noise.writeMessage(h -> identity(me, noise.staticPublic(), h)));
            return new SecureChannel(socket, index, in, out, noise.split(), maxMessageBytes);
        } catch (GeneralSecurityException e) {
            throw new RefusedException("the handshake failed: " + e.getMessage());
        }
    }

    /** Listening side: the initiator must prove it is a validator that {@code accepts}. */
    static SecureChannel accept(Socket socket, Identity me, ValidatorSet validators, IntPredicate accepts, String whichAccepted,
            int maxMessageBytes) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), Noise.MAX_MESSAGE + 2));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), Noise.MAX_MESSAGE + 2));
        Noise noise = new Noise(false, prologue(me.chainId()), me.staticPrivate(), null, RANDOM);
        try {
            noise.readMessage(readHandshake(in, MESSAGE_1, 1));
            writeHandshake(out, noise.writeMessage(h -> identity(me, noise.staticPublic(), h)));
            byte[] payload;
            try {
                payload = noise.readMessage(readHandshake(in, MESSAGE_3, 3));
            } catch (Noise.TamperedException e) {
                throw new RefusedException("its handshake does not authenticate: another chain id or protocol version?");
            }
            int index = verifyIdentity(payload, noise.remoteStatic(), noise.lastPayloadHash(), me.chainId(), validators,
                    accepts, whichAccepted);
            return new SecureChannel(socket, index, in, out, noise.split(), maxMessageBytes);
        } catch (GeneralSecurityException e) {
            throw new RefusedException("the handshake failed: " + e.getMessage());
        }
    }

    static byte[] prologue(int chainId) {
        return ByteBuffer.allocate(PROLOGUE.length + 4).put(PROLOGUE).putInt(chainId).array();
    }

    private static byte[] signedBytes(int chainId, int index, byte[] staticKey, byte[] handshakeHash) {
        return ByteBuffer.allocate(IDENTITY_DOMAIN.length + 4 + 4 + Noise.DH_LENGTH + Noise.HASH_LENGTH).put(IDENTITY_DOMAIN)
                .putInt(chainId).putInt(index).put(staticKey).put(handshakeHash).array();
    }

    private static byte[] identity(Identity me, byte[] staticPublic, byte[] handshakeHash) {
        byte[] signature = me.sign().apply(signedBytes(me.chainId(), me.index(), staticPublic, handshakeHash));
        return ByteBuffer.allocate(IDENTITY_LENGTH).putInt(me.index()).put(me.key().bytes()).put(signature).array();
    }

    private static int verifyIdentity(byte[] payload, byte[] remoteStatic, byte[] handshakeHash, int chainId,
            ValidatorSet validators, IntPredicate accepts, String whichAccepted) throws RefusedException {
        if (payload.length != IDENTITY_LENGTH) {
            throw new RefusedException("its identity has " + payload.length + " bytes, not " + IDENTITY_LENGTH);
        }
        ByteBuffer buffer = ByteBuffer.wrap(payload);
        int index = buffer.getInt();
        byte[] key = new byte[PublicKey.LENGTH];
        buffer.get(key);
        byte[] signature = new byte[Ed25519.SIGNATURE_LENGTH];
        buffer.get(signature);
        PublicKey presented = PublicKey.of(key);
        if (index < 0 || index >= validators.size()) {
            throw new RefusedException("it claims to be validator " + index + " but the validator set has " + validators.size()
                    + " (0 to " + (validators.size() - 1) + "); node key " + presented.hex());
        }
        if (!presented.equals(validators.key(index))) {
            throw new RefusedException("it claims to be validator " + index + " with node key " + presented.hex()
                    + ", but validator " + index + " has node key " + validators.key(index).hex()
                    + " in this chain's validator set");
        }
        if (!accepts.test(index)) {
            throw new RefusedException("it is validator " + index + " but " + whichAccepted);
        }
        if (!Ed25519.verify(presented, signedBytes(chainId, index, remoteStatic, handshakeHash), signature)) {
            throw new RefusedException("it claims to be validator " + index + " but its signature over the handshake does"
                    + " not verify with that validator's node key");
        }
        return index;
    }

    private static void writeHandshake(DataOutputStream out, byte[] message) throws IOException {
        out.writeShort(message.length);
        out.write(message);
        out.flush();
    }

    private static byte[] readHandshake(DataInputStream in, int expected, int number) throws IOException {
        int length = in.readUnsignedShort();
        if (length != expected) {
            throw new IOException("handshake message " + number + " has " + length + " bytes, not " + expected
                    + " (not a validator of this protocol version)");
        }
        byte[] message = new byte[length];
        in.readFully(message);
        return message;
    }

    /** Queues {@code message} in the output buffer, encrypted (see {@link #flush()}). */
    void write(byte[] message) throws IOException {
        if (message.length == 0 || message.length > maxMessageBytes) {
            throw new IllegalArgumentException("a message of " + message.length + " bytes (1 to " + maxMessageBytes + ")");
        }
        int first = Math.min(message.length, MAX_RECORD_PLAINTEXT - 4);
        byte[] head = ByteBuffer.allocate(4 + first).putInt(message.length).put(message, 0, first).array();
        writeRecord(head, 0, head.length);
        for (int offset = first; offset < message.length; offset += MAX_RECORD_PLAINTEXT) {
            writeRecord(message, offset, Math.min(MAX_RECORD_PLAINTEXT, message.length - offset));
        }
    }

    void writeKeepalive() throws IOException {
        writeRecord(new byte[4], 0, 4);
    }

    /** For tests: one record with this plaintext, whatever it says. */
    void writeRecord(byte[] plaintext) throws IOException {
        writeRecord(plaintext, 0, plaintext.length);
    }

    void flush() throws IOException {
        out.flush();
    }

    private void writeRecord(byte[] plaintext, int offset, int length) throws IOException {
        byte[] ciphertext;
        try {
            ciphertext = sender.encrypt(NO_AD, plaintext, offset, length);
        } catch (GeneralSecurityException e) {
            throw new IOException(e.getMessage(), e);
        }
        out.writeShort(ciphertext.length);
        out.write(ciphertext);
    }

    /** The next message, or null for a keepalive; blocks. */
    byte[] read() throws IOException {
        byte[] first = readRecord();
        if (first.length < 4) {
            throw new ViolationException(ViolationException.Kind.MALFORMED, "a message starts with a record of " + first.length
                    + " bytes, without its length");
        }
        long length = ByteBuffer.wrap(first).getInt() & 0xffffffffL;
        if (length == 0) {
            if (first.length != 4) {
                throw new ViolationException(ViolationException.Kind.MALFORMED, "a keepalive record carries data");
            }
            return null;
        }
        if (length > maxMessageBytes) {
            throw new ViolationException(ViolationException.Kind.OVERSIZED, "it announced a message of " + length
                    + " bytes, over the limit of " + maxMessageBytes);
        }
        if (first.length - 4 > length) {
            throw new ViolationException(ViolationException.Kind.MALFORMED, "a record holds more than its message");
        }
        byte[] message = Arrays.copyOfRange(first, 4, 4 + (int) length);
        int filled = first.length - 4;
        while (filled < length) {
            byte[] next = readRecord();
            if (next.length == 0 || filled + next.length > length) {
                throw new ViolationException(ViolationException.Kind.MALFORMED, "a record does not fit its message");
            }
            System.arraycopy(next, 0, message, filled, next.length);
            filled += next.length;
        }
        return message;
    }

    private byte[] readRecord() throws IOException {
        int length = in.readUnsignedShort();
        in.readFully(record, 0, length);
        try {
            return receiver.decrypt(NO_AD, record, 0, length);
        } catch (Noise.TamperedException e) {
            throw new ViolationException(ViolationException.Kind.TAMPERED, e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
