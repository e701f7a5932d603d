package org.commonweal.benefit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.StateView;

/**
 * Where proof of benefit keeps its state (ledger entries, big-endian values) and read-only queries of it over any
 * {@link StateView}: the chain's committed state, a test's state. Every key and value here is part of the state
 * root, so this layout is a chain format: change it only with a new namespace.
 *
 * <pre>
 * benefit.nation    code8                 -> registry key 32, payment key 32
 * benefit.person    person32              -> code8                       (attested persons)
 * benefit.persontag code8 || tag32        -> person32                    (one key per person)
 * benefit.node      node32                -> code8, stake u64            (registered nodes)
 * benefit.claimed   day u64 || receipt id -> height u64                  (replay protection, kept 2 days)
 * benefit.day       day u64 || person32   -> tokens u64, local minted u64 (allowance use, kept 2 days)
 * benefit.block     node32                -> units u64                   (this block's benefit; cleared by the block rule)
 * benefit.reward    node32                -> coins u64                   (every reward a node earned)
 * benefit.total     "minted"              -> coins u64                   (emission and sales together)
 * benefit.treasury  code8                 -> proceeds u64, granted u64, unallocated u64
 * benefit.sale      code8 || reference32  -> height u64                  (a payment is sold once)
 * benefit.grant     grant id 32           -> code8, grantee32, amount u64, purpose32, votes u32, paid u8
 * benefit.grantvote grant id || approver  -> 1
 * benefit.local     code8 || holder32     -> local currency u64
 * benefit.auditkey  node32                -> X25519 key 32               (reveals to this node are sealed to it)
 * benefit.sample    height u64 || receipt id -> receipt                  (claimed; sampled by the next block's rule)
 * benefit.sampleseed height u64           -> hash of that block          (while its claims are being sampled)
 * benefit.audit     receipt id            -> phase u8, deadline u64, node32, auditor32, referee32, sealed-to key32,
 *                                            accused hash32, disclosed secret32, sealed length u32, receipt
 * benefit.auditdue  deadline u64 || receipt id -> 1                      (the audits whose step is due at a height)
 * benefit.audittask attester32 || receipt id -> 1                        (the audits an auditor or referee is in)
 * benefit.reveal    receipt id || u8 part -> sealed bytes                (the sealed reveal in parts of 4096)
 * benefit.held      release u64 || node32 -> coins u64                   (rewards held until no audit can void them)
 * benefit.unbonding release u64 || node32 -> coins u64                   (unstaked, slashable until paid back)
 * benefit.record    node32                -> passed u64, faults u64, slashed u64, false accusations u64
 * benefit.total     "slashed"             -> coins u64                   (every slashed coin, burned)
 * </pre>
 */
public final class BenefitState {

    public static final String NATION = "benefit.nation";
    public static final String PERSON = "benefit.person";
    public static final String PERSON_TAG = "benefit.persontag";
    public static final String NODE = "benefit.node";
    public static final String CLAIMED = "benefit.claimed";
    public static final String DAY = "benefit.day";
    public static final String BLOCK = "benefit.block";
    public static final String REWARD = "benefit.reward";
    public static final String TOTAL = "benefit.total";
    public static final String TREASURY = "benefit.treasury";
    public static final String SALE = "benefit.sale";
    public static final String GRANT = "benefit.grant";
    public static final String GRANT_VOTE = "benefit.grantvote";
    public static final String LOCAL = "benefit.local";
    public static final String AUDIT_KEY = "benefit.auditkey";
    public static final String SAMPLE = "benefit.sample";
    public static final String AUDIT = "benefit.audit";
    public static final String AUDIT_DUE = "benefit.auditdue";
    public static final String AUDIT_TASK = "benefit.audittask";
    public static final String REVEAL = "benefit.reveal";
    public static final String HELD = "benefit.held";
    public static final String UNBONDING = "benefit.unbonding";
    public static final String RECORD = "benefit.record";
    /** Governance changes by id: votes so far (u32) and whether applied (1 byte). */
    public static final String GOVERN = "benefit.govern";
    /** Governance votes: change id || approver key. */
    public static final String GOVERN_VOTE = "benefit.governvote";
    /** Category weights set by governance, by category (1 byte): u64 benefit units per token. */
    public static final String WEIGHT = "benefit.weight";
    public static final byte[] MINTED = "minted".getBytes(StandardCharsets.US_ASCII);
    public static final byte[] SLASHED = "slashed".getBytes(StandardCharsets.US_ASCII);
    /** The parts a sealed reveal is stored in (an entry value has at most 4096 bytes). */
    public static final int REVEAL_PART = 4096;

