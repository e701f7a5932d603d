package org.commonweal.crypto;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Verifies many signatures at once, spread over a fixed set of threads (Ed25519 verification is
 * independent per signature: the result never depends on the thread count). A mempool or a block
 * check hands it a whole batch instead of verifying one by one on one core.
 */
public final class SignatureBatch implements AutoCloseable {

    /** One signature to check. */
    public record Item(PublicKey key, byte[] message, byte[] signature) {
    }

    private final int threads;
    private final ExecutorService workers;

    public SignatureBatch(int threads) {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("a signature batch needs 1..1024 threads, not " + threads);
        }
        this.threads = threads;
        this.workers = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, runnable -> {
            Thread thread = new Thread(runnable, "commonweal-verify");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** One thread per available processor. */
    public static SignatureBatch ofAvailableProcessors() {
        return new SignatureBatch(Runtime.getRuntime().availableProcessors());
    }

    /** The indexes of the items whose signature does not verify (empty: all valid). */
    public BitSet invalid(List<Item> items) {
        BitSet invalid = new BitSet(items.size());
        int parts = Math.max(1, Math.min(threads, items.size() / 16));
        if (parts == 1) {
            check(items, 0, items.size(), invalid);
            return invalid;
        }
        List<Future<BitSet>> futures = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) items.size() * p / parts);
            int to = (int) ((long) items.size() * (p + 1) / parts);
            futures.add(workers.submit(() -> {
                BitSet part = new BitSet();
                check(items, from, to, part);
                return part;
            }));
        }
        check(items, 0, items.size() / parts, invalid);
        for (Future<BitSet> future : futures) {
            try {
                invalid.or(future.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while verifying signatures", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("a signature check failed unexpectedly: " + e.getCause(), e.getCause());
            }
        }
        return invalid;
    }

    private static void check(List<Item> items, int from, int to, BitSet invalid) {
        for (int i = from; i < to; i++) {
            Item item = items.get(i);
            if (!Ed25519.verify(item.key(), item.message(), item.signature())) {
                invalid.set(i);
            }
        }
    }

    @Override
    public void close() {
        if (workers != null) {
            workers.shutdownNow();
        }
    }
}
