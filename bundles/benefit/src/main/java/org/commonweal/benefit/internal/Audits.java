package org.commonweal.benefit.internal;

import static org.commonweal.benefit.BenefitState.AUDIT;
import static org.commonweal.benefit.BenefitState.AUDIT_DUE;
import static org.commonweal.benefit.BenefitState.AUDIT_KEY;
import static org.commonweal.benefit.BenefitState.AUDIT_TASK;
import static org.commonweal.benefit.BenefitState.HELD;
import static org.commonweal.benefit.BenefitState.NODE;
import static org.commonweal.benefit.BenefitState.RECORD;
import static org.commonweal.benefit.BenefitState.REVEAL;
import static org.commonweal.benefit.BenefitState.SAMPLE;
import static org.commonweal.benefit.BenefitState.UNBONDING;
import static org.commonweal.benefit.internal.BenefitTypes.add;
import static org.commonweal.benefit.internal.BenefitTypes.u64;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.bouncycastle.crypto.InvalidCipherTextException;
import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitPayloads.Attestation;
import org.commonweal.benefit.BenefitPayloads.AuditKey;
import org.commonweal.benefit.BenefitPayloads.Dispute;
import org.commonweal.benefit.BenefitPayloads.Reveal;
import org.commonweal.benefit.BenefitPayloads.Unstake;
import org.commonweal.benefit.BenefitPayloads.Verdict;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.BenefitState.Audit;
import org.commonweal.benefit.BenefitState.Phase;
import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealCipher;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.BlockContext;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Rejection.Reason;
import org.commonweal.ledger.StateChanges;
import org.commonweal.ledger.Transaction;

/**
 * Verification by re-execution: the audit transaction types (audit key, reveal, attestation, dispute, unstake) and
 * what the block rule does each block (sample the previous block's claims, act on passed deadlines, pay held rewards
 * and unbonded stake). Deterministic: the header, the state and the transactions are all it reads.
 * <p>
 * <b>Randomness.</b> A receipt claimed in block h is sampled by the rule of block h + 1 with
 * {@code r = SHA-256("commonweal/benefit/sample/v1" || hash of block h || receipt id)}: sampled if
 * {@code u64(r[0..8]) mod 10^6 < sampleRate}, audited by the eligible auditor {@code u64(r[8..16]) mod n} in key order.
 * The claimer cannot know block h's hash when it submits its claim (the block holds the claim); a proposer can grind
 * its block's contents, which a VRF or the BFT engine's threshold signature would close. A referee is picked the same
 * way with {@code "commonweal/benefit/referee/v1"} and the previous hash of the dispute's block.
 */
final class Audits {

    /**
     * The most claimed receipts the rule samples per block (the rest wait for the next block, in order): up to 4 writes
     * each. With the due audits (up to about 12 writes each) and pruning, a block rule stays under the ledger's 65,536
     * writes per block.
     */
    static final int SAMPLES_PER_BLOCK = 4_096;
    /** The most due audits the rule settles per block. */
    static final int DUE_PER_BLOCK = 2_048;
    private static final byte[] SAMPLE_DOMAIN = "commonweal/benefit/sample/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] REFEREE_DOMAIN = "commonweal/benefit/referee/v1".getBytes(StandardCharsets.US_ASCII);
    /** Where the hash of a claim block waits while its receipts are sampled: {@code height u64 -> hash}. */
    static final String SAMPLE_SEED = "benefit.sampleseed";
    private static final byte[] ZERO = new byte[32];

    private final BenefitParameters parameters;
    private final BenefitParameters.Audit audit;
    private final BenefitTypes types;

    Audits(BenefitParameters parameters, BenefitTypes types) {
        this.parameters = parameters;
        this.audit = parameters.audit();
        this.types = types;
    }

    // --- transactions ---

