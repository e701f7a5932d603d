package org.commonweal.benefit.internal;

import java.util.List;
import java.util.Optional;

import org.commonweal.chain.Chain;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Mempool;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.node.api.NodeIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transactions this node signs with its identity (the auditor's attestations, the serving side's claims and reveals):
 * one at a time across the bundle, each awaited before the next, so that two components never take the same nonce.
 */
final class NodeTransactions {

    private static final Logger LOG = LoggerFactory.getLogger(NodeTransactions.class);
    private static final Object LOCK = new Object();
    private static final long COMMIT_MILLIS = 60_000;

    private NodeTransactions() {
    }

    /** What became of a transaction: the height of the block that committed it, or why not. */
    record Outcome(long height, Optional<Rejection> refusal) {
        boolean committed() {
            return refusal.isEmpty();
        }
    }

    /**
     * Signs with the node key, submits and waits for the commit; if it is not committed, the refusal (or, if it was
     * not committed in time, a rejection saying so), logged with {@code what}.
     */
    static Outcome submit(Chain chain, NodeIdentity identity, int type, byte[] payload, String what) {
        PublicKey node = PublicKey.of(identity.publicKey());
        synchronized (LOCK) {
            try {
                long nonce = chain.account(node).nonce();
                Transaction tx = new Transaction(chain.chainId(), node, nonce, 0, type, payload,
                        identity.sign(TransactionCodec.signingBytes(chain.chainId(), node, nonce, 0, type, payload)));
                Mempool.Admission admission = chain.submit(List.of(tx)).get(0);
                if (admission.outcome() != Mempool.Outcome.ACCEPTED) {
                    LOG.warn("this node's {} was refused: {}", what, admission.rejection());
                    return new Outcome(0, Optional.of(admission.rejection()));
                }
                long height = chain.awaitCommitted(tx.id(), COMMIT_MILLIS).filter(s -> s.committed()).map(s -> s.height())
                        .orElse(0L);
                if (height == 0) {
                    LOG.warn("this node's {} was not committed within {} s", what, COMMIT_MILLIS / 1000);
                    return new Outcome(0, Optional.of(new Rejection(Rejection.Reason.INVALID_PAYLOAD, what
                            + " not committed within " + COMMIT_MILLIS / 1000 + " s")));
                }
                return new Outcome(height, Optional.empty());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(0, Optional.of(new Rejection(Rejection.Reason.INVALID_PAYLOAD, what + " interrupted")));
            }
        }
    }
}
