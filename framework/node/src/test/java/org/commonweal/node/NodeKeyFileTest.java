package org.commonweal.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeKeyFileTest {

    @TempDir
    Path dir;

    @Test
    void createsAnOwnerOnlyPemKeyOnceAndLoadsTheSameKeyAfterwards() throws Exception {
        Path file = dir.resolve("state/node.key");
        Ed25519PrivateKeyParameters created = NodeKeyFile.loadOrCreate(file, new SecureRandom());

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(Files.readString(file).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertArrayEquals(created.getEncoded(), NodeKeyFile.loadOrCreate(file, new SecureRandom()).getEncoded());
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aDamagedKeyIsRefusedAndNeverReplaced() throws Exception {
        Path file = dir.resolve("node.key");
        byte[] damaged = "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(file, damaged);

        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> NodeKeyFile.loadOrCreate(file, new SecureRandom()));
        assertTrue(error.getMessage().contains("the node key " + file + " is damaged"), error.getMessage());
        assertTrue(error.getMessage().contains("restore the file from a backup"), error.getMessage());
        assertArrayEquals(damaged, Files.readAllBytes(file));
    }

    @Test
    void aPemOfAnotherTypeIsRefused() throws Exception {
        Path file = dir.resolve("node.key");
        Files.writeString(file, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        IllegalStateException error = assertThrows(IllegalStateException.class, () -> NodeKeyFile.load(file));
        assertTrue(error.getMessage().contains("no PEM 'PRIVATE KEY' block"), error.getMessage());
    }

    @Test
    void theIdentitySignsWithTheKeyItsIdNames() {
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(dir.resolve("node.key"));
        byte[] message = "receipt".getBytes(StandardCharsets.UTF_8);
        byte[] signature = identity.sign(message);

        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, new Ed25519PublicKeyParameters(identity.publicKey()));
        verifier.update(message, 0, message.length);
        assertTrue(verifier.verifySignature(signature));
        assertEquals(java.util.HexFormat.of().formatHex(identity.publicKey()), identity.id());
        assertEquals(identity.id(), new Ed25519NodeIdentity(dir.resolve("node.key")).id());
    }
}
