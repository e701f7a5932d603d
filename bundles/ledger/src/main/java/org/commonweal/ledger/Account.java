package org.commonweal.ledger;

import java.nio.ByteBuffer;

import org.commonweal.crypto.PublicKey;

/**
 * An account: its balance and the nonce its next transaction must carry. Its leaf in the state tree is
 * {@code key (32) || balance (u64) || nonce (u64)}, big-endian.
 */
public record Account(long balance, long nonce) {

    public static final Account EMPTY = new Account(0, 0);

    public Account {
        if (balance < 0 || nonce < 0) {
            throw new IllegalArgumentException("balance and nonce are 0..2^63-1, not " + balance + " and " + nonce);
        }
    }

    /** The account's leaf in the state tree. */
    public byte[] leaf(PublicKey key) {
        return ByteBuffer.allocate(48).put(key.bytes()).putLong(balance).putLong(nonce).array();
    }
}
