package org.commonweal.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Random;

import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.junit.jupiter.api.Test;

class TransferTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final long SEED = 0x7AA_5FE2L;

    private static Rejection rejects(byte[] payload, String... messageParts) {
        Rejection rejection = assertThrows(Rejection.class, () -> Transfer.decode(payload));
        assertEquals(Rejection.Reason.INVALID_PAYLOAD, rejection.reason(), rejection::getMessage);
        for (String part : messageParts) {
            assertTrue(rejection.getMessage().contains(part), () -> "'" + rejection.getMessage() + "' should name '" + part + "'");
        }
        return rejection;
    }

    @Test
    void constants() {
        assertEquals(1, Transfer.TYPE);
        assertEquals(40, Transfer.BYTES);
    }

    @Test
    void randomTransfersRoundTrip() throws Rejection {
        Random random = new Random(SEED);
        for (int i = 0; i < 2000; i++) {
            long amount = switch (i % 4) {
                case 0 -> 1;
                case 1 -> Long.MAX_VALUE;
                default -> 1 + (random.nextLong() & Long.MAX_VALUE) % Long.MAX_VALUE;
            };
            Transfer transfer = new Transfer(PublicKey.of(TransactionCodecTest.bytes(random, 32)), amount);
            byte[] encoding = transfer.encode();
            assertEquals(Transfer.BYTES, encoding.length);
            Transfer decoded = Transfer.decode(encoding);
            assertEquals(transfer, decoded, "transfer " + i);
            assertArrayEquals(encoding, decoded.encode());
        }
    }

    @Test
    void exactByteLayout() throws Rejection {
        byte[] recipient = new byte[32];
        for (int i = 0; i < 32; i++) {
            recipient[i] = (byte) (0xE0 + i);
        }
        Transfer transfer = new Transfer(PublicKey.of(recipient), 0x0102030405060708L);
        assertEquals("e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff" // 32-byte recipient
                + "0102030405060708", // u64 amount, big-endian
                HEX.formatHex(transfer.encode()));
        assertEquals("00".repeat(32) + "0000000000000001", HEX.formatHex(new Transfer(PublicKey.of(new byte[32]), 1).encode()));
        assertEquals("00".repeat(32) + "7fffffffffffffff",
                HEX.formatHex(new Transfer(PublicKey.of(new byte[32]), Long.MAX_VALUE).encode()));
        assertEquals(transfer, Transfer.decode(HEX.parseHex(HEX.formatHex(transfer.encode()))));
    }

    @Test
    void wrongLengthIsInvalid() {
        byte[] good = new Transfer(PublicKey.of(new byte[32]), 5).encode();
        for (int length : new int[] {0, 1, 32, 39, 41, 48, 80, TransactionCodec.MAX_PAYLOAD_BYTES}) {
            byte[] payload = new byte[length];
            System.arraycopy(good, 0, payload, 0, Math.min(length, good.length));
            rejects(payload, "40 bytes", "not " + length);
        }
    }

    @Test
    void zeroAndHighBitAmountsAreInvalid() {
        PublicKey recipient = PublicKey.of(new byte[32]);
        rejects(withAmount(recipient, 0), "not 0");
        rejects(withAmount(recipient, Long.MIN_VALUE), "not 9223372036854775808");
        rejects(withAmount(recipient, -1), "not 18446744073709551615");
        rejects(withAmount(recipient, Long.MIN_VALUE + 1), "not 9223372036854775809");
    }

    private static byte[] withAmount(PublicKey recipient, long amount) {
        return ByteBuffer.allocate(40).put(recipient.bytes()).putLong(amount).array();
    }

    @Test
    void aSignedTransferTransactionCarriesTheTransfer() throws Rejection {
        PrivateKey key = TransactionCodecTest.key(SEED);
        Transfer transfer = new Transfer(TransactionCodecTest.key(SEED + 1).publicKey(), 123_456_789L);
        Transaction tx = TransactionCodec.sign(key, 3, 0, 1, Transfer.TYPE, transfer.encode());
        Transaction decoded = TransactionCodec.decode(TransactionCodec.encode(tx));
        assertTrue(TransactionCodec.signatureValid(decoded));
        assertEquals(Transfer.TYPE, decoded.payloadType());
        assertEquals(transfer, Transfer.decode(decoded.payload()));
        assertEquals(TransactionCodec.FIXED_BYTES + Transfer.BYTES, TransactionCodec.encode(tx).length);
    }
}
