package org.commonweal.ledger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

import org.commonweal.crypto.PublicKey;

/**
 * The changes one transaction (or one {@link BlockRule} in one block) makes, kept apart from the state
 * until the whole transaction has been checked: the ledger applies them only if nothing was rejected.
 * Balances never go below zero or above 2^63 - 1. Entries are read and written by namespace and key
 * (see {@link StateView} and the limits in {@link StateEntries}); reads see this transaction's own writes.
 */
public final class StateChanges implements StateView {

    private final LedgerState base;
    private final BlockContext block;
    private final int maxWrites;
    private final boolean admissionCheck;
    private final Map<PublicKey, Account> written = new HashMap<>();
    /** Entry writes by path; a null value is a deletion. */
    private final TreeMap<byte[], byte[]> entryWrites = new TreeMap<>(StateEntries.PATH_ORDER);

    StateChanges(LedgerState base, BlockContext block, int maxWrites, boolean admissionCheck) {
        this.base = base;
        this.block = block;
        this.maxWrites = maxWrites;
        this.admissionCheck = admissionCheck;
    }

    /**
     * True when the transaction is only checked against a state between blocks (a mempool admission): the
     * block it will run in, and so its time, is not known yet, and {@link #block()} is the last one (the
     * transaction runs at {@code block().height() + 1} or later). A check that bounds something by the coming
     * block's time should be lenient here; the block decides.
     */
    public boolean admissionCheck() {
        return admissionCheck;
    }

    /**
     * The block this runs in (outside a block, as for a mempool check: the last block executed on the
     * state).
     */
    public BlockContext block() {
        return block;
    }

    /** The account as this transaction sees it (its own changes included). */
    @Override
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

    /**
     * Adds {@code amount} to {@code key}'s balance; {@link Rejection.Reason#OVERFLOW} past 2^63 - 1. A
     * credit without a matching debit mints: the ledger keeps the total supply within 2^63 - 1, the payload
     * type or block rule decides who may mint.
     */
    public void credit(PublicKey key, long amount) throws Rejection {
        requirePositive(amount);
        Account account = account(key);
        if (account.balance() > Long.MAX_VALUE - amount) {
            throw new Rejection(Rejection.Reason.OVERFLOW, "the balance of " + key + " would exceed 2^63 - 1");
        }
        written.put(key, new Account(account.balance() + amount, account.nonce()));
    }

    @Override
    public Optional<byte[]> entry(String namespace, byte[] key) {
        byte[] path;
        try {
            path = StateEntries.path(namespace, key);
        } catch (Rejection oversized) {
            return Optional.empty(); // a key over the limit can never have been written
        }
        if (entryWrites.containsKey(path)) {
            return Optional.ofNullable(entryWrites.get(path)).map(byte[]::clone);
        }
        return base.entryAt(path).map(byte[]::clone);
    }

    @Override
    public SortedMap<byte[], byte[]> entries(String namespace, byte[] prefix, int limit) {
        SortedMap<byte[], byte[]> merged = new TreeMap<>(StateEntries.PATH_ORDER);
        byte[] from;
        try {
            from = StateEntries.path(namespace, prefix);
        } catch (Rejection oversized) {
            return merged;
        }
        // the writes under the prefix can delete at most as many base entries as there are writes: so the first
        // `limit` of the merged view lie among the first `limit + writes` base entries and the writes
        List<Map.Entry<byte[], byte[]>> writes = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> write : entryWrites.tailMap(from, true).entrySet()) {
            if (!startsWith(write.getKey(), from)) {
                break;
            }
            writes.add(write);
        }
        TreeMap<byte[], byte[]> byPath = new TreeMap<>(StateEntries.PATH_ORDER);
        long wanted = (long) limit + writes.size();
        for (Map.Entry<byte[], byte[]> e : base.entriesFrom(from).entrySet()) {
            if (byPath.size() >= wanted) {
                break;
            }
            byPath.put(e.getKey(), e.getValue());
        }
        for (Map.Entry<byte[], byte[]> write : writes) {
            if (write.getValue() == null) {
                byPath.remove(write.getKey());
            } else {
                byPath.put(write.getKey(), write.getValue());
            }
        }
        for (Map.Entry<byte[], byte[]> e : byPath.entrySet()) {
            if (merged.size() >= limit) {
                break;
            }
            merged.put(StateEntries.key(e.getKey()), e.getValue().clone());
        }
        return java.util.Collections.unmodifiableSortedMap(merged);
    }

    /**
     * Sets the entry {@code namespace/key} to {@code value} (1 to {@value StateEntries#MAX_VALUE_BYTES}
     * bytes). {@link Rejection.Reason#OVERSIZED} for a key or value over its limit or more writes than a
     * transaction may make.
     */
    public void put(String namespace, byte[] key, byte[] value) throws Rejection {
        byte[] path = StateEntries.path(namespace, key);
        StateEntries.checkValue(path, value);
        write(path, value.clone());
    }

    /** Removes the entry {@code namespace/key}, if present. */
    public void delete(String namespace, byte[] key) throws Rejection {
        byte[] path = StateEntries.path(namespace, key);
        write(path, null);
    }

    private void write(byte[] path, byte[] value) throws Rejection {
        if (!entryWrites.containsKey(path) && entryWrites.size() >= maxWrites) {
            throw new Rejection(Rejection.Reason.OVERSIZED, "more than " + maxWrites + " entry writes in one"
                    + " transaction or block rule");
        }
        entryWrites.put(path, value);
    }

    void advanceNonce(PublicKey key) {
        Account account = account(key);
        written.put(key, new Account(account.balance(), account.nonce() + 1));
    }

    Map<PublicKey, Account> written() {
        return written;
    }

    TreeMap<byte[], byte[]> entryWrites() {
        return entryWrites;
    }

    static boolean startsWith(byte[] path, byte[] prefix) {
        return path.length >= prefix.length && Arrays.equals(path, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static void requirePositive(long amount) {
        if (amount <= 0) {
            throw new IllegalArgumentException("an amount is 1..2^63-1, not " + amount);
        }
    }
}