    void publishAuditKey(Transaction tx, StateChanges changes) throws Rejection {
        types.requireActive(changes);
        AuditKey key = AuditKey.decode(tx.payload());
        registeredNode(changes, tx.sender());
        if (!RevealCipher.usableAuditKey(key.key())) {
            throw new Rejection(Reason.INVALID_PAYLOAD, "the audit key " + HexFormat.of().formatHex(key.key())
                    + " is a low-order X25519 point: derive it with RevealCipher.publicKey");
        }
        changes.put(AUDIT_KEY, tx.sender().bytes(), key.key());
    }

    void reveal(Transaction tx, StateChanges changes) throws Rejection {
        types.requireActive(changes);
        Reveal reveal = Reveal.decode(tx.payload());
        Audit open = openAudit(changes, reveal.receiptId());
        if (!tx.sender().equals(open.node())) {
            throw new Rejection(Reason.UNAUTHORIZED, "only node " + open.node() + ", which served receipt " + hex(open.receiptId())
                    + ", reveals it, not " + tx.sender());
        }
        requirePhase(open, Phase.SAMPLED, "revealed");
        long height = requireInTime(changes, open, "reveal");
        byte[] sealedTo = BenefitState.auditKey(changes, open.auditor()).orElseThrow(() -> new Rejection(Reason.NOT_REGISTERED,
                "auditor " + open.auditor() + " has no audit key"));
        byte[] sealed = reveal.sealed();
        for (int part = 0; part * BenefitState.REVEAL_PART < sealed.length; part++) {
            changes.put(REVEAL, BenefitState.revealKey(open.receiptId(), part), Arrays.copyOfRange(sealed,
                    part * BenefitState.REVEAL_PART, Math.min(sealed.length, (part + 1) * BenefitState.REVEAL_PART)));
        }
        Audit revealed = new Audit(open.receiptId(), Phase.REVEALED, height + audit.attestBlocks(), open.node(),
                open.auditor(), open.referee(), sealedTo, open.accusedHash(), open.disclosedSecret(), sealed.length,
                open.receipt());
        move(changes, open, revealed);
    }

    void attest(Transaction tx, StateChanges changes) throws Rejection {
        types.requireActive(changes);
        Attestation attestation = Attestation.decode(tx.payload());
        Audit open = openAudit(changes, attestation.receiptId());
        boolean byAuditor = open.phase() == Phase.REVEALED;
        if (!byAuditor && open.phase() != Phase.DISPUTED) {
            throw new Rejection(Reason.WRONG_PHASE, "the audit of receipt " + hex(open.receiptId()) + " is " + open.phase()
                    + "; attestations come after the reveal (from the auditor) or after a dispute (from the referee)");
        }
        PublicKey attester = byAuditor ? open.auditor() : open.referee();
        if (!tx.sender().equals(attester)) {
            throw new Rejection(Reason.UNAUTHORIZED, "the audit of receipt " + hex(open.receiptId()) + " is " + open.phase()
                    + ": only its " + (byAuditor ? "auditor " : "referee ") + attester + " attests now, not " + tx.sender());
        }
        long height = requireInTime(changes, open, "attestation");
        boolean same = Arrays.equals(attestation.computedHash(), open.receipt().outputHash());
        if (same != (attestation.verdict() == Verdict.MATCH)) {
            throw new Rejection(Reason.INVALID_PAYLOAD, "a " + attestation.verdict() + " with the computed hash "
                    + hex(attestation.computedHash()) + (same ? ", which is" : ", which is not") + " the receipt's output hash");
        }
        if (byAuditor && same) {
            close(changes, open);
            updateRecord(changes, open.node(), 1, 0, 0, 0);
        } else if (byAuditor) {
            Audit accused = new Audit(open.receiptId(), Phase.ACCUSED, height + audit.disputeBlocks(), open.node(),
                    open.auditor(), open.referee(), open.sealedTo(), attestation.computedHash(), open.disclosedSecret(),
                    open.sealedLength(), open.receipt());
            move(changes, open, accused);
        } else if (same) {
            // the referee re-ran the public request and got the receipt's output: the accusation was false
            close(changes, open);
            updateRecord(changes, open.node(), 1, 0, 0, 0);
            slash(changes, open.auditor(), false);
        } else {
            close(changes, open);
            fault(changes, open.node());
        }
    }

