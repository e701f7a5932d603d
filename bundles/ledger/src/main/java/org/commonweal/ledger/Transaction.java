package org.commonweal.ledger;

import java.util.Arrays;

import org.commonweal.crypto.PublicKey;

/**
 * A signed transaction. Its one encoding ({@link TransactionCodec}) is what is signed, hashed, stored
 * and sent; the {@link #id()} is the SHA-256 of that encoding.
 *
 * @param chainId     the chain it is valid on
 * @param sender      the signer, whose account pays
 * @param nonce       the sender's transaction count before this one (0 for the first)
 * @param fee         paid by the sender to the block's proposer
 * @param payloadType what the payload is (e.g. {@link Transfer#TYPE})
 * @param payload     the type's canonical bytes
 * @param signature   the sender's Ed25519 signature over {@link TransactionCodec#signingBytes}
 */
public record Transaction(int chainId, PublicKey sender, long nonce, long fee, int payloadType, byte[] payload,
        byte[] signature) {

    public Transaction {
        payload = payload.clone();
        signature = signature.clone();
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    /** The transaction id: SHA-256 of its canonical encoding. */
    public byte[] id() {
        return org.commonweal.crypto.Sha256.hash(TransactionCodec.encode(this));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Transaction t && chainId == t.chainId && sender.equals(t.sender) && nonce == t.nonce
                && fee == t.fee && payloadType == t.payloadType && Arrays.equals(payload, t.payload)
                && Arrays.equals(signature, t.signature);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(TransactionCodec.encode(this));
    }
}
