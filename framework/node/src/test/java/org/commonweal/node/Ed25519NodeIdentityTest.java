package org.commonweal.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PublicKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Ed25519NodeIdentityTest {

    @TempDir
    Path dir;

    @Test
    void createsAnOwnerOnlyPemKeyOnceAndKeepsItsIdAcrossRestarts() throws Exception {
        Path file = dir.resolve("state/node.key");
        Ed25519NodeIdentity first = new Ed25519NodeIdentity(file);

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(Files.readString(file).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals(first.id(), new Ed25519NodeIdentity(file).id());
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aDamagedKeyStopsTheNodeAndIsNeverReplaced() throws Exception {
        Path file = dir.resolve("node.key");
        byte[] damaged = "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(file, damaged);

        UncheckedIOException error = assertThrows(UncheckedIOException.class, () -> new Ed25519NodeIdentity(file));
        assertTrue(error.getMessage().contains("the key file " + file + " is damaged"), error.getMessage());
        assertTrue(error.getMessage().contains("Restore it from a backup"), error.getMessage());
        assertArrayEquals(damaged, Files.readAllBytes(file));
    }

    @Test
    void theIdentitySignsWithTheKeyItsIdNames() {
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(dir.resolve("node.key"));
        byte[] message = "receipt".getBytes(StandardCharsets.UTF_8);
        assertTrue(Ed25519.verify(PublicKey.fromHex(identity.id()), message, identity.sign(message)));
        assertArrayEquals(PublicKey.fromHex(identity.id()).bytes(), identity.publicKey());
    }
}
