package org.commonweal.crypto;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Set;

import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.PBEParameterSpec;

import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * Private key files: PKCS#8 in PEM, readable by openssl. Without a passphrase {@code PRIVATE KEY};
 * with one {@code ENCRYPTED PRIVATE KEY} (PBES2: PBKDF2-HMAC-SHA256, 600,000 iterations, AES-256-CBC).
 * Written once, atomically (temporary file, forced to disk, hard-linked into place), owner-only (0600), and
 * never overwritten: a damaged key file is an error to repair, not a reason to make a new identity.
 */
public final class KeyFiles {

    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final String PLAIN = "PRIVATE KEY";
    private static final String ENCRYPTED = "ENCRYPTED PRIVATE KEY";
    private static final String PBES2 = "PBEWithHmacSHA256AndAES_256";
    static final int ITERATIONS = 600_000;
    /** id-Ed25519, RFC 8410. */
    private static final ASN1ObjectIdentifier ID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");

    private KeyFiles() {
    }

    /**
     * Writes {@code key} to a new file {@code file}, encrypted when {@code passphrase} is not null.
     * Fails if the file exists.
     */
    public static void write(Path file, PrivateKey key, char[] passphrase) throws IOException {
        // PKCS#8 v1 (RFC 5208), as openssl writes it: v2 with the public key embedded is what Bouncy Castle
        // writes by default, and OpenSSL 3.0 refuses to read that.
        byte[] pkcs8 = new PrivateKeyInfo(new AlgorithmIdentifier(ID_ED25519),
                new DEROctetString(key.parameters().getEncoded())).getEncoded();
        String pem = passphrase == null ? pem(PLAIN, pkcs8) : pem(ENCRYPTED, encrypt(pkcs8, passphrase));
        if (Files.exists(file)) {
            throw new java.nio.file.FileAlreadyExistsException(file.toString(), null,
                    "a key file is never overwritten; move the old one away first if you really mean to replace it");
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.write(StandardCharsets.US_ASCII.encode(pem));
                channel.force(true);
            }
            // A hard link appears atomically and, unlike a rename, never replaces a file that appeared meanwhile.
            Files.createLink(file, temp);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Reads the key in {@code file}; {@code passphrase} is needed for an encrypted file and ignored for a
     * plain one. Errors name the file, what is wrong and what to do.
     */
    public static PrivateKey read(Path file, char[] passphrase) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        PemObject pem;
        try (PemReader reader = new PemReader(new StringReader(text))) {
            pem = reader.readPemObject();
        } catch (IOException | RuntimeException e) {
            throw damaged(file, "its PEM cannot be read (" + e.getMessage() + ")", e);
        }
        if (pem == null) {
            throw damaged(file, "it holds no PEM block", null);
        }
        byte[] pkcs8;
        if (ENCRYPTED.equals(pem.getType())) {
            if (passphrase == null) {
                throw new IOException("the key file " + file + " is encrypted: give its passphrase");
            }
            pkcs8 = decrypt(file, pem.getContent(), passphrase);
        } else if (PLAIN.equals(pem.getType())) {
            pkcs8 = pem.getContent();
        } else {
            throw damaged(file, "it holds a PEM '" + pem.getType() + "', not a private key", null);
        }
        AsymmetricKeyParameter key;
        try {
            key = PrivateKeyFactory.createKey(pkcs8);
        } catch (IOException | RuntimeException e) {
            throw damaged(file, "its PKCS#8 content cannot be decoded (" + e.getMessage() + ")", e);
        }
        if (key instanceof Ed25519PrivateKeyParameters ed25519) {
            return new PrivateKey(ed25519);
        }
        throw damaged(file, "it holds a " + key.getClass().getSimpleName() + ", not an Ed25519 key", null);
    }

    /** Whether the file is readable by anyone but its owner (worth a warning: it holds a private key). */
    public static boolean readableByOthers(Path file) throws IOException {
        var view = Files.getFileAttributeView(file, java.nio.file.attribute.PosixFileAttributeView.class);
        return view != null && !OWNER_ONLY.containsAll(view.readAttributes().permissions());
    }

    private static byte[] encrypt(byte[] pkcs8, char[] passphrase) throws IOException {
        try {
            SecureRandom random = new SecureRandom();
            byte[] salt = new byte[16];
            byte[] iv = new byte[16];
            random.nextBytes(salt);
            random.nextBytes(iv);
            Cipher cipher = Cipher.getInstance(PBES2);
            cipher.init(Cipher.ENCRYPT_MODE, SecretKeyFactory.getInstance(PBES2).generateSecret(new PBEKeySpec(passphrase)),
                    new PBEParameterSpec(salt, ITERATIONS, new IvParameterSpec(iv)));
            // The JDK names these parameters by the cipher; PKCS#8 wants them as PBES2.
            AlgorithmParameters pbes2 = AlgorithmParameters.getInstance("PBES2");
            pbes2.init(cipher.getParameters().getEncoded());
            return new EncryptedPrivateKeyInfo(pbes2, cipher.doFinal(pkcs8)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot encrypt the key with " + PBES2 + ": " + e.getMessage(), e);
        }
    }

    private static byte[] decrypt(Path file, byte[] der, char[] passphrase) throws IOException {
        EncryptedPrivateKeyInfo info;
        try {
            info = new EncryptedPrivateKeyInfo(der);
        } catch (IOException e) {
            throw damaged(file, "its encrypted PKCS#8 structure cannot be read (" + e.getMessage() + ")", e);
        }
        try {
            // For PBES2 the JDK's cipher name is that of the parameters (e.g. PBEWithHmacSHA256AndAES_256).
            String algorithm = info.getAlgParameters() != null ? info.getAlgParameters().toString() : info.getAlgName();
            Cipher cipher = Cipher.getInstance(algorithm);
            cipher.init(Cipher.DECRYPT_MODE, SecretKeyFactory.getInstance(algorithm).generateSecret(new PBEKeySpec(passphrase)),
                    info.getAlgParameters());
            return info.getKeySpec(cipher).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IOException("the key file " + file + " cannot be decrypted: wrong passphrase, or the file is damaged"
                    + " (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static String pem(String type, byte[] content) throws IOException {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(type, content));
        }
        return out.toString();
    }

    private static IOException damaged(Path file, String why, Throwable cause) {
        return new IOException("the key file " + file + " is damaged: " + why + ". Restore it from a backup; a new key is a"
                + " new identity", cause);
    }
}
