package org.commonweal.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.commonweal.chain.internal.ChainBench;
import org.commonweal.consensus.solo.SoloEngine;
import org.commonweal.crypto.Ed25519;
import org.commonweal.crypto.PrivateKey;
import org.commonweal.crypto.SignatureBatch;
import org.commonweal.ledger.LedgerState;
import org.commonweal.ledger.Rejection;
import org.commonweal.ledger.Transaction;
import org.commonweal.ledger.TransactionCodec;
import org.commonweal.ledger.Transfer;

import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;

/**
 * {@code cw bench ledger}: signature verification throughput against Bouncy Castle's own verify
 * measured in the same run (the ceiling a mempool or block check can reach, and how much of it the
 * batch keeps), and transfer execution on the ledger state.
 */
final class LedgerBench {

    private static final int SIGNATURES = 20_000;

    private LedgerBench() {
    }

    private static final int SOLO_TRANSFERS = 60_000;

    static void run(PrintStream out, boolean json, Path directory) {
        int cores = Runtime.getRuntime().availableProcessors();
        out.printf("cw bench ledger: %d cores, %d distinct Ed25519 signatures (64-byte messages, 64 keys)%n", cores,
                SIGNATURES);
        List<SignatureBatch.Item> items = signatures(new SplittableRandom(1));
        double raw = rawVerifyPerSecond(items);
        out.printf("  Bouncy Castle verify, 1 thread:  %,9.0f /s%n", raw);
        JsonObjectBuilder figures = Json.createObjectBuilder().add("rawBouncyCastlePerSecond", Math.round(raw));
        double batchAllCores = raw;
        for (int threads : cores > 1 ? new int[] { 1, cores } : new int[] { 1 }) {
            try (SignatureBatch batch = new SignatureBatch(threads)) {
                double rate = best(() -> {
                    if (!batch.invalid(items).isEmpty()) {
                        throw new IllegalStateException("a valid signature did not verify");
                    }
                });
                double share = 100 * rate / (raw * threads);
                batchAllCores = rate;
                out.printf("  SignatureBatch, %d thread%s:       %,9.0f /s  (%.0f%% of raw x %d)%n", threads,
                        threads == 1 ? " " : "s", rate, share, threads);
                figures.add("batch" + threads + "ThreadsPerSecond", Math.round(rate))
                        .add("batch" + threads + "ThreadsPctOfRaw", Math.round(share));
            }
        }
        double transfers = transfersPerSecond();
        out.printf("  Transfers executed, 1 thread:    %,9.0f /s  (signatures checked beforehand; state root not included)%n",
                transfers);
        figures.add("transfersPerSecond", Math.round(transfers));
        JsonObjectBuilder chain = Json.createObjectBuilder();
        Path work = null;
        try {
            work = Files.createTempDirectory(directory, "cw-bench-ledger-");
            out.printf("  Block log, durable appends (msync per block) in %s:%n", work);
            for (int transactions : new int[] { 1, 100, 2_000 }) {
                ChainBench.Appends appends = ChainBench.appends(work.resolve("log-" + transactions), transactions);
                out.printf("    blocks of %,6d transfers (%,9d bytes): %,7.0f blocks/s, %,7.1f MB/s, %,9.0f transfers/s%n",
                        transactions, appends.blockBytes(), appends.blocksPerSecond(), appends.megabytesPerSecond(),
                        appends.blocksPerSecond() * transactions);
                chain.add("appendBlocksPerSecond" + transactions, Math.round(appends.blocksPerSecond()))
                        .add("appendMegabytesPerSecond" + transactions, Math.round(appends.megabytesPerSecond()));
            }
            ChainBench.Commits commits = ChainBench.engine(work.resolve("solo"), SOLO_TRANSFERS,
                    key -> new SoloEngine(key.publicKey(), key::sign, System::currentTimeMillis, Integer.MAX_VALUE), out);
            double limit = raw * cores;
            out.printf("  Solo engine end to end (submit -> batched signature checks -> block -> execute -> durable):%n"
                    + "    %,9.0f transfers/s in %d blocks  (%.0f%% of the verification limit, raw x %d cores = %,.0f /s;"
                    + " %.0f%% of this run's SignatureBatch on %d threads; %.2f of %d cores busy)%n", commits.perSecond(),
                    commits.blocks(), 100 * commits.perSecond() / limit, cores, limit,
                    100 * commits.perSecond() / batchAllCores, cores, commits.coresBusy(), cores);
            if (!Double.isNaN(commits.coresBusy())) {
                chain.add("soloCoresBusy", Math.round(100 * commits.coresBusy()) / 100.0);
            }
            chain.add("soloCommitsPerSecond", Math.round(commits.perSecond())).add("soloBlocks", commits.blocks())
                    .add("soloPctOfVerificationLimit", Math.round(100 * commits.perSecond() / limit))
                    .add("soloPctOfBatchRate", Math.round(100 * commits.perSecond() / batchAllCores));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use " + directory + " for the block-log benchmark; give --dir DIR", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            deleteRecursively(work);
        }
        if (json) {
            out.println(Json.createObjectBuilder().add("benchmark", "ledger").add("signatures", figures).add("chain", chain).build());
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind; it is named in the output
        }
    }

