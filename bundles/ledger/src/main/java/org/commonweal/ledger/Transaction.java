package org.commonweal.ledger;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;

/**
 * A signed transaction, immutable. Its one encoding ({@link TransactionCodec}) is what is signed, hashed,
 * stored and sent; the {@link #id()} is the SHA-256 of that encoding. Both are computed once, when first
 * asked for (a transaction is encoded and hashed at admission, in the block's transaction root, in the
 * block, in the indexes: once is enough).
 */
public final class Transaction {

    private final int chainId;
    private final PublicKey sender;
    private final long nonce;
    private final long fee;
    private final int payloadType;
    private final byte[] payload;
    private final byte[] signature;
    /** Cached; racy but benign: every thread computes the same bytes. */
    private byte[] encoding;
    private byte[] id;

    /**
     * @param chainId     the chain it is valid on
     * @param sender      the signer, whose account pays
     * @param nonce       the sender's transaction count before this one (0 for the first)
     * @param fee         paid by the sender to the block's proposer
     * @param payloadType what the payload is (e.g. {@link Transfer#TYPE})
     * @param payload     the type's canonical bytes
     * @param signature   the sender's Ed25519 signature over {@link TransactionCodec#signingBytes}
     */
    public Transaction(int chainId, PublicKey sender, long nonce, long fee, int payloadType, byte[] payload, byte[] signature) {
        this.chainId = chainId;
        this.sender = Objects.requireNonNull(sender, "sender");
        this.nonce = nonce;
        this.fee = fee;
        this.payloadType = payloadType;
        this.payload = payload.clone();
        this.signature = signature.clone();
    }

    public int chainId() {
        return chainId;
    }

    public PublicKey sender() {
        return sender;
    }

    public long nonce() {
        return nonce;
    }

    public long fee() {
        return fee;
    }

    public int payloadType() {
        return payloadType;
    }

    public byte[] payload() {
        return payload.clone();
    }

    public byte[] signature() {
        return signature.clone();
    }

    int payloadLength() {
        return payload.length;
    }

    int signatureLength() {
        return signature.length;
    }

    byte[] payloadUnsafe() {
        return payload;
    }

    byte[] signatureUnsafe() {
        return signature;
    }

    /** The canonical encoding, computed once (not a copy: callers in this package must not change it). */
    byte[] encoding() {
        byte[] e = encoding;
        if (e == null) {
            e = TransactionCodec.encodeFresh(this);
            encoding = e;
        }
        return e;
    }

    /** The transaction id: SHA-256 of its canonical encoding (a copy). */
    public byte[] id() {
        byte[] i = id;
        if (i == null) {
            i = Sha256.hash(encoding());
            id = i;
        }
        return i.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Transaction t && chainId == t.chainId && sender.equals(t.sender) && nonce == t.nonce
                && fee == t.fee && payloadType == t.payloadType && Arrays.equals(payload, t.payload)
                && Arrays.equals(signature, t.signature);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(signature); // a signature differs with any field: a cheap, well-spread hash
    }

    @Override
    public String toString() {
        return "Transaction[chainId=" + chainId + ", sender=" + sender + ", nonce=" + nonce + ", fee=" + fee + ", payloadType="
                + payloadType + ", payload=" + payload.length + " bytes, signature=" + HexFormat.of().formatHex(signature, 0,
                        Math.min(8, signature.length)) + "...]";
    }
}
