package org.commonweal.ledger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.commonweal.crypto.MerkleTree;
import org.commonweal.crypto.PublicKey;

/**
 * The chain's state: every account, ordered by key. Execution is deterministic — integer arithmetic
 * with overflow checks, a fixed order, no clock, no randomness — so every node that applies the same
 * transactions gets the same accounts and the same {@link #root()}.
 * <p>
 * A transaction is checked completely before anything changes: a rejected one leaves the state as it
 * was. Not thread-safe: one executor applies blocks in order.
 */
public final class LedgerState implements AccountView {

    /** Keys in unsigned lexicographic byte order: the state tree's leaf order. */
    static final Comparator<PublicKey> KEY_ORDER = (a, b) -> Arrays.compareUnsigned(a.bytes(), b.bytes());

    private final int chainId;
    private final TreeMap<PublicKey, Account> accounts = new TreeMap<>(KEY_ORDER);
    private PayloadTypes payloadTypes = PayloadTypes.standard();

    private LedgerState(int chainId) {
        this.chainId = chainId;
    }

    /** The state at genesis: these balances, every nonce 0. */
    public static LedgerState genesis(int chainId, Map<PublicKey, Long> balances) {
        LedgerState state = new LedgerState(chainId);
        long supply = 0; // summed exactly: the supply must fit 2^63 - 1, which keeps every later credit exact
        for (Map.Entry<PublicKey, Long> entry : balances.entrySet()) {
            long balance = entry.getValue();
            if (balance <= 0) {
                throw new IllegalArgumentException("genesis balance of " + entry.getKey() + " must be positive, not " + balance);
            }
            supply = Math.addExact(supply, balance);
            state.accounts.put(entry.getKey(), new Account(balance, 0));
        }
        return state;
    }

    @Override
    public int chainId() {
        return chainId;
    }

    /** The account of {@code key} ({@link Account#EMPTY} if it never received anything). */
    @Override
    public Account account(PublicKey key) {
        return accounts.getOrDefault(key, Account.EMPTY);
    }

    public int accountCount() {
        return accounts.size();
    }

    /** The sum of all balances; execution never changes it (fees move to the proposer). */
    public long totalSupply() {
        long total = 0;
        for (Account account : accounts.values()) {
            total = Math.addExact(total, account.balance());
        }
        return total;
    }

    /**
     * Checks {@code tx} against this state without changing it. {@code signatureChecked}: the caller
     * (a mempool, a signature batch) has verified the signature already; otherwise it is verified here.
     */
    public void check(Transaction tx, boolean signatureChecked) throws Rejection {
        plan(tx, null, signatureChecked);
    }

    /**
     * Applies {@code tx}, paying its fee to {@code proposer}. Checked completely first: a rejection
     * changes nothing.
     */
    public void apply(Transaction tx, PublicKey proposer, boolean signatureChecked) throws Rejection {
        accounts.putAll(plan(tx, proposer, signatureChecked).written());
    }

    /** Applies each transaction in order; returns, per transaction, null (applied) or its rejection. */
    public List<Rejection> applyAll(List<Transaction> txs, PublicKey proposer, boolean signaturesChecked) {
        List<Rejection> results = new ArrayList<>(txs.size());
        for (Transaction tx : txs) {
            try {
                apply(tx, proposer, signaturesChecked);
                results.add(null);
            } catch (Rejection rejection) {
                results.add(rejection);
            }
        }
        return results;
    }

    @Override
    public void checkApplies(Transaction tx) throws Rejection {
        check(tx, true);
    }

    /** The payload types this state executes (the standard ones unless set). */
    public PayloadTypes payloadTypes() {
        return payloadTypes;
    }

    /** Sets the payload types for the transactions applied from now on. */
    public void payloadTypes(PayloadTypes types) {
        this.payloadTypes = java.util.Objects.requireNonNull(types, "types");
    }

    /** The state root: RFC 6962 Merkle root over every account's leaf, in key order. */
    public byte[] root() {
        return MerkleTree.root(leaves());
    }

    /** A proof of {@code key}'s account (which must exist) against {@link #root()} and {@link #accountCount()}. */
    public AccountProof prove(PublicKey key) {
        Account account = accounts.get(key);
        if (account == null) {
            throw new IllegalArgumentException("no account " + key + " in the state; only existing accounts have proofs");
        }
        int index = accounts.headMap(key).size();
        return new AccountProof(key, account, MerkleTree.of(leaves()).proof(index));
    }

    private List<byte[]> leaves() {
        List<byte[]> leaves = new ArrayList<>(accounts.size());
        accounts.forEach((key, account) -> leaves.add(account.leaf(key)));
        return leaves;
    }

