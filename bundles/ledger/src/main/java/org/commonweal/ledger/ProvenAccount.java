package org.commonweal.ledger;

/**
 * An account with its proof against {@code head}'s state root and account count: everything a light
 * client needs, once it trusts the header (by its commit certificate).
 */
public record ProvenAccount(BlockHeader head, AccountProof proof) {

    /** Whether the proof holds against this header. */
    public boolean verifies() {
        return proof.verifies(head.stateRoot(), head.accountCount());
    }
}
