package org.commonweal.ledger;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.SignatureBatch;

/**
 * The account ledger as a {@link StateMachine}: {@link LedgerState} and {@link BlockExecution} with a
 * committed head. A block this ledger proposed and then executes is not executed twice.
 */
public final class AccountLedger implements StateMachine {

    private final SignatureBatch signatures;
    /** Replaced, never changed, on commit: readers on other threads see one whole block's state. */
    private volatile Committed committed;
    private BlockExecution.Result proposed;
    private BlockExecution.Result pending;

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
    public Block propose(List<Transaction> candidates, PublicKey proposer, long timeMillis, int maxTransactions) {
        proposed = BlockExecution.propose(committed.state(), committed.head(), candidates, proposer, timeMillis, maxTransactions, true);
        return proposed.block();
    }

    @Override
    public void execute(Block block, boolean signaturesChecked) throws Rejection {
        pending = null;
        if (proposed != null && proposed.block().header().equals(block.header())
                && proposed.block().transactions().equals(block.transactions())) {
            pending = proposed; // our own proposal: executed when it was made
        } else {
            if (!signaturesChecked) {
                verifySignatures(block);
            }
            pending = new BlockExecution.Result(block, BlockExecution.validate(committed.state(), committed.head(), block, true));
        }
        proposed = null;
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
    public BlockHeader commit() {
        if (pending == null) {
            throw new IllegalStateException("no block is pending: execute one before committing");
        }
        committed = new Committed(pending.state(), pending.block().header());
        pending = null;
        return committed.head();
    }

    @Override
    public void discard() {
        pending = null;
        proposed = null;
    }

    @Override
    public Account account(PublicKey key) {
        return committed.state().account(key);
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
        discard();
    }

    /** The committed state's total supply (conserved by every block). */
    public long totalSupply() {
        return committed.state().totalSupply();
    }
}
