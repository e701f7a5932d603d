package org.commonweal.ledger;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;

/**
 * The account ledger as a {@link StateMachine}: {@link LedgerState} and {@link BlockExecution} with a
 * committed head and a tree of pending blocks. A block this ledger proposed and then executes is not
 * executed twice.
 */
public final class AccountLedger implements StateMachine {

    private final SignatureBatch signatures;
    /** Replaced, never changed, on commit: readers on other threads see one whole block's state. */
    private volatile Committed committed;
    /** Executed blocks not yet committed, by header hash: each a child of the head or of another. */
    private final Map<ByteBuffer, BlockExecution.Result> pending = new HashMap<>();
    /** This ledger's own proposals, by header hash: executing one again reuses its result. */
    private final Map<ByteBuffer, BlockExecution.Result> proposed = new HashMap<>();

    private record Committed(LedgerState state, BlockHeader head) {
    }

    private AccountLedger(LedgerState committed, BlockHeader head, SignatureBatch signatures) {
        this.committed = new Committed(committed, head);
        this.signatures = signatures;
    }

    /**
     * A ledger at {@code genesis} (height 0) with these balances. {@code signatures} verifies blocks handed
     * over unchecked, in parallel.
     */
    public static AccountLedger genesis(Block genesis, Map<PublicKey, Long> balances, PayloadTypes types,
            SignatureBatch signatures) {
        LedgerState state = LedgerState.genesis(genesis.header().chainId(), balances);
        state.payloadTypes(types);
        BlockHeader header = genesis.header();
        state.beginBlock(BlockContext.of(header));
        if (header.height() != 0 || !Arrays.equals(header.stateRoot(), state.root())
                || header.accountCount() != state.accountCount()) {
            throw new IllegalArgumentException("the genesis block (height " + header.height() + ") does not carry the"
                    + " state of these genesis balances");
        }
        return new AccountLedger(state, header, signatures);
    }

    /** The ledger a {@link #snapshot()} holds, checked against the state root of the head it carries. */
    public static AccountLedger restore(byte[] snapshot, PayloadTypes types, SignatureBatch signatures) throws Rejection {
        ByteBuffer in = ByteBuffer.wrap(snapshot);
        BlockHeader head = BlockHeader.decode(in);
        byte[] rest = new byte[in.remaining()];
        in.get(rest);
        LedgerState state = LedgerState.restore(rest, types);
        if (state.chainId() != head.chainId() || state.accountCount() != head.accountCount()
                || !Arrays.equals(state.root(), head.stateRoot())) {
            throw new Rejection(Rejection.Reason.MALFORMED, "the snapshot's accounts are not the state of its block "
                    + head.height() + " (root or count differ)");
        }
        state.beginBlock(BlockContext.of(head));
        return new AccountLedger(state, head, signatures);
    }

    @Override
    public int chainId() {
        return committed.state().chainId();
    }

    @Override
    public BlockHeader head() {
        return committed.head();
    }

    @Override
    public void check(Transaction tx) throws Rejection {
        committed.state().check(tx, false);
    }

    @Override
    public void checkApplies(Transaction tx) throws Rejection {
        committed.state().checkApplies(tx);
    }

    @Override
    public Block propose(BlockHeader parent, List<Transaction> candidates, PublicKey proposer, long timeMillis,
            int maxTransactions) {
        BlockExecution.Result result = BlockExecution.propose(stateAfterOrThrow(parent), parent, candidates, proposer,
                timeMillis, maxTransactions, true);
        proposed.put(ByteBuffer.wrap(result.block().header().hash()), result);
        return result.block();
    }

    @Override
    public void execute(Block block, boolean signaturesChecked) throws Rejection {
        ByteBuffer key = ByteBuffer.wrap(block.header().hash());
        if (pending.containsKey(key)) {
            return; // executed already (a header hash names one block: it commits to the transactions)
        }
        BlockExecution.Result own = proposed.remove(key);
        if (own != null && own.block().transactions().equals(block.transactions())) {
            pending.put(key, own); // our own proposal: executed when it was made
            return;
        }
        BlockHeader parent = parentOf(block.header());
        if (!signaturesChecked) {
            verifySignatures(block);
        }
        LedgerState state = BlockExecution.validate(stateAfterOrThrow(parent), parent, block, true);
        pending.put(key, new BlockExecution.Result(block, state));
    }

