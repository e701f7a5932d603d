package org.commonweal.benefit.internal;

import static org.commonweal.benefit.BenefitState.CLAIMED;
import static org.commonweal.benefit.BenefitState.DAY;
import static org.commonweal.benefit.BenefitState.GRANT;
import static org.commonweal.benefit.BenefitState.GRANT_VOTE;
import static org.commonweal.benefit.BenefitState.LOCAL;
import static org.commonweal.benefit.BenefitState.MINTED;
import static org.commonweal.benefit.BenefitState.NATION;
import static org.commonweal.benefit.BenefitState.NODE;
import static org.commonweal.benefit.BenefitState.PERSON;
import static org.commonweal.benefit.BenefitState.PERSON_TAG;
import static org.commonweal.benefit.BenefitState.SALE;
import static org.commonweal.benefit.BenefitState.TOTAL;
import static org.commonweal.benefit.BenefitState.TREASURY;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.commonweal.benefit.BenefitParameters;
import org.commonweal.benefit.BenefitPayloads;
import org.commonweal.benefit.BenefitPayloads.Claim;
import org.commonweal.benefit.BenefitPayloads.GrantVote;
import org.commonweal.benefit.BenefitPayloads.LocalTransfer;
import org.commonweal.benefit.BenefitPayloads.NodeRegistration;
import org.commonweal.benefit.BenefitPayloads.PersonAttestation;
import org.commonweal.benefit.BenefitPayloads.Sale;
import org.commonweal.benefit.BenefitPayloads.Stake;
import org.commonweal.benefit.BenefitState;
import org.commonweal.benefit.NationCode;
import org.commonweal.benefit.Receipt;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.PayloadType;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Rejection.Reason;
import org.commonweal.ledger.StateChanges;
import org.commonweal.ledger.Transaction;

/**
 * The benefit transaction types: what each checks, in a fixed order, and what it writes (see {@link BenefitState}
 * for the layout). Deterministic: the block's header and the state are all they read.
 */
final class BenefitTypes {

    /** How far ahead of its block's time a receipt may be stamped (nodes' clocks differ a little). */
    static final long CLOCK_TOLERANCE_MILLIS = 10 * 60_000L;

    private final BenefitParameters parameters;
    private final Audits audits;

    BenefitTypes(BenefitParameters parameters) {
        this.parameters = parameters;
        this.audits = new Audits(parameters, this);
    }

    Audits audits() {
        return audits;
    }

    /** One payload type per benefit transaction. */
    List<PayloadType> payloadTypes() {
        return List.of(new Type(BenefitPayloads.PERSON, "benefit-person", this::attestPerson),
                new Type(BenefitPayloads.NODE, "benefit-node", this::registerNode),
                new Type(BenefitPayloads.STAKE, "benefit-stake", this::stake),
                new Type(BenefitPayloads.CLAIM, "benefit-claim", this::claim),
                new Type(BenefitPayloads.SALE, "benefit-sale", this::sale),
                new Type(BenefitPayloads.GRANT, "benefit-grant", this::voteGrant),
                new Type(BenefitPayloads.LOCAL_TRANSFER, "local-transfer", this::transferLocal),
                new Type(BenefitPayloads.AUDIT_KEY, "benefit-audit-key", audits::publishAuditKey),
                new Type(BenefitPayloads.REVEAL, "benefit-reveal", audits::reveal),
                new Type(BenefitPayloads.ATTEST, "benefit-attest", audits::attest),
                new Type(BenefitPayloads.DISPUTE, "benefit-dispute", audits::dispute),
                new Type(BenefitPayloads.UNSTAKE, "benefit-unstake", audits::unstake),
                new Type(BenefitPayloads.GOVERN, "benefit-govern", this::govern));
    }

    private interface Execution {
        void execute(Transaction tx, StateChanges changes) throws Rejection;
    }

    private record Type(int id, String name, Execution execution) implements PayloadType {
        @Override
        public void execute(Transaction tx, StateChanges changes) throws Rejection {
            execution.execute(tx, changes);
        }
    }

    /** Refuses before activation; writes the nations into the state the first time anything runs after it. */
    void requireActive(StateChanges changes) throws Rejection {
        // at an admission check the block is the last one; the transaction will run in a later one
        long height = changes.block().height() + (changes.admissionCheck() ? 1 : 0);
        if (height < parameters.activationHeight()) {
            throw new Rejection(Reason.INVALID_PAYLOAD, "proof of benefit is active from block "
                    + parameters.activationHeight() + " on; this is block " + height);
        }
        initialize(changes);
    }

