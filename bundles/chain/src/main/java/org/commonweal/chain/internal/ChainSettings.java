package org.commonweal.chain.internal;

import java.util.Map;

import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.Mempool;

/**
 * What a chain is (its id and genesis: every node of the chain must agree on these) and how this node
 * keeps it (block size, snapshots, mempool limits: local choices).
 */
record ChainSettings(int chainId, Map<PublicKey, Long> genesisBalances, long genesisTimeMillis, int maxBlockTransactions,
        long snapshotInterval, int snapshotsKept, Mempool.Limits mempoolLimits) {

    /** The genesis block's proposer: nobody (all zeros). */
    static final PublicKey NOBODY = PublicKey.of(new byte[32]);

    ChainSettings {
        genesisBalances = Map.copyOf(genesisBalances);
        if (genesisBalances.isEmpty()) {
            throw new IllegalArgumentException("chain " + chainId + " has no genesis balances: name at least one account"
                    + " (genesis.balances = [\"<hex key>=<amount>\"]) or, for development, genesis.nodeKeyBalance");
        }
        if (maxBlockTransactions < 1 || maxBlockTransactions > Block.MAX_TRANSACTIONS) {
            throw new IllegalArgumentException("block.maxTransactions is 1.." + Block.MAX_TRANSACTIONS + ", not "
                    + maxBlockTransactions);
        }
        if (snapshotInterval < 1 || snapshotsKept < 1) {
            throw new IllegalArgumentException("snapshot.interval and snapshot.kept are at least 1, not " + snapshotInterval
                    + " and " + snapshotsKept);
        }
    }

    Block genesis() {
        return Block.genesis(chainId, genesisBalances, genesisTimeMillis, NOBODY);
    }
}
