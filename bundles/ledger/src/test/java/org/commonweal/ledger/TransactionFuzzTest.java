package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the decoders. The property: decoding either refuses with a {@link Rejection} or
 * returns a value whose encoding is exactly the input (so there is one encoding per value); nothing
 * else ever escapes. A failure names the seed, the iteration and the input in hex.
 */
class TransactionFuzzTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final long SEED = 0xF022_1E55L;
    private static final int INPUTS = 20_000;

    private final Map<Rejection.Reason, Integer> reasons = new EnumMap<>(Rejection.Reason.class);
    private int accepted;

    @Test
    void transactionDecodeRejectsOrRoundTripsExactly() {
        Random random = new Random(SEED);
        for (int i = 0; i < INPUTS; i++) {
            byte[] input = switch (i % 4) {
                case 0 -> randomBytes(random);
                case 1 -> plausibleHeader(random);
                default -> mutate(random, TransactionCodec.encode(TransactionCodecTest.randomTransaction(random, smallPayload(random))));
            };
            checkTransaction(input, i);
        }
        // The fuzzer reached both sides and every way of refusing.
        assertTrue(accepted > INPUTS / 20, () -> "only " + accepted + " accepted");
        assertTrue(reasons.getOrDefault(Rejection.Reason.MALFORMED, 0) > INPUTS / 10, reasons::toString);
        assertTrue(reasons.getOrDefault(Rejection.Reason.OVERSIZED, 0) > 10, reasons::toString);
        assertEquals(2, reasons.size(), reasons::toString);
    }

    @Test
    void transferDecodeRejectsOrRoundTripsExactly() {
        Random random = new Random(SEED + 1);
        int transfers = 0;
        for (int i = 0; i < INPUTS; i++) {
            int length = switch (random.nextInt(4)) {
                case 0 -> random.nextInt(100);
                case 1 -> Transfer.BYTES + random.nextInt(3) - 1;
                default -> Transfer.BYTES;
            };
            byte[] input = TransactionCodecTest.bytes(random, length);
            if (length == Transfer.BYTES && random.nextInt(4) == 0) {
                // Amounts at the edges: 0, 1, 2^63 - 1, 2^63, 2^64 - 1.
                long[] edges = {0, 1, Long.MAX_VALUE, Long.MIN_VALUE, -1};
                ByteBuffer.wrap(input).putLong(32, edges[random.nextInt(edges.length)]);
            }
            try {
                Transfer transfer = Transfer.decode(input);
                if (!Arrays.equals(input, transfer.encode()) || transfer.amount() <= 0) {
                    fail("transfer input " + i + " of seed " + SEED + " decodes to " + transfer + " which encodes differently: "
                            + HEX.formatHex(input));
                }
                transfers++;
            } catch (Rejection rejection) {
                if (rejection.reason() != Rejection.Reason.INVALID_PAYLOAD) {
                    fail("transfer input " + i + ": wrong reason " + rejection.getMessage() + " for " + HEX.formatHex(input));
                }
            } catch (Throwable t) {
                throw new AssertionError("transfer input " + i + " of seed " + SEED + " threw " + t + " for input "
                        + HEX.formatHex(input), t);
            }
        }
        assertTrue(transfers > INPUTS / 4, "only " + transfers + " accepted");
    }

    private void checkTransaction(byte[] input, int i) {
        Transaction tx;
        try {
            tx = TransactionCodec.decode(input);
        } catch (Rejection rejection) {
            if (rejection.reason() != Rejection.Reason.MALFORMED && rejection.reason() != Rejection.Reason.OVERSIZED
                    || rejection.getMessage() == null || rejection.getMessage().length() < 20) {
                fail("input " + i + " of seed " + SEED + ": unexpected rejection '" + rejection.getMessage() + "' for "
                        + HEX.formatHex(input));
            }
            reasons.merge(rejection.reason(), 1, Integer::sum);
            return;
        } catch (Throwable t) {
            throw new AssertionError("input " + i + " of seed " + SEED + ": decode threw " + t + " (not a Rejection) for input "
                    + HEX.formatHex(input), t);
        }
        try {
            byte[] again = TransactionCodec.encode(tx);
            if (!Arrays.equals(input, again)) {
                fail("input " + i + " of seed " + SEED + " was accepted but re-encodes differently:\n in:  "
                        + HEX.formatHex(input) + "\n out: " + HEX.formatHex(again));
            }
            assertEquals(32, tx.id().length);
            if (accepted % 16 == 0) {
                // Verifying arbitrary keys and signatures says false, it never throws.
                TransactionCodec.signatureValid(tx);
            }
            if (tx.payloadType() == Transfer.TYPE) {
                try {
                    Transfer.decode(tx.payload());
                } catch (Rejection rejection) {
                    assertEquals(Rejection.Reason.INVALID_PAYLOAD, rejection.reason());
                }
            }
        } catch (Throwable t) {
            throw new AssertionError("input " + i + " of seed " + SEED + ": an accepted transaction failed afterwards with " + t
                    + " for input " + HEX.formatHex(input), t);
        }
        accepted++;
    }

    private static int smallPayload(Random random) {
        return random.nextInt(50) == 0 ? TransactionCodec.MAX_PAYLOAD_BYTES : random.nextInt(200);
    }

    /** Pure noise of a random length, now and then past the size limit. */
    private static byte[] randomBytes(Random random) {
        int length = switch (random.nextInt(10)) {
            case 0 -> TransactionCodec.MAX_TRANSACTION_BYTES - 2 + random.nextInt(5);
            case 1 -> TransactionCodec.FIXED_BYTES - 2 + random.nextInt(5);
            default -> random.nextInt(400);
        };
        byte[] bytes = TransactionCodecTest.bytes(random, length);
        if (bytes.length > 0 && random.nextBoolean()) {
            bytes[0] = TransactionCodec.VERSION;
        }
        return bytes;
    }

    /** Noise with version 1 and a payload length that is usually consistent, sometimes off by a little or a lot. */
    private static byte[] plausibleHeader(Random random) {
        int payload = random.nextInt(10) == 0 ? TransactionCodec.MAX_PAYLOAD_BYTES + random.nextInt(3) - 1 : random.nextInt(300);
        byte[] bytes = TransactionCodecTest.bytes(random, TransactionCodec.FIXED_BYTES + payload);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        buffer.put(TransactionCodecTest.VERSION_AT, (byte) TransactionCodec.VERSION);
        if (random.nextInt(4) != 0) {
            buffer.put(TransactionCodecTest.NONCE_AT, (byte) (bytes[TransactionCodecTest.NONCE_AT] & 0x7F));
            buffer.put(TransactionCodecTest.FEE_AT, (byte) (bytes[TransactionCodecTest.FEE_AT] & 0x7F));
        }
        int length = switch (random.nextInt(8)) {
            case 0 -> payload + random.nextInt(5) - 2;
            case 1 -> random.nextInt();
            case 2 -> TransactionCodec.MAX_PAYLOAD_BYTES + random.nextInt(3) - 1;
            default -> payload;
        };
        buffer.putInt(TransactionCodecTest.LENGTH_AT, length);
        return bytes;
    }

    /** One to three mutations of a valid encoding: replace, insert, delete, truncate, or rewrite a number field. */
    private static byte[] mutate(Random random, byte[] encoding) {
        byte[] bytes = encoding;
        int mutations = random.nextInt(6) == 0 ? 1 + random.nextInt(3) : 1;
        for (int m = 0; m < mutations; m++) {
            int at = bytes.length == 0 ? 0 : random.nextInt(bytes.length);
            switch (random.nextInt(7)) {
                case 0, 1 -> { // replace one byte (possibly with itself: an unchanged input must round-trip)
                    if (bytes.length > 0) {
                        bytes = bytes.clone();
                        bytes[at] = (byte) random.nextInt(256);
                    }
                }
                case 2 -> { // insert one byte
                    byte[] longer = new byte[bytes.length + 1];
                    System.arraycopy(bytes, 0, longer, 0, at);
                    longer[at] = (byte) random.nextInt(256);
                    System.arraycopy(bytes, at, longer, at + 1, bytes.length - at);
                    bytes = longer;
                }
                case 3 -> { // delete one byte
                    if (bytes.length > 0) {
                        byte[] shorter = new byte[bytes.length - 1];
                        System.arraycopy(bytes, 0, shorter, 0, at);
                        System.arraycopy(bytes, at + 1, shorter, at, bytes.length - at - 1);
                        bytes = shorter;
                    }
                }
                case 4 -> bytes = Arrays.copyOf(bytes, at); // truncate
                case 5 -> { // rewrite the payload length
                    if (bytes.length >= TransactionCodecTest.PAYLOAD_AT) {
                        bytes = bytes.clone();
                        int[] lengths = {0, bytes.length - TransactionCodec.FIXED_BYTES + random.nextInt(3) - 1,
                                TransactionCodec.MAX_PAYLOAD_BYTES, TransactionCodec.MAX_PAYLOAD_BYTES + 1, -1, random.nextInt()};
                        ByteBuffer.wrap(bytes).putInt(TransactionCodecTest.LENGTH_AT, lengths[random.nextInt(lengths.length)]);
                    }
                }
                default -> { // set or clear the high bit of nonce or fee, or change the version
                    if (bytes.length >= TransactionCodecTest.PAYLOAD_AT) {
                        bytes = bytes.clone();
                        int[] fields = {TransactionCodecTest.NONCE_AT, TransactionCodecTest.FEE_AT, TransactionCodecTest.VERSION_AT};
                        int field = fields[random.nextInt(fields.length)];
                        bytes[field] ^= (byte) (field == TransactionCodecTest.VERSION_AT ? random.nextInt(256) : 0x80);
                    }
                }
            }
        }
        return bytes;
    }
}
