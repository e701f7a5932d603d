package org.commonweal.ledger;

import java.util.HashMap;
import java.util.Map;

import org.commonweal.crypto.PublicKey;

/**
 * The changes one transaction makes, kept apart from the state until the whole transaction has been
 * checked: the ledger applies them only if nothing was rejected. Balances never go below zero or above
 * 2^63 - 1.
 */
public final class StateChanges {

    private final LedgerState base;
    private final Map<PublicKey, Account> written = new HashMap<>();

    StateChanges(LedgerState base) {
        this.base = base;
    }

    /** The account as this transaction sees it (its own changes included). */
    public Account account(PublicKey key) {
        Account account = written.get(key);
        return account != null ? account : base.account(key);
    }

    /** Takes {@code amount} from {@code key}'s balance; {@link Rejection.Reason#INSUFFICIENT_FUNDS} if it lacks it. */
    public void debit(PublicKey key, long amount) throws Rejection {
        requirePositive(amount);
        Account account = account(key);
        if (amount > account.balance()) {
            throw new Rejection(Rejection.Reason.INSUFFICIENT_FUNDS, key + " has " + account.balance() + ", " + amount
                    + " is needed");
        }
        written.put(key, new Account(account.balance() - amount, account.nonce()));
    }

    /** Adds {@code amount} to {@code key}'s balance; {@link Rejection.Reason#OVERFLOW} past 2^63 - 1. */
    public void credit(PublicKey key, long amount) throws Rejection {
        requirePositive(amount);
        Account account = account(key);
        if (account.balance() > Long.MAX_VALUE - amount) {
            throw new Rejection(Rejection.Reason.OVERFLOW, "the balance of " + key + " would exceed 2^63 - 1");
        }
        written.put(key, new Account(account.balance() + amount, account.nonce()));
    }

    void advanceNonce(PublicKey key) {
        Account account = account(key);
        written.put(key, new Account(account.balance(), account.nonce() + 1));
    }

    Map<PublicKey, Account> written() {
        return written;
    }

    private static void requirePositive(long amount) {
        if (amount <= 0) {
            throw new IllegalArgumentException("an amount is 1..2^63-1, not " + amount);
        }
    }
}
