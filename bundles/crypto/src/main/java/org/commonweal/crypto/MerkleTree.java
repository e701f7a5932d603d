package org.commonweal.crypto;

import java.security.DigestException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A binary Merkle tree over a list of byte strings, hashed exactly as RFC 6962 (Certificate Transparency) and
 * RFC 9162 section 2.1 define it, so that roots and {@link InclusionProof inclusion proofs} are the standard ones any
 * CT-compatible verifier checks:
 * <ul>
 * <li>leaf hash = SHA-256(0x00 || leaf);</li>
 * <li>node hash = SHA-256(0x01 || left || right);</li>
 * <li>the tree over n &gt; 1 leaves is a node over the tree of the first k leaves and the tree of the other n - k,
 * where k is the largest power of two smaller than n: no leaf is ever duplicated to fill a level (the padding that
 * lets two different lists share a root in some other designs);</li>
 * <li>the root of the empty tree is SHA-256 of the empty string.</li>
 * </ul>
 * The distinct prefixes for leaves and nodes are why no leaf can pose as an interior node (a second preimage).
 *
 * <p>The same tree is built bottom-up level by level, pairing neighbours and carrying a level's odd last node up
 * unchanged: that gives the RFC's shape without recursion, in n - 1 node hashes, with one reusable digest.
 * An instance keeps every level (about 64 bytes per leaf) so it can give many proofs; {@link #root(List)} keeps only
 * one level and overwrites it in place. Instances are immutable and safe to share between threads.
 */
public final class MerkleTree {

    /**
     * The most leaves a tree can have: a level of leaf hashes is one array of {@code 32 * size} bytes
     * (67,108,863 leaves, 2 GiB of hashes). Larger sets are split, or committed as a tree of subtree roots.
     */
    public static final int MAX_SIZE = (Integer.MAX_VALUE - 8) / Sha256.LENGTH;

    private static final byte LEAF_PREFIX = 0x00;
    private static final byte NODE_PREFIX = 0x01;
    private static final byte[] EMPTY_ROOT = Sha256.hash(new byte[0]);

    /** levels[0] holds the leaf hashes, each next level the parents; the last holds the root alone. */
    private final byte[][] levels;
    private final int size;

    private MerkleTree(byte[][] levels, int size) {
        this.levels = levels;
        this.size = size;
    }

    /** The root of the tree over {@code leaves}, in order; see {@link MerkleTree} for the exact hashing. */
    public static byte[] root(List<byte[]> leaves) {
        MessageDigest digest = Sha256.newDigest();
        int count = checkedSize(leaves);
        if (count == 0) {
            return EMPTY_ROOT.clone();
        }
        byte[] level = hashLeaves(leaves, count, digest);
        while (count > 1) {
            count = hashParents(level, count, level, digest); // in place: parent i only overwrites nodes < 2i
        }
        return Arrays.copyOf(level, Sha256.LENGTH);
    }

    /** Builds the tree over {@code leaves} once, to give its root and a proof for any of them. */
    public static MerkleTree of(List<byte[]> leaves) {
        MessageDigest digest = Sha256.newDigest();
        int size = checkedSize(leaves);
        if (size == 0) {
            return new MerkleTree(new byte[][] {EMPTY_ROOT}, 0);
        }
        List<byte[]> levels = new ArrayList<>();
        byte[] level = hashLeaves(leaves, size, digest);
        levels.add(level);
        for (int count = size; count > 1; ) {
            byte[] parents = new byte[ceilHalf(count) * Sha256.LENGTH];
            count = hashParents(level, count, parents, digest);
            levels.add(parents);
            level = parents;
        }
        return new MerkleTree(levels.toArray(byte[][]::new), size);
    }

    /** The root hash (32 bytes; a copy). */
    public byte[] root() {
        return levels[levels.length - 1].clone();
    }

    /** The number of leaves. */
    public int size() {
        return size;
    }

    /**
     * The proof that the leaf at {@code index} is in this tree: the sibling hashes on its way up to the root,
     * the nearest first (RFC 9162 section 2.1.3.1, PATH).
     */
    public InclusionProof proof(int index) {
        if (size == 0) {
            throw new IllegalArgumentException("the empty tree has no leaf to prove; build the tree over at least one leaf");
        }
        if (index < 0 || index >= size) {
            throw new IllegalArgumentException("leaf index " + index + " is outside the tree of " + size
                    + " leaves; pass an index from 0 to " + (size - 1));
        }
        List<byte[]> path = new ArrayList<>();
        int node = index;
        for (int level = 0, count = size; count > 1; level++, count = ceilHalf(count)) {
            int sibling = node ^ 1;
            if (sibling < count) { // else the node is its level's odd last one, carried up with no sibling
                int from = sibling * Sha256.LENGTH;
                path.add(Arrays.copyOfRange(levels[level], from, from + Sha256.LENGTH));
            }
            node >>>= 1;
        }
        return new InclusionProof(index, size, path);
    }

    /** SHA-256(0x00 || leaf): the hash of one leaf, as the tree and its proofs use it. */
    public static byte[] hashLeaf(byte[] leaf) {
        if (leaf == null) {
            throw new IllegalArgumentException("leaf is null; pass its bytes (an empty array is a valid leaf)");
        }
        return hashLeaf(Sha256.newDigest(), leaf);
    }

    /** {@link #hashLeaf(byte[])} with the caller's digest and an unchecked leaf. */
    static byte[] hashLeaf(MessageDigest digest, byte[] leaf) {
        digest.update(LEAF_PREFIX);
        digest.update(leaf);
        return digest.digest();
    }

    /** SHA-256(0x01 || left || right): the hash of an interior node from its children's hashes. */
    public static byte[] hashNode(byte[] left, byte[] right) {
        checkHash(left, "left child hash");
        checkHash(right, "right child hash");
        return hashNode(Sha256.newDigest(), left, right);
    }

    /** {@link #hashNode(byte[], byte[])} with the caller's digest and unchecked hashes, for loops. */
    static byte[] hashNode(MessageDigest digest, byte[] left, byte[] right) {
        digest.update(NODE_PREFIX);
        digest.update(left);
        digest.update(right);
        return digest.digest();
    }

    static void checkHash(byte[] hash, String what) {
        if (hash == null) {
            throw new IllegalArgumentException(what + " is null; pass a " + Sha256.LENGTH + "-byte SHA-256 hash");
        }
        if (hash.length != Sha256.LENGTH) {
            throw new IllegalArgumentException(what + " has " + hash.length + " bytes, and a SHA-256 hash has "
                    + Sha256.LENGTH + "; pass the hash itself, not its hex text or the data it hashes");
        }
    }

    private static int checkedSize(List<byte[]> leaves) {
        if (leaves == null) {
            throw new IllegalArgumentException("leaves is null; pass a list (an empty one for the empty tree)");
        }
        int size = leaves.size();
        if (size > MAX_SIZE) {
            throw new IllegalArgumentException(size + " leaves are more than one tree holds (" + MAX_SIZE
                    + "); split them into several trees and commit to a tree of their roots");
        }
        return size;
    }

    /** The leaf hashes, one after another in one array; iterates (a linked list's get(i) would be quadratic). */
    private static byte[] hashLeaves(List<byte[]> leaves, int count, MessageDigest digest) {
        byte[] hashes = new byte[count * Sha256.LENGTH];
        int i = 0;
        for (byte[] leaf : leaves) {
            if (i == count) {
                throw new IllegalArgumentException("leaves grew while being hashed; do not change the list until the tree is built");
            }
            if (leaf == null) {
                throw new IllegalArgumentException("leaf " + i + " is null; pass its bytes (an empty array is a valid leaf)");
            }
            digest.update(LEAF_PREFIX);
            digest.update(leaf);
            finish(digest, hashes, i++);
        }
        if (i != count) {
            throw new IllegalArgumentException("leaves shrank while being hashed; do not change the list until the tree is built");
        }
        return hashes;
    }

    /**
     * Hashes the {@code count} nodes of {@code level} pairwise into {@code parents} (which may be {@code level}
     * itself) and returns how many parents there are; an odd last node is carried up unchanged, which is what
     * RFC 6962's split at the largest power of two amounts to, level by level.
     */
    private static int hashParents(byte[] level, int count, byte[] parents, MessageDigest digest) {
        int pairs = count / 2;
        for (int i = 0; i < pairs; i++) {
            digest.update(NODE_PREFIX);
            digest.update(level, 2 * i * Sha256.LENGTH, 2 * Sha256.LENGTH);
            finish(digest, parents, i);
        }
        if (count % 2 == 1) {
            System.arraycopy(level, (count - 1) * Sha256.LENGTH, parents, pairs * Sha256.LENGTH, Sha256.LENGTH);
        }
        return ceilHalf(count);
    }

    /** Writes the digest into slot {@code slot} of {@code hashes}, with no intermediate array. */
    private static void finish(MessageDigest digest, byte[] hashes, int slot) {
        try {
            digest.digest(hashes, slot * Sha256.LENGTH, Sha256.LENGTH);
        } catch (DigestException e) {
            throw new IllegalStateException("SHA-256 did not write its " + Sha256.LENGTH + " bytes", e);
        }
    }

    private static int ceilHalf(int count) {
        return (count >>> 1) + (count & 1);
    }
}