    /** The nations of the parameters, written once, at activation (later changes are governance's). */
    void initialize(StateChanges changes) throws Rejection {
        if (changes.entry(TOTAL, MINTED).isPresent()) {
            return;
        }
        for (BenefitParameters.Nation nation : parameters.nations()) {
            changes.put(NATION, nation.code().bytes(), ByteBuffer.allocate(64).put(nation.registryKey().bytes())
                    .put(nation.paymentKey().bytes()).array());
        }
        changes.put(TOTAL, MINTED, u64(0));
    }

    private BenefitState.Nation nation(StateChanges changes, NationCode code) throws Rejection {
        return BenefitState.nation(changes, code).orElseThrow(() -> new Rejection(Reason.NOT_REGISTERED, "no nation '"
                + code + "' in the registry (known nations are set by the chain parameters and governance)"));
    }

    void attestPerson(Transaction tx, StateChanges changes) throws Rejection {
        requireActive(changes);
        PersonAttestation attestation = PersonAttestation.decode(tx.payload());
        BenefitState.Nation nation = nation(changes, attestation.nation());
        if (!tx.sender().equals(nation.registryKey())) {
            throw new Rejection(Reason.UNAUTHORIZED, "only the registry key of nation " + nation.code() + " ("
                    + nation.registryKey() + ") attests its persons, not " + tx.sender());
        }
        if (BenefitState.personNation(changes, attestation.person()).isPresent()) {
            throw new Rejection(Reason.DUPLICATE, "person key " + attestation.person() + " is attested already");
        }
        byte[] tagKey = ByteBuffer.allocate(40).put(attestation.nation().bytes()).put(attestation.personTag()).array();
        var existing = changes.entry(PERSON_TAG, tagKey);
        if (existing.isPresent()) {
            throw new Rejection(Reason.DUPLICATE, "this person is registered already with key "
                    + PublicKey.of(existing.get()) + ": one registered person, one key");
        }
        changes.put(PERSON, attestation.person().bytes(), attestation.nation().bytes());
        changes.put(PERSON_TAG, tagKey, attestation.person().bytes());
    }

    void registerNode(Transaction tx, StateChanges changes) throws Rejection {
        requireActive(changes);
        NodeRegistration registration = NodeRegistration.decode(tx.payload());
        BenefitState.Nation nation = nation(changes, registration.nation());
        if (!tx.sender().equals(nation.registryKey())) {
            throw new Rejection(Reason.UNAUTHORIZED, "only the registry key of nation " + nation.code() + " ("
                    + nation.registryKey() + ") registers its nodes, not " + tx.sender());
        }
        var existing = BenefitState.node(changes, registration.node());
        if (existing.isPresent()) {
            throw new Rejection(Reason.DUPLICATE, "node " + registration.node() + " is registered already, to nation "
                    + existing.get().nation());
        }
        changes.put(NODE, registration.node().bytes(), node(registration.nation(), 0));
    }

    void stake(Transaction tx, StateChanges changes) throws Rejection {
        requireActive(changes);
        Stake stake = Stake.decode(tx.payload());
        BenefitState.Node node = BenefitState.node(changes, tx.sender()).orElseThrow(() -> new Rejection(
                Reason.NOT_REGISTERED, tx.sender() + " is not a registered node; its nation's registry key registers it"
                        + " (payload type " + BenefitPayloads.NODE + ") before it stakes"));
        changes.debit(tx.sender(), stake.amount());
        changes.credit(BenefitState.STAKE_ACCOUNT, stake.amount());
        changes.put(NODE, tx.sender().bytes(), node(node.nation(), add(node.stake(), stake.amount(), "stake")));
    }

