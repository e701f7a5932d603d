package org.commonweal.ledger;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.commonweal.crypto.MerkleTree;
import org.commonweal.crypto.PublicKey;

/**
 * A block: a header and its transactions. Encoding, version 1: the header, then per transaction a u32
 * length and its encoding; at most {@value #MAX_TRANSACTIONS} transactions and {@value #MAX_BYTES}
 * bytes, and nothing after the last transaction.
 */
public record Block(BlockHeader header, List<Transaction> transactions) {

    public static final int MAX_TRANSACTIONS = 200_000;
    public static final int MAX_BYTES = 64 * 1024 * 1024;
    /** The parent hash of the genesis block (height 0). */
    public static final byte[] NO_PARENT = new byte[32];

    public Block {
        transactions = List.copyOf(transactions);
    }

    public byte[] encode() {
        List<byte[]> encoded = new ArrayList<>(transactions.size());
        int size = BlockHeader.BYTES;
        for (Transaction tx : transactions) {
            byte[] bytes = tx.encoding();
            encoded.add(bytes);
            size += 4 + bytes.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).put(header.encode());
        encoded.forEach(bytes -> out.putInt(bytes.length).put(bytes));
        return out.array();
    }

    public static Block decode(byte[] bytes) throws Rejection {
        if (bytes.length > MAX_BYTES) {
            throw new Rejection(Rejection.Reason.OVERSIZED, "a block has at most " + MAX_BYTES + " bytes, this has " + bytes.length);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        BlockHeader header = BlockHeader.decode(in);
        if (header.transactionCount() > MAX_TRANSACTIONS) {
            throw new Rejection(Rejection.Reason.OVERSIZED, "a block has at most " + MAX_TRANSACTIONS + " transactions,"
                    + " the header says " + header.transactionCount());
        }
        List<Transaction> txs = new ArrayList<>(header.transactionCount());
        for (int i = 0; i < header.transactionCount(); i++) {
            if (in.remaining() < 4) {
                throw new Rejection(Rejection.Reason.MALFORMED, "the block ends before transaction " + i);
            }
            long length = in.getInt() & 0xFFFFFFFFL;
            if (length > in.remaining()) {
                throw new Rejection(Rejection.Reason.MALFORMED, "transaction " + i + " claims " + length + " bytes, "
                        + in.remaining() + " remain");
            }
            byte[] tx = new byte[(int) length];
            in.get(tx);
            txs.add(TransactionCodec.decode(tx));
        }
        if (in.hasRemaining()) {
            throw new Rejection(Rejection.Reason.MALFORMED, in.remaining() + " bytes after the last transaction");
        }
        return new Block(header, txs);
    }

    /** The RFC 6962 root over the transactions' encodings, in block order. */
    public static byte[] transactionRoot(List<Transaction> txs) {
        List<byte[]> leaves = new ArrayList<>(txs.size());
        txs.forEach(tx -> leaves.add(tx.encoding()));
        return MerkleTree.root(leaves);
    }

    /** The genesis block of a chain: no transactions, the genesis balances' state. */
    public static Block genesis(int chainId, Map<PublicKey, Long> balances, long timeMillis, PublicKey proposer) {
        LedgerState state = LedgerState.genesis(chainId, balances);
        return new Block(new BlockHeader(chainId, 0, NO_PARENT, timeMillis, proposer, transactionRoot(List.of()), 0,
                state.root(), state.accountCount()), List.of());
    }
}
