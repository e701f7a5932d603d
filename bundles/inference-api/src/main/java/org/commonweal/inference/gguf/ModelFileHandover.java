package org.commonweal.inference.gguf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Open model files handed from one inference implementation to the next across an upgrade: the new revision serves
 * the weights already in memory instead of reading and hashing the file again (seconds for a 1B model, with requests
 * waiting meanwhile). This class is in the API bundle, which an upgrade of the implementation does not replace, and
 * holds only API objects ({@link GgufFile}: its tensor memory and metadata) and, opaque to it, the weights the leaver
 * prepared for the kernels (objects of the kernels bundle, which the taker uses only if they are of the kernels it
 * runs with), never an object of the revision that leaves them, whose class loader can then go.
 * <p>
 * A file is taken only if it did not change on disk since it was opened (same size, modification time and file key)
 * and with the same {@link GgufFile.Loading}; otherwise it is closed and the taker reads the file. A file nobody takes
 * (the implementation was stopped, not replaced) is closed after the time its leaver gave, by a daemon thread of this
 * bundle that ends when nothing is left.
 */
public final class ModelFileHandover {

    /**
     * A file taken over, with the SHA-256 its first reader computed and what its leaver prepared from it for the kernels
     * ({@code prepared}, possibly null: objects of the kernels bundle, to be checked before use).
     */
    public record Handed(GgufFile file, String sha256, Object prepared) {
    }

    private record Left(GgufFile file, String sha256, Object prepared, String identity, long closeAtNanos) {
    }

    private static final Map<Path, Left> LEFT = new HashMap<>();
    private static Thread closer;

    private ModelFileHandover() {
    }

    /**
     * Leaves {@code file} (opened from {@code path}, whose content has {@code sha256}) and what was {@code prepared} from
     * it (or null) for the next implementation, for at most {@code keep}; with a zero {@code keep}, or if the file
     * changed on disk, closes it now.
     */
    public static void leave(Path path, GgufFile file, String sha256, Object prepared, Duration keep) {
        String identity = identity(path);
        if (keep.isZero() || keep.isNegative() || identity == null) {
            file.close();
            return;
        }
        synchronized (ModelFileHandover.class) {
            Left previous = LEFT.put(path.toAbsolutePath().normalize(), new Left(file, sha256, prepared, identity,
                    System.nanoTime() + keep.toNanos()));
            if (previous != null && previous.file() != file) {
                previous.file().close();
            }
            if (closer == null) {
                closer = Thread.ofPlatform().name("model-file-handover").daemon().unstarted(ModelFileHandover::closeExpired);
                closer.setContextClassLoader(ModelFileHandover.class.getClassLoader());
                closer.start();
            }
            ModelFileHandover.class.notifyAll();
        }
    }

    /** The file left for {@code path} if it is still what the path holds and was loaded as {@code loading}. */
    public static Optional<Handed> take(Path path, GgufFile.Loading loading) {
        Left left;
        synchronized (ModelFileHandover.class) {
            left = LEFT.remove(path.toAbsolutePath().normalize());
        }
        if (left == null) {
            return Optional.empty();
        }
        if (left.file().loading() != loading || !left.identity().equals(identity(path))) {
            left.file().close();
            return Optional.empty();
        }
        return Optional.of(new Handed(left.file(), left.sha256(), left.prepared()));
    }

    /** Size, modification time and file key: a file rewritten in place differs in one of them. */
    private static String identity(Path path) {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return a.size() + "/" + a.lastModifiedTime().toMillis() + "/" + a.fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static void closeExpired() {
        synchronized (ModelFileHandover.class) {
            try {
                while (!LEFT.isEmpty()) {
                    // The scan is a method of its own: a frame that waits here must hold no Left (an iterator or
                    // local left over from the scan would keep a taken file's prepared weights, and their bundle).
                    long next = closeDue();
                    if (next != Long.MAX_VALUE) {
                        ModelFileHandover.class.wait(Math.max(1, next / 1_000_000));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closer = null;
            }
        }
    }

    /** Closes the files whose time is up; returns the nanoseconds until the next one's, or Long.MAX_VALUE. */
    private static long closeDue() {
        long now = System.nanoTime();
        long next = Long.MAX_VALUE;
        for (var it = LEFT.values().iterator(); it.hasNext(); ) {
            Left left = it.next();
            if (left.closeAtNanos() - now <= 0) {
                it.remove();
                left.file().close();
            } else {
                next = Math.min(next, left.closeAtNanos() - now);
            }
        }
        return next;
    }
}
