package org.commonweal.launcher;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The node's data directory ({@code --data}): node key, framework cache, and later ledger and models.
 * Checked writable before anything starts, and locked for the node's lifetime so that two nodes never
 * share (and corrupt) one directory.
 */
final class DataDirectory implements AutoCloseable {

    static final String LOCK_FILE = "node.lock";

    private final Path path;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private DataDirectory(Path path, FileChannel lockChannel, FileLock lock) {
        this.path = path;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    static DataDirectory open(Path requested) throws LaunchException {
        Path path = requested.toAbsolutePath().normalize();
        try {
            Files.createDirectories(path);
            Files.delete(Files.createTempFile(path, ".write-probe", ""));
        } catch (FileAlreadyExistsException e) {
            throw new LaunchException("data directory " + path + " cannot be used: " + e.getFile()
                    + " exists and is not a directory. Fix: choose another with --data DIR");
        } catch (IOException e) {
            throw new LaunchException("data directory " + path + " is not writable (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "). Fix: choose another with --data DIR, or make it writable by this user");
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(path.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                throw new LaunchException("data directory " + path + " is in use by another running node. Fix: stop that"
                        + " node first, or give this one its own directory with --data DIR");
            }
            return new DataDirectory(path, channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new LaunchException("data directory " + path + ": cannot lock " + LOCK_FILE + " (" + e.getMessage() + ")."
                    + " Fix: choose another with --data DIR", e);
        }
    }

    Path path() {
        return path;
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // the channel's close below releases it too
        }
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing left to do
            }
        }
    }
}
