package org.commonweal.ledger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;

/**
 * Transactions waiting for a block. Admission checks what can be checked before execution — chain,
 * signature (verified in batches across cores), nonce not used and not too far ahead, the fee
 * affordable; for the sender's next nonce, that it applies in full — and refuses duplicates. Limits on count, bytes and per-sender depth keep memory
 * bounded: when full, a higher fee evicts the lowest-fee transaction, otherwise the submitter is
 * told to back off ({@link Outcome#FULL}); an evicted transaction in the middle of a sender's nonces
 * holds the later ones back until they expire. Selection for a block is deterministic: highest fee
 * first among each sender's next transaction, ties by transaction id, each sender in nonce order.
 * Thread-safe (one lock; admission's signature checks run before taking it).
 */
public final class Mempool {

    /** Bounds on what the pool holds. */
    public record Limits(int maxTransactions, long maxBytes, int maxPerSender, long maxAgeMillis) {
        public static Limits defaults() {
            return new Limits(200_000, 256L << 20, 64, 10 * 60_000L);
        }
    }

    /** What became of a submitted transaction. */
    public enum Outcome {
        ACCEPTED, REPLACED_LOWER_FEE, DUPLICATE, REJECTED, FULL
    }

    /** The outcome, and for {@link Outcome#REJECTED} the reason. */
    public record Admission(Outcome outcome, Rejection rejection) {
        static final Admission ACCEPTED = new Admission(Outcome.ACCEPTED, null);
    }

    private record Entry(Transaction tx, byte[] id, int bytes, long admittedMillis) {
    }

    private static final Comparator<Entry> PRIORITY = Comparator.comparingLong((Entry e) -> e.tx().fee()).reversed()
            .thenComparing(Entry::id, Arrays::compareUnsigned);

    private final Limits limits;
    private final SignatureBatch signatures;
    private final Map<PublicKey, TreeMap<Long, Entry>> bySender = new HashMap<>();
    /** By transaction id (a ByteBuffer compares by content). */
    private final Map<java.nio.ByteBuffer, Entry> byId = new HashMap<>();
    /** Highest priority first: the last is the first to evict. */
    private final java.util.TreeSet<Entry> byPriority = new java.util.TreeSet<>(PRIORITY);
    private long bytes;

    public Mempool(Limits limits, SignatureBatch signatures) {
        this.limits = limits;
        this.signatures = signatures;
    }

    /** Admits each transaction against {@code state} (the state the next block builds on). */
    public List<Admission> submit(List<Transaction> txs, AccountView state, long nowMillis) {
        List<SignatureBatch.Item> items = new ArrayList<>(txs.size());
        for (Transaction tx : txs) {
            items.add(new SignatureBatch.Item(tx.sender(), TransactionCodec.signingBytes(tx), tx.signature()));
        }
        BitSet badSignatures = signatures.invalid(items);
        List<Admission> admissions = new ArrayList<>(txs.size());
        synchronized (this) {
            for (int i = 0; i < txs.size(); i++) {
                admissions.add(badSignatures.get(i)
                        ? rejected(Rejection.Reason.BAD_SIGNATURE, "not signed by " + txs.get(i).sender())
                        : admit(txs.get(i), state, nowMillis));
            }
        }
        return admissions;
    }

    private Admission admit(Transaction tx, AccountView state, long now) {
        if (tx.chainId() != state.chainId()) {
            return rejected(Rejection.Reason.WRONG_CHAIN, "signed for chain " + tx.chainId() + ", this is chain " + state.chainId());
        }
        byte[] id = tx.id();
        java.nio.ByteBuffer key = java.nio.ByteBuffer.wrap(id);
        if (byId.containsKey(key)) {
            return new Admission(Outcome.DUPLICATE, null);
        }
        Account account = state.account(tx.sender());
        if (tx.nonce() < account.nonce()) {
            return rejected(Rejection.Reason.NONCE_REPLAYED, "nonce " + tx.nonce() + " was used; the next is " + account.nonce());
        }
        if (tx.nonce() >= account.nonce() + limits.maxPerSender()) {
            return rejected(Rejection.Reason.NONCE_GAP, "nonce " + tx.nonce() + " is more than " + limits.maxPerSender()
                    + " ahead of the next, " + account.nonce());
        }
        if (tx.fee() > account.balance()) {
            return rejected(Rejection.Reason.INSUFFICIENT_FUNDS, "the fee " + tx.fee() + " exceeds the balance "
                    + account.balance());
        }
        if (tx.nonce() == account.nonce()) {
            try {
                state.checkApplies(tx); // the sender's next transaction: it must apply now
            } catch (Rejection rejection) {
                return new Admission(Outcome.REJECTED, rejection);
            }
        }
        Entry entry = new Entry(tx, id, TransactionCodec.encodedLength(tx), now);
        TreeMap<Long, Entry> queue = bySender.get(tx.sender());
        Entry same = queue == null ? null : queue.get(tx.nonce());
        Outcome outcome = Outcome.ACCEPTED;
        if (same != null) {
            if (tx.fee() <= same.tx().fee()) {
                return new Admission(Outcome.DUPLICATE, null); // same sender and nonce: only a higher fee replaces
            }
            remove(same);
            outcome = Outcome.REPLACED_LOWER_FEE;
        }
        while (byId.size() >= limits.maxTransactions() || bytes + entry.bytes() > limits.maxBytes()) {
            Entry lowest = byPriority.last();
            if (PRIORITY.compare(lowest, entry) <= 0) {
                return new Admission(Outcome.FULL, null);
            }
            remove(lowest);
        }
        bySender.computeIfAbsent(tx.sender(), k -> new TreeMap<>()).put(tx.nonce(), entry);
        byId.put(key, entry);
        byPriority.add(entry);
        bytes += entry.bytes();
        return outcome == Outcome.ACCEPTED ? Admission.ACCEPTED : new Admission(outcome, null);
    }

