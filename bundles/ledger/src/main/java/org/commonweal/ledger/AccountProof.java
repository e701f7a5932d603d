package org.commonweal.ledger;

import java.util.Arrays;

import org.commonweal.crypto.InclusionProof;
import org.commonweal.crypto.PublicKey;

/**
 * Proof that {@code key} has {@code account} in the state whose root and account count a block header
 * carries. The count must come from the header, never from the proof: an RFC 6962 root does not commit
 * to the number of leaves (see {@link InclusionProof}). {@code roots} binds the accounts tree to the
 * state root when the state has entries; null (or no entries) means the state root is the accounts root.
 */
public record AccountProof(PublicKey key, Account account, InclusionProof inclusion, StateRoots roots) {

    /** A proof for a state without entries (its state root is the accounts root). */
    public AccountProof(PublicKey key, Account account, InclusionProof inclusion) {
        this(key, account, inclusion, null);
    }

    /** Whether this proves the account against the header's state root and account count. */
    public boolean verifies(byte[] stateRoot, int accountCount) {
        if (inclusion.treeSize() != accountCount) {
            return false;
        }
        if (roots == null) {
            return inclusion.verifies(account.leaf(key), stateRoot);
        }
        return inclusion.verifies(account.leaf(key), roots.accountsRoot()) && Arrays.equals(roots.stateRoot(), stateRoot);
    }
}