    void dispute(Transaction tx, StateChanges changes) throws Rejection {
        types.requireActive(changes);
        Dispute dispute = Dispute.decode(tx.payload());
        Audit open = openAudit(changes, dispute.receiptId());
        if (!tx.sender().equals(open.node())) {
            throw new Rejection(Reason.UNAUTHORIZED, "only the accused node " + open.node() + " disputes the audit of receipt "
                    + hex(open.receiptId()) + ", not " + tx.sender());
        }
        requirePhase(open, Phase.ACCUSED, "disputed");
        long height = requireInTime(changes, open, "dispute");
        byte[] sealed = BenefitState.sealedReveal(changes, open).orElseThrow();
        RevealedRequest request;
        try {
            request = RevealedRequest.decode(RevealCipher.openDisclosed(dispute.ephemeralSecret(), open.sealedTo(),
                    open.receiptId(), sealed));
        } catch (InvalidCipherTextException | IllegalArgumentException e) {
            throw new Rejection(Reason.INVALID_PAYLOAD, "the disclosed secret does not open the reveal of receipt "
                    + hex(open.receiptId()) + " into a request: " + e.getMessage());
        }
        Receipt receipt = open.receipt();
        if (!Arrays.equals(request.commitment(), receipt.requestCommitment())
                || !Arrays.equals(request.outputHash(), receipt.outputHash())) {
            throw new Rejection(Reason.INVALID_PAYLOAD, "the reveal of receipt " + hex(open.receiptId()) + " does not match"
                    + " the receipt (its request commitment or output hash differs): there is nothing to dispute");
        }
        byte[] r = Sha256.hash(REFEREE_DOMAIN, changes.block().previousHash(), open.receiptId());
        List<PublicKey> referees = eligible(changes, open.node(), open.auditor());
        if (referees.isEmpty()) {
            // nobody else can re-execute: neither side is punished
            close(changes, open);
            return;
        }
        PublicKey referee = referees.get((int) Long.remainderUnsigned(ByteBuffer.wrap(r).getLong(), referees.size()));
        Audit disputed = new Audit(open.receiptId(), Phase.DISPUTED, height + audit.attestBlocks(), open.node(),
                open.auditor(), referee, open.sealedTo(), open.accusedHash(), dispute.ephemeralSecret(), open.sealedLength(),
                receipt);
        move(changes, open, disputed);
        changes.put(AUDIT_TASK, taskKey(referee, open.receiptId()), new byte[] {1});
    }

    void unstake(Transaction tx, StateChanges changes) throws Rejection {
        types.requireActive(changes);
        Unstake unstake = Unstake.decode(tx.payload());
        BenefitState.Node node = registeredNode(changes, tx.sender());
        if (node.stake() < unstake.amount()) {
            throw new Rejection(Reason.INSUFFICIENT_FUNDS, "node " + tx.sender() + " has staked " + node.stake()
                    + ", it cannot withdraw " + unstake.amount());
        }
        changes.put(NODE, tx.sender().bytes(), BenefitTypes.node(node.nation(), node.stake() - unstake.amount()));
        if (audit.unbondingBlocks() == 0) {
            changes.debit(BenefitState.STAKE_ACCOUNT, unstake.amount());
            changes.credit(tx.sender(), unstake.amount());
            return;
        }
        long release = changes.block().height() + (changes.admissionCheck() ? 1 : 0) + audit.unbondingBlocks();
        byte[] key = BenefitState.heightKey(release, tx.sender().bytes());
        long before = changes.entry(UNBONDING, key).map(v -> ByteBuffer.wrap(v).getLong()).orElse(0L);
        changes.put(UNBONDING, key, u64(add(before, unstake.amount(), "unbonding stake")));
    }

    // --- claims and the block rule ---

