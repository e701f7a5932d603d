package org.commonweal.consensus.bft.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

class NoiseTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final SecureRandom RANDOM = new SecureRandom();

    private static byte[] hex(String s) {
        return HEX.parseHex(s);
    }

    /**
     * The Noise_XX_25519_ChaChaPoly_SHA256 vector of the cacophony test suite (the Noise wiki's test vectors):
     * three handshake messages, then transport messages alternating from the responder, byte for byte.
     */
    @Test
    void matchesThePublishedTestVector() throws Exception {
        byte[] prologue = hex("4a6f686e2047616c74");
        Noise initiator = new Noise(true, prologue, hex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1"),
                hex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a"), RANDOM);
        Noise responder = new Noise(false, prologue, hex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893"),
                hex("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b"), RANDOM);
        String[][] messages = {
            {"4c756477696720766f6e204d69736573",
                "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573"},
            {"4d757272617920526f746862617264",
                "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b65285e08d6b68aaa3"
                    + "629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d16"
                    + "2c9326ad"},
            {"462e20412e20486179656b",
                "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865b57f58c9fea0d4ec"
                    + "82a286427402f113e4b6ae769a1d95941d49b25030"},
            {"4361726c204d656e676572", "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df"},
            {"4a65616e2d426170746973746520536179", "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5"},
            {"457567656e2042f6686d20766f6e2042617765726b",
                "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f"},
        };
        for (int i = 0; i < 3; i++) {
            Noise sender = i % 2 == 0 ? initiator : responder;
            Noise receiver = i % 2 == 0 ? responder : initiator;
            byte[] payload = hex(messages[i][0]);
            byte[] written = sender.writeMessage(h -> payload);
            assertEquals(messages[i][1], HEX.formatHex(written), "handshake message " + i);
            assertArrayEquals(payload, receiver.readMessage(written));
        }
        assertTrue(initiator.complete() && responder.complete());
        assertEquals("c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e", HEX.formatHex(initiator.handshakeHash()));
        assertArrayEquals(initiator.handshakeHash(), responder.handshakeHash());
        assertArrayEquals(Noise.publicKey(hex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893")),
                initiator.remoteStatic());

        Noise.CipherState[] i = initiator.split();
        Noise.CipherState[] r = responder.split();
        for (int m = 3; m < messages.length; m++) {
            Noise.CipherState send = m % 2 == 0 ? i[0] : r[0];
            Noise.CipherState receive = m % 2 == 0 ? r[1] : i[1];
            byte[] written = send.encrypt(new byte[0], hex(messages[m][0]));
            assertEquals(messages[m][1], HEX.formatHex(written), "transport message " + m);
            assertArrayEquals(hex(messages[m][0]), receive.decrypt(new byte[0], written, 0, written.length));
        }
    }

    @Test
    void tamperedReplayedAndReorderedRecordsFail() throws Exception {
        Noise.CipherState[][] pair = handshake(new byte[0], new byte[0]);
        Noise.CipherState send = pair[0][0];
        Noise.CipherState receive = pair[1][1];
        byte[] first = send.encrypt(new byte[0], "first".getBytes(StandardCharsets.US_ASCII));
        byte[] second = send.encrypt(new byte[0], "second".getBytes(StandardCharsets.US_ASCII));

        byte[] flipped = first.clone();
        flipped[2] ^= 1;
        assertThrows(Noise.TamperedException.class, () -> receive.decrypt(new byte[0], flipped, 0, flipped.length));
        assertThrows(Noise.TamperedException.class, () -> receive.decrypt(new byte[0], second, 0, second.length), "reordered");
        assertEquals("first", new String(receive.decrypt(new byte[0], first, 0, first.length), StandardCharsets.US_ASCII));
        assertThrows(Noise.TamperedException.class, () -> receive.decrypt(new byte[0], first, 0, first.length), "replayed");
        assertEquals("second", new String(receive.decrypt(new byte[0], second, 0, second.length), StandardCharsets.US_ASCII));
    }

    @Test
    void differentProloguesFailTheHandshake() {
        assertThrows(GeneralSecurityException.class, () -> handshake("chain 1".getBytes(), "chain 2".getBytes()));
    }

    @Test
    void aLowOrderEphemeralKeyIsRefused() throws Exception {
        Noise responder = new Noise(false, new byte[0], Noise.generatePrivate(RANDOM), null, RANDOM);
        responder.readMessage(new byte[32]); // the all-zero point
        assertThrows(GeneralSecurityException.class, () -> responder.writeMessage(h -> new byte[0]));
        assertThrows(IllegalStateException.class, () -> responder.writeMessage(h -> new byte[0]), "a failed handshake stays failed");
    }

    /** [initiator's, responder's] transport ciphers, each [send, receive]. */
    private static Noise.CipherState[][] handshake(byte[] initiatorPrologue, byte[] responderPrologue) throws Exception {
        Noise initiator = new Noise(true, initiatorPrologue, Noise.generatePrivate(RANDOM), null, RANDOM);
        Noise responder = new Noise(false, responderPrologue, Noise.generatePrivate(RANDOM), null, RANDOM);
        responder.readMessage(initiator.writeMessage(h -> new byte[0]));
        initiator.readMessage(responder.writeMessage(h -> new byte[0]));
        responder.readMessage(initiator.writeMessage(h -> new byte[0]));
        return new Noise.CipherState[][] {initiator.split(), responder.split()};
    }
}