    void claim(Transaction tx, StateChanges changes) throws Rejection {
        requireActive(changes);
        Claim claim = Claim.decode(tx.payload());
        PublicKey nodeKey = tx.sender();
        BenefitState.Node node = BenefitState.node(changes, nodeKey).orElseThrow(() -> new Rejection(Reason.NOT_REGISTERED,
                nodeKey + " is not a registered node; only nodes registered to a nation earn by benefit"));
        if (node.stake() < parameters.minStake()) {
            throw new Rejection(Reason.NOT_REGISTERED, "node " + nodeKey + " has staked " + node.stake() + ", earning"
                    + " needs " + parameters.minStake() + " (payload type " + BenefitPayloads.STAKE + ")");
        }
        long blockTime = changes.block().timeMillis();
        long blockDay = changes.block().day();
        Set<ByteBuffer> inThisClaim = new HashSet<>();
        long units = 0;
        for (int i = 0; i < claim.receipts().size(); i++) {
            Receipt receipt = claim.receipts().get(i);
            String which = "receipt " + i + " of the claim: ";
            if (receipt.chainId() != tx.chainId()) {
                throw new Rejection(Reason.WRONG_CHAIN, which + "made for chain " + receipt.chainId() + ", this is chain "
                        + tx.chainId());
            }
            if (!receipt.node().equals(nodeKey)) {
                throw new Rejection(Reason.UNAUTHORIZED, which + "served by " + receipt.node() + ", claimed by " + nodeKey
                        + "; a node claims only its own receipts");
            }
            // a receipt stamped ahead would spend a later day's allowance now; at admission the block's time is not known
            if (!changes.admissionCheck() && receipt.timeMillis() > blockTime + CLOCK_TOLERANCE_MILLIS) {
                throw new Rejection(Reason.INVALID_PAYLOAD, which + "stamped " + receipt.timeMillis() + ", after its block's"
                        + " time " + blockTime + " (more than " + CLOCK_TOLERANCE_MILLIS + " ms): check the node's clock");
            }
            if (receipt.day() < blockDay - 1) {
                throw new Rejection(Reason.INVALID_PAYLOAD, which + "served on day " + receipt.day() + "; receipts are"
                        + " claimed on their day or the next (this block is on day " + blockDay + ")");
            }
            NationCode personNation = BenefitState.personNation(changes, receipt.person()).orElseThrow(() -> new Rejection(
                    Reason.NOT_REGISTERED, which + "person key " + receipt.person() + " is not attested by any nation's"
                            + " registry"));
            if (!personNation.equals(node.nation())) {
                throw new Rejection(Reason.WRONG_NATION, which + "person " + receipt.person() + " belongs to nation "
                        + personNation + ", node " + nodeKey + " serves nation " + node.nation());
            }
            byte[] id = receipt.id();
            byte[] claimedKey = ByteBuffer.allocate(40).putLong(receipt.day()).put(id).array();
            if (!inThisClaim.add(ByteBuffer.wrap(id))) {
                throw new Rejection(Reason.DUPLICATE, which + "the same receipt is in this claim twice");
            }
            var claimedAt = changes.entry(CLAIMED, claimedKey);
            if (claimedAt.isPresent()) {
                throw new Rejection(Reason.DUPLICATE, which + "receipt " + java.util.HexFormat.of().formatHex(id)
                        + " was claimed already, in block " + ByteBuffer.wrap(claimedAt.get()).getLong());
            }
            if (!receipt.signaturesValid()) {
                throw new Rejection(Reason.BAD_SIGNATURE, which + "not signed by node " + receipt.node()
                        + " and countersigned by person " + receipt.person());
            }
            changes.put(CLAIMED, claimedKey, u64(changes.block().height()));
            audits.claimed(receipt, changes);

            BenefitState.DayUsage usage = BenefitState.dayUsage(changes, receipt.person(), receipt.day());
            long free = Math.max(0, parameters.allowanceTokens() - usage.tokens());
            long weight = BenefitState.weight(changes, parameters, receipt.category());
            units = add(units, Math.multiplyExact(Math.min(receipt.tokens(), free), weight), "benefit units");
            long local = weight == 0 ? 0
                    : Math.max(0, Math.min(parameters.localPerReceipt(), parameters.localDailyCap() - usage.localMinted()));
            changes.put(DAY, BenefitState.dayKey(receipt.day(), receipt.person()), ByteBuffer.allocate(16)
                    .putLong(add(usage.tokens(), receipt.tokens(), "tokens")).putLong(usage.localMinted() + local).array());
            if (local > 0) {
                byte[] localKey = BenefitState.localKey(personNation, receipt.person());
                long balance = BenefitState.localBalance(changes, personNation, receipt.person());
                changes.put(LOCAL, localKey, u64(add(balance, local, "local balance")));
            }
        }
        if (units > 0) {
            long before = changes.entry(BenefitState.BLOCK, nodeKey.bytes()).map(v -> ByteBuffer.wrap(v).getLong()).orElse(0L);
            changes.put(BenefitState.BLOCK, nodeKey.bytes(), u64(add(before, units, "benefit units")));
        }
    }

