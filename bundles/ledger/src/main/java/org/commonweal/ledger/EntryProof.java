package org.commonweal.ledger;

import java.util.Arrays;

import org.commonweal.crypto.InclusionProof;

/**
 * Proof that the entry {@code namespace/key} has {@code value} in the state whose root a block header
 * carries: its inclusion in the entries tree, whose root and size {@code roots} binds to the state root.
 */
public record EntryProof(String namespace, byte[] key, byte[] value, InclusionProof inclusion, StateRoots roots) {

    public EntryProof {
        key = key.clone();
        value = value.clone();
    }

    @Override
    public byte[] key() {
        return key.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    /** Whether this proves the entry against the header's state root. */
    public boolean verifies(byte[] stateRoot) {
        return roots.entryCount() > 0 && inclusion.treeSize() == roots.entryCount()
                && inclusion.verifies(StateEntries.leaf(namespace, key, value), roots.entriesRoot())
                && Arrays.equals(roots.stateRoot(), stateRoot);
    }
}