    /** A claimed receipt waits for the next block, whose previous hash samples it. */
    void claimed(Receipt receipt, StateChanges changes) throws Rejection {
        if (audit.sampleRate() > 0) {
            changes.put(SAMPLE, BenefitState.heightKey(changes.block().height(), receipt.id()), receipt.encode());
        }
    }

    /** What the rule does for audits in every block, before emission. */
    void endBlock(BlockContext block, StateChanges changes) throws Rejection {
        sample(block, changes);
        settleDue(block, changes);
        release(block, changes, UNBONDING);
    }

    private void sample(BlockContext block, StateChanges changes) throws Rejection {
        long height = block.height();
        byte[] previous = BenefitState.heightKey(height - 1, new byte[0]);
        if (!changes.entries(SAMPLE, previous, 1).isEmpty()) {
            changes.put(SAMPLE_SEED, previous, block.previousHash());
        }
        Map<byte[], byte[]> waiting = changes.entries(SAMPLE, new byte[0], SAMPLES_PER_BLOCK);
        List<PublicKey> auditors = null;
        for (Map.Entry<byte[], byte[]> entry : waiting.entrySet()) {
            long claimedAt = ByteBuffer.wrap(entry.getKey()).getLong();
            if (claimedAt >= height) {
                break; // claimed in this block: sampled by the next one
            }
            changes.delete(SAMPLE, entry.getKey());
            byte[] seed = changes.entry(SAMPLE_SEED, BenefitState.heightKey(claimedAt, new byte[0])).orElseThrow(
                    () -> new IllegalStateException("no sampling seed for the claims of block " + claimedAt));
            byte[] receiptId = Arrays.copyOfRange(entry.getKey(), 8, 40);
            ByteBuffer r = ByteBuffer.wrap(Sha256.hash(SAMPLE_DOMAIN, seed, receiptId));
            if (Long.remainderUnsigned(r.getLong(), BenefitParameters.MILLION) >= audit.sampleRate()) {
                continue;
            }
            Receipt receipt = Receipt.decode(entry.getValue());
            if (auditors == null) {
                auditors = eligible(changes, null, null);
            }
            List<PublicKey> candidates = auditors.stream().filter(a -> !a.equals(receipt.node())).toList();
            if (candidates.isEmpty()) {
                continue; // no auditor but the node itself: not audited
            }
            PublicKey auditor = candidates.get((int) Long.remainderUnsigned(r.getLong(), candidates.size()));
            Audit sampled = new Audit(receiptId, Phase.SAMPLED, height + audit.revealBlocks(), receipt.node(), auditor,
                    PublicKey.of(ZERO), ZERO, ZERO, ZERO, 0, receipt);
            changes.put(AUDIT, receiptId, sampled.encode());
            changes.put(AUDIT_DUE, dueKey(sampled), new byte[] {1});
            changes.put(AUDIT_TASK, taskKey(auditor, receiptId), new byte[] {1});
        }
        for (byte[] key : changes.entries(SAMPLE_SEED, new byte[0], Integer.MAX_VALUE).keySet()) {
            if (changes.entries(SAMPLE, key, 1).isEmpty()) {
                changes.delete(SAMPLE_SEED, key);
            }
        }
    }

    /**
     * Acts on every audit whose deadline passed in the previous block: a missing reveal or an undisputed mismatch is
     * the node's fault. (Settled one block after the deadline, so that a step coming just too late is refused as
     * {@code DEADLINE_PASSED}, not as an unknown audit.)
     */
    private void settleDue(BlockContext block, StateChanges changes) throws Rejection {
        for (byte[] key : changes.entries(AUDIT_DUE, new byte[0], DUE_PER_BLOCK).keySet()) {
            if (ByteBuffer.wrap(key).getLong() >= block.height()) {
                return;
            }
            Audit due = BenefitState.audit(changes, Arrays.copyOfRange(key, 8, 40)).orElseThrow();
            close(changes, due);
            switch (due.phase()) {
                case SAMPLED, ACCUSED -> fault(changes, due.node());
                case REVEALED, DISPUTED -> {
                    // the auditor or referee did not attest: nobody is punished (liveness penalties are not written yet)
                }
            }
        }
    }

