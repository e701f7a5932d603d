package org.commonweal.consensus.bft.engine;

import java.util.ArrayList;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.commonweal.consensus.bft.protocol.Environment;
import org.commonweal.consensus.bft.protocol.Jolteon;
import org.commonweal.consensus.bft.protocol.Messages;
import org.commonweal.consensus.bft.protocol.QuorumCert;
import org.commonweal.consensus.bft.protocol.SafetyState;
import org.commonweal.consensus.bft.protocol.Signatures;
import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;

/**
 * Ordering alone, for {@code cw bench consensus}: validators in this process run Jolteon over the
 * in-process transport (every message encoded and decoded, every vote and certificate signed and
 * verified with Ed25519), each leader proposing a prepared batch of transactions; nothing is executed
 * or written. Measures ordered transactions per second and the commit latency of blocks (from the
 * leader's proposal to the commit at that leader).
 */
public final class OrderingBench {

    /** Transactions ordered per second, blocks per second, and p50/p99 block commit latency. */
    public record Result(int validators, int transactionsPerBlock, int transactionBytes, double transactionsPerSecond,
            double blocksPerSecond, double p50Millis, double p99Millis) {
    }

    private OrderingBench() {
    }

    /** Runs {@code validators} validators for {@code millis} ms with blocks of {@code perBlock} transactions of {@code bytes} bytes. */
    public static Result run(int validators, int perBlock, int bytes, long millis) throws InterruptedException {
        List<PrivateKey> keys = new ArrayList<>();
        for (int i = 0; i < validators; i++) {
            byte[] seed = new byte[32];
            seed[0] = (byte) (i + 1);
            keys.add(Ed25519.fromSeed(seed));
        }
        ValidatorSet set = new ValidatorSet(keys.stream().map(PrivateKey::publicKey).toList());
        byte[] batch = new byte[perBlock * bytes];
        new java.util.SplittableRandom(1).nextBytes(batch);
        InProcessTransport transport = new InProcessTransport();
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        AtomicLong committed = new AtomicLong();
        List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        ConcurrentHashMap<String, Long> proposedAt = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        List<BlockingQueue<Runnable>> inboxes = new ArrayList<>();
        volatileRunning = true;
        for (int i = 0; i < validators; i++) {
            int me = i;
            BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
            inboxes.add(inbox);
            PrivateKey key = keys.get(i);
            Signatures signatures = new Signatures() {
                @Override
                public byte[] sign(byte[] message) {
                    return key.sign(message);
                }

                @Override
                public boolean verify(int validator, byte[] message, byte[] signature) {
                    return Ed25519.verify(set.key(validator), message, signature);
                }
            };
            Jolteon[] holder = new Jolteon[1];
            Environment environment = new Environment() {
                private final java.util.Map<Long, Long> generations = new java.util.HashMap<>();

                @Override
                public void send(int to, Messages.Message message) {
                    transport.send(me, to, message);
                }

                @Override
                public void broadcast(Messages.Message message) {
                    transport.broadcast(me, message);
                }

                @Override
                public void persist(SafetyState state) {
                }

                @Override
                public void commit(Messages.Block block, QuorumCert finalisedBy) {
                    if (block.author() == me && block.payload().length > 8) {
                        committed.addAndGet(perBlock);
                        Long at = proposedAt.remove(me + ":" + block.round());
                        if (at != null) {
                            latencies.add(System.nanoTime() - at);
                        }
                    }
                }

                @Override
                public void setTimer(long round, long delayMillis) {
                    long generation = generations.merge(round, 1L, Long::sum);
                    timers.schedule(() -> inbox.add(() -> {
                        if (generations.get(round) == generation) {
                            holder[0].onTimer(round);
                        }
                    }), delayMillis, TimeUnit.MILLISECONDS);
                }

                @Override
                public byte[] payload(Messages.Block parent) {
                    proposedAt.put(me + ":" + (parent.round() + 1), System.nanoTime());
                    return batch;
                }

                @Override
                public boolean validPayload(Messages.Block block, Messages.Block parent) {
                    return true;
                }
            };
            holder[0] = new Jolteon(1, set, me, signatures, environment, 1_000, "genesis".getBytes(), null, null);
            transport.register(me, (from, message) -> inbox.add(() -> holder[0].onMessage(from, message)));
            threads.add(Thread.ofPlatform().name("ordering-bench-" + me).start(() -> {
                holder[0].start();
                try {
                    while (volatileRunning) {
                        Runnable r = inbox.poll(100, TimeUnit.MILLISECONDS);
                        if (r != null) {
                            r.run();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        Thread.sleep(Math.min(1_000, millis / 4)); // warm-up
        long startCount = committed.get();
        latencies.clear();
        long start = System.nanoTime();
        Thread.sleep(millis);
        long elapsed = System.nanoTime() - start;
        long count = committed.get() - startCount;
        volatileRunning = false;
        for (Thread t : threads) {
            t.join();
        }
        timers.shutdownNow();
        long[] sorted;
        synchronized (latencies) {
            sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        }
        double p50 = sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2] / 1e6;
        double p99 = sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))] / 1e6;
        return new Result(validators, perBlock, bytes, count * 1e9 / elapsed, count * 1e9 / elapsed / perBlock, p50, p99);
    }

    private static volatile boolean volatileRunning;

}
