package org.commonweal.chain.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.commonweal.consensus.CommitCertificate;
import org.commonweal.crypto.Sha256;
import org.commonweal.ledger.Block;
import org.commonweal.ledger.Rejection;
import org.commonweal.storage.BlockLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain on disk: {@code blocks/}, the block log (entry {@code h} is the block at height {@code h}
 * with its commit certificate; genesis has none), and {@code snapshots/}, the state every
 * {@code snapshotInterval} blocks.
 * <p>
 * Durability: an appended block is on the device when {@link #append} returns (the block log's
 * {@code msync}). A snapshot is written to a temporary file, forced, renamed over atomically and its
 * directory forced, so a snapshot file is either whole or absent; its SHA-256 is checked on reading,
 * and a damaged one is skipped (the log replays from an older snapshot or from genesis).
 *
 * <pre>
 * log entry:  u8 version (1)  u32 blockLength  block  u32 certificateLength  certificate (0 bytes at genesis)
 * snapshot:   "CWSNAP01"  u64 height  32 sha256(body)  body ({@code StateMachine.snapshot()})
 * </pre>
 */
final class ChainStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChainStore.class);
    private static final int ENTRY_VERSION = 1;
    private static final byte[] SNAPSHOT_MAGIC = "CWSNAP01".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** A block as stored, with its certificate (null at genesis). */
    record Entry(Block block, CommitCertificate certificate) {
    }

    /** A snapshot read back: the height it was taken at and the state machine's bytes. */
    record Snapshot(long height, byte[] state) {
    }

    private final Path directory;
    private final Path snapshots;
    private final BlockLog log;

    private ChainStore(Path directory, BlockLog log) {
        this.directory = directory;
        this.snapshots = directory.resolve("snapshots");
        this.log = log;
    }

    static ChainStore open(Path directory) {
        try {
            Files.createDirectories(directory.resolve("snapshots"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the chain directory " + directory + ": " + e.getMessage()
                    + "; make it writable or point the chain elsewhere", e);
        }
        return new ChainStore(directory, BlockLog.open(directory.resolve("blocks")));
    }

    Path directory() {
        return directory;
    }

    /** Blocks stored: the next height to append. */
    long size() {
        return log.size();
    }

    /** Appends the block at height {@link #size()}; durable on return. */
    void append(Block block, CommitCertificate certificate) {
        if (block.header().height() != log.size()) {
            throw new IllegalStateException("block " + block.header().height() + " cannot follow " + log.size()
                    + " stored blocks");
        }
        byte[] encoded = block.encode();
        byte[] cert = certificate == null ? new byte[0] : certificate.encode();
        log.append(ByteBuffer.allocate(1 + 4 + encoded.length + 4 + cert.length).put((byte) ENTRY_VERSION)
                .putInt(encoded.length).put(encoded).putInt(cert.length).put(cert).array());
    }

    /** The stored entry at {@code height}; a damaged entry is {@link Rejection.Reason#MALFORMED}. */
    Entry read(long height) throws Rejection {
        ByteBuffer in = ByteBuffer.wrap(log.read(height));
        try {
            if ((in.get() & 0xFF) != ENTRY_VERSION) {
                throw new Rejection(Rejection.Reason.MALFORMED, "stored block " + height + " has an unknown entry version");
            }
            byte[] block = new byte[in.getInt()];
            in.get(block);
            byte[] cert = new byte[in.getInt()];
            in.get(cert);
            if (in.hasRemaining()) {
                throw new Rejection(Rejection.Reason.MALFORMED, "stored block " + height + " has trailing bytes");
            }
            return new Entry(Block.decode(block), cert.length == 0 ? null : CommitCertificate.decode(cert));
        } catch (java.nio.BufferUnderflowException | NegativeArraySizeException e) {
            throw new Rejection(Rejection.Reason.MALFORMED, "stored block " + height + " is truncated");
        }
    }

    /** Writes the state at {@code height} (whole or not at all) and keeps the newest {@code keep} snapshots. */
    void writeSnapshot(long height, byte[] state, int keep) {
        Path target = snapshots.resolve(String.format("%020d.snapshot", height));
        Path temporary = snapshots.resolve(target.getFileName() + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer header = ByteBuffer.allocate(SNAPSHOT_MAGIC.length + 8 + 32).put(SNAPSHOT_MAGIC).putLong(height)
                        .put(Sha256.hash(state)).flip();
                out.write(new ByteBuffer[] { header, ByteBuffer.wrap(state) });
                out.force(true);
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(snapshots, StandardOpenOption.READ)) {
                dir.force(true);
            }
            List<Path> all = snapshotFiles();
            for (int i = 0; i < all.size() - keep; i++) {
                Files.deleteIfExists(all.get(i));
            }
        } catch (IOException e) {
            // The log alone suffices to recover: a missing snapshot costs replay time, not data.
            LOG.warn("could not write the state snapshot at height {} to {}: {}; recovery will replay from an older one",
                    height, target, e.toString());
        }
    }

    /**
     * The newest whole snapshot below {@code belowHeight}, or null. Damaged or partial files are logged and
     * skipped.
     */
    Snapshot newestSnapshot(long belowHeight) {
        List<Path> files;
        try {
            files = snapshotFiles();
        } catch (IOException e) {
            LOG.warn("cannot list snapshots in {}: {}; replaying from genesis", snapshots, e.toString());
            return null;
        }
        for (int i = files.size() - 1; i >= 0; i--) {
            Path file = files.get(i);
            try {
                ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file));
                byte[] magic = new byte[SNAPSHOT_MAGIC.length];
                byte[] hash = new byte[32];
                in.get(magic);
                long height = in.getLong();
                in.get(hash);
                byte[] state = new byte[in.remaining()];
                in.get(state);
                if (!Arrays.equals(magic, SNAPSHOT_MAGIC) || !Arrays.equals(hash, Sha256.hash(state))) {
                    LOG.warn("snapshot {} is damaged (magic or checksum); skipping it", file);
                } else if (height < belowHeight) {
                    return new Snapshot(height, state);
                }
            } catch (IOException | java.nio.BufferUnderflowException e) {
                LOG.warn("snapshot {} is unreadable ({}); skipping it", file, e.toString());
            }
        }
        return null;
    }

    private List<Path> snapshotFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(snapshots, "*.snapshot")) {
            dir.forEach(files::add);
        }
        files.sort(null); // zero-padded heights: name order is height order
        return files;
    }

    @Override
    public void close() {
        log.close();
    }
}
