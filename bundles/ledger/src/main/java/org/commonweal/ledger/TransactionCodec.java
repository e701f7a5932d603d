package org.commonweal.ledger;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;

/**
 * The one encoding of a {@link Transaction}, version 1, big-endian, fixed-width fields:
 *
 * <pre>
 * u8  version (1)   u32 chainId   32 bytes sender   u64 nonce   u64 fee
 * u16 payloadType   u32 payloadLength (&lt;= {@value #MAX_PAYLOAD_BYTES})   payload   64 bytes signature
 * </pre>
 *
 * Nonce and fee are at most 2^63 - 1. Decoding accepts exactly this and nothing else (no trailing
 * bytes, no out-of-range number), so a transaction has one byte representation, and its id is
 * stable. The signature covers {@value #SIGNING_DOMAIN} followed by every field before it.
 */
public final class TransactionCodec {

    public static final int VERSION = 1;
    public static final int MAX_PAYLOAD_BYTES = 16 * 1024;
    /** Header (1 + 4 + 32 + 8 + 8 + 2 + 4) plus signature. */
    public static final int FIXED_BYTES = 59 + Ed25519.SIGNATURE_LENGTH;
    public static final int MAX_TRANSACTION_BYTES = FIXED_BYTES + MAX_PAYLOAD_BYTES;
    /** Domain separation: a transaction signature can never be mistaken for any other signed message. */
    public static final String SIGNING_DOMAIN = "commonweal/transaction/v1";
    private static final byte[] DOMAIN = SIGNING_DOMAIN.getBytes(StandardCharsets.US_ASCII);

    private TransactionCodec() {
    }

    /** The transaction's one encoding (a copy of what the transaction computed once). */
    public static byte[] encode(Transaction tx) {
        return tx.encoding().clone();
    }

    /** The length of {@code tx}'s encoding. */
    public static int encodedLength(Transaction tx) {
        return tx.encoding().length;
    }

    static byte[] encodeFresh(Transaction tx) {
        if (tx.signatureLength() != Ed25519.SIGNATURE_LENGTH) { // else a short one was zero-padded, a long one overflowed
            throw new IllegalArgumentException("a signature has " + Ed25519.SIGNATURE_LENGTH + " bytes, not " + tx.signatureLength());
        }
        ByteBuffer out = ByteBuffer.allocate(FIXED_BYTES + tx.payloadLength());
        writeUnsigned(out, tx);
        out.put(tx.signatureUnsafe());
        return out.array();
    }

    /** What the sender signs: the domain, then the encoding without the signature. */
    public static byte[] signingBytes(int chainId, PublicKey sender, long nonce, long fee, int payloadType, byte[] payload) {
        checkFields(nonce, fee, payloadType, payload);
        ByteBuffer out = ByteBuffer.allocate(DOMAIN.length + FIXED_BYTES - Ed25519.SIGNATURE_LENGTH + payload.length);
        out.put(DOMAIN);
        out.put((byte) VERSION).putInt(chainId).put(sender.bytes()).putLong(nonce).putLong(fee).putShort((short) payloadType)
                .putInt(payload.length).put(payload);
        return out.array();
    }

    /** A transaction signed by {@code key}. */
    public static Transaction sign(PrivateKey key, int chainId, long nonce, long fee, int payloadType, byte[] payload) {
        byte[] signature = key.sign(signingBytes(chainId, key.publicKey(), nonce, fee, payloadType, payload));
        return new Transaction(chainId, key.publicKey(), nonce, fee, payloadType, payload, signature);
    }

    /** Whether the signature is the sender's over this transaction. */
    public static boolean signatureValid(Transaction tx) {
        return Ed25519.verify(tx.sender(), signingBytes(tx), tx.signature());
    }

    static byte[] signingBytes(Transaction tx) {
        return signingBytes(tx.chainId(), tx.sender(), tx.nonce(), tx.fee(), tx.payloadType(), tx.payload());
    }

    /** Decodes exactly one transaction; anything else is {@link Rejection.Reason#MALFORMED} or OVERSIZED. */
    public static Transaction decode(byte[] bytes) throws Rejection {
        if (bytes == null || bytes.length < FIXED_BYTES) {
            throw new Rejection(Rejection.Reason.MALFORMED, "a transaction has at least " + FIXED_BYTES + " bytes, this has "
                    + (bytes == null ? 0 : bytes.length));
        }
        if (bytes.length > MAX_TRANSACTION_BYTES) {
            throw new Rejection(Rejection.Reason.OVERSIZED, "a transaction has at most " + MAX_TRANSACTION_BYTES
                    + " bytes, this has " + bytes.length);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int version = in.get() & 0xFF;
        if (version != VERSION) {
            throw new Rejection(Rejection.Reason.MALFORMED, "unknown transaction version " + version + " (this node reads "
                    + VERSION + ")");
        }
        int chainId = in.getInt();
        byte[] sender = new byte[32];
        in.get(sender);
        long nonce = in.getLong();
        long fee = in.getLong();
        int payloadType = in.getShort() & 0xFFFF;
        long payloadLength = in.getInt() & 0xFFFFFFFFL;
        if (nonce < 0 || fee < 0) {
            throw new Rejection(Rejection.Reason.MALFORMED, (nonce < 0 ? "nonce" : "fee") + " exceeds 2^63 - 1");
        }
        if (payloadLength > MAX_PAYLOAD_BYTES) {
            throw new Rejection(Rejection.Reason.OVERSIZED, "payload of " + payloadLength + " bytes; the limit is "
                    + MAX_PAYLOAD_BYTES);
        }
        if (payloadLength + Ed25519.SIGNATURE_LENGTH != in.remaining()) {
            throw new Rejection(Rejection.Reason.MALFORMED, "the payload length says " + payloadLength + " bytes, but "
                    + (in.remaining() - Ed25519.SIGNATURE_LENGTH) + " bytes precede the signature");
        }
        byte[] payload = new byte[(int) payloadLength];
        in.get(payload);
        byte[] signature = new byte[Ed25519.SIGNATURE_LENGTH];
        in.get(signature);
        return new Transaction(chainId, PublicKey.of(sender), nonce, fee, payloadType, payload, signature);
    }

    private static void writeUnsigned(ByteBuffer out, Transaction tx) {
        checkFields(tx.nonce(), tx.fee(), tx.payloadType(), tx.payload());
        out.put((byte) VERSION).putInt(tx.chainId()).put(tx.sender().bytes()).putLong(tx.nonce()).putLong(tx.fee())
                .putShort((short) tx.payloadType()).putInt(tx.payload().length).put(tx.payload());
    }

    private static void checkFields(long nonce, long fee, int payloadType, byte[] payload) {
        if (nonce < 0 || fee < 0) {
            throw new IllegalArgumentException("nonce and fee are 0..2^63-1, not " + nonce + " and " + fee);
        }
        if (payloadType < 0 || payloadType > 0xFFFF) {
            throw new IllegalArgumentException("payload types are 0..65535, not " + payloadType);
        }
        if (payload.length > MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("a payload has at most " + MAX_PAYLOAD_BYTES + " bytes, not " + payload.length);
        }
    }
}