    /** Applies 50,000 signed transfers among 1,000 accounts to a fresh state: the best of three passes. */
    private static double transfersPerSecond() {
        int accounts = 1_000;
        List<PrivateKey> keys = new ArrayList<>();
        java.util.Map<org.commonweal.crypto.PublicKey, Long> balances = new java.util.LinkedHashMap<>();
        SplittableRandom random = new SplittableRandom(2);
        for (int i = 0; i < accounts; i++) {
            byte[] seed = new byte[32];
            random.nextBytes(seed);
            keys.add(Ed25519.fromSeed(seed));
            balances.put(keys.get(i).publicKey(), 1_000_000_000L);
        }
        long[] nonces = new long[accounts];
        List<Transaction> txs = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            int from = random.nextInt(accounts);
            int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
            txs.add(TransactionCodec.sign(keys.get(from), 1, nonces[from]++, 1, Transfer.TYPE,
                    new Transfer(keys.get(to).publicKey(), 1 + random.nextInt(1000)).encode()));
        }
        org.commonweal.crypto.PublicKey proposer = keys.get(0).publicKey();
        long best = Long.MAX_VALUE;
        for (int pass = 0; pass < 4; pass++) {
            LedgerState state = LedgerState.genesis(1, balances);
            long start = System.nanoTime();
            for (Rejection rejection : state.applyAll(txs, proposer, true)) {
                if (rejection != null) {
                    throw new IllegalStateException("a valid transfer was rejected: " + rejection.getMessage());
                }
            }
            best = pass == 0 ? best : Math.min(best, System.nanoTime() - start);
        }
        return txs.size() * 1e9 / best;
    }

    /** Bouncy Castle's own Ed25519 verify on one thread: the baseline every signature figure is compared with. */
    static double rawVerifyPerSecond() {
        return rawVerifyPerSecond(signatures(new SplittableRandom(1)));
    }

    private static double rawVerifyPerSecond(List<SignatureBatch.Item> items) {
        return best(() -> {
            for (SignatureBatch.Item item : items) {
                if (!org.bouncycastle.math.ec.rfc8032.Ed25519.verify(item.signature(), 0, item.key().bytes(), 0,
                        item.message(), 0, item.message().length)) {
                    throw new IllegalStateException("a valid signature did not verify");
                }
            }
        });
    }

    private static List<SignatureBatch.Item> signatures(SplittableRandom random) {
        List<PrivateKey> keys = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            byte[] seed = new byte[32];
            random.nextBytes(seed);
            keys.add(Ed25519.fromSeed(seed));
        }
        List<SignatureBatch.Item> items = new ArrayList<>();
        for (int i = 0; i < SIGNATURES; i++) {
            byte[] message = new byte[64];
            random.nextBytes(message);
            PrivateKey key = keys.get(i % keys.size());
            items.add(new SignatureBatch.Item(key.publicKey(), message, key.sign(message)));
        }
        return items;
    }

    /** Signatures per second: the best of three passes after a warm-up pass. */
    private static double best(Runnable pass) {
        pass.run();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            pass.run();
            best = Math.min(best, System.nanoTime() - start);
        }
        return SIGNATURES * 1e9 / best;
    }
}
