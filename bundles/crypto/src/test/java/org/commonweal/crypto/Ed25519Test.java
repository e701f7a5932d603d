package org.commonweal.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class Ed25519Test {

    private static final HexFormat HEX = HexFormat.of();

    @Test
    void rfc8032TestVector1() {
        // RFC 8032 section 7.1, TEST 1 (empty message).
        PrivateKey key = Ed25519.fromSeed(HEX.parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        assertEquals("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", key.publicKey().hex());
        byte[] signature = key.sign(new byte[0]);
        assertEquals("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
                + "6bd25bf5f0595bbe24655141438e7a100b", HEX.formatHex(signature));
        assertTrue(Ed25519.verify(key.publicKey(), new byte[0], signature));
    }

    @Test
    void anythingTamperedOrMalformedDoesNotVerify() {
        PrivateKey key = Ed25519.generate(new SecureRandom());
        byte[] message = "transfer 10 to alice".getBytes(StandardCharsets.UTF_8);
        byte[] signature = key.sign(message);
        assertTrue(Ed25519.verify(key.publicKey(), message, signature));

        byte[] otherMessage = message.clone();
        otherMessage[0] ^= 1;
        assertFalse(Ed25519.verify(key.publicKey(), otherMessage, signature));
        for (int i = 0; i < signature.length; i += 7) {
            byte[] bad = signature.clone();
            bad[i] ^= 0x10;
            assertFalse(Ed25519.verify(key.publicKey(), message, bad), "signature bit flipped at byte " + i);
        }
        assertFalse(Ed25519.verify(Ed25519.generate(new SecureRandom()).publicKey(), message, signature));
        assertFalse(Ed25519.verify(key.publicKey(), message, new byte[63]));
        assertFalse(Ed25519.verify(key.publicKey(), message, null));
        assertFalse(Ed25519.verify(PublicKey.of(new byte[32]), message, signature), "the all-zero key");
    }

    /** Small-order points and non-canonical encodings: the keys where verification rules differ between libraries. */
    private static final String[] ODD_KEYS = {
        "0100000000000000000000000000000000000000000000000000000000000000", // the identity
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
        "0000000000000000000000000000000000000000000000000000000000000000", // order 4
        "0000000000000000000000000000000000000000000000000000000000000080", // order 4, sign bit set
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p, non-canonical
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1, non-canonical
        "0100000000000000000000000000000000000000000000000000000000000080", // the identity with the sign bit
    };

    @Test
    void keysKeptDecodedGiveBouncyCastlesAnswerForEveryInput() {
        Random random = new Random(11);
        List<byte[]> keys = new ArrayList<>();
        for (String odd : ODD_KEYS) {
            keys.add(HEX.parseHex(odd));
        }
        List<PrivateKey> signers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] seed = new byte[32];
            random.nextBytes(seed);
            signers.add(Ed25519.fromSeed(seed));
            byte[] negated = signers.getLast().publicKey().bytes();
            negated[31] ^= (byte) 0x80; // the negated point: valid, but not the signer's key
            keys.add(signers.getLast().publicKey().bytes());
            keys.add(negated);
            byte[] noise = new byte[32];
            random.nextBytes(noise); // about half of random strings are points
            keys.add(noise);
        }
        int valid = 0;
        for (int k = 0; k < keys.size(); k++) {
            byte[] key = keys.get(k);
            List<byte[]> signatures = new ArrayList<>();
            byte[] message = new byte[1 + random.nextInt(200)];
            random.nextBytes(message);
            for (PrivateKey signer : signers) {
                if (signer.publicKey().equals(PublicKey.of(key))) {
                    signatures.add(signer.sign(message));
                }
            }
            for (String odd : ODD_KEYS) { // R of small order (or non-canonical) with S = 0 and S = 1
                for (int s = 0; s < 2; s++) {
                    byte[] signature = new byte[64];
                    System.arraycopy(HEX.parseHex(odd), 0, signature, 0, 32);
                    signature[32] = (byte) s;
                    signatures.add(signature);
                }
            }
            byte[] noise = new byte[64];
            random.nextBytes(noise);
            signatures.add(noise);
            for (byte[] signature : signatures) {
                boolean expected = org.bouncycastle.math.ec.rfc8032.Ed25519.verify(signature, 0, key, 0, message, 0,
                        message.length);
                String what = "key " + HEX.formatHex(key) + ", signature " + HEX.formatHex(signature);
                assertEquals(expected, Ed25519.verify(PublicKey.of(key), message, signature), what);
                assertEquals(expected, Ed25519.verify(PublicKey.of(key), message, signature), what + " (key kept decoded)");
                valid += expected ? 1 : 0;
            }
        }
        assertEquals(20, valid, "each signer's own signature, and nothing else, verifies");
    }

    @Test
    void publicKeysCompareByContentAndRefuseBadInput() {
        PublicKey key = Ed25519.generate(new SecureRandom()).publicKey();
        assertEquals(key, PublicKey.fromHex(key.hex()));
        assertEquals(key.hashCode(), PublicKey.of(key.bytes()).hashCode());
        byte[] copy = key.bytes();
        copy[0] ^= 1;
        assertNotEquals(key, PublicKey.of(copy), "bytes() is a copy, of() copies");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PublicKey.of(new byte[31])).getMessage()
                .contains("32 bytes, not 31"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PublicKey.fromHex("zz".repeat(32))).getMessage()
                .contains("is not a hex Ed25519 public key"));
        assertFalse(Ed25519.generate(new SecureRandom()).toString().contains(HEX.formatHex(new byte[0]) + "seed"));
    }

    @Test
    void aBatchFindsExactlyTheInvalidSignaturesWhateverTheThreadCount() {
        Random random = new Random(5);
        List<PrivateKey> keys = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            keys.add(Ed25519.fromSeed(randomBytes(random, 32)));
        }
        List<SignatureBatch.Item> items = new ArrayList<>();
        BitSet expected = new BitSet();
        for (int i = 0; i < 1000; i++) {
            PrivateKey key = keys.get(i % keys.size());
            byte[] message = randomBytes(random, 1 + random.nextInt(200));
            byte[] signature = key.sign(message);
            if (i % 97 == 13) {
                signature[i % 64] ^= 4;
                expected.set(i);
            }
            items.add(new SignatureBatch.Item(key.publicKey(), message, signature));
        }
        for (int threads : new int[] { 1, 2, 3 }) {
            try (SignatureBatch batch = new SignatureBatch(threads)) {
                assertEquals(expected, batch.invalid(items), threads + " thread(s)");
            }
        }
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }

    @Test
    void seedLengthIsChecked() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Ed25519.fromSeed(new byte[16])).getMessage()
                .contains("32 bytes, not 16"));
        assertArrayEquals(Ed25519.fromSeed(new byte[32]).publicKey().bytes(), Ed25519.fromSeed(new byte[32]).publicKey().bytes());
    }
}
