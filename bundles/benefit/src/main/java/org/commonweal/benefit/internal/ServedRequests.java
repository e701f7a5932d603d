package org.commonweal.benefit.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import org.commonweal.benefit.Receipt;
import org.commonweal.benefit.RevealedRequest;
import org.commonweal.node.api.BundleThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receipts this node issued and the requests behind them, kept (bounded) so that a sampled one can be revealed.
 * One folder, per receipt id: {@code <id>.served} (the receipt as issued, then the {@link RevealedRequest}; written
 * off the serving path, one plain write: a file torn or lost by a crash is dropped at the next start, its receipt
 * unknown and so never claimed), {@code <id>.receipt} once countersigned, {@code <id>.claimed} once its claim
 * committed (holding the block height), and {@code <id>.secret} (hex) once revealed: the reveal's ephemeral secret, which a dispute discloses
 * ({@code cw benefit dispute --secret}). Every file is written before the step it records is acted on, so a restart
 * loses nothing but the order of receipts issued in the same millisecond. Beyond {@code max} receipts the oldest go
 * (with their files), those never countersigned first: a node must keep more than it claims within an audit's window
 * ({@code audit.holdBlocks}). The writer's queue is not bounded: a disk slower than the serving fills memory.
 */
final class ServedRequests {

    enum Stage {
        /** Signed by this node and handed to the client. */
        ISSUED,
        /** Countersigned by the person, waiting to be claimed. */
        COUNTERSIGNED,
        /** In a committed claim. */
        CLAIMED
    }

    /** One receipt: its stage, when it reached it (ms), and the claim's block height (0 before). */
    record Entry(Receipt receipt, Stage stage, long since, long claimedHeight) {
        String id() {
            return HexFormat.of().formatHex(receipt.id());
        }
    }

    private static final String SERVED = ".served";

    private static final Logger LOG = LoggerFactory.getLogger(ServedRequests.class);

    private final Path folder;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(BundleThreads.factory("benefit-served-requests"));
    private final int max;
    /** In the order issued: the first is the first to go. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    ServedRequests(Path folder, int max) throws IOException {
        if (max < 1) {
            throw new IllegalArgumentException("the served requests' store keeps at least 1 request, not " + max);
        }
        this.folder = folder;
        this.max = max;
        Files.createDirectories(folder);
        List<Path> served;
        try (Stream<Path> files = Files.list(folder)) {
            served = files.filter(p -> p.getFileName().toString().endsWith(SERVED))
                    .sorted(Comparator.comparing(ServedRequests::modified)).toList();
        }
        long now = System.currentTimeMillis();
        for (Path file : served) {
            String name = file.getFileName().toString();
            String id = name.substring(0, name.length() - SERVED.length());
            Path countersigned = folder.resolve(id + ".receipt");
            Receipt receipt;
            try {
                receipt = Files.exists(countersigned) ? Receipt.decode(Files.readAllBytes(countersigned))
                        : Receipt.decode(ByteBuffer.wrap(Files.readAllBytes(file)));
                RevealedRequest.decode(request(Files.readAllBytes(file)));
            } catch (IllegalArgumentException e) {
                Files.deleteIfExists(file); // torn by a crash while it was written: never countersigned
                continue;
            }
            Path claimed = folder.resolve(id + ".claimed");
            Stage stage = Files.exists(claimed) ? Stage.CLAIMED
                    : isZero(receipt.personSignature()) ? Stage.ISSUED
                            : Stage.COUNTERSIGNED;
            long height = stage == Stage.CLAIMED ? Long.parseLong(Files.readString(claimed).trim()) : 0;
            entries.put(id, new Entry(receipt, stage, now, height));
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean isZero(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Keeps a receipt just issued and its request; the oldest go beyond the bound. The file is written on the
     * store's own thread, off the serving path (a new file costs 0.05-0.5 ms here); {@link #countersigned} and
     * {@link #request} wait for it.
     */
    synchronized void issued(Receipt receipt, RevealedRequest request) {
        String id = HexFormat.of().formatHex(receipt.id());
        entries.put(id, new Entry(receipt, Stage.ISSUED, System.currentTimeMillis(), 0));
        // the oldest never countersigned go first: a countersigned or claimed one may still be sampled
        List<String> gone = new ArrayList<>();
        Iterator<Map.Entry<String, Entry>> oldest = entries.entrySet().iterator();
        while (entries.size() > max && oldest.hasNext()) {
            Map.Entry<String, Entry> next = oldest.next();
            if (next.getValue().stage() == Stage.ISSUED && !next.getKey().equals(id)) {
                gone.add(next.getKey());
                oldest.remove();
            }
        }
        oldest = entries.entrySet().iterator();
        while (entries.size() > max) {
            gone.add(oldest.next().getKey());
            oldest.remove();
        }
        writer.execute(() -> {
            try {
                byte[] plain = request.encode();
                Files.write(folder.resolve(id + SERVED), ByteBuffer.allocate(Receipt.BYTES + plain.length)
                        .put(receipt.encode()).put(plain).array());
                for (String old : gone) {
                    for (String suffix : List.of(SERVED, ".receipt", ".claimed", ".secret")) {
                        Files.deleteIfExists(folder.resolve(old + suffix));
                    }
                }
            } catch (IOException e) {
                LOG.error("cannot keep served request {} in {}: its receipt cannot be claimed", id, folder, e);
            }
        });
    }

