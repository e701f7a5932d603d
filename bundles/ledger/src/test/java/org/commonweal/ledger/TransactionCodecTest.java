package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.crypto.Sha256;
import org.junit.jupiter.api.Test;

class TransactionCodecTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final long SEED = 0x5EED_C0DEC_1L;

    /** Field offsets in the v1 encoding, as the Javadoc lays them out. */
    static final int VERSION_AT = 0;
    static final int CHAIN_AT = 1;
    static final int SENDER_AT = 5;
    static final int NONCE_AT = 37;
    static final int FEE_AT = 45;
    static final int TYPE_AT = 53;
    static final int LENGTH_AT = 55;
    static final int PAYLOAD_AT = 59;

    // ---------------------------------------------------------------- helpers shared with the fuzz test

    static byte[] bytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** 0..2^63-1, with the edges (0, 1, 2^63-1, 2^62...) often. */
    static long u63(Random random) {
        return switch (random.nextInt(6)) {
            case 0 -> 0L;
            case 1 -> Long.MAX_VALUE;
            case 2 -> 1L;
            case 3 -> 1L << random.nextInt(63);
            default -> random.nextLong() & Long.MAX_VALUE;
        };
    }

    static int payloadType(Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> 0;
            case 1 -> 0xFFFF;
            case 2 -> Transfer.TYPE;
            default -> random.nextInt(0x10000);
        };
    }

    /** A random (unsigned-checked) transaction with payload length up to {@code maxPayload}. */
    static Transaction randomTransaction(Random random, int maxPayload) {
        int length = switch (random.nextInt(6)) {
            case 0 -> 0;
            case 1 -> maxPayload;
            case 2 -> random.nextInt(Math.min(maxPayload, 64) + 1);
            default -> random.nextInt(maxPayload + 1);
        };
        int chainId = random.nextInt(4) == 0 ? (random.nextBoolean() ? 0 : -1) : random.nextInt();
        return new Transaction(chainId, PublicKey.of(bytes(random, 32)), u63(random), u63(random), payloadType(random),
                bytes(random, length), bytes(random, Ed25519.SIGNATURE_LENGTH));
    }

    static PrivateKey key(long seed) {
        return Ed25519.fromSeed(bytes(new Random(seed), 32));
    }

    private static Rejection rejects(byte[] input, Rejection.Reason reason, String... messageParts) {
        Rejection rejection = assertThrows(Rejection.class, () -> TransactionCodec.decode(input));
        assertEquals(reason, rejection.reason(), rejection::getMessage);
        assertTrue(rejection.getMessage().startsWith(reason + ": "), rejection::getMessage);
        for (String part : messageParts) {
            assertTrue(rejection.getMessage().contains(part), () -> "'" + rejection.getMessage() + "' should name '" + part + "'");
        }
        return rejection;
    }

    private static Transaction sample(int payloadLength) {
        Random random = new Random(SEED + payloadLength);
        return new Transaction(7, PublicKey.of(bytes(random, 32)), 3, 10, Transfer.TYPE, bytes(random, payloadLength),
                bytes(random, 64));
    }

    private static byte[] withLong(byte[] encoding, int at, long value) {
        byte[] copy = encoding.clone();
        ByteBuffer.wrap(copy).putLong(at, value);
        return copy;
    }

    private static byte[] withInt(byte[] encoding, int at, int value) {
        byte[] copy = encoding.clone();
        ByteBuffer.wrap(copy).putInt(at, value);
        return copy;
    }

    // ---------------------------------------------------------------- round trip

    @Test
    void constantsMatchTheLayout() {
        assertEquals(1 + 4 + 32 + 8 + 8 + 2 + 4 + 64, TransactionCodec.FIXED_BYTES);
        assertEquals(123, TransactionCodec.FIXED_BYTES);
        assertEquals(16384, TransactionCodec.MAX_PAYLOAD_BYTES);
        assertEquals(123 + 16384, TransactionCodec.MAX_TRANSACTION_BYTES);
        assertEquals(1, TransactionCodec.VERSION);
    }

    @Test
    void randomTransactionsRoundTrip() throws Rejection {
        Random random = new Random(SEED);
        Set<Integer> lengths = new HashSet<>();
        boolean sawMaxNonce = false;
        boolean sawZeroFee = false;
        for (int i = 0; i < 400; i++) {
            Transaction tx = randomTransaction(random, TransactionCodec.MAX_PAYLOAD_BYTES);
            byte[] encoding = TransactionCodec.encode(tx);
            String where = "transaction " + i + " of seed " + SEED;
            assertEquals(TransactionCodec.FIXED_BYTES + tx.payload().length, encoding.length, where);
            Transaction decoded = TransactionCodec.decode(encoding);
            assertEquals(tx, decoded, where);
            assertEquals(tx.hashCode(), decoded.hashCode(), where);
            assertEquals(tx.chainId(), decoded.chainId(), where);
            assertEquals(tx.sender(), decoded.sender(), where);
            assertEquals(tx.nonce(), decoded.nonce(), where);
            assertEquals(tx.fee(), decoded.fee(), where);
            assertEquals(tx.payloadType(), decoded.payloadType(), where);
            assertArrayEquals(tx.payload(), decoded.payload(), where);
            assertArrayEquals(tx.signature(), decoded.signature(), where);
            assertArrayEquals(encoding, TransactionCodec.encode(decoded), where);
            assertArrayEquals(tx.id(), decoded.id(), where);
            lengths.add(tx.payload().length);
            sawMaxNonce |= tx.nonce() == Long.MAX_VALUE;
            sawZeroFee |= tx.fee() == 0;
        }
        // The generator really did reach the edges.
        assertTrue(lengths.contains(0) && lengths.contains(TransactionCodec.MAX_PAYLOAD_BYTES), lengths::toString);
        assertTrue(sawMaxNonce && sawZeroFee);
    }

    @Test
    void edgeValuesRoundTrip() throws Rejection {
        Random random = new Random(SEED);
        for (int chainId : new int[] {0, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, -1}) {
            for (long number : new long[] {0, 1, Long.MAX_VALUE}) {
                for (int type : new int[] {0, 1, 0x7FFF, 0x8000, 0xFFFF}) {
                    for (int length : new int[] {0, 1, TransactionCodec.MAX_PAYLOAD_BYTES}) {
                        Transaction tx = new Transaction(chainId, PublicKey.of(bytes(random, 32)), number, number, type,
                                bytes(random, length), bytes(random, 64));
                        byte[] encoding = TransactionCodec.encode(tx);
                        assertEquals(tx, TransactionCodec.decode(encoding));
                        assertArrayEquals(encoding, TransactionCodec.encode(TransactionCodec.decode(encoding)));
                    }
                }
            }
        }
    }

    @Test
    void decodedBytesAreCopiesNotViews() throws Rejection {
        Transaction tx = sample(5);
        byte[] encoding = TransactionCodec.encode(tx);
        Transaction decoded = TransactionCodec.decode(encoding);
        Arrays.fill(encoding, (byte) 0x55);
        assertEquals(tx, decoded, "changing the input afterwards does not change the transaction");
        decoded.payload()[0] ^= 1;
        decoded.signature()[0] ^= 1;
        assertEquals(tx, decoded, "the accessors hand out copies");
    }

    // ---------------------------------------------------------------- exact layout

    @Test
    void exactByteLayout() {
        byte[] sender = new byte[32];
        for (int i = 0; i < 32; i++) {
            sender[i] = (byte) i;
        }
        byte[] signature = new byte[64];
        for (int i = 0; i < 64; i++) {
            signature[i] = (byte) (0x40 + i);
        }
        Transaction tx = new Transaction(0x0A0B0C0D, PublicKey.of(sender), 0x0102030405060708L, Long.MAX_VALUE, 0xBEEF,
                new byte[] {(byte) 0xCA, (byte) 0xFE, 0x01}, signature);
        String expected = "01" // u8 version
                + "0a0b0c0d" // u32 chain id
                + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" // sender
                + "0102030405060708" // u64 nonce
                + "7fffffffffffffff" // u64 fee
                + "beef" // u16 payload type
                + "00000003" // u32 payload length
                + "cafe01" // payload
                + "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" // signature
                + "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f";
        assertEquals(expected, HEX.formatHex(TransactionCodec.encode(tx)));

        // The signed bytes: the ASCII domain, then the same fields without the signature.
        String domain = HEX.formatHex("commonweal/transaction/v1".getBytes(StandardCharsets.US_ASCII));
        assertEquals(domain + expected.substring(0, expected.length() - 128), HEX.formatHex(TransactionCodec.signingBytes(tx)));

        // id = SHA-256 of exactly those bytes.
        assertArrayEquals(Sha256.hash(HEX.parseHex(expected)), tx.id());
    }

    @Test
    void chainIdIsUnsigned32AndZeroValuesAreAllZeros() throws Rejection {
        Transaction tx = new Transaction(-1, PublicKey.of(new byte[32]), 0, 0, 0, new byte[0], new byte[64]);
        byte[] encoding = TransactionCodec.encode(tx);
        assertEquals("01ffffffff" + "00".repeat(32 + 8 + 8 + 2 + 4 + 64), HEX.formatHex(encoding));
        assertEquals(-1, TransactionCodec.decode(encoding).chainId());
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void emptyAndShortInputIsMalformed() {
        rejects(new byte[0], Rejection.Reason.MALFORMED, "at least 123 bytes", "has 0");
        rejects(null, Rejection.Reason.MALFORMED, "at least 123 bytes");
        rejects(new byte[] {1}, Rejection.Reason.MALFORMED, "at least 123 bytes", "has 1");
        byte[] empty = TransactionCodec.encode(sample(0));
        rejects(Arrays.copyOf(empty, 122), Rejection.Reason.MALFORMED, "at least 123 bytes", "has 122");
    }

    @Test
    void trailingByteIsMalformed() {
        for (int length : new int[] {0, 3, TransactionCodec.MAX_PAYLOAD_BYTES - 1}) {
            byte[] encoding = TransactionCodec.encode(sample(length));
            byte[] longer = Arrays.copyOf(encoding, encoding.length + 1);
            rejects(longer, Rejection.Reason.MALFORMED, "payload length says " + length + " bytes",
                    (length + 1) + " bytes precede the signature");
        }
    }

    @Test
    void everyTruncationIsMalformed() {
        byte[] encoding = TransactionCodec.encode(sample(10));
        for (int length = 0; length < encoding.length; length++) {
            rejects(Arrays.copyOf(encoding, length), Rejection.Reason.MALFORMED);
        }
        // A payload cut short, signature intact.
        byte[] cut = new byte[encoding.length - 4];
        System.arraycopy(encoding, 0, cut, 0, PAYLOAD_AT + 6);
        System.arraycopy(encoding, PAYLOAD_AT + 10, cut, PAYLOAD_AT + 6, 64);
        rejects(cut, Rejection.Reason.MALFORMED, "payload length says 10 bytes", "but 6 bytes precede the signature");
    }

    @Test
    void payloadLengthBeyondTheInputIsMalformed() {
        byte[] encoding = TransactionCodec.encode(sample(10));
        rejects(withInt(encoding, LENGTH_AT, 11), Rejection.Reason.MALFORMED, "says 11 bytes", "but 10 bytes");
        rejects(withInt(encoding, LENGTH_AT, 74), Rejection.Reason.MALFORMED, "says 74 bytes", "but 10 bytes");
        rejects(withInt(encoding, LENGTH_AT, TransactionCodec.MAX_PAYLOAD_BYTES), Rejection.Reason.MALFORMED,
                "says 16384 bytes");
        rejects(withInt(encoding, LENGTH_AT, 9), Rejection.Reason.MALFORMED, "says 9 bytes", "but 10 bytes");
        rejects(withInt(encoding, LENGTH_AT, 0), Rejection.Reason.MALFORMED, "says 0 bytes", "but 10 bytes");
    }

    @Test
    void payloadOverTheLimitIsOversized() {
        byte[] encoding = TransactionCodec.encode(sample(10));
        rejects(withInt(encoding, LENGTH_AT, TransactionCodec.MAX_PAYLOAD_BYTES + 1), Rejection.Reason.OVERSIZED,
                "payload of 16385 bytes", "limit is 16384");
        rejects(withInt(encoding, LENGTH_AT, Integer.MAX_VALUE), Rejection.Reason.OVERSIZED, "payload of 2147483647 bytes");
        rejects(withInt(encoding, LENGTH_AT, -1), Rejection.Reason.OVERSIZED, "payload of 4294967295 bytes",
                "limit is 16384");
        rejects(withInt(encoding, LENGTH_AT, Integer.MIN_VALUE), Rejection.Reason.OVERSIZED, "payload of 2147483648 bytes");
    }

    @Test
    void inputOverTheLimitIsOversized() {
        // A real 16385-byte payload with a consistent length field: the whole input is one byte too long.
        byte[] atLimit = TransactionCodec.encode(sample(TransactionCodec.MAX_PAYLOAD_BYTES));
        byte[] over = new byte[atLimit.length + 1];
        System.arraycopy(atLimit, 0, over, 0, PAYLOAD_AT);
        ByteBuffer.wrap(over).putInt(LENGTH_AT, TransactionCodec.MAX_PAYLOAD_BYTES + 1);
        rejects(over, Rejection.Reason.OVERSIZED, "at most 16507 bytes", "has 16508");
        rejects(new byte[1 << 20], Rejection.Reason.OVERSIZED, "at most 16507 bytes", "has 1048576");
        // Exactly at the limit is fine.
        assertEquals(TransactionCodec.MAX_TRANSACTION_BYTES, atLimit.length);
        assertEquals(sample(TransactionCodec.MAX_PAYLOAD_BYTES), assertDoesNotReject(atLimit));
    }

    private static Transaction assertDoesNotReject(byte[] bytes) {
        try {
            return TransactionCodec.decode(bytes);
        } catch (Rejection e) {
            return fail("rejected: " + e.getMessage());
        }
    }

    @Test
    void unknownVersionsAreMalformed() {
        byte[] encoding = TransactionCodec.encode(sample(3));
        for (int version : new int[] {0, 2, 0x7F, 0x80, 0xFF}) {
            byte[] other = encoding.clone();
            other[VERSION_AT] = (byte) version;
            rejects(other, Rejection.Reason.MALFORMED, "unknown transaction version " + version, "reads 1");
        }
    }

    @Test
    void nonceOrFeeWithTheHighBitSetIsMalformed() {
        byte[] encoding = TransactionCodec.encode(sample(3));
        for (long high : new long[] {Long.MIN_VALUE, -1L, Long.MIN_VALUE + 1, 0x8000_0000_0000_0003L}) {
            rejects(withLong(encoding, NONCE_AT, high), Rejection.Reason.MALFORMED, "nonce exceeds 2^63 - 1");
            rejects(withLong(encoding, FEE_AT, high), Rejection.Reason.MALFORMED, "fee exceeds 2^63 - 1");
        }
        // One bit below is still a valid number.
        assertEquals(Long.MAX_VALUE, assertDoesNotReject(withLong(encoding, NONCE_AT, Long.MAX_VALUE)).nonce());
        assertEquals(Long.MAX_VALUE, assertDoesNotReject(withLong(encoding, FEE_AT, Long.MAX_VALUE)).fee());
    }

    // ---------------------------------------------------------------- signatures and ids

    @Test
    void signedTransactionsVerifyAndAnySingleChangeBreaksThem() throws Rejection {
        PrivateKey key = key(SEED);
        byte[] payload = bytes(new Random(SEED), 40);
        Transaction tx = TransactionCodec.sign(key, 42, 7, 1000, Transfer.TYPE, payload);
        assertTrue(TransactionCodec.signatureValid(tx));
        assertEquals(key.publicKey(), tx.sender());
        assertEquals(Ed25519.SIGNATURE_LENGTH, tx.signature().length);
        Transaction decoded = TransactionCodec.decode(TransactionCodec.encode(tx));
        assertTrue(TransactionCodec.signatureValid(decoded), "still valid after a round trip");

        for (Transaction changed : singleFieldChanges(tx)) {
            assertFalse(TransactionCodec.signatureValid(changed), () -> "still verifies: " + changed);
        }
    }

    @Test
    void signingAtTheEdgesVerifies() {
        PrivateKey key = key(SEED + 1);
        for (long number : new long[] {0, Long.MAX_VALUE}) {
            for (int type : new int[] {0, 0xFFFF}) {
                for (int length : new int[] {0, TransactionCodec.MAX_PAYLOAD_BYTES}) {
                    Transaction tx = TransactionCodec.sign(key, -1, number, number, type, new byte[length]);
                    assertTrue(TransactionCodec.signatureValid(tx));
                }
            }
        }
    }

    @Test
    void everySingleByteChangeInASignedEncodingIsRejectedOrInvalid() {
        Transaction tx = TransactionCodec.sign(key(SEED + 2), 42, 7, 1000, Transfer.TYPE, bytes(new Random(SEED), 40));
        byte[] encoding = TransactionCodec.encode(tx);
        for (int at = 0; at < encoding.length; at++) {
            for (int mask : new int[] {0x01, 0x80}) {
                byte[] changed = encoding.clone();
                changed[at] ^= (byte) mask;
                try {
                    Transaction decoded = TransactionCodec.decode(changed);
                    assertFalse(TransactionCodec.signatureValid(decoded), "byte " + at + " ^ " + mask + " still verifies");
                    assertNotEquals(tx, decoded);
                    assertFalse(Arrays.equals(tx.id(), decoded.id()));
                } catch (Rejection expected) {
                    // the version, the length, or the high bit of nonce/fee
                    assertTrue(at == VERSION_AT || (at >= LENGTH_AT && at < PAYLOAD_AT)
                            || (mask == 0x80 && (at == NONCE_AT || at == FEE_AT)), "byte " + at + ": " + expected);
                }
            }
        }
    }

    @Test
    void signaturesAreDomainSeparated() {
        PrivateKey key = key(SEED + 3);
        byte[] payload = {1, 2, 3};
        Transaction tx = TransactionCodec.sign(key, 42, 7, 1000, 9, payload);
        byte[] signed = TransactionCodec.signingBytes(42, key.publicKey(), 7, 1000, 9, payload);
        byte[] domain = TransactionCodec.SIGNING_DOMAIN.getBytes(StandardCharsets.US_ASCII);
        assertEquals("commonweal/transaction/v1", TransactionCodec.SIGNING_DOMAIN);
        assertArrayEquals(domain, Arrays.copyOf(signed, domain.length), "the signed bytes start with the domain");
        byte[] encoding = TransactionCodec.encode(tx);
        byte[] unsigned = Arrays.copyOf(encoding, encoding.length - Ed25519.SIGNATURE_LENGTH);
        assertArrayEquals(unsigned, Arrays.copyOfRange(signed, domain.length, signed.length),
                "then the encoding without its signature");
        assertArrayEquals(signed, TransactionCodec.signingBytes(tx));
        assertTrue(Ed25519.verify(key.publicKey(), signed, tx.signature()));

        // A signature over the raw encoding (no domain), or under another domain, is not a transaction signature.
        Transaction raw = withSignature(tx, key.sign(unsigned));
        assertFalse(TransactionCodec.signatureValid(raw), "a signature without the domain");
        byte[] otherDomain = concat("commonweal/block/v1".getBytes(StandardCharsets.US_ASCII), unsigned);
        assertFalse(TransactionCodec.signatureValid(withSignature(tx, key.sign(otherDomain))), "another domain");
        assertFalse(TransactionCodec.signatureValid(withSignature(tx, key.sign(encoding))), "over the full encoding");
        // And the domain-prefixed signature made by hand is exactly what sign() produces (Ed25519 is deterministic).
        assertArrayEquals(tx.signature(), key.sign(concat(domain, unsigned)));
    }

    @Test
    void anotherKeysSignatureDoesNotVerify() {
        Transaction tx = TransactionCodec.sign(key(SEED + 4), 1, 0, 0, 0, new byte[0]);
        Transaction forged = TransactionCodec.sign(key(SEED + 5), 1, 0, 0, 0, new byte[0]);
        assertFalse(TransactionCodec.signatureValid(withSignature(tx, forged.signature())));
        assertFalse(TransactionCodec.signatureValid(withSignature(tx, new byte[64])));
        assertFalse(TransactionCodec.signatureValid(new Transaction(1, PublicKey.of(new byte[32]), 0, 0, 0, new byte[0],
                tx.signature())), "the all-zero key");
    }

    @Test
    void idIsTheHashOfTheEncodingAndDiffersWithEveryField() {
        Transaction tx = TransactionCodec.sign(key(SEED + 6), 42, 7, 1000, Transfer.TYPE, bytes(new Random(SEED), 40));
        assertEquals(32, tx.id().length);
        assertArrayEquals(Sha256.hash(TransactionCodec.encode(tx)), tx.id());
        assertArrayEquals(tx.id(), new Transaction(tx.chainId(), tx.sender(), tx.nonce(), tx.fee(), tx.payloadType(),
                tx.payload(), tx.signature()).id(), "equal transactions have equal ids");
        Set<String> ids = new HashSet<>();
        ids.add(HEX.formatHex(tx.id()));
        List<Transaction> changes = singleFieldChanges(tx);
        for (Transaction changed : changes) {
            assertArrayEquals(Sha256.hash(TransactionCodec.encode(changed)), changed.id());
            assertTrue(ids.add(HEX.formatHex(changed.id())), () -> "id collides: " + changed);
            assertNotEquals(tx, changed);
        }
        assertEquals(changes.size() + 1, ids.size());
    }

    /** The transaction with one field changed, each way: chain, sender, nonce, fee, type, each payload and signature byte. */
    private static List<Transaction> singleFieldChanges(Transaction tx) {
        List<Transaction> changes = new ArrayList<>();
        PublicKey otherSender = key(SEED + 99).publicKey();
        byte[] sender = tx.sender().bytes();
        sender[31] ^= 1;
        changes.add(new Transaction(tx.chainId() + 1, tx.sender(), tx.nonce(), tx.fee(), tx.payloadType(), tx.payload(), tx.signature()));
        changes.add(new Transaction(tx.chainId() ^ Integer.MIN_VALUE, tx.sender(), tx.nonce(), tx.fee(), tx.payloadType(),
                tx.payload(), tx.signature()));
        changes.add(new Transaction(tx.chainId(), otherSender, tx.nonce(), tx.fee(), tx.payloadType(), tx.payload(), tx.signature()));
        changes.add(new Transaction(tx.chainId(), PublicKey.of(sender), tx.nonce(), tx.fee(), tx.payloadType(), tx.payload(),
                tx.signature()));
        changes.add(new Transaction(tx.chainId(), tx.sender(), tx.nonce() + 1, tx.fee(), tx.payloadType(), tx.payload(), tx.signature()));
        changes.add(new Transaction(tx.chainId(), tx.sender(), tx.nonce(), tx.fee() + 1, tx.payloadType(), tx.payload(), tx.signature()));
        changes.add(new Transaction(tx.chainId(), tx.sender(), tx.nonce(), tx.fee(), tx.payloadType() ^ 1, tx.payload(), tx.signature()));
        changes.add(new Transaction(tx.chainId(), tx.sender(), tx.nonce(), tx.fee(), tx.payloadType() ^ 0x8000, tx.payload(),
                tx.signature()));
        byte[] payload = tx.payload();
        for (int i = 0; i < payload.length; i++) {
            byte[] changed = payload.clone();
            changed[i] ^= (byte) (1 << (i % 8));
            changes.add(new Transaction(tx.chainId(), tx.sender(), tx.nonce(), tx.fee(), tx.payloadType(), changed, tx.signature()));
        }
        changes.add(new Transaction(tx.chainId(), tx.sender(), tx.nonce(), tx.fee(), tx.payloadType(), concat(payload, new byte[1]),
                tx.signature()));
        changes.add(new Transaction(tx.chainId(), tx.sender(), tx.nonce(), tx.fee(), tx.payloadType(),
                Arrays.copyOf(payload, payload.length - 1), tx.signature()));
        byte[] signature = tx.signature();
        for (int i = 0; i < signature.length; i++) {
            byte[] changed = signature.clone();
            changed[i] ^= (byte) (1 << (i % 8));
            changes.add(withSignature(tx, changed));
        }
        return changes;
    }

    private static Transaction withSignature(Transaction tx, byte[] signature) {
        return new Transaction(tx.chainId(), tx.sender(), tx.nonce(), tx.fee(), tx.payloadType(), tx.payload(), signature);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    // ---------------------------------------------------------------- encoding refuses what decoding would

    @Test
    void encodingRefusesOutOfRangeFields() {
        PublicKey sender = PublicKey.of(new byte[32]);
        byte[] sig = new byte[64];
        assertRefused("nonce", new Transaction(1, sender, -1, 0, 0, new byte[0], sig));
        assertRefused("nonce", new Transaction(1, sender, Long.MIN_VALUE, 0, 0, new byte[0], sig));
        assertRefused("fee", new Transaction(1, sender, 0, -1, 0, new byte[0], sig));
        assertRefused("fee", new Transaction(1, sender, 0, Long.MIN_VALUE, 0, new byte[0], sig));
        assertRefused("payload type", new Transaction(1, sender, 0, 0, 0x10000, new byte[0], sig));
        assertRefused("payload type", new Transaction(1, sender, 0, 0, -1, new byte[0], sig));
        assertRefused("payload type", new Transaction(1, sender, 0, 0, Integer.MAX_VALUE, new byte[0], sig));
        assertRefused("16384", new Transaction(1, sender, 0, 0, 0, new byte[TransactionCodec.MAX_PAYLOAD_BYTES + 1], sig));
        // A signature is exactly 64 bytes; a short one must not be zero-padded into another transaction's bytes.
        assertRefused("signature", new Transaction(1, sender, 0, 0, 0, new byte[0], new byte[63]));
        assertRefused("signature", new Transaction(1, sender, 0, 0, 0, new byte[0], new byte[65]));
        assertRefused("signature", new Transaction(1, sender, 0, 0, 0, new byte[0], new byte[0]));

        PrivateKey key = key(SEED);
        assertThrows(IllegalArgumentException.class, () -> TransactionCodec.sign(key, 1, -1, 0, 0, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> TransactionCodec.sign(key, 1, 0, -1, 0, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> TransactionCodec.sign(key, 1, 0, 0, 0x10000, new byte[0]));
        assertThrows(IllegalArgumentException.class,
                () -> TransactionCodec.sign(key, 1, 0, 0, 0, new byte[TransactionCodec.MAX_PAYLOAD_BYTES + 1]));
        assertThrows(IllegalArgumentException.class,
                () -> TransactionCodec.signingBytes(1, sender, 0, 0, 0x10000, new byte[0]));
    }

    private static void assertRefused(String named, Transaction tx) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TransactionCodec.encode(tx));
        assertTrue(e.getMessage().contains(named), () -> "'" + e.getMessage() + "' should name '" + named + "'");
        assertThrows(IllegalArgumentException.class, tx::id);
    }
}
