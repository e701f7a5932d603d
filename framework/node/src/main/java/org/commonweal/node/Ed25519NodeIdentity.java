package org.commonweal.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.KeyFiles;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.node.api.NodeIdentity;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node key, kept in {@code <data dir>/node.key}: created on first start ({@link KeyFiles}: PKCS#8
 * PEM, mode 0600, written atomically) and read on every later one. A damaged file stops the node with
 * the fix; it is never replaced, since the key is the node's identity.
 */
@Component(service = NodeIdentity.class)
public final class Ed25519NodeIdentity implements NodeIdentity {

    static final String KEY_FILE = "node.key";
    private static final Logger LOG = LoggerFactory.getLogger(Ed25519NodeIdentity.class);

    private final PrivateKey key;

    @Activate
    public Ed25519NodeIdentity(BundleContext context) {
        this(DataDirectory.of(context).resolve(KEY_FILE));
    }

    Ed25519NodeIdentity(Path keyFile) {
        boolean existed = Files.exists(keyFile);
        this.key = loadOrCreate(keyFile);
        LOG.info("{} node key {} (node id {})", existed ? "Loaded" : "Created", keyFile, id());
        try {
            if (KeyFiles.readableByOthers(keyFile)) {
                LOG.warn("The node key {} can be read by other users; run: chmod 600 {}", keyFile, keyFile);
            }
        } catch (IOException e) {
            LOG.warn("Cannot check the permissions of {}: {}", keyFile, e.getMessage());
        }
    }

    private static PrivateKey loadOrCreate(Path file) {
        try {
            if (!Files.exists(file)) {
                try {
                    KeyFiles.write(file, Ed25519.generate(new SecureRandom()), null);
                } catch (FileAlreadyExistsException raced) {
                    // another process created it between our check and our write: use theirs
                }
            }
            return KeyFiles.read(file, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage() + (e.getMessage().contains("Restore") ? ""
                    : ". Fix: make the data directory writable, or start the node with another --data directory"), e);
        }
    }

    @Override
    public String id() {
        return key.publicKey().hex();
    }

    @Override
    public byte[] publicKey() {
        return key.publicKey().bytes();
    }

    @Override
    public byte[] sign(byte[] message) {
        return key.sign(message);
    }
}
