package org.commonweal.node;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.Bundle;

/**
 * SHA-256 of each bundle's jar, read from its install location (the distribution's file) and
 * remembered per location, size and modification time so that a status request does not rehash.
 */
final class BundleDigests {

    private record Key(String location, long size, long modified) {
    }

    private final Map<Key, String> cache = new ConcurrentHashMap<>();

    /** The hex SHA-256, or null where the bundle has no readable file (the system bundle). */
    String sha256(Bundle bundle) {
        if (bundle.getBundleId() == 0) {
            return null;
        }
        Path file = fileOf(bundle.getLocation());
        if (file == null || !Files.isRegularFile(file)) {
            return null;
        }
        try {
            Key key = new Key(bundle.getLocation(), Files.size(file), Files.getLastModifiedTime(file).toMillis());
            String cached = cache.get(key);
            if (cached == null) {
                cached = hash(file);
                cache.put(key, cached);
            }
            return cached;
        } catch (IOException e) {
            return null;
        }
    }

    private static Path fileOf(String location) {
        String uri = location.startsWith("reference:") ? location.substring("reference:".length()) : location;
        try {
            return uri.startsWith("file:") ? Path.of(URI.create(uri)) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static String hash(Path file) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