    /** Puts a block's reward for {@code node} on hold until no audit of its receipts can still void it. */
    void hold(BlockContext block, StateChanges changes, PublicKey node, long coins) throws Rejection {
        changes.put(HELD, BenefitState.heightKey(block.height() + audit.holdBlocks(), node.bytes()), u64(coins));
    }

    /** Pays the held rewards (or unbonded stake) due at this block. */
    void release(BlockContext block, StateChanges changes, String namespace) throws Rejection {
        for (Map.Entry<byte[], byte[]> entry : changes.entries(namespace, new byte[0], Integer.MAX_VALUE).entrySet()) {
            if (ByteBuffer.wrap(entry.getKey()).getLong() > block.height()) {
                return;
            }
            PublicKey node = PublicKey.of(Arrays.copyOfRange(entry.getKey(), 8, 40));
            long coins = ByteBuffer.wrap(entry.getValue()).getLong();
            changes.delete(namespace, entry.getKey());
            if (namespace.equals(UNBONDING)) {
                changes.debit(BenefitState.STAKE_ACCOUNT, coins);
            } else {
                changes.put(BenefitState.REWARD, node.bytes(), u64(add(BenefitState.rewards(changes, node), coins,
                        "rewards of " + node)));
            }
            changes.credit(node, coins);
        }
    }

    // --- outcomes ---

    /** A node at fault: its held rewards are voided (never minted) and a share of its stake is slashed. */
    private void fault(StateChanges changes, PublicKey node) throws Rejection {
        long voided = 0;
        for (Map.Entry<byte[], byte[]> entry : ofNode(changes, HELD, node).entrySet()) {
            voided += ByteBuffer.wrap(entry.getValue()).getLong();
            changes.delete(HELD, entry.getKey());
        }
        if (voided > 0) {
            changes.put(BenefitState.TOTAL, BenefitState.MINTED, u64(BenefitState.minted(changes) - voided));
        }
        updateRecord(changes, node, 0, 1, 0, 0);
        slash(changes, node, true);
    }

    /** Burns the slashed share of {@code node}'s stake and of its unbonding withdrawals. */
    private void slash(StateChanges changes, PublicKey node, boolean asNode) throws Rejection {
        long slashed = 0;
        var registered = BenefitState.node(changes, node);
        if (registered.isPresent()) {
            long cut = audit.slashOf(registered.get().stake());
            changes.put(NODE, node.bytes(), BenefitTypes.node(registered.get().nation(), registered.get().stake() - cut));
            slashed += cut;
        }
        for (Map.Entry<byte[], byte[]> entry : ofNode(changes, UNBONDING, node).entrySet()) {
            long amount = ByteBuffer.wrap(entry.getValue()).getLong();
            long cut = audit.slashOf(amount);
            if (amount - cut == 0) {
                changes.delete(UNBONDING, entry.getKey());
            } else {
                changes.put(UNBONDING, entry.getKey(), u64(amount - cut));
            }
            slashed += cut;
        }
        if (slashed > 0) {
            changes.debit(BenefitState.STAKE_ACCOUNT, slashed);
            changes.put(BenefitState.TOTAL, BenefitState.SLASHED, u64(add(BenefitState.slashed(changes), slashed, "slashed")));
        }
        updateRecord(changes, node, 0, 0, slashed, asNode ? 0 : 1);
    }

    private static Map<byte[], byte[]> ofNode(StateChanges changes, String namespace, PublicKey node) {
        Map<byte[], byte[]> found = new java.util.TreeMap<>(Arrays::compareUnsigned);
        for (Map.Entry<byte[], byte[]> entry : changes.entries(namespace, new byte[0], Integer.MAX_VALUE).entrySet()) {
            if (Arrays.equals(entry.getKey(), 8, 40, node.bytes(), 0, 32)) {
                found.put(entry.getKey(), entry.getValue());
            }
        }
        return found;
    }

