package org.commonweal.ledger;

import org.commonweal.crypto.InclusionProof;
import org.commonweal.crypto.PublicKey;

/**
 * Proof that {@code key} has {@code account} in the state whose root and account count a block header
 * carries. The count must come from the header, never from the proof: an RFC 6962 root does not commit
 * to the number of leaves (see {@link InclusionProof}).
 */
public record AccountProof(PublicKey key, Account account, InclusionProof inclusion) {

    /** Whether this proves the account against the header's state root and account count. */
    public boolean verifies(byte[] stateRoot, int accountCount) {
        return inclusion.treeSize() == accountCount && inclusion.verifies(account.leaf(key), stateRoot);
    }
}
