package org.commonweal.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {

    @TempDir
    Path dir;

    @Test
    void plainKeyRoundTripsOwnerOnlyAndIsNeverOverwritten() throws Exception {
        PrivateKey key = Ed25519.generate(new SecureRandom());
        Path file = dir.resolve("keys/publisher.key");
        KeyFiles.write(file, key, null);

        assertTrue(Files.readString(file).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(KeyFiles.readableByOthers(file));
        assertEquals(key.publicKey(), KeyFiles.read(file, null).publicKey());
        assertThrows(FileAlreadyExistsException.class, () -> KeyFiles.write(file, Ed25519.generate(new SecureRandom()), null));
        assertEquals(key.publicKey(), KeyFiles.read(file, null).publicKey());
    }

    @Test
    void encryptedKeyNeedsItsPassphrase() throws Exception {
        PrivateKey key = Ed25519.generate(new SecureRandom());
        Path file = dir.resolve("validator.key");
        KeyFiles.write(file, key, "correct horse".toCharArray());

        String pem = Files.readString(file);
        assertTrue(pem.startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), pem);
        assertEquals(key.publicKey(), KeyFiles.read(file, "correct horse".toCharArray()).publicKey());
        IOException wrong = assertThrows(IOException.class, () -> KeyFiles.read(file, "battery staple".toCharArray()));
        assertTrue(wrong.getMessage().contains("cannot be decrypted: wrong passphrase"), wrong.getMessage());
        IOException none = assertThrows(IOException.class, () -> KeyFiles.read(file, null));
        assertTrue(none.getMessage().contains("is encrypted: give its passphrase"), none.getMessage());
    }

    @Test
    void openSslReadsWhatWeWriteAndWeReadWhatOpenSslWrites() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")),
                "no /usr/bin/openssl on this machine; the interoperability check is skipped");
        PrivateKey key = Ed25519.generate(new SecureRandom());
        Path ours = dir.resolve("ours.key");
        KeyFiles.write(ours, key, "pw".toCharArray());
        Process process = new ProcessBuilder("openssl", "pkey", "-in", ours.toString(), "-passin", "pass:pw", "-pubout",
                "-outform", "DER").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] spki = process.getInputStream().readAllBytes();
        assertEquals(0, process.waitFor(), "openssl pkey read the encrypted key");
        assertEquals(key.publicKey().hex(), java.util.HexFormat.of().formatHex(spki, spki.length - 32, spki.length));

        Path theirs = dir.resolve("theirs.key");
        assertEquals(0, new ProcessBuilder("openssl", "genpkey", "-algorithm", "ed25519", "-out", theirs.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start().waitFor());
        assertEquals(32, KeyFiles.read(theirs, null).publicKey().bytes().length);
    }

    @Test
    void damagedFilesAreNamedWithTheFix() throws Exception {
        Path file = dir.resolve("node.key");
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        IOException damaged = assertThrows(IOException.class, () -> KeyFiles.read(file, null));
        assertTrue(damaged.getMessage().startsWith("the key file " + file + " is damaged"), damaged.getMessage());
        assertTrue(damaged.getMessage().contains("Restore it from a backup"), damaged.getMessage());

        Files.writeString(file, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assertTrue(assertThrows(IOException.class, () -> KeyFiles.read(file, null)).getMessage()
                .contains("holds a PEM 'CERTIFICATE', not a private key"));
        Files.writeString(file, "hello");
        assertTrue(assertThrows(IOException.class, () -> KeyFiles.read(file, null)).getMessage().contains("holds no PEM block"));
    }
}
