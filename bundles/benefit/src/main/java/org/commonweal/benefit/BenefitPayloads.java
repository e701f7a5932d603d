package org.commonweal.benefit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.Rejection;

/**
 * The payloads of the benefit transaction types: their type ids and their one encoding each (big-endian,
 * fixed width; a claim is a u16 count and that many {@link Receipt}s). Decoding accepts exactly one
 * representation and refuses anything else with {@link Rejection.Reason#INVALID_PAYLOAD}.
 */
public final class BenefitPayloads {

    /** A nation's registry key attests a person key; signed by the registry key. */
    public static final int PERSON = 200;
    /** A nation's registry key registers a node key to the nation; signed by the registry key. */
    public static final int NODE = 201;
    /** A registered node locks coins as stake; signed by the node. */
    public static final int STAKE = 202;
    /** A node claims a batch of countersigned receipts; signed by the node. */
    public static final int CLAIM = 203;
    /** A coin sale against a payment attested by the nation's payment key; signed by that key. */
    public static final int SALE = 204;
    /** An approver's vote for a grant from a nation's treasury; signed by the approver. */
    public static final int GRANT = 205;
    /** A transfer of a nation's local currency; signed by the holder. */
    public static final int LOCAL_TRANSFER = 206;

    /** A registered node publishes the X25519 key reveals to it are sealed with; signed by the node. */
    public static final int AUDIT_KEY = 207;
    /** A sampled node reveals the request to its auditor, sealed; signed by the node. */
    public static final int REVEAL = 208;
    /** The auditor (or the referee) attests the re-execution: match or mismatch; signed by it. */
    public static final int ATTEST = 209;
    /** An accused node disputes a mismatch by disclosing the reveal's ephemeral secret; signed by the node. */
    public static final int DISPUTE = 210;
    /** A node withdraws stake; it is paid back after the unbonding delay; signed by the node. */
    public static final int UNSTAKE = 211;
    /** An approver's vote for a governance change; it applies once two thirds of the approvers voted for it. */
    public static final int GOVERN = 212;

    /** The most bytes of a sealed reveal (a transaction payload has at most 16 KiB). */
    public static final int MAX_SEALED_REVEAL = 16_000;

    /** The most receipts in one claim (a transaction payload has at most 16 KiB). */
    public static final int MAX_RECEIPTS_PER_CLAIM = 40;

    private BenefitPayloads() {
    }

    /**
     * {@code personTag}: 32 bytes the registry derives from its own records of the person (e.g. a keyed hash of a
     * national id), the same for one person whatever key: a second key for the same person is refused. It reveals
     * nothing without the registry's secret.
     */
    public record PersonAttestation(NationCode nation, PublicKey person, byte[] personTag) {
        public PersonAttestation {
            personTag = hash32(personTag, "person tag");
        }

        public byte[] encode() {
            return ByteBuffer.allocate(8 + 32 + 32).put(nation.bytes()).put(person.bytes()).put(personTag).array();
        }

        public static PersonAttestation decode(byte[] payload) throws Rejection {
            ByteBuffer in = exactly(payload, 72, "person attestation");
            return new PersonAttestation(readNation(in), key(in), bytes(in, 32));
        }
    }

    public record NodeRegistration(NationCode nation, PublicKey node) {
        public byte[] encode() {
            return ByteBuffer.allocate(40).put(nation.bytes()).put(node.bytes()).array();
        }

        public static NodeRegistration decode(byte[] payload) throws Rejection {
            ByteBuffer in = exactly(payload, 40, "node registration");
            return new NodeRegistration(readNation(in), key(in));
        }
    }

    public record Stake(long amount) {
        public byte[] encode() {
            return ByteBuffer.allocate(8).putLong(amount).array();
        }

        public static Stake decode(byte[] payload) throws Rejection {
            return new Stake(positive(exactly(payload, 8, "stake").getLong(), "stake"));
        }
    }

    public record Claim(List<Receipt> receipts) {
        public Claim {
            receipts = List.copyOf(receipts);
        }

        public byte[] encode() {
            ByteBuffer out = ByteBuffer.allocate(2 + receipts.size() * Receipt.BYTES).putShort((short) receipts.size());
            receipts.forEach(r -> out.put(r.encode()));
            return out.array();
        }

