package org.commonweal.ledger;

/** An entry with its proof against {@code head}'s state root: what a light client needs to trust an entry. */
public record ProvenEntry(BlockHeader head, EntryProof proof) {

    /** Whether the proof holds against this header. */
    public boolean verifies() {
        return proof.verifies(head.stateRoot());
    }
}
