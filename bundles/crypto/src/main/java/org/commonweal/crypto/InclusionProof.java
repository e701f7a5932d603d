package org.commonweal.crypto;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The proof that one leaf is at {@code index} in a {@link MerkleTree} of {@code treeSize} leaves: the sibling hashes
 * on the leaf's way up to the root, the nearest first (RFC 9162 section 2.1.3.1; the "audit path" of RFC 6962).
 * A light client holding only a root checks a leaf with {@link #verifies(byte[], byte[])}.
 *
 * <p><b>Take the tree size from the same trusted place as the root</b> (the block header), not from the proof: an
 * RFC 6962 root does not commit to its tree's size, so a proof still verifies under a different {@code treeSize}
 * when that size gives the path the same shape (leaf 0 of 3 leaves and leaf 0 of 4 both go left, left). The leaf and
 * its index are proven either way; only a size read from the proof would be unproven.
 *
 * <p>The record holds copies: the path given and the path returned are the caller's to change.
 *
 * <h2>Encoding</h2>
 * {@link #encode()} writes, and {@link #decode(byte[])} reads exactly and only, this canonical layout
 * ({@code 10 + 32 * count} bytes; one encoding per proof, so equal proofs have equal bytes):
 * <pre>
 * offset  size      field
 * 0       1         version, 1
 * 1       4         index, big-endian, 0 &lt;= index
 * 5       4         treeSize, big-endian, index &lt; treeSize (both at most 2^31 - 1)
 * 9       1         count, the number of path hashes, 0..64
 * 10      32*count  the path hashes, the nearest sibling first
 * </pre>
 *
 * @param index the leaf's position, from 0
 * @param treeSize the number of leaves in the tree, more than {@code index}
 * @param path the sibling hashes (32 bytes each, at most {@value #MAX_PATH_LENGTH}), the nearest first
 */
public record InclusionProof(int index, int treeSize, List<byte[]> path) {

    /** The most hashes a path has: more than any tree of up to 2^64 leaves needs. */
    public static final int MAX_PATH_LENGTH = 64;

    private static final byte VERSION = 1;
    private static final int HEADER_LENGTH = 1 + 4 + 4 + 1;

    /** Checks the proof's shape and copies its path; a path's content is checked only by {@link #verifies}. */
    public InclusionProof {
        if (index < 0) {
            throw new IllegalArgumentException("leaf index " + index + " is negative; leaves count from 0");
        }
        if (treeSize <= index) {
            throw new IllegalArgumentException("tree size " + treeSize + " does not exceed leaf index " + index
                    + "; the tree has to hold the leaf, so its size is at least index + 1");
        }
        if (path == null) {
            throw new IllegalArgumentException("path is null; pass the sibling hashes (an empty list for a one-leaf tree)");
        }
        byte[][] hashes = path.toArray(byte[][]::new); // one snapshot: size and elements agree
        if (hashes.length > MAX_PATH_LENGTH) {
            throw new IllegalArgumentException("path has " + hashes.length + " hashes, more than the "
                    + MAX_PATH_LENGTH + " any tree needs; it is not an inclusion proof");
        }
        for (int i = 0; i < hashes.length; i++) {
            MerkleTree.checkHash(hashes[i], "path hash " + i);
            hashes[i] = hashes[i].clone();
        }
        path = List.of(hashes);
    }

    /** The sibling hashes, the nearest first (copies: changing them changes nothing here). */
    @Override
    public List<byte[]> path() {
        return path.stream().map(byte[]::clone).toList();
    }

    /**
     * Whether {@code leaf} (its bytes, not its hash) is at {@link #index()} in a tree of {@link #treeSize()} leaves
     * whose root is {@code root}. Recomputes the root from the leaf and the path as RFC 9162 section 2.1.3.2 does,
     * which also rejects a path too short or too long for the index and size.
     */
    public boolean verifies(byte[] leaf, byte[] root) {
        if (leaf == null) {
            throw new IllegalArgumentException("leaf is null; pass the leaf's bytes (not its hash) to check");
        }
        MerkleTree.checkHash(root, "root");
        MessageDigest digest = Sha256.newDigest();
        byte[] hash = MerkleTree.hashLeaf(digest, leaf);
        int fn = index;
        int sn = treeSize - 1;
        for (byte[] sibling : path) {
            if (sn == 0) {
                return false; // the path is longer than the way up
            }
            if ((fn & 1) == 1 || fn == sn) {
                hash = MerkleTree.hashNode(digest, sibling, hash);
                while ((fn & 1) == 0 && fn != 0) { // skip the levels where this node had no sibling
                    fn >>>= 1;
                    sn >>>= 1;
                }
            } else {
                hash = MerkleTree.hashNode(digest, hash, sibling);
            }
            fn >>>= 1;
            sn >>>= 1;
        }
        return sn == 0 && MessageDigest.isEqual(hash, root);
    }

    /** The canonical bytes of this proof; see the class description for the layout. */
    public byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(HEADER_LENGTH + path.size() * Sha256.LENGTH);
        out.put(VERSION).putInt(index).putInt(treeSize).put((byte) path.size());
        path.forEach(out::put);
        return out.array();
    }

    /**
     * The proof that {@code encoding} holds, exactly as {@link #encode()} writes it: anything else, including
     * trailing bytes, is an {@link IllegalArgumentException} saying what is wrong, never another exception.
     */
    public static InclusionProof decode(byte[] encoding) {
        if (encoding == null) {
            throw new IllegalArgumentException("proof encoding is null; pass the bytes InclusionProof.encode() wrote");
        }
        if (encoding.length < HEADER_LENGTH) {
            throw new IllegalArgumentException("proof encoding has " + encoding.length + " bytes, fewer than its "
                    + HEADER_LENGTH + "-byte header; it is truncated, pass all of it");
        }
        ByteBuffer in = ByteBuffer.wrap(encoding);
        byte version = in.get();
        if (version != VERSION) {
            throw new IllegalArgumentException("proof encoding has version " + (version & 0xff)
                    + ", and this code reads version " + VERSION + "; it is not a proof, or is from a newer node");
        }
        int index = in.getInt();
        int treeSize = in.getInt();
        int count = in.get() & 0xff;
        if (count > MAX_PATH_LENGTH) {
            throw new IllegalArgumentException("proof encoding announces " + count + " path hashes, more than the "
                    + MAX_PATH_LENGTH + " any tree needs; it is corrupt");
        }
        int expected = HEADER_LENGTH + count * Sha256.LENGTH;
        if (encoding.length != expected) {
            throw new IllegalArgumentException("proof encoding has " + encoding.length + " bytes, and its "
                    + count + " path hashes make it " + expected + "; it is " + (encoding.length < expected
                            ? "truncated, pass all of it" : "followed by other bytes, pass exactly one proof"));
        }
        byte[][] path = new byte[count][Sha256.LENGTH];
        for (byte[] hash : path) {
            in.get(hash);
        }
        try {
            return new InclusionProof(index, treeSize, List.of(path));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("proof encoding is invalid: " + e.getMessage(), e);
        }
    }

    /** Equal when index, size and every path hash are equal (a record would compare the arrays' identities). */
    @Override
    public boolean equals(Object other) {
        if (!(other instanceof InclusionProof that)
                || index != that.index || treeSize != that.treeSize || path.size() != that.path.size()) {
            return false;
        }
        for (int i = 0; i < path.size(); i++) {
            if (!Arrays.equals(path.get(i), that.path.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int result = 31 * index + treeSize;
        for (byte[] hash : path) {
            result = 31 * result + Arrays.hashCode(hash);
        }
        return result;
    }

    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return "InclusionProof[index=" + index + ", treeSize=" + treeSize + ", path="
                + path.stream().map(hex::formatHex).toList() + "]";
    }
}
