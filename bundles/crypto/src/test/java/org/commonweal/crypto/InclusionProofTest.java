package org.commonweal.crypto;

import static org.commonweal.crypto.MerkleTreeTest.assertMessage;
import static org.commonweal.crypto.Rfc6962Reference.leaves;
import static org.commonweal.crypto.Rfc6962Reference.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class InclusionProofTest {

    private static final int MAX_SIZE = 70;

    @Test
    void everyProofOfEveryTreeUpTo70VerifiesAndEveryFlippedBitFails() {
        List<byte[]> all = leaves(MAX_SIZE);
        int checks = 0;
        for (int n = 1; n <= MAX_SIZE; n++) {
            List<byte[]> leaves = all.subList(0, n);
            MerkleTree tree = MerkleTree.of(leaves);
            byte[] root = tree.root();
            for (int m = 0; m < n; m++) {
                InclusionProof proof = tree.proof(m);
                byte[] leaf = leaves.get(m);
                String at = "leaf " + m + " of " + n;
                assertTrue(proof.verifies(leaf, root), at);

                for (int bit = 0; bit < leaf.length * 8; bit++) {
                    assertFalse(proof.verifies(flip(leaf, bit), root), at + ", leaf bit " + bit);
                    checks++;
                }
                assertFalse(proof.verifies(Arrays.copyOf(leaf, leaf.length + 1), root), at + ", leaf + 0x00");
                for (int bit = 0; bit < 256; bit++) {
                    assertFalse(proof.verifies(leaf, flip(root, bit)), at + ", root bit " + bit);
                    checks++;
                }
                List<byte[]> path = proof.path();
                for (int i = 0; i < path.size(); i++) {
                    for (int bit = 0; bit < 256; bit++) {
                        List<byte[]> tampered = new ArrayList<>(path);
                        tampered.set(i, flip(path.get(i), bit));
                        assertFalse(new InclusionProof(m, n, tampered).verifies(leaf, root),
                                at + ", path hash " + i + " bit " + bit);
                        checks++;
                    }
                }
            }
        }
        assertTrue(checks > 2_000_000, "the loops ran: " + checks);
    }

    @Test
    void anyOtherIndexFails() {
        List<byte[]> all = leaves(MAX_SIZE);
        for (int n = 1; n <= MAX_SIZE; n++) {
            List<byte[]> leaves = all.subList(0, n);
            MerkleTree tree = MerkleTree.of(leaves);
            byte[] root = tree.root();
            for (int m = 0; m < n; m++) {
                List<byte[]> path = tree.proof(m).path();
                for (int other = 0; other < n; other++) {
                    assertEquals(other == m, new InclusionProof(other, n, path).verifies(leaves.get(m), root),
                            "leaf " + m + " of " + n + " claimed at " + other);
                }
            }
        }
    }

    /**
     * A root does not commit to its tree's size (RFC 6962), so another size verifies exactly when it gives the path
     * the same shape, the same sibling sides in the same order; every other size fails. Hence the class's advice to
     * take the size from where the root comes from.
     */
    @Test
    void anotherTreeSizeFailsUnlessThePathHasTheSameShape() {
        List<byte[]> all = leaves(MAX_SIZE);
        int sameShape = 0;
        int failed = 0;
        for (int n = 1; n <= MAX_SIZE; n++) {
            List<byte[]> leaves = all.subList(0, n);
            MerkleTree tree = MerkleTree.of(leaves);
            byte[] root = tree.root();
            for (int m = 0; m < n; m++) {
                List<byte[]> path = tree.proof(m).path();
                List<Boolean> shape = shape(m, n);
                for (int other = m + 1; other <= 2 * MAX_SIZE + 2; other++) {
                    if (other == n) {
                        continue;
                    }
                    boolean same = shape.equals(shape(m, other));
                    assertEquals(same, new InclusionProof(m, other, path).verifies(leaves.get(m), root),
                            "leaf " + m + " of " + n + " claimed in a tree of " + other);
                    if (same) {
                        sameShape++;
                    } else {
                        failed++;
                    }
                }
            }
        }
        assertTrue(sameShape > 0 && failed > sameShape, sameShape + " same shapes, " + failed + " failures");

        // the example of the class description: leaf 0 of 3 and leaf 0 of 4 both go left, left
        List<byte[]> three = leaves(3);
        InclusionProof proof = MerkleTree.of(three).proof(0);
        assertTrue(new InclusionProof(0, 4, proof.path()).verifies(three.get(0), MerkleTree.root(three)));
        assertFalse(new InclusionProof(0, 5, proof.path()).verifies(three.get(0), MerkleTree.root(three)));
    }

    @Test
    void aPathTooShortOrTooLongFails() {
        List<byte[]> leaves = leaves(13);
        MerkleTree tree = MerkleTree.of(leaves);
        byte[] root = tree.root();
        for (int m = 0; m < 13; m++) {
            List<byte[]> path = tree.proof(m).path();
            List<byte[]> longer = new ArrayList<>(path);
            longer.add(root);
            assertFalse(new InclusionProof(m, 13, longer).verifies(leaves.get(m), root), "leaf " + m + " longer");
            assertFalse(new InclusionProof(m, 13, path.subList(0, path.size() - 1)).verifies(leaves.get(m), root),
                    "leaf " + m + " without its last hash");
            assertFalse(new InclusionProof(m, 13, path.subList(1, path.size())).verifies(leaves.get(m), root),
                    "leaf " + m + " without its first hash");
        }
        byte[] only = {7};
        assertTrue(new InclusionProof(0, 1, List.of()).verifies(only, MerkleTree.root(List.of(only))));
        assertFalse(new InclusionProof(0, 1, List.of(root)).verifies(only, MerkleTree.root(List.of(only))));
    }

    @Test
    void verifiesRejectsBadArgumentsByName() {
        InclusionProof proof = MerkleTree.of(leaves(3)).proof(1);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> proof.verifies(null, new byte[32])),
                "leaf is null");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> proof.verifies(new byte[1], null)),
                "root is null");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> proof.verifies(new byte[1], new byte[64])),
                "root has 64 bytes");
    }

    @Test
    void theConstructorRejectsImpossibleProofsByName() {
        List<byte[]> hash = List.of(new byte[32]);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new InclusionProof(-1, 4, hash)),
                "leaf index -1 is negative");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new InclusionProof(4, 4, hash)),
                "tree size 4 does not exceed leaf index 4");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new InclusionProof(0, 0, List.of())),
                "tree size 0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new InclusionProof(0, 4, null)),
                "path is null");
        List<byte[]> withNull = Arrays.asList(new byte[32], null);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new InclusionProof(0, 4, withNull)),
                "path hash 1 is null");
        List<byte[]> short2 = List.of(new byte[32], new byte[32], new byte[31]);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new InclusionProof(0, 4, short2)),
                "path hash 2 has 31 bytes");
        List<byte[]> tooLong = Collections.nCopies(65, new byte[32]);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new InclusionProof(0, 4, tooLong)),
                "path has 65 hashes");
        assertEquals(64, new InclusionProof(0, Integer.MAX_VALUE, Collections.nCopies(64, new byte[32])).path().size());
    }

    @Test
    void theProofHoldsCopies() {
        byte[] hash = new byte[32];
        List<byte[]> path = new ArrayList<>(List.of(hash));
        InclusionProof proof = new InclusionProof(0, 2, path);
        hash[0] = 1;
        path.add(new byte[32]);
        assertEquals(1, proof.path().size());
        assertArrayEquals(new byte[32], proof.path().get(0));
        proof.path().get(0)[0] = 1;
        assertArrayEquals(new byte[32], proof.path().get(0));
        assertThrows(UnsupportedOperationException.class, () -> proof.path().add(new byte[32]));
    }

    @Test
    void equalityIsByContent() {
        InclusionProof a = new InclusionProof(1, 3, List.of(hashOf(1), hashOf(2)));
        InclusionProof b = new InclusionProof(1, 3, List.of(hashOf(1), hashOf(2)));
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new InclusionProof(1, 3, List.of(hashOf(1), hashOf(3))));
        assertNotEquals(a, new InclusionProof(1, 3, List.of(hashOf(1))));
        assertNotEquals(a, new InclusionProof(0, 3, List.of(hashOf(1), hashOf(2))));
        assertNotEquals(a, new InclusionProof(1, 4, List.of(hashOf(1), hashOf(2))));
        assertTrue(a.toString().contains("index=1, treeSize=3") && a.toString().contains(HexFormat.of().formatHex(hashOf(2))),
                a.toString());
    }

    @Test
    void encodingRoundTripsEveryProof() {
        List<byte[]> all = leaves(MAX_SIZE);
        for (int n = 1; n <= MAX_SIZE; n++) {
            MerkleTree tree = MerkleTree.of(all.subList(0, n));
            for (int m = 0; m < n; m++) {
                InclusionProof proof = tree.proof(m);
                byte[] encoding = proof.encode();
                assertEquals(10 + 32 * proof.path().size(), encoding.length);
                InclusionProof decoded = InclusionProof.decode(encoding);
                assertEquals(proof, decoded, "leaf " + m + " of " + n);
                assertTrue(decoded.verifies(all.get(m), tree.root()));
                assertArrayEquals(encoding, decoded.encode());
            }
        }
    }

    @Test
    void theEncodingLayoutIsFixed() {
        InclusionProof proof = new InclusionProof(0x01020304, Integer.MAX_VALUE, List.of(hashOf(1), hashOf(2)));
        ByteBuffer expected = ByteBuffer.allocate(10 + 64);
        expected.put(new byte[] {1, 1, 2, 3, 4, 0x7f, -1, -1, -1, 2}).put(hashOf(1)).put(hashOf(2));
        assertArrayEquals(expected.array(), proof.encode());
        assertArrayEquals(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 1, 0}, new InclusionProof(0, 1, List.of()).encode());
        assertEquals(proof, InclusionProof.decode(expected.array()));
    }

    @Test
    void malformedEncodingsAreRejectedByName() {
        byte[] valid = new InclusionProof(2, 5, List.of(hashOf(1), hashOf(2), hashOf(3))).encode();
        for (int length = 0; length < valid.length; length++) {
            byte[] truncated = Arrays.copyOf(valid, length);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> InclusionProof.decode(truncated), "truncated to " + length);
            assertMessage(e, length < 10 ? "fewer than its 10-byte header" : "truncated");
        }
        assertMessage(decodeFails(Arrays.copyOf(valid, valid.length + 1)), "followed by other bytes");
        assertMessage(decodeFails(Arrays.copyOf(valid, valid.length + 32)), "followed by other bytes");
        assertMessage(decodeFails(null), "proof encoding is null");
        assertMessage(decodeFails(with(valid, 0, 0)), "version 0");
        assertMessage(decodeFails(with(valid, 0, 2)), "version 2");
        assertMessage(decodeFails(with(valid, 0, 0xff)), "version 255");
        assertMessage(decodeFails(with(valid, 1, 0x80)), "leaf index -2147483646 is negative");
        assertMessage(decodeFails(with(valid, 8, 2)), "tree size 2 does not exceed leaf index 2");
        assertMessage(decodeFails(with(valid, 5, 0x80)), "tree size -2147483643");
        assertMessage(decodeFails(with(valid, 9, 65)), "announces 65 path hashes");
        assertMessage(decodeFails(with(valid, 9, 0xff)), "announces 255 path hashes");
        assertMessage(decodeFails(with(valid, 9, 4)), "truncated");
        assertMessage(decodeFails(with(valid, 9, 2)), "followed by other bytes");
        byte[] longest = new InclusionProof(0, 1, Collections.nCopies(64, new byte[32])).encode();
        assertEquals(64, InclusionProof.decode(longest).path().size());
    }

    /**
     * Thousands of random and mutated encodings: each either decodes to a proof that encodes back to the very same
     * bytes (one encoding per proof) or is refused with an IllegalArgumentException; nothing else ever escapes.
     */
    @Test
    void fuzzedEncodingsDecodeCanonicallyOrFailWithIllegalArgument() {
        Random random = new Random(9162);
        List<byte[]> valid = new ArrayList<>();
        MerkleTree tree = MerkleTree.of(leaves(MAX_SIZE));
        for (int m = 0; m < MAX_SIZE; m++) {
            valid.add(tree.proof(m).encode());
        }
        int decoded = 0;
        int refused = 0;
        for (int round = 0; round < 12_000; round++) {
            byte[] input = switch (round % 4) {
                case 0 -> randomBytes(random, random.nextInt(10 + 32 * 66));
                case 1 -> plausible(random);
                case 2 -> mutate(random, valid.get(random.nextInt(valid.size())));
                default -> mutate(random, mutate(random, plausible(random)));
            };
            try {
                InclusionProof proof = InclusionProof.decode(input);
                assertArrayEquals(input, proof.encode(), "round " + round + " decoded but did not encode back");
                decoded++;
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage() != null && e.getMessage().startsWith("proof encoding"), e.getMessage());
                refused++;
            } catch (RuntimeException e) {
                fail("round " + round + ": " + HexFormat.of().formatHex(input) + " threw " + e, e);
            }
        }
        assertTrue(decoded > 1_000 && refused > 1_000, decoded + " decoded, " + refused + " refused");
    }

    /** A header that is often right (version 1, a path count within the limit, the length it announces). */
    private static byte[] plausible(Random random) {
        int count = random.nextInt(70);
        int index = random.nextInt(4) == 0 ? random.nextInt() : random.nextInt(1000);
        int size = random.nextInt(4) == 0 ? random.nextInt() : index + random.nextInt(1000);
        int length = 10 + 32 * count + (random.nextInt(4) == 0 ? random.nextInt(5) - 2 : 0);
        ByteBuffer out = ByteBuffer.allocate(Math.max(length, 10));
        out.put((byte) (random.nextInt(8) == 0 ? random.nextInt(256) : 1)).putInt(index).putInt(size).put((byte) count);
        byte[] bytes = out.array();
        byte[] hashes = randomBytes(random, bytes.length - 10);
        System.arraycopy(hashes, 0, bytes, 10, hashes.length);
        return Arrays.copyOf(bytes, Math.max(length, 0));
    }

    private static byte[] mutate(Random random, byte[] input) {
        byte[] out = input.clone();
        switch (random.nextInt(5)) {
            case 0 -> {
                if (out.length > 0) {
                    out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> {
                if (out.length > 0) {
                    out[random.nextInt(Math.min(out.length, 10))] = (byte) random.nextInt(256);
                }
            }
            case 2 -> out = Arrays.copyOf(out, random.nextInt(out.length + 1));
            case 3 -> {
                byte[] tail = randomBytes(random, 1 + random.nextInt(40));
                out = Arrays.copyOf(out, out.length + tail.length);
                System.arraycopy(tail, 0, out, input.length, tail.length);
            }
            default -> {
                if (out.length > 0) {
                    int at = random.nextInt(out.length);
                    byte[] shorter = new byte[out.length - 1];
                    System.arraycopy(out, 0, shorter, 0, at);
                    System.arraycopy(out, at + 1, shorter, at, out.length - at - 1);
                    out = shorter;
                }
            }
        }
        return out;
    }

    private static IllegalArgumentException decodeFails(byte[] encoding) {
        return assertThrows(IllegalArgumentException.class, () -> InclusionProof.decode(encoding));
    }

    private static byte[] with(byte[] bytes, int offset, int value) {
        byte[] changed = bytes.clone();
        changed[offset] = (byte) value;
        return changed;
    }

    private static byte[] flip(byte[] bytes, int bit) {
        byte[] flipped = bytes.clone();
        flipped[bit / 8] ^= (byte) (1 << (bit % 8));
        return flipped;
    }

    private static byte[] hashOf(int i) {
        return Rfc6962Reference.sha256(new byte[] {(byte) i});
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
