package org.commonweal.ledger;

import java.util.Optional;
import java.util.SortedMap;

import org.commonweal.crypto.PublicKey;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Read access to a state: accounts and namespaced entries. Entries are byte values under a namespace
 * (1 to {@value StateEntries#MAX_NAMESPACE_CHARS} characters of {@code [a-z0-9._-]}, e.g. {@code benefit.person})
 * and a byte key (0 to {@value StateEntries#MAX_KEY_BYTES} bytes), ordered by namespace then key in unsigned
 * byte order, so iteration is the same on every node.
 */
@ProviderType
public interface StateView {

    /** The account of {@code key} ({@link Account#EMPTY} if it never received anything). */
    Account account(PublicKey key);

    /** The entry's value, if present. */
    Optional<byte[]> entry(String namespace, byte[] key);

    /**
     * The entries of {@code namespace} whose keys start with {@code prefix}, in key order (unsigned bytes),
     * at most {@code limit}; keys to values, read-only.
     */
    SortedMap<byte[], byte[]> entries(String namespace, byte[] prefix, int limit);
}