    /** Where an open audit stands (a closed audit is removed; its outcome is counted in the node's {@link Record}). */
    public enum Phase {
        /** Sampled: the node must reveal by the deadline. */
        SAMPLED,
        /** Revealed: the auditor must attest by the deadline. */
        REVEALED,
        /** The auditor attested a mismatch: the node may dispute by the deadline, or is at fault. */
        ACCUSED,
        /** Disputed: the reveal is public; the referee must attest by the deadline. */
        DISPUTED
    }

    /** An open audit of one sampled receipt. Keys not yet set (referee, sealed-to key, hashes) are all zeros. */
    public record Audit(byte[] receiptId, Phase phase, long deadline, PublicKey node, PublicKey auditor, PublicKey referee,
            byte[] sealedTo, byte[] accusedHash, byte[] disclosedSecret, int sealedLength, Receipt receipt) {

        public static final int BYTES = 1 + 8 + 32 * 6 + 4 + Receipt.BYTES;

        public byte[] encode() {
            return ByteBuffer.allocate(BYTES).put((byte) phase.ordinal()).putLong(deadline).put(node.bytes())
                    .put(auditor.bytes()).put(referee.bytes()).put(sealedTo).put(accusedHash).put(disclosedSecret)
                    .putInt(sealedLength).put(receipt.encode()).array();
        }

        public static Audit decode(byte[] receiptId, byte[] value) {
            ByteBuffer in = ByteBuffer.wrap(value);
            Phase phase = Phase.values()[in.get()];
            long deadline = in.getLong();
            return new Audit(receiptId.clone(), phase, deadline, key(in), key(in), key(in), bytes(in), bytes(in), bytes(in),
                    in.getInt(), Receipt.decode(in));
        }

        public Audit with(Phase phase, long deadline) {
            return new Audit(receiptId, phase, deadline, node, auditor, referee, sealedTo, accusedHash, disclosedSecret,
                    sealedLength, receipt);
        }

        private static byte[] bytes(ByteBuffer in) {
            byte[] bytes = new byte[32];
            in.get(bytes);
            return bytes;
        }
    }

    /** A node's audit record: audits of its receipts passed and failed, stake slashed, its false accusations. */
    public record Record(long passed, long faults, long slashed, long falseAccusations) {
        public static final Record NONE = new Record(0, 0, 0, 0);

        public byte[] encode() {
            return ByteBuffer.allocate(32).putLong(passed).putLong(faults).putLong(slashed).putLong(falseAccusations).array();
        }
    }

    /**
     * The account that holds staked coins. Nobody holds its private key (its bytes are a hash, not a key anyone
     * generated), so only the benefit types move coins in or out.
     */
    public static final PublicKey STAKE_ACCOUNT = PublicKey.of(Sha256.hash("commonweal/benefit/stake/v1"
            .getBytes(StandardCharsets.US_ASCII)));

    public record Nation(NationCode code, PublicKey registryKey, PublicKey paymentKey) {
    }

    public record Node(NationCode nation, long stake) {
    }

    /** A person's use of one day: tokens served (against the allowance) and local currency minted. */
    public record DayUsage(long tokens, long localMinted) {
        public static final DayUsage NONE = new DayUsage(0, 0);
    }

    /** A nation's treasury: every sale's proceeds, what grants have taken, what is left. */
    public record Treasury(long proceeds, long granted, long unallocated) {
        public static final Treasury EMPTY = new Treasury(0, 0, 0);

