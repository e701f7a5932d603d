package org.commonweal.ledger;

import org.commonweal.crypto.PublicKey;
import org.osgi.annotation.versioning.ProviderType;

/** Read access to a state's accounts: what a mempool checks admissions against. */
@ProviderType
public interface AccountView {

    int chainId();

    /** The account of {@code key} ({@link Account#EMPTY} if it never received anything). */
    Account account(PublicKey key);

    /**
     * Whether {@code tx}, its signature already verified, would apply to this state now; a mempool asks
     * this of a transaction carrying its sender's next nonce, to refuse at once what cannot apply.
     */
    void checkApplies(Transaction tx) throws Rejection;
}
