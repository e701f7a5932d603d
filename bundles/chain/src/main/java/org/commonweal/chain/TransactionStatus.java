package org.commonweal.chain;

import org.commonweal.ledger.Transaction;

/**
 * A transaction the node knows: committed at {@code height} as the block's {@code index}-th transaction
 * (every transaction in a committed block has been applied), or still pending (height and index -1).
 */
public record TransactionStatus(Transaction transaction, boolean committed, long height, int index) {

    public static TransactionStatus pending(Transaction tx) {
        return new TransactionStatus(tx, false, -1, -1);
    }
}
