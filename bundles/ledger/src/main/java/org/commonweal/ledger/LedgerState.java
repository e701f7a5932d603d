package org.commonweal.ledger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

import org.commonweal.crypto.MerkleTree;
import org.commonweal.crypto.PublicKey;

/**
 * The chain's state: every account, ordered by key, and the namespaced entries payload types and block
 * rules keep (see {@link StateView}), ordered by path. Execution is deterministic — integer arithmetic
 * with overflow checks, a fixed order, no clock, no randomness — so every node that applies the same
 * transactions gets the same accounts and the same {@link #root()}.
 * <p>
 * A transaction is checked completely before anything changes: a rejected one leaves the state as it
 * was. Not thread-safe: one executor applies blocks in order.
 */
public final class LedgerState implements AccountView, StateView {

    /** Keys in unsigned lexicographic byte order: the state tree's leaf order. */
    static final Comparator<PublicKey> KEY_ORDER = Comparator.naturalOrder();

    private final int chainId;
    private final TreeMap<PublicKey, Account> accounts = new TreeMap<>(KEY_ORDER);
    private final TreeMap<byte[], byte[]> entries = new TreeMap<>(StateEntries.PATH_ORDER);
    private PayloadTypes payloadTypes = PayloadTypes.standard();
    /** The block the next transactions run in (or, between blocks, the last one executed). */
    private BlockContext block;

