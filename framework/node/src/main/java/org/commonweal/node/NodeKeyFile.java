package org.commonweal.node;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * The node's Ed25519 private key on disk: PKCS#8 in PEM ("PRIVATE KEY"), readable by openssl, mode
 * 0600. Created once, atomically (written to a temporary file, forced to disk, then moved into place),
 * and never overwritten: a damaged key file is an error to repair, not a reason to become a new node.
 */
final class NodeKeyFile {

    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final String PEM_TYPE = "PRIVATE KEY";

    private NodeKeyFile() {
    }

    /** Loads the key at {@code file}, creating it first if there is none. */
    static Ed25519PrivateKeyParameters loadOrCreate(Path file, SecureRandom random) {
        if (!Files.exists(file)) {
            try {
                create(file, new Ed25519PrivateKeyParameters(random));
            } catch (FileAlreadyExistsException raced) {
                // another process created it between our check and our move: use theirs
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the node key " + file + ": " + e.getMessage()
                        + ". Fix: make its directory writable or start the node with another --data directory", e);
            }
        }
        return load(file);
    }

    static Ed25519PrivateKeyParameters load(Path file) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the node key " + file + ": " + e.getMessage(), e);
        }
        try (PemReader reader = new PemReader(new StringReader(pem))) {
            PemObject object = reader.readPemObject();
            if (object == null || !PEM_TYPE.equals(object.getType())) {
                throw new IllegalArgumentException("no PEM '" + PEM_TYPE + "' block");
            }
            AsymmetricKeyParameter key = PrivateKeyFactory.createKey(object.getContent());
            if (key instanceof Ed25519PrivateKeyParameters ed25519) {
                return ed25519;
            }
            throw new IllegalArgumentException("it holds a " + key.getClass().getSimpleName() + ", not an Ed25519 key");
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("the node key " + file + " is damaged (" + e.getMessage() + "). The node id "
                    + "is this key: restore the file from a backup; delete it only to start over as a NEW node with a new id", e);
        }
    }

    private static void create(Path file, Ed25519PrivateKeyParameters key) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, ".node.key", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.write(StandardCharsets.US_ASCII.encode(toPem(key)));
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static String toPem(Ed25519PrivateKeyParameters key) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfoFactory.createPrivateKeyInfo(key);
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(PEM_TYPE, info.getEncoded()));
        }
        return out.toString();
    }
}
