package org.commonweal.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.commonweal.crypto.Rfc6962Reference.leaves;
import static org.commonweal.crypto.Rfc6962Reference.mth;
import static org.commonweal.crypto.Rfc6962Reference.sha256;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MerkleTreeTest {

    private static final HexFormat HEX = HexFormat.of();

    /** The Certificate Transparency test leaves (google/certificate-transparency), data only. */
    private static final List<byte[]> CT_LEAVES = List.of("", "00", "10", "2021", "3031", "40414243",
            "5051525354555657", "606162636465666768696a6b6c6d6e6f").stream().map(HEX::parseHex).toList();

    /** Their published roots for the first 0..8 leaves. */
    private static final List<String> CT_ROOTS = List.of(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");

    @ParameterizedTest(name = "{0} leaves")
    @ValueSource(ints = {0, 1, 2, 3, 5, 7, 8})
    void rootMatchesTheRecursiveDefinition(int n) {
        List<byte[]> leaves = leaves(n);
        byte[] expected = mth(leaves);
        assertArrayEquals(expected, MerkleTree.root(leaves));
        assertArrayEquals(expected, MerkleTree.of(leaves).root());
    }

    @Test
    void rootsOfSmallTreesWrittenOutByHand() {
        byte[] a = {'a'};
        byte[] b = {'b'};
        byte[] c = {'c'};
        byte[] la = sha256(new byte[] {0}, a);
        byte[] lb = sha256(new byte[] {0}, b);
        byte[] lc = sha256(new byte[] {0}, c);
        byte[] one = {1};
        assertArrayEquals(sha256(), MerkleTree.root(List.of()));
        assertArrayEquals(la, MerkleTree.root(List.of(a)));
        assertArrayEquals(sha256(one, la, lb), MerkleTree.root(List.of(a, b)));
        // three leaves split 2 + 1: the third is not duplicated, it is the right child as it is
        assertArrayEquals(sha256(one, sha256(one, la, lb), lc), MerkleTree.root(List.of(a, b, c)));
        // five split 4 + 1
        byte[] d = {'d'};
        byte[] e = {'e'};
        byte[] ld = sha256(new byte[] {0}, d);
        byte[] le = sha256(new byte[] {0}, e);
        byte[] abcd = sha256(one, sha256(one, la, lb), sha256(one, lc, ld));
        assertArrayEquals(sha256(one, abcd, le), MerkleTree.root(List.of(a, b, c, d, e)));
    }

    @Test
    void rootsMatchTheCertificateTransparencyVectors() {
        for (int n = 0; n <= 8; n++) {
            List<byte[]> leaves = CT_LEAVES.subList(0, n);
            assertEquals(CT_ROOTS.get(n), HEX.formatHex(MerkleTree.root(leaves)), "root of " + n + " leaves");
            assertEquals(CT_ROOTS.get(n), HEX.formatHex(MerkleTree.of(leaves).root()), "tree of " + n + " leaves");
        }
    }

    @Test
    void proofsMatchTheCertificateTransparencyVectors() {
        MerkleTree eight = MerkleTree.of(CT_LEAVES);
        assertEquals(List.of("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"), hex(eight.proof(0).path()));
        assertEquals(List.of("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"), hex(eight.proof(5).path()));
        assertEquals(List.of("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
                hex(MerkleTree.of(CT_LEAVES.subList(0, 3)).proof(2).path()));
        assertEquals(List.of("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                hex(MerkleTree.of(CT_LEAVES.subList(0, 5)).proof(1).path()));
        assertEquals(List.of(), hex(MerkleTree.of(CT_LEAVES.subList(0, 1)).proof(0).path()));
    }

    @Test
    void everySizeUpTo130MatchesTheReferenceInBothForms() {
        List<byte[]> all = leaves(130);
        for (int n = 0; n <= all.size(); n++) {
            List<byte[]> leaves = all.subList(0, n);
            byte[] expected = mth(leaves);
            assertArrayEquals(expected, MerkleTree.root(leaves), "root of " + n);
            MerkleTree tree = MerkleTree.of(leaves);
            assertArrayEquals(expected, tree.root(), "tree of " + n);
            assertEquals(n, tree.size());
        }
    }

    @Test
    void everyProofPathIsThePathOfRfc9162() {
        List<byte[]> all = leaves(70);
        for (int n = 1; n <= all.size(); n++) {
            List<byte[]> leaves = all.subList(0, n);
            MerkleTree tree = MerkleTree.of(leaves);
            for (int m = 0; m < n; m++) {
                InclusionProof proof = tree.proof(m);
                assertEquals(m, proof.index());
                assertEquals(n, proof.treeSize());
                assertEquals(hex(Rfc6962Reference.path(m, leaves)), hex(proof.path()), "leaf " + m + " of " + n);
            }
        }
    }

    @Test
    void theOrderOfLeavesMatters() {
        List<byte[]> leaves = leaves(5);
        List<byte[]> swapped = new ArrayList<>(leaves);
        swapped.set(3, leaves.get(4));
        swapped.set(4, leaves.get(3));
        assertFalse(Arrays.equals(MerkleTree.root(leaves), MerkleTree.root(swapped)));
    }

    @Test
    void aLinkedListGivesTheSameRoot() {
        List<byte[]> leaves = leaves(33);
        assertArrayEquals(MerkleTree.root(leaves), MerkleTree.root(new LinkedList<>(leaves)));
        assertArrayEquals(MerkleTree.root(leaves), MerkleTree.of(new LinkedList<>(leaves)).root());
    }

    @Test
    void hashLeafAndHashNodeAreTheDomainSeparatedHashes() {
        byte[] leaf = {1, 2, 3};
        assertArrayEquals(sha256(new byte[] {0}, leaf), MerkleTree.hashLeaf(leaf));
        byte[] left = sha256(new byte[] {7});
        byte[] right = sha256(new byte[] {8});
        assertArrayEquals(sha256(new byte[] {1}, left, right), MerkleTree.hashNode(left, right));
        assertArrayEquals(MerkleTree.root(List.of(leaf, leaf)),
                MerkleTree.hashNode(MerkleTree.hashLeaf(leaf), MerkleTree.hashLeaf(leaf)));
    }

    /**
     * Without the 0x00 and 0x01 prefixes, the root of [a, b] would be SHA-256(H(a) || H(b)), which is also the hash
     * of the one leaf H(a) || H(b): two different lists with one root. The prefixes keep them apart.
     */
    @Test
    void aLeafCannotPoseAsAnInteriorNode() {
        byte[] a = "alice pays bob 1".getBytes();
        byte[] b = "bob pays carol 1".getBytes();
        byte[] forged = concat(MerkleTree.hashLeaf(a), MerkleTree.hashLeaf(b));
        byte[] root = MerkleTree.root(List.of(a, b));

        assertFalse(Arrays.equals(root, MerkleTree.root(List.<byte[]>of(forged))));
        assertFalse(new InclusionProof(0, 1, List.of()).verifies(forged, root));
        // the same attack one level down: the node over leaves 0 and 1 of four claimed as leaf 0 of two
        List<byte[]> four = leaves(4);
        MerkleTree tree = MerkleTree.of(four);
        byte[] node01 = concat(MerkleTree.hashLeaf(four.get(0)), MerkleTree.hashLeaf(four.get(1)));
        byte[] node23 = MerkleTree.hashNode(MerkleTree.hashLeaf(four.get(2)), MerkleTree.hashLeaf(four.get(3)));
        assertFalse(new InclusionProof(0, 2, List.of(node23)).verifies(node01, tree.root()));
    }

    @Test
    void rootsAndProofsAreCopies() {
        List<byte[]> leaves = new ArrayList<>(leaves(9));
        byte[] expected = mth(leaves);
        MerkleTree tree = MerkleTree.of(leaves);
        leaves.get(3)[0] ^= 1;
        leaves.set(4, new byte[] {42});
        assertArrayEquals(expected, tree.root(), "changing the caller's leaves changes nothing");
        tree.root()[0] ^= 1;
        assertArrayEquals(expected, tree.root(), "changing a returned root changes nothing");
        InclusionProof proof = tree.proof(2);
        proof.path().get(0)[0] ^= 1;
        assertArrayEquals(expected, tree.root());
        assertEquals(tree.proof(2), proof, "changing a returned path changes nothing");
        byte[] emptyRoot = MerkleTree.of(List.of()).root();
        emptyRoot[0] ^= 1;
        assertArrayEquals(sha256(), MerkleTree.of(List.of()).root());
        assertArrayEquals(sha256(), MerkleTree.root(List.of()));
    }

    @Test
    void nullLeavesAreRejectedByName() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> MerkleTree.root(null)), "leaves is null");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> MerkleTree.of(null)), "leaves is null");
        List<byte[]> withNull = new ArrayList<>(leaves(6));
        withNull.set(4, null);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> MerkleTree.root(withNull)), "leaf 4 is null");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> MerkleTree.of(withNull)), "leaf 4 is null");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> MerkleTree.hashLeaf(null)), "leaf is null");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> MerkleTree.hashNode(null, new byte[32])),
                "left child hash is null");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> MerkleTree.hashNode(new byte[32], new byte[31])),
                "right child hash has 31 bytes");
    }

    @Test
    void proofIndexesOutsideTheTreeAreRejected() {
        MerkleTree tree = MerkleTree.of(leaves(5));
        assertMessage(assertThrows(IllegalArgumentException.class, () -> tree.proof(5)), "leaf index 5 is outside");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> tree.proof(-1)), "from 0 to 4");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> MerkleTree.of(List.of()).proof(0)),
                "empty tree");
    }

    @Test
    void aMillionLeavesBuildIteratively() {
        Random random = new Random(6962);
        List<byte[]> leaves = new ArrayList<>(1_000_000);
        for (int i = 0; i < 1_000_000; i++) {
            byte[] leaf = new byte[32];
            random.nextBytes(leaf);
            leaves.add(leaf);
        }
        long start = System.nanoTime();
        MerkleTree tree = MerkleTree.of(leaves);
        long built = System.nanoTime();
        byte[] root = MerkleTree.root(leaves);
        long rooted = System.nanoTime();
        System.out.printf("MerkleTree: 1,000,000 leaves of 32 bytes: of() %d ms, root() %d ms%n",
                (built - start) / 1_000_000, (rooted - built) / 1_000_000);

        assertEquals(1_000_000, tree.size());
        assertArrayEquals(root, tree.root());
        for (int index : new int[] {0, 1, 524_287, 524_288, 999_998, 999_999, random.nextInt(1_000_000)}) {
            InclusionProof proof = tree.proof(index);
            assertEquals(Rfc6962Reference.shape(index, 1_000_000).size(), proof.path().size(), "leaf " + index);
            assertTrue(proof.verifies(leaves.get(index), root), "leaf " + index);
            assertFalse(proof.verifies(leaves.get(index ^ 1), root), "leaf " + index + "'s neighbour");
        }
        // the recursive reference over the last, ragged part, as a cross-check of the large build
        List<byte[]> tail = leaves.subList(999_424, 1_000_000); // the final 576 = 512 + 64 leaves
        assertArrayEquals(mth(tail), MerkleTree.root(tail));
    }

    static void assertMessage(IllegalArgumentException e, String part) {
        assertTrue(e.getMessage().contains(part), () -> "message \"" + e.getMessage() + "\" lacks \"" + part + "\"");
    }

    private static List<String> hex(List<byte[]> hashes) {
        return hashes.stream().map(HEX::formatHex).toList();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
