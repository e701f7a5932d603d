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

    /** Items per chunk that a thread takes at a time: small enough that no thread waits long for another. */
    private static final int CHUNK = 32;

    /**
     * The indexes of the items whose signature does not verify (empty: all valid). The caller and the workers
     * take chunks of {@value #CHUNK} items from a shared counter until none are left, so a thread that is slowed
     * (another process on its core) does less instead of holding everyone up.
     */
    public BitSet invalid(List<Item> items) {
        BitSet invalid = new BitSet(items.size());
        int helpers = Math.min(threads - 1, (items.size() - 1) / CHUNK);
        if (helpers <= 0) {
            check(items, 0, items.size(), invalid);
            return invalid;
        }
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        List<Future<BitSet>> futures = new ArrayList<>();
        for (int h = 0; h < helpers; h++) {
            futures.add(workers.submit(() -> drain(items, next)));
        }
        invalid.or(drain(items, next));
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

    /** Checks chunks until none are left; the invalid indexes it found. */
    private static BitSet drain(List<Item> items, java.util.concurrent.atomic.AtomicInteger next) {
        BitSet found = new BitSet();
        for (int from = next.getAndAdd(CHUNK); from < items.size(); from = next.getAndAdd(CHUNK)) {
            check(items, from, Math.min(items.size(), from + CHUNK), found);
        }
        return found;
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