        public static Claim decode(byte[] payload) throws Rejection {
            if (payload.length < 2) {
                throw invalid("a claim starts with a u16 receipt count");
            }
            ByteBuffer in = ByteBuffer.wrap(payload);
            int count = in.getShort() & 0xFFFF;
            if (count < 1 || count > MAX_RECEIPTS_PER_CLAIM) {
                throw new Rejection(Rejection.Reason.OVERSIZED, "a claim holds 1.." + MAX_RECEIPTS_PER_CLAIM
                        + " receipts, not " + count);
            }
            if (in.remaining() != count * Receipt.BYTES) {
                throw invalid("a claim of " + count + " receipts has " + (2 + count * Receipt.BYTES) + " bytes, not "
                        + payload.length);
            }
            List<Receipt> receipts = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                try {
                    receipts.add(Receipt.decode(in));
                } catch (IllegalArgumentException e) {
                    throw invalid("receipt " + i + " of the claim: " + e.getMessage());
                }
            }
            return new Claim(receipts);
        }
    }

    /** A node's audit key: the X25519 public key reveals to it are sealed with ({@link RevealCipher}). */
    public record AuditKey(byte[] key) {
        public AuditKey {
            key = hash32(key, "audit key");
        }

        public byte[] encode() {
            return key.clone();
        }

        public static AuditKey decode(byte[] payload) throws Rejection {
            return new AuditKey(bytes(exactly(payload, 32, "audit key"), 32));
        }
    }

    /** The reveal of the sampled receipt {@code receiptId}: a {@link RevealedRequest} sealed to the auditor. */
    public record Reveal(byte[] receiptId, byte[] sealed) {
        public Reveal {
            receiptId = hash32(receiptId, "receipt id");
            sealed = sealed.clone();
        }

        public byte[] encode() {
            return ByteBuffer.allocate(32 + sealed.length).put(receiptId).put(sealed).array();
        }

        public static Reveal decode(byte[] payload) throws Rejection {
            if (payload.length < 32 + RevealCipher.OVERHEAD || payload.length > 32 + MAX_SEALED_REVEAL) {
                throw new Rejection(payload.length > 32 + MAX_SEALED_REVEAL ? Rejection.Reason.OVERSIZED
                        : Rejection.Reason.INVALID_PAYLOAD, "a reveal is a receipt id and " + RevealCipher.OVERHEAD + ".."
                                + MAX_SEALED_REVEAL + " sealed bytes, not " + (payload.length - 32));
            }
            ByteBuffer in = ByteBuffer.wrap(payload);
            return new Reveal(bytes(in, 32), bytes(in, payload.length - 32));
        }
    }

    /** A verdict of a re-execution. */
    public enum Verdict {
        MATCH, MISMATCH
    }

    /**
     * An attestation of the audit of {@code receiptId}: the verdict and the hash of the output the attester computed
     * ({@link RevealedRequest#outputHash(int[])}). A match carries the receipt's hash, a mismatch another.
     */
    public record Attestation(byte[] receiptId, Verdict verdict, byte[] computedHash) {
        public Attestation {
            receiptId = hash32(receiptId, "receipt id");
            computedHash = hash32(computedHash, "computed output hash");
        }

        public byte[] encode() {
            return ByteBuffer.allocate(65).put(receiptId).put((byte) (verdict.ordinal() + 1)).put(computedHash).array();
        }

        public static Attestation decode(byte[] payload) throws Rejection {
            ByteBuffer in = exactly(payload, 65, "attestation");
            byte[] id = bytes(in, 32);
            int verdict = in.get();
            if (verdict != 1 && verdict != 2) {
                throw invalid("an attestation's verdict is 1 (match) or 2 (mismatch), not " + verdict);
            }
            return new Attestation(id, Verdict.values()[verdict - 1], bytes(in, 32));
        }
    }

    /** The accused node's dispute: the reveal's ephemeral X25519 secret, which makes the reveal public. */
    public record Dispute(byte[] receiptId, byte[] ephemeralSecret) {
        public Dispute {
            receiptId = hash32(receiptId, "receipt id");
            ephemeralSecret = hash32(ephemeralSecret, "ephemeral secret");
        }

        public byte[] encode() {
            return ByteBuffer.allocate(64).put(receiptId).put(ephemeralSecret).array();
        }

        public static Dispute decode(byte[] payload) throws Rejection {
            ByteBuffer in = exactly(payload, 64, "dispute");
            return new Dispute(bytes(in, 32), bytes(in, 32));
        }
    }

    public record Unstake(long amount) {
        public byte[] encode() {
            return ByteBuffer.allocate(8).putLong(amount).array();
        }

        public static Unstake decode(byte[] payload) throws Rejection {
            return new Unstake(positive(exactly(payload, 8, "unstake").getLong(), "unstaked amount"));
        }
    }

    /**
     * {@code coins} go to {@code buyer}; {@code payment} (in the nation's currency, minor units) goes to the
     * nation's treasury; {@code paymentReference} (32 bytes, e.g. a hash of the payment record) is usable once.
     */
    public record Sale(NationCode nation, PublicKey buyer, long coins, long payment, byte[] paymentReference) {
        public Sale {
            paymentReference = hash32(paymentReference, "payment reference");
        }

        public byte[] encode() {
            return ByteBuffer.allocate(8 + 32 + 8 + 8 + 32).put(nation.bytes()).put(buyer.bytes()).putLong(coins)
                    .putLong(payment).put(paymentReference).array();
        }

        public static Sale decode(byte[] payload) throws Rejection {
            ByteBuffer in = exactly(payload, 88, "sale");
            return new Sale(readNation(in), key(in), positive(in.getLong(), "coins sold"), positive(in.getLong(), "payment"),
                    bytes(in, 32));
        }
    }

    /**
     * A grant of {@code amount} (the nation's currency, minor units) from its treasury to {@code grantee} for
     * {@code purpose} (32 bytes, e.g. the hash of the proposal's text). The first vote opens it; the vote that
     * reaches two thirds of the approvers pays it.
     */
    public record GrantVote(NationCode nation, PublicKey grantee, long amount, byte[] purpose) {
        public GrantVote {
            purpose = hash32(purpose, "grant purpose");
        }

        public byte[] encode() {
            return ByteBuffer.allocate(8 + 32 + 8 + 32).put(nation.bytes()).put(grantee.bytes()).putLong(amount).put(purpose)
                    .array();
        }

        /** The grant's id: SHA-256 of a domain and this payload. */
        public byte[] grantId() {
            return Sha256.hash("commonweal/benefit/grant/v1".getBytes(StandardCharsets.US_ASCII), encode());
        }

        public static GrantVote decode(byte[] payload) throws Rejection {
            ByteBuffer in = exactly(payload, 80, "grant vote");
            return new GrantVote(readNation(in), key(in), positive(in.getLong(), "grant amount"), bytes(in, 32));
        }
    }

    public record LocalTransfer(NationCode nation, PublicKey recipient, long amount) {
        public byte[] encode() {
            return ByteBuffer.allocate(48).put(nation.bytes()).put(recipient.bytes()).putLong(amount).array();
        }

        public static LocalTransfer decode(byte[] payload) throws Rejection {
            ByteBuffer in = exactly(payload, 48, "local transfer");
            return new LocalTransfer(readNation(in), key(in), positive(in.getLong(), "local amount"));
        }
    }

    /**
     * A governance change, voted for by approvers with identical payloads: {@link #NATION_KEYS} replaces a nation's
     * registry and payment keys, {@link #CATEGORY_WEIGHT} sets the benefit units per token of a receipt category
     * (0: it earns nothing). {@code proposal} tells apart two votes on the same change at different times (e.g. a
     * weight set back): a change applied once is not applied again with the same number.
     */
    public record GovernanceVote(int kind, long proposal, byte[] body) {

        public static final int NATION_KEYS = 1;
        public static final int CATEGORY_WEIGHT = 2;

        public GovernanceVote {
            body = body.clone();
            if (body.length != bodyLength(kind)) {
                throw new IllegalArgumentException("a governance change of kind " + kind + " has " + bodyLength(kind)
                        + " bytes, not " + body.length);
            }
        }

        public static GovernanceVote nationKeys(long proposal, NationCode nation, PublicKey registryKey, PublicKey paymentKey) {
            return new GovernanceVote(NATION_KEYS, proposal, ByteBuffer.allocate(72).put(nation.bytes())
                    .put(registryKey.bytes()).put(paymentKey.bytes()).array());
        }

        public static GovernanceVote categoryWeight(long proposal, int category, long weight) {
            if (category < 0 || category > 255 || weight < 0) {
                throw new IllegalArgumentException("a category is 0..255 and a weight at least 0, not " + category + "="
                        + weight);
            }
            return new GovernanceVote(CATEGORY_WEIGHT, proposal, ByteBuffer.allocate(9).put((byte) category).putLong(weight)
                    .array());
        }

        private static int bodyLength(int kind) {
            return switch (kind) {
                case NATION_KEYS -> 72;
                case CATEGORY_WEIGHT -> 9;
                default -> -1;
            };
        }

        @Override
        public byte[] body() {
            return body.clone();
        }

        /** For {@link #NATION_KEYS}: the nation and its new keys. */
        public BenefitState.Nation nation() throws Rejection {
            ByteBuffer in = ByteBuffer.wrap(body);
            return new BenefitState.Nation(readNation(in), key(in), key(in));
        }

        /** For {@link #CATEGORY_WEIGHT}: the category, 0..255. */
        public int category() {
            return body[0] & 0xFF;
        }

        /** For {@link #CATEGORY_WEIGHT}: the new weight. */
        public long weight() {
            return ByteBuffer.wrap(body, 1, 8).getLong();
        }

        public byte[] encode() {
            return ByteBuffer.allocate(1 + 8 + body.length).put((byte) kind).putLong(proposal).put(body).array();
        }

        /** The change's id: SHA-256 of a domain and this payload (every approver votes for the same bytes). */
        public byte[] changeId() {
            return Sha256.hash("commonweal/benefit/govern/v1".getBytes(StandardCharsets.US_ASCII), encode());
        }

        public static GovernanceVote decode(byte[] payload) throws Rejection {
            if (payload.length < 9) {
                throw invalid("a governance vote payload has at least 9 bytes, not " + payload.length);
            }
            ByteBuffer in = ByteBuffer.wrap(payload);
            int kind = in.get() & 0xFF;
            long proposal = in.getLong();
            int length = bodyLength(kind);
            if (length < 0) {
                throw invalid("unknown governance change kind " + kind + " (1: nation keys, 2: category weight)");
            }
            if (in.remaining() != length) {
                throw invalid("a governance change of kind " + kind + " has " + length + " bytes, not " + in.remaining());
            }
            GovernanceVote vote = new GovernanceVote(kind, proposal, bytes(in, length));
            if (kind == NATION_KEYS) {
                vote.nation(); // a well-formed nation code
            } else if (vote.weight() < 0) {
                throw invalid("a category weight is at least 0, not " + vote.weight());
            }
            return vote;
        }
    }

    private static byte[] hash32(byte[] bytes, String what) {
        if (bytes == null || bytes.length != 32) {
            throw new IllegalArgumentException("the " + what + " has 32 bytes");
        }
        return bytes.clone();
    }

    private static ByteBuffer exactly(byte[] payload, int bytes, String what) throws Rejection {
        if (payload.length != bytes) {
            throw invalid("a " + what + " payload has " + bytes + " bytes, not " + payload.length);
        }
        return ByteBuffer.wrap(payload);
    }

    private static NationCode readNation(ByteBuffer in) throws Rejection {
        try {
            return NationCode.of(bytes(in, NationCode.BYTES));
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    private static PublicKey key(ByteBuffer in) {
        return PublicKey.of(bytes(in, 32));
    }

    private static byte[] bytes(ByteBuffer in, int n) {
        byte[] bytes = new byte[n];
        in.get(bytes);
        return bytes;
    }

    private static long positive(long value, String what) throws Rejection {
        if (value <= 0) {
            throw invalid("the " + what + " is 1..2^63-1, not " + Long.toUnsignedString(value));
        }
        return value;
    }

    private static Rejection invalid(String message) {
        return new Rejection(Rejection.Reason.INVALID_PAYLOAD, message);
    }
}
