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
