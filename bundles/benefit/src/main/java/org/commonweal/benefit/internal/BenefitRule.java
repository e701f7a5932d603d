package org.commonweal.benefit.internal;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.SortedMap;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.BlockContext;
import org.commonweal.ledger.BlockRule;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.StateChanges;
import org.commonweal.ledger.StateView;

/**
 * What proof of benefit does once per block: sample the previous block's claims for audit and settle the audits
 * whose deadline passed ({@link Audits}); emit the block's coins ({@link BenefitParameters#emissionAt}, within
 * the supply cap) to the nodes that served, in proportion to the benefit units their claims in this block verified
 * (a share is rounded down; the dust is not minted), held for {@link BenefitParameters.Audit#holdBlocks()} blocks
 * when audits are on (a fault voids what a node holds); pay the held rewards and unbonded stake now due; forget replay markers and allowance use older than yesterday;
 * and check, every block, that each nation's treasury balances (proceeds = granted + unallocated) and that no more
 * than the cap was minted.
 */
final class BenefitRule implements BlockRule {

    /** The most old replay markers and day records removed per block, per kind: pruning never makes a block slow. */
    static final int PRUNE_PER_BLOCK = 2_048;

    private final BenefitParameters parameters;
    private final BenefitTypes types;

    BenefitRule(BenefitParameters parameters, BenefitTypes types) {
        this.parameters = parameters;
        this.types = types;
    }

    @Override
    public String name() {
        return "benefit";
    }

    @Override
    public void endBlock(BlockContext block, StateChanges changes) throws Rejection {
        if (block.height() < parameters.activationHeight()) {
            return;
        }
        types.initialize(changes);
        types.audits().endBlock(block, changes);
        emit(block, changes);
        types.audits().release(block, changes, BenefitState.HELD);
        prune(changes, BenefitState.CLAIMED, block.day() - 1);
        prune(changes, BenefitState.DAY, block.day() - 1);
    }

    private void emit(BlockContext block, StateChanges changes) throws Rejection {
        SortedMap<byte[], byte[]> served = changes.entries(BenefitState.BLOCK, new byte[0], Integer.MAX_VALUE);
        if (served.isEmpty()) {
            return;
        }
        BigInteger total = BigInteger.ZERO;
        for (byte[] units : served.values()) {
            total = total.add(BigInteger.valueOf(ByteBuffer.wrap(units).getLong()));
        }
        long minted = BenefitState.minted(changes);
        long emission = Math.min(parameters.emissionAt(block.height()), parameters.supplyCap() - minted);
        long paid = 0;
        for (Map.Entry<byte[], byte[]> entry : served.entrySet()) {
            PublicKey node = PublicKey.of(entry.getKey());
            long units = ByteBuffer.wrap(entry.getValue()).getLong();
            long share = emission <= 0 ? 0 : BigInteger.valueOf(emission).multiply(BigInteger.valueOf(units)).divide(total)
                    .longValueExact();
            if (share > 0 && parameters.audit().holdBlocks() > 0) {
                types.audits().hold(block, changes, node, share);
                paid += share;
            } else if (share > 0) {
                changes.credit(node, share);
                changes.put(BenefitState.REWARD, node.bytes(), BenefitTypes.u64(BenefitTypes.add(
                        BenefitState.rewards(changes, node), share, "rewards of " + node)));
                paid += share;
            }
            changes.delete(BenefitState.BLOCK, entry.getKey());
        }
        if (paid > 0) {
            changes.put(BenefitState.TOTAL, BenefitState.MINTED, BenefitTypes.u64(minted + paid));
        }
    }

    /** Removes entries keyed {@code day u64 || ...} for days before {@code firstKeptDay}, oldest first. */
    private static void prune(StateChanges changes, String namespace, long firstKeptDay) throws Rejection {
        for (byte[] key : changes.entries(namespace, new byte[0], PRUNE_PER_BLOCK).keySet()) {
            if (ByteBuffer.wrap(key).getLong() >= firstKeptDay) {
                return;
            }
            changes.delete(namespace, key);
        }
    }

    @Override
    public void checkInvariants(BlockContext block, StateView state) throws Rejection {
        if (block.height() < parameters.activationHeight()) {
            return;
        }
        for (Map.Entry<byte[], byte[]> entry : state.entries(BenefitState.TREASURY, new byte[0], Integer.MAX_VALUE).entrySet()) {
            NationCode nation = NationCode.of(entry.getKey());
            BenefitState.Treasury treasury = BenefitState.treasury(state, nation);
            if (!treasury.balanced()) {
                throw new Rejection(Rejection.Reason.INVARIANT_VIOLATED, "the treasury of nation " + nation
                        + " does not balance: proceeds " + treasury.proceeds() + " != granted " + treasury.granted()
                        + " + unallocated " + treasury.unallocated());
            }
        }
        long minted = BenefitState.minted(state);
        if (minted < 0 || minted > parameters.supplyCap()) {
            throw new Rejection(Rejection.Reason.INVARIANT_VIOLATED, minted + " coins minted, over the supply cap "
                    + parameters.supplyCap());
        }
    }
}
