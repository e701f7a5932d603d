package org.commonweal.ledger;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.commonweal.crypto.Sha256;

/**
 * What a state root commits to: the accounts tree's root and the entries tree's root and size. A state
 * without entries has the accounts root as its state root (so chains without entries keep their roots);
 * otherwise the state root is {@code SHA-256("commonweal/state/v2" || accountsRoot || u32 entryCount || entriesRoot)}.
 * The account count is in the block header, the entry count here, inside the hash.
 */
public record StateRoots(byte[] accountsRoot, int entryCount, byte[] entriesRoot) {

    private static final byte[] DOMAIN = "commonweal/state/v2".getBytes(StandardCharsets.US_ASCII);

    public StateRoots {
        if (accountsRoot.length != Sha256.LENGTH || entriesRoot.length != Sha256.LENGTH || entryCount < 0) {
            throw new IllegalArgumentException("state roots are two SHA-256 hashes and a count of at least 0");
        }
        accountsRoot = accountsRoot.clone();
        entriesRoot = entriesRoot.clone();
    }

    @Override
    public byte[] accountsRoot() {
        return accountsRoot.clone();
    }

    @Override
    public byte[] entriesRoot() {
        return entriesRoot.clone();
    }

    /** The state root these give. */
    public byte[] stateRoot() {
        if (entryCount == 0) {
            return accountsRoot.clone();
        }
        return Sha256.hash(ByteBuffer.allocate(DOMAIN.length + 32 + 4 + 32).put(DOMAIN).put(accountsRoot).putInt(entryCount)
                .put(entriesRoot).array());
    }
}
