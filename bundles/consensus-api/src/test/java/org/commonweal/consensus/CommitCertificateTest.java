package org.commonweal.consensus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.ledger.Rejection;
import org.junit.jupiter.api.Test;

class CommitCertificateTest {

    private static final PrivateKey SEQUENCER = Ed25519.fromSeed(new byte[32]);
    private static final byte[] HASH = new byte[32];

    static {
        Arrays.fill(HASH, (byte) 7);
    }

    @Test
    void encodesOnceDecodesExactlyAndVerifiesOnlyOnItsChainAndBlock() throws Rejection {
        CommitCertificate certificate = CommitCertificate.signedBy("solo", 3, 12, HASH, SEQUENCER.publicKey(), SEQUENCER::sign);
        byte[] bytes = certificate.encode();
        CommitCertificate decoded = CommitCertificate.decode(bytes);
        assertEquals(certificate, decoded);
        assertArrayEquals(bytes, decoded.encode());
        assertTrue(decoded.signaturesValid(3));
        assertFalse(decoded.signaturesValid(4), "another chain");
        CommitCertificate otherHeight = new CommitCertificate("solo", 13, HASH, certificate.votes());
        assertFalse(otherHeight.signaturesValid(3), "another height");
        CommitCertificate withProof = new CommitCertificate("bft", 12, HASH, certificate.votes(), new byte[] { 1, 2, 3 });
        assertArrayEquals(new byte[] { 1, 2, 3 }, CommitCertificate.decode(withProof.encode()).proof());
    }

    @Test
    void malformedCertificatesAreRejectedAsSuch() {
        byte[] bytes = CommitCertificate.signedBy("solo", 3, 12, HASH, SEQUENCER.publicKey(), SEQUENCER::sign).encode();
        for (byte[] bad : new byte[][] { Arrays.copyOf(bytes, bytes.length - 1), Arrays.copyOf(bytes, bytes.length + 1),
                new byte[0], { 2 } }) {
            assertEquals(Rejection.Reason.MALFORMED, assertThrows(Rejection.class, () -> CommitCertificate.decode(bad)).reason());
        }
    }
}
