package org.commonweal.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.security.SecureRandom;
import java.util.HexFormat;

import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.commonweal.node.api.NodeIdentity;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The node key, kept in {@code <data dir>/node.key} (see {@link NodeKeyFile}). */
@Component(service = NodeIdentity.class)
public final class Ed25519NodeIdentity implements NodeIdentity {

    static final String KEY_FILE = "node.key";
    private static final Logger LOG = LoggerFactory.getLogger(Ed25519NodeIdentity.class);

    private final Ed25519PrivateKeyParameters privateKey;
    private final byte[] publicKey;
    private final String id;

    @Activate
    public Ed25519NodeIdentity(BundleContext context) {
        this(DataDirectory.of(context).resolve(KEY_FILE));
    }

    Ed25519NodeIdentity(Path keyFile) {
        boolean existed = Files.exists(keyFile);
        this.privateKey = NodeKeyFile.loadOrCreate(keyFile, new SecureRandom());
        this.publicKey = privateKey.generatePublicKey().getEncoded();
        this.id = HexFormat.of().formatHex(publicKey);
        LOG.info("{} node key {} (node id {})", existed ? "Loaded" : "Created", keyFile, id);
        warnIfReadableByOthers(keyFile);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public byte[] sign(byte[] message) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, privateKey);
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    private static void warnIfReadableByOthers(Path keyFile) {
        try {
            PosixFileAttributeView view = Files.getFileAttributeView(keyFile, PosixFileAttributeView.class);
            if (view != null && !NodeKeyFile.OWNER_ONLY.containsAll(view.readAttributes().permissions())) {
                LOG.warn("The node key {} can be read by other users; run: chmod 600 {}", keyFile, keyFile);
            }
        } catch (java.io.IOException e) {
            LOG.warn("Cannot check the permissions of {}: {}", keyFile, e.getMessage());
        }
    }
}
