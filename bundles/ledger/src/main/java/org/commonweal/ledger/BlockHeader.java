package org.commonweal.ledger;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;

/**
 * A block header, version 1: what validators sign and light clients keep. Its hash (SHA-256 of its
 * {@value #BYTES}-byte encoding) is the block's id. The transaction root is the RFC 6962 root over
 * the block's transaction encodings, in order; the state root and account count are those after the
 * block's transactions ran (the count is here because a Merkle root does not commit to it).
 *
 * <pre>
 * u8 version  u32 chainId  u64 height  32 previousHash  u64 timeMillis  32 proposer
 * 32 transactionRoot  u32 transactionCount  32 stateRoot  u32 accountCount      (big-endian)
 * </pre>
 */
public record BlockHeader(int chainId, long height, byte[] previousHash, long timeMillis, PublicKey proposer,
        byte[] transactionRoot, int transactionCount, byte[] stateRoot, int accountCount) {

    public static final int VERSION = 1;
    public static final int BYTES = 1 + 4 + 8 + 32 + 8 + 32 + 32 + 4 + 32 + 4;

    public BlockHeader {
        previousHash = hash32(previousHash, "previous hash");
        transactionRoot = hash32(transactionRoot, "transaction root");
        stateRoot = hash32(stateRoot, "state root");
        if (height < 0 || timeMillis < 0 || transactionCount < 0 || accountCount < 0) {
            throw new IllegalArgumentException("height, time and counts are not negative: " + height + ", " + timeMillis
                    + ", " + transactionCount + ", " + accountCount);
        }
    }

    @Override
    public byte[] previousHash() {
        return previousHash.clone();
    }

    @Override
    public byte[] transactionRoot() {
        return transactionRoot.clone();
    }

    @Override
    public byte[] stateRoot() {
        return stateRoot.clone();
    }

    public byte[] encode() {
        return ByteBuffer.allocate(BYTES).put((byte) VERSION).putInt(chainId).putLong(height).put(previousHash)
                .putLong(timeMillis).put(proposer.bytes()).put(transactionRoot).putInt(transactionCount).put(stateRoot)
                .putInt(accountCount).array();
    }

    /** The block id. */
    public byte[] hash() {
        return Sha256.hash(encode());
    }

    public static BlockHeader decode(ByteBuffer in) throws Rejection {
        if (in.remaining() < BYTES) {
            throw new Rejection(Rejection.Reason.MALFORMED, "a block header has " + BYTES + " bytes, " + in.remaining()
                    + " remain");
        }
        int version = in.get() & 0xFF;
        if (version != VERSION) {
            throw new Rejection(Rejection.Reason.MALFORMED, "unknown block version " + version + " (this node reads "
                    + VERSION + ")");
        }
        int chainId = in.getInt();
        long height = in.getLong();
        byte[] previous = bytes(in, 32);
        long time = in.getLong();
        PublicKey proposer = PublicKey.of(bytes(in, 32));
        byte[] txRoot = bytes(in, 32);
        int txCount = in.getInt();
        byte[] stateRoot = bytes(in, 32);
        int accountCount = in.getInt();
        if (height < 0 || time < 0 || txCount < 0 || accountCount < 0) {
            throw new Rejection(Rejection.Reason.MALFORMED, "a height, time or count in the header exceeds its range");
        }
        return new BlockHeader(chainId, height, previous, time, proposer, txRoot, txCount, stateRoot, accountCount);
    }

    private static byte[] bytes(ByteBuffer in, int n) {
        byte[] bytes = new byte[n];
        in.get(bytes);
        return bytes;
    }

    private static byte[] hash32(byte[] hash, String what) {
        if (hash == null || hash.length != Sha256.LENGTH) {
            throw new IllegalArgumentException("the " + what + " is a " + Sha256.LENGTH + "-byte SHA-256, not "
                    + (hash == null ? "missing" : hash.length + " bytes"));
        }
        return hash.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BlockHeader h && Arrays.equals(encode(), h.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }
}
