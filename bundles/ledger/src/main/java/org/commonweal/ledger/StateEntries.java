package org.commonweal.ledger;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The formats and limits of namespaced state entries (see {@link StateView}). An entry's place in the
 * entries tree is its <em>path</em>, {@code u8 namespace length || namespace (ASCII) || key}, in unsigned
 * byte order; its leaf is {@code u8 nsLength || namespace || u16 keyLength || key || u32 valueLength || value},
 * big-endian.
 */
public final class StateEntries {

    /** The longest namespace, in characters of {@code [a-z0-9._-]}. */
    public static final int MAX_NAMESPACE_CHARS = 32;
    /** The longest key. */
    public static final int MAX_KEY_BYTES = 128;
    /** The longest value; a value has at least one byte (deleting is how an entry goes away). */
    public static final int MAX_VALUE_BYTES = 4096;
    /** The most entries one transaction may write or delete. */
    public static final int MAX_WRITES_PER_TRANSACTION = 1024;
    /** The most entries one block rule may write or delete in one block. */
    public static final int MAX_WRITES_PER_BLOCK_RULE = 65_536;
    /** The most entries a state holds. */
    public static final int MAX_ENTRIES = 100_000_000;

    static final Comparator<byte[]> PATH_ORDER = Arrays::compareUnsigned;

    private StateEntries() {
    }

    /** The path of an entry, after checking the namespace and key. */
    static byte[] path(String namespace, byte[] key) throws Rejection {
        checkNamespace(namespace);
        if (key == null || key.length > MAX_KEY_BYTES) {
            throw new Rejection(Rejection.Reason.OVERSIZED, "an entry key of namespace " + namespace + " has 0.."
                    + MAX_KEY_BYTES + " bytes, not " + (key == null ? "none" : key.length));
        }
        byte[] ns = namespace.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(1 + ns.length + key.length).put((byte) ns.length).put(ns).put(key).array();
    }

    /** Throws an {@link IllegalArgumentException} (a payload type's bug) for a namespace outside the rules. */
    static void checkNamespace(String namespace) {
        if (namespace == null || namespace.isEmpty() || namespace.length() > MAX_NAMESPACE_CHARS
                || !namespace.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                        || c == '-')) {
            throw new IllegalArgumentException("a state namespace is 1.." + MAX_NAMESPACE_CHARS + " characters of"
                    + " [a-z0-9._-], not '" + namespace + "'");
        }
    }

    static void checkValue(byte[] path, byte[] value) throws Rejection {
        if (value == null || value.length == 0 || value.length > MAX_VALUE_BYTES) {
            throw new Rejection(Rejection.Reason.OVERSIZED, "an entry value of namespace " + namespace(path) + " has 1.."
                    + MAX_VALUE_BYTES + " bytes, not " + (value == null ? "none" : value.length) + " (delete an entry"
                    + " instead of writing it empty)");
        }
    }

    static String namespace(byte[] path) {
        return new String(path, 1, path[0] & 0xFF, StandardCharsets.US_ASCII);
    }

    static byte[] key(byte[] path) {
        return Arrays.copyOfRange(path, 1 + (path[0] & 0xFF), path.length);
    }

    /** The leaf of an entry in the entries tree. */
    public static byte[] leaf(String namespace, byte[] key, byte[] value) {
        byte[] ns = namespace.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(1 + ns.length + 2 + key.length + 4 + value.length).put((byte) ns.length).put(ns)
                .putShort((short) key.length).put(key).putInt(value.length).put(value).array();
    }

    static byte[] leaf(byte[] path, byte[] value) {
        return leaf(namespace(path), key(path), value);
    }
}