        /** The ledger invariant checked every block: proceeds = granted + unallocated. */
        public boolean balanced() {
            return granted >= 0 && unallocated >= 0 && proceeds - granted == unallocated && proceeds >= granted;
        }
    }

    public record Grant(NationCode nation, PublicKey grantee, long amount, byte[] purpose, int votes, boolean paid) {
    }

    private BenefitState() {
    }

    public static Optional<Nation> nation(StateView state, NationCode code) {
        return state.entry(NATION, code.bytes()).map(v -> {
            ByteBuffer in = ByteBuffer.wrap(v);
            return new Nation(code, key(in), key(in));
        });
    }

    /** The nation that attested {@code person}, if any. */
    public static Optional<NationCode> personNation(StateView state, PublicKey person) {
        return state.entry(PERSON, person.bytes()).map(NationCode::of);
    }

    public static Optional<Node> node(StateView state, PublicKey node) {
        return state.entry(NODE, node.bytes()).map(v -> {
            ByteBuffer in = ByteBuffer.wrap(v);
            byte[] code = new byte[NationCode.BYTES];
            in.get(code);
            return new Node(NationCode.of(code), in.getLong());
        });
    }

    public static DayUsage dayUsage(StateView state, PublicKey person, long day) {
        return state.entry(DAY, dayKey(day, person)).map(v -> {
            ByteBuffer in = ByteBuffer.wrap(v);
            return new DayUsage(in.getLong(), in.getLong());
        }).orElse(DayUsage.NONE);
    }

    /** Tokens {@code person} has left of the day's allowance. */
    public static long allowanceLeft(StateView state, BenefitParameters parameters, PublicKey person, long day) {
        return Math.max(0, parameters.allowanceTokens() - dayUsage(state, person, day).tokens());
    }

    /** Every coin {@code node} has earned by benefit. */
    public static long rewards(StateView state, PublicKey node) {
        return state.entry(REWARD, node.bytes()).map(v -> ByteBuffer.wrap(v).getLong()).orElse(0L);
    }

    /** Every coin emission and sales have minted. */
    public static long minted(StateView state) {
        return state.entry(TOTAL, MINTED).map(v -> ByteBuffer.wrap(v).getLong()).orElse(0L);
    }

    public static Treasury treasury(StateView state, NationCode nation) {
        return state.entry(TREASURY, nation.bytes()).map(v -> {
            ByteBuffer in = ByteBuffer.wrap(v);
            return new Treasury(in.getLong(), in.getLong(), in.getLong());
        }).orElse(Treasury.EMPTY);
    }

    /** The benefit units per token of {@code category}: governance's if it set one, else the chain parameter's. */
    public static long weight(StateView state, BenefitParameters parameters, int category) {
        return state.entry(WEIGHT, new byte[] {(byte) category}).map(v -> ByteBuffer.wrap(v).getLong())
                .orElse(parameters.weight(category));
    }

    /** A governance change's votes so far and whether it applied; empty if nobody voted for it. */
    public record GovernanceChange(int votes, boolean applied) {
    }

    public static Optional<GovernanceChange> governanceChange(StateView state, byte[] changeId) {
        return state.entry(GOVERN, changeId).map(v -> new GovernanceChange(ByteBuffer.wrap(v).getInt(), v[4] == 1));
    }

    public static Optional<Grant> grant(StateView state, byte[] grantId) {
        return state.entry(GRANT, grantId).map(v -> {
            ByteBuffer in = ByteBuffer.wrap(v);
            byte[] code = new byte[NationCode.BYTES];
            in.get(code);
            PublicKey grantee = key(in);
            long amount = in.getLong();
            byte[] purpose = new byte[32];
            in.get(purpose);
            return new Grant(NationCode.of(code), grantee, amount, purpose, in.getInt(), in.get() == 1);
        });
    }

