package org.commonweal.management;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PublicKey;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

class TrustRootsTest {

    private static final PublicKey AUTHOR = Ed25519.fromSeed(new byte[32]).publicKey();
    private static final PublicKey OTHER = Ed25519.fromSeed(seed(1)).publicKey();
    private static final PublicKey REVOKED = Ed25519.fromSeed(seed(2)).publicKey();

    private static byte[] seed(int value) {
        byte[] seed = new byte[32];
        seed[0] = (byte) value;
        return seed;
    }

    private static TrustRoots roots() throws Exception {
        String json = """
                {"publishers": [
                   {"name": "author", "key": "%s", "bundles": ["org.example.*"]},
                   {"name": "revoked one", "key": "%s", "bundles": ["*"]}],
                 "index-signers": [],
                 "revoked": {"keys": ["%s"], "artifacts": ["abcd"]}}
                """.formatted(AUTHOR.hex(), REVOKED.hex(), REVOKED.hex());
        return TrustRoots.of(new ObjectMapper().readTree(json), "test policy");
    }

    @Test
    void aListedPublisherWithinItsPatternsIsAccepted() throws Exception {
        assertTrue(roots().refuseArtifact("org.example.greeter", AUTHOR, "00").isEmpty());
        assertTrue(roots().refuseIndexSigner(AUTHOR).isEmpty());
    }

    @Test
    void outsideThePatternsUnlistedRevokedKeysAndRevokedContentAreRefused() throws Exception {
        assertTrue(roots().refuseArtifact("org.commonweal.node", AUTHOR, "00").orElseThrow().contains("may publish only"));
        assertTrue(roots().refuseArtifact("org.example.greeter", OTHER, "00").orElseThrow().contains("not among"));
        assertTrue(roots().refuseArtifact("org.example.greeter", REVOKED, "00").orElseThrow().contains("revoked"));
        assertTrue(roots().refuseArtifact("org.example.greeter", AUTHOR, "ABCD".toLowerCase()).orElseThrow().contains("revoked"));
        assertTrue(roots().refuseIndexSigner(OTHER).isPresent());
        assertTrue(roots().refuseIndexSigner(REVOKED).isPresent());
    }
}
