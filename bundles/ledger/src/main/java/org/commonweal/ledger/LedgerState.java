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
public final class LedgerState {

    /** Keys in unsigned lexicographic byte order: the state tree's leaf order. */
    static final Comparator<PublicKey> KEY_ORDER = (a, b) -> Arrays.compareUnsigned(a.bytes(), b.bytes());

    private final int chainId;
    private final TreeMap<PublicKey, Account> accounts = new TreeMap<>(KEY_ORDER);

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

    public int chainId() {
        return chainId;
    }

    /** The account of {@code key} ({@link Account#EMPTY} if it never received anything). */
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
        plan(tx, signatureChecked);
    }

    /**
     * Applies {@code tx}, paying its fee to {@code proposer}. Checked completely first: a rejection
     * changes nothing.
     */
    public void apply(Transaction tx, PublicKey proposer, boolean signatureChecked) throws Rejection {
        Transfer transfer = plan(tx, signatureChecked);
        Account sender = account(tx.sender());
        long debit = tx.fee() + transfer.amount(); // no overflow: plan() checked it
        accounts.put(tx.sender(), new Account(sender.balance() - debit, sender.nonce() + 1));
        credit(transfer.recipient(), transfer.amount());
        if (tx.fee() > 0) {
            credit(proposer, tx.fee());
        }
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

    private void credit(PublicKey key, long amount) {
        Account account = account(key);
        accounts.put(key, new Account(account.balance() + amount, account.nonce()));
    }

    /** Every check, in a fixed order; returns the decoded payload. Changes nothing. */
    private Transfer plan(Transaction tx, boolean signatureChecked) throws Rejection {
        if (tx.chainId() != chainId) {
            throw new Rejection(Rejection.Reason.WRONG_CHAIN, "signed for chain " + tx.chainId() + ", this is chain " + chainId);
        }
        if (!signatureChecked && !TransactionCodec.signatureValid(tx)) {
            throw new Rejection(Rejection.Reason.BAD_SIGNATURE, "not signed by " + tx.sender());
        }
        if (tx.payloadType() != Transfer.TYPE) {
            throw new Rejection(Rejection.Reason.UNKNOWN_PAYLOAD_TYPE, "payload type " + tx.payloadType()
                    + " is not known to this ledger (known: " + Transfer.TYPE + " transfer)");
        }
        Transfer transfer = Transfer.decode(tx.payload());
        if (transfer.recipient().equals(tx.sender())) {
            throw new Rejection(Rejection.Reason.INVALID_PAYLOAD, "a transfer to the sender itself");
        }
        Account sender = account(tx.sender());
        if (tx.nonce() < sender.nonce()) {
            throw new Rejection(Rejection.Reason.NONCE_REPLAYED, "nonce " + tx.nonce() + " of " + tx.sender()
                    + " was used already; the next is " + sender.nonce());
        }
        if (tx.nonce() > sender.nonce()) {
            throw new Rejection(Rejection.Reason.NONCE_GAP, "nonce " + tx.nonce() + " of " + tx.sender()
                    + " skips ahead; the next is " + sender.nonce());
        }
        long debit;
        try {
            debit = Math.addExact(tx.fee(), transfer.amount());
        } catch (ArithmeticException e) {
            throw new Rejection(Rejection.Reason.OVERFLOW, "fee " + tx.fee() + " plus amount " + transfer.amount()
                    + " exceeds 2^63 - 1");
        }
        if (debit > sender.balance()) {
            throw new Rejection(Rejection.Reason.INSUFFICIENT_FUNDS, tx.sender() + " has " + sender.balance() + ", the"
                    + " transfer needs " + debit + " (amount " + transfer.amount() + " + fee " + tx.fee() + ")");
        }
        // Credits cannot overflow: genesis caps the supply at 2^63 - 1 and execution conserves it, so no
        // balance can exceed it. Checked anyway for the recipient, the one credit a payload chooses.
        if (account(transfer.recipient()).balance() > Long.MAX_VALUE - transfer.amount()) {
            throw new Rejection(Rejection.Reason.OVERFLOW, "the balance of " + transfer.recipient() + " would exceed 2^63 - 1");
        }
        return transfer;
    }

    /** A copy, for speculative execution (a proposer trying a block, a mempool re-check). */
    public LedgerState copy() {
        LedgerState copy = new LedgerState(chainId);
        copy.accounts.putAll(accounts);
        return copy;
    }

    /** The accounts, in key order (read-only). */
    public Map<PublicKey, Account> accounts() {
        return java.util.Collections.unmodifiableMap(accounts);
    }
}