    /** Waits until every file of the receipts issued so far is written. */
    void flush() throws IOException {
        try {
            writer.submit(() -> { }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the served requests were written", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.RejectedExecutionException e) {
            throw new IOException("the served requests' store is closed", e);
        }
    }

    /** Writes what is pending and stops the store's thread. */
    void close() throws InterruptedException {
        writer.shutdown();
        writer.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    synchronized Optional<Entry> entry(String id) {
        return Optional.ofNullable(entries.get(id));
    }

    /** The receipt as the person countersigned it, now waiting to be claimed. */
    synchronized void countersigned(Receipt receipt) throws IOException {
        String id = HexFormat.of().formatHex(receipt.id());
        flush();
        if (Files.notExists(folder.resolve(id + SERVED))) {
            throw new IOException("the request of receipt " + id + " could not be kept in " + folder
                    + " (see the node's log): it cannot be claimed");
        }
        write(id + ".receipt", receipt.encode());
        entries.put(id, new Entry(receipt, Stage.COUNTERSIGNED, System.currentTimeMillis(), 0));
    }

    /** Countersigned receipts not yet claimed, oldest first. */
    synchronized List<Entry> pending() {
        return entries.values().stream().filter(e -> e.stage() == Stage.COUNTERSIGNED).toList();
    }

    /** Claimed at {@code height} (committed). */
    synchronized void claimed(List<Receipt> receipts, long height) throws IOException {
        for (Receipt receipt : receipts) {
            String id = HexFormat.of().formatHex(receipt.id());
            Entry entry = entries.get(id);
            if (entry != null) {
                write(id + ".claimed", (height + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                entries.put(id, new Entry(entry.receipt(), Stage.CLAIMED, System.currentTimeMillis(), height));
            }
        }
    }

    /** A receipt that will never be claimed (stale, or refused): its files go. */
    synchronized void dropped(String id) throws IOException {
        entries.remove(id);
        for (String suffix : List.of(SERVED, ".receipt", ".claimed", ".secret")) {
            Files.deleteIfExists(folder.resolve(id + suffix));
        }
    }

    /** Claimed receipts whose claim is at or after {@code height}, or claimed before this node started. */
    synchronized List<Entry> claimedSince(long height) {
        List<Entry> claimed = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.stage() == Stage.CLAIMED && e.claimedHeight() >= height) {
                claimed.add(e);
            }
        }
        return claimed;
    }

    /** The request behind a receipt, as kept. */
    RevealedRequest request(String id) throws IOException {
        flush();
        try {
            return RevealedRequest.decode(request(Files.readAllBytes(folder.resolve(id + SERVED))));
        } catch (NoSuchFileException e) {
            throw new IOException("the request of receipt " + id + " is no longer kept in " + folder + " (the store keeps "
                    + max + "; raise requests.max in org.commonweal.benefit.serving)", e);
        }
    }

    /** Keeps a reveal's ephemeral secret (hex), for a dispute. */
    void secret(String id, byte[] secret) throws IOException {
        write(id + ".secret", (HexFormat.of().formatHex(secret) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** The request's part of a {@code .served} file. */
    private static byte[] request(byte[] served) {
        if (served.length < Receipt.BYTES) {
            throw new IllegalArgumentException("a served request's file ends early");
        }
        return java.util.Arrays.copyOfRange(served, Receipt.BYTES, served.length);
    }

    Path folder() {
        return folder;
    }

    synchronized int size() {
        return entries.size();
    }

    private void write(String name, byte[] bytes) throws IOException {
        Path temporary = folder.resolve(name + ".tmp");
        Files.write(temporary, bytes);
        Files.move(temporary, folder.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
