package org.commonweal.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 6962 section 2.1 written down as literally as possible, recursion and all, to check {@link MerkleTree}
 * against: slow and obviously correct. Shares no code with the class under test (not even {@link Sha256}).
 */
final class Rfc6962Reference {

    private Rfc6962Reference() {
    }

    static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (byte[] part : parts) {
                digest.update(part);
            }
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The largest power of two smaller than n (n &gt; 1), by counting up. */
    static int split(int n) {
        int k = 1;
        while (k * 2 < n) {
            k *= 2;
        }
        return k;
    }

    /** MTH(D[n]). */
    static byte[] mth(List<byte[]> d) {
        int n = d.size();
        if (n == 0) {
            return sha256();
        }
        if (n == 1) {
            return sha256(new byte[] {0x00}, d.get(0));
        }
        int k = split(n);
        return sha256(new byte[] {0x01}, mth(d.subList(0, k)), mth(d.subList(k, n)));
    }

    /** PATH(m, D[n]) of RFC 9162 section 2.1.3.1, the nearest sibling first. */
    static List<byte[]> path(int m, List<byte[]> d) {
        int n = d.size();
        List<byte[]> path = new ArrayList<>();
        if (n == 1) {
            return path;
        }
        int k = split(n);
        if (m < k) {
            path.addAll(path(m, d.subList(0, k)));
            path.add(mth(d.subList(k, n)));
        } else {
            path.addAll(path(m - k, d.subList(k, n)));
            path.add(mth(d.subList(0, k)));
        }
        return path;
    }

    /** For each element of PATH(m, D[n]): whether that sibling is on the left. The path's shape. */
    static List<Boolean> shape(int m, int n) {
        List<Boolean> shape = new ArrayList<>();
        if (n == 1) {
            return shape;
        }
        int k = split(n);
        if (m < k) {
            shape.addAll(shape(m, k));
            shape.add(false);
        } else {
            shape.addAll(shape(m - k, n - k));
            shape.add(true);
        }
        return shape;
    }

    /** n distinct leaves of varied lengths, the first one empty. */
    static List<byte[]> leaves(int n) {
        List<byte[]> leaves = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            leaves.add(i == 0 ? new byte[0] : ("leaf " + i + "x".repeat(i % 5)).getBytes(StandardCharsets.UTF_8));
        }
        return leaves;
    }
}
