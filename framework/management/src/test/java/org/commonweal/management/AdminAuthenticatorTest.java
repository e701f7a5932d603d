package org.commonweal.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.junit.jupiter.api.Test;

class AdminAuthenticatorTest {

    private static final PrivateKey OPERATOR = Ed25519.fromSeed(new byte[32]);
    private static final PrivateKey STRANGER = Ed25519.fromSeed(filled(7));
    private static final byte[] BODY = "{\"bundle\":\"x\"}".getBytes(StandardCharsets.UTF_8);
    private static final long NOW = 1_800_000_000_000L;

    private static byte[] filled(int value) {
        byte[] seed = new byte[32];
        java.util.Arrays.fill(seed, (byte) value);
        return seed;
    }

    private static String sign(PrivateKey key, String method, String path, long time, byte[] body) {
        return HexFormat.of().formatHex(key.sign(AdminAuthenticator.signedText(method, path, time, body)
                .getBytes(StandardCharsets.UTF_8)));
    }

    private final AdminAuthenticator authenticator = new AdminAuthenticator(new String[] { "alice=" + OPERATOR.publicKey().hex() });

    @Test
    void anOperatorsSignedRequestIsAcceptedWithItsName() {
        var result = authenticator.check("POST", "/admin/upgrade", OPERATOR.publicKey().hex(), Long.toString(NOW),
                sign(OPERATOR, "POST", "/admin/upgrade", NOW, BODY), BODY, NOW + 5_000);
        assertEquals("alice (" + OPERATOR.publicKey().hex() + ")", result.operator().orElseThrow());
    }

    @Test
    void noOperatorsMeansEveryRequestIsRefusedWithTheFix() {
        var result = new AdminAuthenticator(new String[0]).check("POST", "/admin/upgrade", OPERATOR.publicKey().hex(),
                Long.toString(NOW), sign(OPERATOR, "POST", "/admin/upgrade", NOW, BODY), BODY, NOW);
        assertTrue(result.operator().isEmpty());
        assertTrue(result.refusal().contains("lists no operator keys"), result.refusal());
    }

    @Test
    void unsignedForeignStaleAlteredAndReplayedRequestsAreRefused() {
        assertTrue(authenticator.check("POST", "/admin/upgrade", null, null, null, BODY, NOW).refusal().contains("not signed"));
        assertTrue(authenticator.check("POST", "/admin/upgrade", STRANGER.publicKey().hex(), Long.toString(NOW),
                sign(STRANGER, "POST", "/admin/upgrade", NOW, BODY), BODY, NOW).refusal().contains("not one of"));
        assertTrue(authenticator.check("POST", "/admin/upgrade", OPERATOR.publicKey().hex(), Long.toString(NOW - 61_000),
                sign(OPERATOR, "POST", "/admin/upgrade", NOW - 61_000, BODY), BODY, NOW).refusal().contains("stale"));
        // the same signature over another path, method or body
        String signature = sign(OPERATOR, "POST", "/admin/upgrade", NOW, BODY);
        assertFalse(authenticator.check("POST", "/admin/rollback", OPERATOR.publicKey().hex(), Long.toString(NOW), signature,
                BODY, NOW).refusal() == null);
        assertFalse(authenticator.check("POST", "/admin/upgrade", OPERATOR.publicKey().hex(), Long.toString(NOW), signature,
                "{}".getBytes(StandardCharsets.UTF_8), NOW).refusal() == null);
        assertTrue(authenticator.check("POST", "/admin/upgrade", OPERATOR.publicKey().hex(), Long.toString(NOW), signature,
                BODY, NOW).operator().isPresent());
        assertTrue(authenticator.check("POST", "/admin/upgrade", OPERATOR.publicKey().hex(), Long.toString(NOW), signature,
                BODY, NOW + 1).refusal().contains("replay"));
    }
}