    private static void updateRecord(StateChanges changes, PublicKey node, long passed, long faults, long slashed,
            long falseAccusations) throws Rejection {
        BenefitState.Record record = BenefitState.record(changes, node);
        changes.put(RECORD, node.bytes(), new BenefitState.Record(record.passed() + passed, record.faults() + faults,
                add(record.slashed(), slashed, "slashed"), record.falseAccusations() + falseAccusations).encode());
    }

    // --- helpers ---

    /** Staked nodes with an audit key, in key order, without the excluded ones. */
    private List<PublicKey> eligible(StateChanges changes, PublicKey excluded, PublicKey alsoExcluded) {
        List<PublicKey> eligible = new ArrayList<>();
        for (byte[] key : changes.entries(AUDIT_KEY, new byte[0], Integer.MAX_VALUE).keySet()) {
            PublicKey node = PublicKey.of(key);
            if (node.equals(excluded) || node.equals(alsoExcluded)) {
                continue;
            }
            if (BenefitState.node(changes, node).map(n -> n.stake() >= parameters.minStake()).orElse(false)) {
                eligible.add(node);
            }
        }
        return eligible;
    }

    private static BenefitState.Node registeredNode(StateChanges changes, PublicKey key) throws Rejection {
        return BenefitState.node(changes, key).orElseThrow(() -> new Rejection(Reason.NOT_REGISTERED, key
                + " is not a registered node; its nation's registry key registers it (payload type " + BenefitPayloads.NODE
                + ")"));
    }

    private static Audit openAudit(StateChanges changes, byte[] receiptId) throws Rejection {
        return BenefitState.audit(changes, receiptId).orElseThrow(() -> new Rejection(Reason.WRONG_PHASE,
                "no open audit of receipt " + hex(receiptId) + ": it was not sampled, or its audit is closed"));
    }

    private static void requirePhase(Audit open, Phase phase, String step) throws Rejection {
        if (open.phase() != phase) {
            throw new Rejection(Reason.WRONG_PHASE, "the audit of receipt " + hex(open.receiptId()) + " is " + open.phase()
                    + "; it can be " + step + " only when " + phase);
        }
    }

    /** The height the step runs at, if not after the audit's deadline. */
    private static long requireInTime(StateChanges changes, Audit open, String step) throws Rejection {
        long height = changes.block().height() + (changes.admissionCheck() ? 1 : 0);
        if (height > open.deadline()) {
            throw new Rejection(Reason.DEADLINE_PASSED, "the " + step + " of receipt " + hex(open.receiptId())
                    + " was due by block " + open.deadline() + "; this is block " + height);
        }
        return height;
    }

    /** Replaces an audit's entry and moves its due index to the new deadline. */
    private static void move(StateChanges changes, Audit from, Audit to) throws Rejection {
        changes.delete(AUDIT_DUE, dueKey(from));
        changes.put(AUDIT, to.receiptId(), to.encode());
        changes.put(AUDIT_DUE, dueKey(to), new byte[] {1});
    }

    private static void close(StateChanges changes, Audit open) throws Rejection {
        changes.delete(AUDIT, open.receiptId());
        changes.delete(AUDIT_DUE, dueKey(open));
        changes.delete(AUDIT_TASK, taskKey(open.auditor(), open.receiptId()));
        if (!Arrays.equals(open.referee().bytes(), ZERO)) {
            changes.delete(AUDIT_TASK, taskKey(open.referee(), open.receiptId()));
        }
        for (int part = 0; part * BenefitState.REVEAL_PART < open.sealedLength(); part++) {
            changes.delete(REVEAL, BenefitState.revealKey(open.receiptId(), part));
        }
    }

    private static byte[] dueKey(Audit audit) {
        return BenefitState.heightKey(audit.deadline(), audit.receiptId());
    }

    private static byte[] taskKey(PublicKey attester, byte[] receiptId) {
        return ByteBuffer.allocate(64).put(attester.bytes()).put(receiptId).array();
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