    /**
     * Every check, in a fixed order, and the changes {@code tx} would make (fee to {@code proposer}, if
     * given). Changes nothing.
     */
    private StateChanges plan(Transaction tx, PublicKey proposer, boolean signatureChecked) throws Rejection {
        if (tx.chainId() != chainId) {
            throw new Rejection(Rejection.Reason.WRONG_CHAIN, "signed for chain " + tx.chainId() + ", this is chain " + chainId);
        }
        if (!signatureChecked && !TransactionCodec.signatureValid(tx)) {
            throw new Rejection(Rejection.Reason.BAD_SIGNATURE, "not signed by " + tx.sender());
        }
        PayloadType type = payloadTypes.get(tx.payloadType());
        Account sender = account(tx.sender());
        if (tx.nonce() < sender.nonce()) {
            throw new Rejection(Rejection.Reason.NONCE_REPLAYED, "nonce " + tx.nonce() + " of " + tx.sender()
                    + " was used already; the next is " + sender.nonce());
        }
        if (tx.nonce() > sender.nonce()) {
            throw new Rejection(Rejection.Reason.NONCE_GAP, "nonce " + tx.nonce() + " of " + tx.sender()
                    + " skips ahead; the next is " + sender.nonce());
        }
        StateChanges changes = new StateChanges(this);
        changes.advanceNonce(tx.sender());
        if (tx.fee() > 0) {
            if (tx.fee() > sender.balance()) {
                throw new Rejection(Rejection.Reason.INSUFFICIENT_FUNDS, tx.sender() + " has " + sender.balance()
                        + ", the fee is " + tx.fee());
            }
            changes.debit(tx.sender(), tx.fee());
        }
        try {
            type.execute(tx, changes);
        } catch (Rejection rejection) {
            throw rejection;
        } catch (RuntimeException e) {
            // A payload type's bug must not split the chain on how it fails: same rejection everywhere.
            throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "payload type " + type.name() + " failed: " + e);
        }
        if (tx.fee() > 0 && proposer != null) {
            changes.credit(proposer, tx.fee());
        }
        return changes;
    }

    /** A copy, for speculative execution (a proposer trying a block, a mempool re-check). */
    public LedgerState copy() {
        LedgerState copy = new LedgerState(chainId);
        copy.accounts.putAll(accounts);
        copy.payloadTypes = payloadTypes;
        return copy;
    }

    /** The first byte of a {@link #snapshot()}. */
    public static final int SNAPSHOT_VERSION = 1;

    /**
     * Every account, in one canonical encoding: u8 version, u32 chain id, u32 account count, then per
     * account in key order its 48-byte leaf ({@link Account#leaf}). The same state gives the same bytes
     * on every node.
     */
    public byte[] snapshot() {
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(9 + 48 * accounts.size());
        out.put((byte) SNAPSHOT_VERSION).putInt(chainId).putInt(accounts.size());
        accounts.forEach((key, account) -> out.put(account.leaf(key)));
        return out.array();
    }

    /** The state a {@link #snapshot()} holds; anything but its exact encoding is {@link Rejection.Reason#MALFORMED}. */
    public static LedgerState restore(byte[] snapshot, PayloadTypes types) throws Rejection {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(snapshot);
        if (in.remaining() < 9 || (in.get() & 0xFF) != SNAPSHOT_VERSION) {
            throw new Rejection(Rejection.Reason.MALFORMED, "not a version " + SNAPSHOT_VERSION + " state snapshot");
        }
        LedgerState state = new LedgerState(in.getInt());
        state.payloadTypes = types;
        long count = in.getInt() & 0xFFFFFFFFL;
        if (in.remaining() != count * 48) {
            throw new Rejection(Rejection.Reason.MALFORMED, "a snapshot of " + count + " accounts has " + count * 48
                    + " bytes of accounts, this one " + in.remaining());
        }
        long supply = 0;
        PublicKey previous = null;
        for (long i = 0; i < count; i++) {
            byte[] key = new byte[32];
            in.get(key);
            long balance = in.getLong();
            long nonce = in.getLong();
            PublicKey publicKey = PublicKey.of(key);
            if (previous != null && KEY_ORDER.compare(previous, publicKey) >= 0) {
                throw new Rejection(Rejection.Reason.MALFORMED, "snapshot account " + i + " is out of key order");
            }
            if (balance < 0 || nonce < 0 || balance > Long.MAX_VALUE - supply) {
                throw new Rejection(Rejection.Reason.MALFORMED, "snapshot account " + i + " has a balance or nonce out"
                        + " of range, or the supply exceeds 2^63 - 1");
            }
            supply += balance;
            state.accounts.put(publicKey, new Account(balance, nonce));
            previous = publicKey;
        }
        return state;
    }

    /** The accounts, in key order (read-only). */
    public Map<PublicKey, Account> accounts() {
        return java.util.Collections.unmodifiableMap(accounts);
    }
}