    /** {@code holder}'s balance of {@code nation}'s local currency. */
    public static long localBalance(StateView state, NationCode nation, PublicKey holder) {
        return state.entry(LOCAL, localKey(nation, holder)).map(v -> ByteBuffer.wrap(v).getLong()).orElse(0L);
    }

    /** The X25519 key reveals to {@code node} are sealed to, if it published one. */
    public static Optional<byte[]> auditKey(StateView state, PublicKey node) {
        return state.entry(AUDIT_KEY, node.bytes());
    }

    /** The open audit of the receipt with this id. */
    public static Optional<Audit> audit(StateView state, byte[] receiptId) {
        return state.entry(AUDIT, receiptId).map(v -> Audit.decode(receiptId, v));
    }

    /** The open audits {@code attester} is the auditor or the referee of, in receipt id order (at most {@code limit}). */
    public static java.util.List<Audit> auditsOf(StateView state, PublicKey attester, int limit) {
        java.util.List<Audit> audits = new java.util.ArrayList<>();
        for (byte[] key : state.entries(AUDIT_TASK, attester.bytes(), limit).keySet()) {
            audit(state, java.util.Arrays.copyOfRange(key, 32, 64)).ifPresent(audits::add);
        }
        return audits;
    }

    /** The sealed reveal of an audit, once posted. */
    public static Optional<byte[]> sealedReveal(StateView state, Audit audit) {
        if (audit.sealedLength() == 0) {
            return Optional.empty();
        }
        ByteBuffer sealed = ByteBuffer.allocate(audit.sealedLength());
        for (int part = 0; part * REVEAL_PART < audit.sealedLength(); part++) {
            byte[] bytes = state.entry(REVEAL, revealKey(audit.receiptId(), part)).orElseThrow(() -> new IllegalStateException(
                    "a part of a sealed reveal is missing from the state"));
            sealed.put(bytes);
        }
        return Optional.of(sealed.array());
    }

    public static byte[] revealKey(byte[] receiptId, int part) {
        return ByteBuffer.allocate(33).put(receiptId).put((byte) part).array();
    }

    public static Record record(StateView state, PublicKey node) {
        return state.entry(RECORD, node.bytes()).map(v -> {
            ByteBuffer in = ByteBuffer.wrap(v);
            return new Record(in.getLong(), in.getLong(), in.getLong(), in.getLong());
        }).orElse(Record.NONE);
    }

    /** Rewards {@code node} earned that are held until no audit can void them. */
    public static long heldRewards(StateView state, PublicKey node) {
        return sumByNode(state, HELD, node);
    }

    /** Stake {@code node} withdrew that is not paid back yet. */
    public static long unbonding(StateView state, PublicKey node) {
        return sumByNode(state, UNBONDING, node);
    }

    private static long sumByNode(StateView state, String namespace, PublicKey node) {
        long sum = 0;
        for (var entry : state.entries(namespace, new byte[0], Integer.MAX_VALUE).entrySet()) {
            if (java.util.Arrays.equals(entry.getKey(), 8, 40, node.bytes(), 0, 32)) {
                sum += ByteBuffer.wrap(entry.getValue()).getLong();
            }
        }
        return sum;
    }

    /** Every coin slashed (burned). */
    public static long slashed(StateView state) {
        return state.entry(TOTAL, SLASHED).map(v -> ByteBuffer.wrap(v).getLong()).orElse(0L);
    }

    /** {@code u64 height || 32 bytes}: the key of the height-ordered namespaces. */
    public static byte[] heightKey(long height, byte[] bytes) {
        return ByteBuffer.allocate(8 + bytes.length).putLong(height).put(bytes).array();
    }

    public static byte[] dayKey(long day, PublicKey person) {
        return ByteBuffer.allocate(40).putLong(day).put(person.bytes()).array();
    }

    public static byte[] localKey(NationCode nation, PublicKey holder) {
        return ByteBuffer.allocate(40).put(nation.bytes()).put(holder.bytes()).array();
    }

    private static PublicKey key(ByteBuffer in) {
        byte[] key = new byte[32];
        in.get(key);
        return PublicKey.of(key);
    }
}
