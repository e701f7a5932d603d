package org.commonweal.ledger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.commonweal.crypto.PublicKey;

/**
 * Making and checking blocks against a state. A proposer {@link #propose}s: it applies candidate
 * transactions to a copy of the state, keeps those that apply, and writes the roots into the header.
 * Every node {@link #validate}s: it re-executes the block on a copy and accepts it only if it links to
 * the parent, every transaction applies, and the roots and counts are exactly the header's.
 */
public final class BlockExecution {

    /** A block and the state after it. */
    public record Result(Block block, LedgerState state) {
    }

    private BlockExecution() {
    }

    /**
     * A block on {@code parent} holding, in order, those of {@code candidates} that apply to
     * {@code state} (at most {@code maxTransactions}); {@code state} itself is not changed.
     */
    public static Result propose(LedgerState state, BlockHeader parent, List<Transaction> candidates, PublicKey proposer,
            long timeMillis, int maxTransactions, boolean signaturesChecked) {
        LedgerState next = state.copy();
        long time = Math.max(timeMillis, parent.timeMillis());
        next.beginBlock(new BlockContext(state.chainId(), parent.height() + 1, time, proposer, parent.hash()));
        List<Transaction> included = new ArrayList<>();
        for (Transaction tx : candidates) {
            if (included.size() == Math.min(maxTransactions, Block.MAX_TRANSACTIONS)) {
                break;
            }
            try {
                next.apply(tx, proposer, signaturesChecked);
                included.add(tx);
            } catch (Rejection rejected) {
                // left out of the block; the mempool decides whether to drop it
            }
        }
        try {
            next.endBlock();
        } catch (Rejection rejection) {
            // A rule refusing a block its proposer made from valid transactions is a bug in the rule or its
            // configuration: no block can be made until it is fixed.
            throw new IllegalStateException("block " + (parent.height() + 1) + " cannot be made: " + rejection.getMessage()
                    + "; fix or remove the block rule", rejection);
        }
        BlockHeader header = new BlockHeader(state.chainId(), parent.height() + 1, parent.hash(),
                time, proposer, Block.transactionRoot(included), included.size(),
                next.root(), next.accountCount());
        return new Result(new Block(header, included), next);
    }

    /** The state after {@code block}, if it is a valid child of {@code parent} on {@code state}; else why not. */
    public static LedgerState validate(LedgerState state, BlockHeader parent, Block block, boolean signaturesChecked)
            throws Rejection {
        BlockHeader header = block.header();
        if (header.chainId() != state.chainId()) {
            throw new Rejection(Rejection.Reason.WRONG_CHAIN, "block for chain " + header.chainId() + ", this is chain "
                    + state.chainId());
        }
        if (header.height() != parent.height() + 1 || !Arrays.equals(header.previousHash(), parent.hash())) {
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "block " + header.height() + " does not follow block "
                    + parent.height() + " (height or parent hash differ)");
        }
        if (header.timeMillis() < parent.timeMillis()) {
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "block time " + header.timeMillis() + " is before its parent's "
                    + parent.timeMillis());
        }
        if (header.transactionCount() != block.transactions().size()
                || !Arrays.equals(header.transactionRoot(), Block.transactionRoot(block.transactions()))) {
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "the transaction root or count is not that of the block's"
                    + " transactions");
        }
        LedgerState next = state.copy();
        next.beginBlock(BlockContext.of(header));
        for (int i = 0; i < block.transactions().size(); i++) {
            try {
                next.apply(block.transactions().get(i), header.proposer(), signaturesChecked);
            } catch (Rejection rejection) {
                throw new Rejection(Rejection.Reason.INVALID_BLOCK, "transaction " + i + " does not apply: "
                        + rejection.getMessage());
            }
        }
        try {
            next.endBlock();
        } catch (Rejection rejection) {
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "block " + header.height() + ": " + rejection.getMessage());
        }
        if (!Arrays.equals(header.stateRoot(), next.root()) || header.accountCount() != next.accountCount()) {
            throw new Rejection(Rejection.Reason.INVALID_BLOCK, "the state root or account count after the block is not"
                    + " the header's");
        }
        return next;
    }
}