    private BlockHeader parentOf(BlockHeader header) throws Rejection {
        Committed now = committed;
        if (Arrays.equals(header.previousHash(), now.head().hash())) {
            return now.head();
        }
        BlockExecution.Result parent = pending.get(ByteBuffer.wrap(header.previousHash()));
        if (parent == null) {
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "block " + header.height() + " extends neither the head ("
                    + now.head().height() + ") nor a pending block; execute its parent first");
        }
        return parent.block().header();
    }

    @Override
    public Optional<AccountView> stateAfter(BlockHeader block) {
        return Optional.ofNullable(stateOf(block));
    }

    /** The state after the head or a pending block, else null. */
    private LedgerState stateOf(BlockHeader block) {
        Committed now = committed;
        if (block.equals(now.head())) {
            return now.state();
        }
        BlockExecution.Result result = pending.get(ByteBuffer.wrap(block.hash()));
        return result == null ? null : result.state();
    }

    private LedgerState stateAfterOrThrow(BlockHeader block) {
        LedgerState state = stateOf(block);
        if (state == null) {
            throw new IllegalArgumentException("block " + block.height() + " is neither the head (" + committed.head().height()
                    + ") nor pending: nothing can be proposed on it");
        }
        return state;
    }

    private void verifySignatures(Block block) throws Rejection {
        List<SignatureBatch.Item> items = new ArrayList<>(block.transactions().size());
        for (Transaction tx : block.transactions()) {
            items.add(new SignatureBatch.Item(tx.sender(), TransactionCodec.signingBytes(tx), tx.signature()));
        }
        BitSet invalid = signatures.invalid(items);
        if (!invalid.isEmpty()) {
            int i = invalid.nextSetBit(0);
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "transaction " + i + " of block "
                    + block.header().height() + " is not signed by its sender " + block.transactions().get(i).sender());
        }
    }

    @Override
    public BlockHeader commit(byte[] blockHash) {
        BlockExecution.Result result = pending.get(ByteBuffer.wrap(blockHash));
        if (result == null || !Arrays.equals(result.block().header().previousHash(), committed.head().hash())) {
            throw new IllegalStateException("block " + java.util.HexFormat.of().formatHex(blockHash) + " is not a pending"
                    + " child of the head (" + committed.head().height() + "): execute it before committing");
        }
        committed = new Committed(result.state(), result.block().header());
        prune();
        return committed.head();
    }

    /** Keeps only the pending blocks (and own proposals) that descend from the head. */
    private void prune() {
        long height = committed.head().height();
        java.util.Set<ByteBuffer> alive = new java.util.HashSet<>();
        alive.add(ByteBuffer.wrap(committed.head().hash()));
        List<BlockExecution.Result> byHeight = new ArrayList<>(pending.values());
        byHeight.sort(java.util.Comparator.comparingLong(r -> r.block().header().height()));
        for (BlockExecution.Result r : byHeight) {
            ByteBuffer key = ByteBuffer.wrap(r.block().header().hash());
            if (r.block().header().height() > height && alive.contains(ByteBuffer.wrap(r.block().header().previousHash()))) {
                alive.add(key);
            } else {
                pending.remove(key);
            }
        }
        proposed.values().removeIf(r -> !alive.contains(ByteBuffer.wrap(r.block().header().previousHash())));
    }

    @Override
    public void discard() {
        pending.clear();
        proposed.clear();
    }

    @Override
    public Account account(PublicKey key) {
        return committed.state().account(key);
    }

    @Override
    public StateView committedState() {
        return committed.state(); // replaced, never changed, on commit
    }

    @Override
    public Optional<ProvenEntry> proveEntry(String namespace, byte[] key) {
        Committed now = committed;
        return now.state().proveEntry(namespace, key).map(proof -> new ProvenEntry(now.head(), proof));
    }

    @Override
    public java.util.Optional<ProvenAccount> prove(PublicKey key) {
        Committed now = committed;
        if (!now.state().accounts().containsKey(key)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new ProvenAccount(now.head(), now.state().prove(key)));
    }

    @Override
    public byte[] snapshot() {
        Committed now = committed;
        byte[] header = now.head().encode();
        byte[] state = now.state().snapshot();
        return ByteBuffer.allocate(header.length + state.length).put(header).put(state).array();
    }

    @Override
    public void payloadTypes(PayloadTypes types) {
        // A new state object: readers of the committed one never see it change.
        LedgerState state = committed.state().copy();
        state.payloadTypes(types);
        committed = new Committed(state, committed.head());
        discard(); // pending blocks ran under the old types
    }

    /** The committed state's total supply (conserved by every block). */
    public long totalSupply() {
        return committed.state().totalSupply();
    }
}
