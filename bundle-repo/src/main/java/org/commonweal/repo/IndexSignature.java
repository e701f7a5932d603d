package org.commonweal.repo;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;

/**
 * The detached signature of an index ({@code index.xml.sig}): one line,
 * {@code ed25519 <public key, hex> <signature over the exact bytes of index.xml, hex>}.
 */
public record IndexSignature(PublicKey key, byte[] signature) {

    static final String ALGORITHM = "ed25519";

    public static IndexSignature sign(byte[] index, PrivateKey key) {
        return new IndexSignature(key.publicKey(), key.sign(index));
    }

    public boolean verifies(byte[] index) {
        return signature.length == Ed25519.SIGNATURE_LENGTH && Ed25519.verify(key, index, signature);
    }

    public byte[] toBytes() {
        return (ALGORITHM + " " + key.hex() + " " + HexFormat.of().formatHex(signature) + "\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads a signature file's bytes; {@code where} names the file in the message if they are not one. */
    public static IndexSignature parse(byte[] bytes, String where) throws RepositoryException {
        String[] fields = new String(bytes, StandardCharsets.US_ASCII).strip().split(" ");
        try {
            if (fields.length != 3 || !ALGORITHM.equals(fields[0])) {
                throw new IllegalArgumentException("expected 'ed25519 <key> <signature>'");
            }
            return new IndexSignature(PublicKey.fromHex(fields[1]), HexFormat.of().parseHex(fields[2]));
        } catch (IllegalArgumentException e) {
            throw new RepositoryException("index signature " + where + " is not a signature (" + e.getMessage()
                    + "). Fix: fetch the repository again, or re-publish to it with cw repo publish", e);
        }
    }
}
