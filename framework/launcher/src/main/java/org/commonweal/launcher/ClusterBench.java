package org.commonweal.launcher;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.PublicKey;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/**
 * {@code cw bench consensus --processes}: 4 validators as separate {@code cw node} processes on loopback
 * ({@link LocalNetwork}), every transfer submitted over HTTP to the validator its account talks to, timed until every
 * validator has committed every transfer. Commits are observed by polling each node's blocks every 100 ms, so
 * latencies are that coarse.
 */
final class ClusterBench {

    static final int VALIDATORS = 4;
    private static final int CHAIN = 2027;
    private static final int ACCOUNTS = 400;
    /** Client threads per validator, each posting its accounts' transfers in nonce order. */
    private static final int CLIENTS_PER_NODE = 2;

    /** What one run measured. */
    record Result(int transfers, double perSecond, double p50Millis, double p99Millis, long blocks) {
    }

    private ClusterBench() {
    }

    static Result run(Path dir, int port, int transfers, PrintStream out) throws Exception {
        SplittableRandom random = new SplittableRandom(27);
        List<PrivateKey> accounts = new ArrayList<>();
        Map<PublicKey, Long> balances = new LinkedHashMap<>();
        for (int i = 0; i < ACCOUNTS; i++) {
            byte[] seed = new byte[32];
            random.nextBytes(seed);
            accounts.add(Ed25519.fromSeed(seed));
            balances.put(accounts.get(i).publicKey(), 1_000_000_000L);
        }
        out.printf("  (signing %,d transfers among %d accounts...)%n", transfers, ACCOUNTS);
        long[] nonces = new long[ACCOUNTS];
        List<List<Transaction>> byClient = new ArrayList<>();
        for (int c = 0; c < VALIDATORS * CLIENTS_PER_NODE; c++) {
            byClient.add(new ArrayList<>());
        }
        for (int i = 0; i < transfers; i++) {
            int from = i % ACCOUNTS;
            int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
            byClient.get(from % byClient.size()).add(TransactionCodec.sign(accounts.get(from), CHAIN, nonces[from]++, 1,
                    Transfer.TYPE, new Transfer(accounts.get(to).publicKey(), 1 + random.nextInt(1_000)).encode()));
        }
        try (LocalNetwork network = LocalNetwork.start(dir, VALIDATORS, port, CHAIN, balances, out)) {
            Map<String, Long> submittedAt = new ConcurrentHashMap<>();
            AtomicReference<String> refused = new AtomicReference<>();
            AtomicLong submitted = new AtomicLong();
            long start = System.nanoTime();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < byClient.size(); c++) {
                List<Transaction> mine = byClient.get(c);
                int node = c % VALIDATORS; // an account's transfers all go to one validator, in nonce order
                clients.add(Thread.ofPlatform().name("bench-client-" + c).start(() -> {
                    try {
                        for (Transaction tx : mine) {
                            submittedAt.put(HexFormat.of().formatHex(tx.id()), System.nanoTime());
                            if (!network.post(node, tx)) {
                                refused.compareAndSet(null, "validator " + node + " did not accept a valid transfer; see "
                                        + network.log(node));
                                return;
                            }
                            submitted.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            long[] committed = new long[VALIDATORS];
            long[] heights = new long[VALIDATORS];
            List<Long> latencies = new ArrayList<>();
            long lastCommitAt = start;
            long lastProgress = 0;
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (Arrays.stream(committed).min().orElseThrow() < transfers) {
                if (refused.get() != null) {
                    throw new LaunchException(refused.get());
                }
                if (System.nanoTime() > deadline) {
                    throw new LaunchException("the validators did not commit every transfer within 300 s (committed "
                            + Arrays.toString(committed) + " of " + transfers + "); see the logs in " + dir);
                }
                Thread.sleep(100);
                for (int v = 0; v < VALIDATORS; v++) {
                    long head = network.json(v, "/api/chain").getJsonObject("head").getJsonNumber("height").longValue();
                    for (long h = heights[v] + 1; h <= head; h++) {
                        JsonObject block = network.json(v, "/api/chain/blocks/" + h);
                        JsonArray ids = block.getJsonArray("transactions");
                        committed[v] += ids.size();
                        if (v == 0) {
                            long now = System.nanoTime();
                            for (JsonValue id : ids) {
                                Long at = submittedAt.get(((jakarta.json.JsonString) id).getString());
                                if (at != null) {
                                    latencies.add(now - at);
                                }
                            }
                        }
                    }
                    if (head > heights[v]) {
                        heights[v] = head;
                        lastCommitAt = System.nanoTime();
                    }
                }
                if (System.nanoTime() - lastProgress > 2_000_000_000L) {
                    lastProgress = System.nanoTime();
                    out.printf("    %,d submitted; committed per validator %s%n", submitted.get(), Arrays.toString(committed));
                }
            }
            for (Thread client : clients) {
                client.join();
            }
            long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            return new Result(transfers, transfers * 1e9 / (lastCommitAt - start), sorted[sorted.length / 2] / 1e6,
                    sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))] / 1e6, heights[0]);
        }
    }
}