    void sale(Transaction tx, StateChanges changes) throws Rejection {
        requireActive(changes);
        Sale sale = Sale.decode(tx.payload());
        BenefitState.Nation nation = nation(changes, sale.nation());
        if (!tx.sender().equals(nation.paymentKey())) {
            throw new Rejection(Reason.UNAUTHORIZED, "only the payment key of nation " + nation.code() + " ("
                    + nation.paymentKey() + ") attests its coin sales, not " + tx.sender());
        }
        byte[] referenceKey = ByteBuffer.allocate(40).put(sale.nation().bytes()).put(sale.paymentReference()).array();
        var soldAt = changes.entry(SALE, referenceKey);
        if (soldAt.isPresent()) {
            throw new Rejection(Reason.DUPLICATE, "payment " + java.util.HexFormat.of().formatHex(sale.paymentReference())
                    + " was sold against already, in block " + ByteBuffer.wrap(soldAt.get()).getLong());
        }
        long minted = BenefitState.minted(changes);
        if (sale.coins() > parameters.supplyCap() - minted) {
            throw new Rejection(Reason.LIMIT_REACHED, "selling " + sale.coins() + " coins would pass the supply cap of "
                    + parameters.supplyCap() + " (" + minted + " minted)");
        }
        BenefitState.Treasury treasury = BenefitState.treasury(changes, sale.nation());
        changes.put(TREASURY, sale.nation().bytes(), treasury(add(treasury.proceeds(), sale.payment(), "proceeds"),
                treasury.granted(), add(treasury.unallocated(), sale.payment(), "unallocated proceeds")));
        changes.credit(sale.buyer(), sale.coins());
        changes.put(TOTAL, MINTED, u64(minted + sale.coins()));
        changes.put(SALE, referenceKey, u64(changes.block().height()));
    }

    void voteGrant(Transaction tx, StateChanges changes) throws Rejection {
        requireActive(changes);
        GrantVote vote = GrantVote.decode(tx.payload());
        nation(changes, vote.nation());
        if (!parameters.grantApprovers().contains(tx.sender())) {
            throw new Rejection(Reason.UNAUTHORIZED, tx.sender() + " is not a grant approver (the approvers are a chain"
                    + " parameter; by default the nations' registry keys)");
        }
        byte[] id = vote.grantId();
        var grant = BenefitState.grant(changes, id);
        if (grant.isPresent() && grant.get().paid()) {
            throw new Rejection(Reason.DUPLICATE, "grant " + java.util.HexFormat.of().formatHex(id) + " is paid already");
        }
        byte[] voteKey = ByteBuffer.allocate(64).put(id).put(tx.sender().bytes()).array();
        if (changes.entry(GRANT_VOTE, voteKey).isPresent()) {
            throw new Rejection(Reason.DUPLICATE, tx.sender() + " has voted for grant "
                    + java.util.HexFormat.of().formatHex(id) + " already");
        }
        int votes = grant.map(BenefitState.Grant::votes).orElse(0) + 1;
        boolean paid = parameters.approved(votes);
        if (paid) {
            BenefitState.Treasury treasury = BenefitState.treasury(changes, vote.nation());
            if (treasury.unallocated() < vote.amount()) {
                throw new Rejection(Reason.LIMIT_REACHED, "the treasury of nation " + vote.nation() + " has "
                        + treasury.unallocated() + " unallocated, grant " + java.util.HexFormat.of().formatHex(id)
                        + " needs " + vote.amount() + "; vote again after more sales");
            }
            changes.put(TREASURY, vote.nation().bytes(), treasury(treasury.proceeds(), treasury.granted() + vote.amount(),
                    treasury.unallocated() - vote.amount()));
        }
        changes.put(GRANT_VOTE, voteKey, new byte[] {1});
        changes.put(GRANT, id, ByteBuffer.allocate(8 + 32 + 8 + 32 + 4 + 1).put(vote.nation().bytes())
                .put(vote.grantee().bytes()).putLong(vote.amount()).put(vote.purpose()).putInt(votes).put((byte) (paid ? 1 : 0))
                .array());
    }

