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
    public static final byte[] MINTED = "minted".getBytes(StandardCharsets.US_ASCII);

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