    /**
     * Up to {@code max} transactions for the next block on {@code state}, by fee, each sender's in
     * nonce order starting at its next nonce (a sender with a gap contributes up to the gap).
     */
    public List<Transaction> select(AccountView state, int max) {
        return select(state, max, sender -> 0);
    }

    /**
     * As {@link #select(AccountView, int)}, but each sender's transactions start at {@code firstNonce} if that is
     * above the sender's next nonce on {@code state}: an engine that spreads transactions in batches passes the
     * nonces it has batched already, so each call costs in proportion to the senders and to {@code max}, not to
     * what waits for a block.
     */
    public synchronized List<Transaction> select(AccountView state, int max,
            java.util.function.ToLongFunction<PublicKey> firstNonce) {
        PriorityQueue<Entry> ready = new PriorityQueue<>(PRIORITY);
        Map<PublicKey, Long> next = new HashMap<>();
        bySender.forEach((sender, queue) -> {
            long nonce = Math.max(state.account(sender).nonce(), firstNonce.applyAsLong(sender));
            Entry first = queue.get(nonce);
            if (first != null) {
                ready.add(first);
                next.put(sender, nonce + 1);
            }
        });
        List<Transaction> selected = new ArrayList<>();
        while (!ready.isEmpty() && selected.size() < max) {
            Entry entry = ready.poll();
            selected.add(entry.tx());
            PublicKey sender = entry.tx().sender();
            long nonce = next.get(sender);
            Entry following = bySender.get(sender).get(nonce);
            if (following != null) {
                ready.add(following);
                next.put(sender, nonce + 1);
            }
        }
        return selected;
    }

    /** Whether some transaction applies next on {@code state} (stops at the first it finds). */
    public synchronized boolean hasReady(AccountView state) {
        for (Map.Entry<PublicKey, TreeMap<Long, Entry>> sender : bySender.entrySet()) {
            if (sender.getValue().containsKey(state.account(sender.getKey()).nonce())) {
                return true;
            }
        }
        return false;
    }

    /**
     * After a block: drops the transactions of {@code senders} whose nonces {@code state} has used (cost in
     * proportion to the block, not to the pool), and, at most once a second, every expired transaction.
     */
    public synchronized void committed(java.util.Collection<PublicKey> senders, AccountView state, long nowMillis) {
        for (PublicKey sender : senders) {
            TreeMap<Long, Entry> queue = bySender.get(sender);
            if (queue == null) {
                continue;
            }
            long next = state.account(sender).nonce();
            for (Entry used : List.copyOf(queue.headMap(next).values())) {
                remove(used);
            }
        }
        if (nowMillis - lastExpiry >= 1_000) {
            lastExpiry = nowMillis;
            for (Entry entry : List.copyOf(byId.values())) {
                if (nowMillis - entry.admittedMillis() > limits.maxAgeMillis()) {
                    remove(entry);
                }
            }
        }
    }

    private long lastExpiry;

    /** Drops every transaction whose nonce {@code state} has used, and every expired one (a full scan). */
    public synchronized void prune(AccountView state, long nowMillis) {
        for (Entry entry : List.copyOf(byId.values())) {
            boolean used = entry.tx().nonce() < state.account(entry.tx().sender()).nonce();
            boolean expired = nowMillis - entry.admittedMillis() > limits.maxAgeMillis();
            if (used || expired) {
                remove(entry);
            }
        }
    }

    /** The transaction with this id if it waits here, else null. */
    public synchronized Transaction get(byte[] id) {
        Entry entry = byId.get(java.nio.ByteBuffer.wrap(id));
        return entry == null ? null : entry.tx();
    }

    public synchronized int size() {
        return byId.size();
    }

    public synchronized long bytes() {
        return bytes;
    }

    private void remove(Entry entry) {
        byId.remove(java.nio.ByteBuffer.wrap(entry.id()));
        byPriority.remove(entry);
        bytes -= entry.bytes();
        TreeMap<Long, Entry> queue = bySender.get(entry.tx().sender());
        queue.remove(entry.tx().nonce());
        if (queue.isEmpty()) {
            bySender.remove(entry.tx().sender());
        }
    }

    private static Admission rejected(Rejection.Reason reason, String message) {
        return new Admission(Outcome.REJECTED, new Rejection(reason, message));
    }
}