    /**
     * An approver's vote for a governance change: counted once per approver; at two thirds of the approvers (as for
     * grants) the change applies in this transaction: a nation's keys replaced, or a category's weight set.
     */
    void govern(Transaction tx, StateChanges changes) throws Rejection {
        requireActive(changes);
        BenefitPayloads.GovernanceVote vote = BenefitPayloads.GovernanceVote.decode(tx.payload());
        if (!parameters.grantApprovers().contains(tx.sender())) {
            throw new Rejection(Reason.UNAUTHORIZED, tx.sender() + " is not an approver (the approvers are a chain"
                    + " parameter; by default the nations' registry keys)");
        }
        if (vote.kind() == BenefitPayloads.GovernanceVote.NATION_KEYS) {
            nation(changes, vote.nation().code());
        }
        byte[] id = vote.changeId();
        String name = "governance change " + java.util.HexFormat.of().formatHex(id);
        var change = BenefitState.governanceChange(changes, id);
        if (change.isPresent() && change.get().applied()) {
            throw new Rejection(Reason.DUPLICATE, name + " applied already; vote for it again under another proposal"
                    + " number");
        }
        byte[] voteKey = ByteBuffer.allocate(64).put(id).put(tx.sender().bytes()).array();
        if (changes.entry(BenefitState.GOVERN_VOTE, voteKey).isPresent()) {
            throw new Rejection(Reason.DUPLICATE, tx.sender() + " has voted for " + name + " already");
        }
        int votes = change.map(BenefitState.GovernanceChange::votes).orElse(0) + 1;
        boolean applied = parameters.approved(votes);
        if (applied) {
            if (vote.kind() == BenefitPayloads.GovernanceVote.NATION_KEYS) {
                BenefitState.Nation nation = vote.nation();
                changes.put(NATION, nation.code().bytes(), ByteBuffer.allocate(64).put(nation.registryKey().bytes())
                        .put(nation.paymentKey().bytes()).array());
            } else {
                changes.put(BenefitState.WEIGHT, new byte[] {(byte) vote.category()}, u64(vote.weight()));
            }
        }
        changes.put(BenefitState.GOVERN_VOTE, voteKey, new byte[] {1});
        changes.put(BenefitState.GOVERN, id, ByteBuffer.allocate(5).putInt(votes).put((byte) (applied ? 1 : 0)).array());
    }

    void transferLocal(Transaction tx, StateChanges changes) throws Rejection {
        requireActive(changes);
        LocalTransfer transfer = LocalTransfer.decode(tx.payload());
        if (transfer.recipient().equals(tx.sender())) {
            throw new Rejection(Reason.INVALID_PAYLOAD, "a local transfer to the sender itself");
        }
        long from = BenefitState.localBalance(changes, transfer.nation(), tx.sender());
        if (from < transfer.amount()) {
            throw new Rejection(Reason.INSUFFICIENT_FUNDS, tx.sender() + " has " + from + " of nation " + transfer.nation()
                    + "'s local currency, " + transfer.amount() + " is needed");
        }
        long to = BenefitState.localBalance(changes, transfer.nation(), transfer.recipient());
        setLocal(changes, transfer.nation(), tx.sender(), from - transfer.amount());
        setLocal(changes, transfer.nation(), transfer.recipient(), add(to, transfer.amount(), "local balance"));
    }

    private static void setLocal(StateChanges changes, NationCode nation, PublicKey holder, long balance) throws Rejection {
        if (balance == 0) {
            changes.delete(LOCAL, BenefitState.localKey(nation, holder));
        } else {
            changes.put(LOCAL, BenefitState.localKey(nation, holder), u64(balance));
        }
    }

    static byte[] u64(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    static byte[] node(NationCode nation, long stake) {
        return ByteBuffer.allocate(16).put(nation.bytes()).putLong(stake).array();
    }

    private static byte[] treasury(long proceeds, long granted, long unallocated) {
        return ByteBuffer.allocate(24).putLong(proceeds).putLong(granted).putLong(unallocated).array();
    }

    static long add(long a, long b, String what) throws Rejection {
        if (a > Long.MAX_VALUE - b) {
            throw new Rejection(Reason.OVERFLOW, "the " + what + " would exceed 2^63 - 1");
        }
        return a + b;
    }
}