    private LedgerState(int chainId) {
        this.chainId = chainId;
        this.block = new BlockContext(chainId, 0, 0, null, Block.NO_PARENT);
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

    /** How many entries the state holds. */
    public int entryCount() {
        return entries.size();
    }

    @Override
    public Optional<byte[]> entry(String namespace, byte[] key) {
        try {
            return entryAt(StateEntries.path(namespace, key)).map(byte[]::clone);
        } catch (Rejection oversized) {
            return Optional.empty();
        }
    }

    @Override
    public SortedMap<byte[], byte[]> entries(String namespace, byte[] prefix, int limit) {
        SortedMap<byte[], byte[]> result = new TreeMap<>(StateEntries.PATH_ORDER);
        try {
            for (Map.Entry<byte[], byte[]> e : entriesFrom(StateEntries.path(namespace, prefix)).entrySet()) {
                if (result.size() >= limit) {
                    break;
                }
                result.put(StateEntries.key(e.getKey()), e.getValue().clone());
            }
        } catch (Rejection oversized) {
            // no entry has a key over the limit
        }
        return Collections.unmodifiableSortedMap(result);
    }

    Optional<byte[]> entryAt(byte[] path) {
        return Optional.ofNullable(entries.get(path));
    }

    /** The entries whose paths start with {@code prefix}, in order (a view: do not keep it across changes). */
    SortedMap<byte[], byte[]> entriesFrom(byte[] prefix) {
        byte[] end = successor(prefix);
        return end == null ? entries.tailMap(prefix, true) : entries.subMap(prefix, true, end, false);
    }

    /** The smallest byte string greater than every string starting with {@code prefix}, or null if none. */
    private static byte[] successor(byte[] prefix) {
        byte[] end = prefix.clone();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xFF) {
                end[i]++;
                return Arrays.copyOf(end, i + 1);
            }
        }
        return null;
    }

    /** The block the transactions applied now run in (between blocks: the last one executed). */
    public BlockContext block() {
        return block;
    }

    /** Starts executing {@code block}: transactions applied from now on see it. */
    public void beginBlock(BlockContext block) {
        if (block.chainId() != chainId) {
            throw new IllegalArgumentException("a block of chain " + block.chainId() + " on a state of chain " + chainId);
        }
        this.block = block;
    }

    /**
     * Runs the block rules after the block's transactions: each rule's {@link BlockRule#endBlock}, in name
     * order, each applied before the next runs, then every rule's invariants. A rejection names the rule;
     * the state may then be partly changed, so run this on a copy (as {@link BlockExecution} does).
     */
    public void endBlock() throws Rejection {
        for (BlockRule rule : payloadTypes.blockRules()) {
            StateChanges changes = new StateChanges(this, block, StateEntries.MAX_WRITES_PER_BLOCK_RULE, false);
            try {
                rule.endBlock(block, changes);
            } catch (Rejection rejection) {
                throw new Rejection(rejection.reason(), "block rule " + rule.name() + ": " + rejection.getMessage());
            } catch (RuntimeException e) {
                throw new Rejection(Rejection.Reason.INVALID_BLOCK, "block rule " + rule.name() + " failed: " + e);
            }
            applyChanges(changes);
        }
        for (BlockRule rule : payloadTypes.blockRules()) {
            try {
                rule.checkInvariants(block, this);
            } catch (Rejection rejection) {
                throw new Rejection(rejection.reason(), "block rule " + rule.name() + ": " + rejection.getMessage());
            } catch (RuntimeException e) {
                throw new Rejection(Rejection.Reason.INVALID_BLOCK, "block rule " + rule.name() + " failed: " + e);
            }
        }
    }

    private void applyChanges(StateChanges changes) throws Rejection {
        int added = 0;
        for (Map.Entry<byte[], byte[]> write : changes.entryWrites().entrySet()) {
            if (write.getValue() != null && !entries.containsKey(write.getKey())) {
                added++;
            }
        }
        if (added > 0 && entries.size() > StateEntries.MAX_ENTRIES - added) {
            throw new Rejection(Rejection.Reason.OVERSIZED, "the state holds at most " + StateEntries.MAX_ENTRIES
                    + " entries");
        }
        accounts.putAll(changes.written());
        for (Map.Entry<byte[], byte[]> write : changes.entryWrites().entrySet()) {
            if (write.getValue() == null) {
                entries.remove(write.getKey());
            } else {
                entries.put(write.getKey(), write.getValue());
            }
        }
    }

    /**
     * The sum of all balances. Transfers and fees conserve it; only a payload type or block rule that
     * credits without debiting (minting) raises it, and never past 2^63 - 1.
     */
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
        applyChanges(plan(tx, proposer, signatureChecked));
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

    /**
     * The state root: the RFC 6962 Merkle root over every account's leaf, in key order, bound to the root
     * over every entry's leaf, in path order, as {@link StateRoots} says.
     */
    public byte[] root() {
        return roots().stateRoot();
    }

    /** The roots of the accounts and entries trees. */
    public StateRoots roots() {
        return new StateRoots(MerkleTree.root(leaves()), entries.size(), MerkleTree.root(entryLeaves()));
    }

    /** A proof of the entry {@code namespace/key} against {@link #root()}; empty if there is no such entry. */
    public Optional<EntryProof> proveEntry(String namespace, byte[] key) {
        byte[] path;
        try {
            path = StateEntries.path(namespace, key);
        } catch (Rejection oversized) {
            return Optional.empty();
        }
        byte[] value = entries.get(path);
        if (value == null) {
            return Optional.empty();
        }
        int index = entries.headMap(path).size();
        List<byte[]> leaves = entryLeaves();
        return Optional.of(new EntryProof(namespace, key, value, MerkleTree.of(leaves).proof(index),
                new StateRoots(MerkleTree.root(leaves()), entries.size(), MerkleTree.root(leaves))));
    }

    private List<byte[]> entryLeaves() {
        List<byte[]> leaves = new ArrayList<>(entries.size());
        entries.forEach((path, value) -> leaves.add(StateEntries.leaf(path, value)));
        return leaves;
    }

    /** A proof of {@code key}'s account (which must exist) against {@link #root()} and {@link #accountCount()}. */
    public AccountProof prove(PublicKey key) {
        Account account = accounts.get(key);
        if (account == null) {
            throw new IllegalArgumentException("no account " + key + " in the state; only existing accounts have proofs");
        }
        int index = accounts.headMap(key).size();
        List<byte[]> leaves = leaves();
        if (entries.isEmpty()) {
            return new AccountProof(key, account, MerkleTree.of(leaves).proof(index));
        }
        return new AccountProof(key, account, MerkleTree.of(leaves).proof(index),
                new StateRoots(MerkleTree.root(leaves), entries.size(), MerkleTree.root(entryLeaves())));
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
        StateChanges changes = new StateChanges(this, block, StateEntries.MAX_WRITES_PER_TRANSACTION, proposer == null);
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
        copy.entries.putAll(entries);
        copy.payloadTypes = payloadTypes;
        copy.block = block;
        return copy;
    }

    /** The first byte of a {@link #snapshot()} of a state without entries (readable by every version). */
    public static final int SNAPSHOT_VERSION = 1;
    /** The first byte of a {@link #snapshot()} of a state with entries. */
    public static final int SNAPSHOT_VERSION_ENTRIES = 2;

    /**
     * Every account and entry, in one canonical encoding: u8 version, u32 chain id, u32 account count, then
     * per account in key order its 48-byte leaf ({@link Account#leaf}); version 2 (a state with entries)
     * goes on with u32 entry count and per entry in path order its leaf ({@link StateEntries#leaf}). The
     * same state gives the same bytes on every node.
     */
    public byte[] snapshot() {
        List<byte[]> entryLeaves = entryLeaves();
        int entryBytes = entries.isEmpty() ? 0 : 4;
        for (byte[] leaf : entryLeaves) {
            entryBytes += leaf.length;
        }
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(9 + 48 * accounts.size() + entryBytes);
        out.put((byte) (entries.isEmpty() ? SNAPSHOT_VERSION : SNAPSHOT_VERSION_ENTRIES)).putInt(chainId)
                .putInt(accounts.size());
        accounts.forEach((key, account) -> out.put(account.leaf(key)));
        if (!entries.isEmpty()) {
            out.putInt(entries.size());
            entryLeaves.forEach(out::put);
        }
        return out.array();
    }

    /** The state a {@link #snapshot()} holds; anything but its exact encoding is {@link Rejection.Reason#MALFORMED}. */
    public static LedgerState restore(byte[] snapshot, PayloadTypes types) throws Rejection {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(snapshot);
        int version = in.remaining() < 9 ? -1 : in.get() & 0xFF;
        if (version != SNAPSHOT_VERSION && version != SNAPSHOT_VERSION_ENTRIES) {
            throw new Rejection(Rejection.Reason.MALFORMED, "not a version " + SNAPSHOT_VERSION + " or "
                    + SNAPSHOT_VERSION_ENTRIES + " state snapshot");
        }
        LedgerState state = new LedgerState(in.getInt());
        state.payloadTypes = types;
        long count = in.getInt() & 0xFFFFFFFFL;
        if (version == SNAPSHOT_VERSION ? in.remaining() != count * 48 : in.remaining() < count * 48) {
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
        if (version == SNAPSHOT_VERSION_ENTRIES) {
            restoreEntries(in, state);
        }
        return state;
    }

    private static void restoreEntries(java.nio.ByteBuffer in, LedgerState state) throws Rejection {
        try {
            long count = in.getInt() & 0xFFFFFFFFL;
            if (count == 0 || count > StateEntries.MAX_ENTRIES) {
                throw new Rejection(Rejection.Reason.MALFORMED, "a version 2 snapshot holds 1.." + StateEntries.MAX_ENTRIES
                        + " entries, not " + count);
            }
            byte[] previous = null;
            for (long i = 0; i < count; i++) {
                int nsLength = in.get() & 0xFF;
                byte[] ns = new byte[nsLength];
                in.get(ns);
                int keyLength = in.getShort() & 0xFFFF;
                if (keyLength > StateEntries.MAX_KEY_BYTES) {
                    throw new Rejection(Rejection.Reason.MALFORMED, "snapshot entry " + i + " has a key over the limit");
                }
                byte[] key = new byte[keyLength];
                in.get(key);
                long valueLength = in.getInt() & 0xFFFFFFFFL;
                if (valueLength < 1 || valueLength > StateEntries.MAX_VALUE_BYTES) {
                    throw new Rejection(Rejection.Reason.MALFORMED, "snapshot entry " + i + " has a value of "
                            + valueLength + " bytes");
                }
                byte[] value = new byte[(int) valueLength];
                in.get(value);
                String namespace = new String(ns, java.nio.charset.StandardCharsets.US_ASCII);
                byte[] path;
                try {
                    path = StateEntries.path(namespace, key);
                } catch (IllegalArgumentException e) {
                    throw new Rejection(Rejection.Reason.MALFORMED, "snapshot entry " + i + ": " + e.getMessage());
                }
                if (previous != null && StateEntries.PATH_ORDER.compare(previous, path) >= 0) {
                    throw new Rejection(Rejection.Reason.MALFORMED, "snapshot entry " + i + " is out of path order");
                }
                state.entries.put(path, value);
                previous = path;
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new Rejection(Rejection.Reason.MALFORMED, "the snapshot ends inside its entries");
        }
        if (in.hasRemaining()) {
            throw new Rejection(Rejection.Reason.MALFORMED, in.remaining() + " bytes after the snapshot's last entry");
        }
    }

    /** The accounts, in key order (read-only). */
    public Map<PublicKey, Account> accounts() {
        return java.util.Collections.unmodifiableMap(accounts);
    }
}
