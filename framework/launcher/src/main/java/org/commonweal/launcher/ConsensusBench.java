package org.commonweal.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.commonweal.chain.internal.ChainBench;
import org.commonweal.consensus.bft.engine.BftEngine;
import org.commonweal.consensus.bft.engine.InProcessTransport;
import org.commonweal.consensus.bft.engine.OrderingBench;
import org.commonweal.consensus.bft.protocol.ValidatorSet;
import org.commonweal.crypto.PrivateKey;

import jakarta.json.Json;
import jakarta.json.JsonObjectBuilder;

/**
 * {@code cw bench consensus}: the BFT engine with 4 validators in this process. Ordering alone (Jolteon
 * over the in-process transport with Ed25519 votes, prepared blocks, no execution, no disk), then end to
 * end (every validator verifies every signature, orders, executes, appends durably), beside the limit
 * that signature verification sets when the validators share this machine's cores.
 */
final class ConsensusBench {

    private static final int VALIDATORS = 4;
    private static final int TRANSFER_BYTES = 163; // a signed transfer's encoding (version 1)

    private ConsensusBench() {
    }

    /** {@code processesPort}: the first HTTP port of the multi-process run, or -1 to skip it. */
    static void run(PrintStream out, boolean json, Path directory, double verifyPerSecond, int processesPort)
            throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        double limit = verifyPerSecond * cores / VALIDATORS; // each validator verifies every transaction
        out.printf("cw bench consensus: %d validators in one process, %d cores%n", VALIDATORS, cores);
        JsonObjectBuilder figures = Json.createObjectBuilder().add("validators", VALIDATORS).add("cores", cores);
        for (int perBlock : new int[] { 1_000, 10_000 }) {
            OrderingBench.Result r = OrderingBench.run(VALIDATORS, perBlock, TRANSFER_BYTES, 4_000);
            out.printf("  ordering only, blocks of %,6d x %d-byte transactions: %,10.0f tx/s  (%,5.1f blocks/s, commit latency"
                    + " p50 %.1f ms, p99 %.1f ms)%n", perBlock, TRANSFER_BYTES, r.transactionsPerSecond(), r.blocksPerSecond(),
                    r.p50Millis(), r.p99Millis());
            figures.add("ordering" + perBlock + "TxPerSecond", Math.round(r.transactionsPerSecond()))
                    .add("ordering" + perBlock + "P50Millis", r.p50Millis()).add("ordering" + perBlock + "P99Millis", r.p99Millis());
        }
        out.println("    (includes: Jolteon, every message encoded and decoded, Ed25519 on every proposal, vote and"
                + " certificate; excludes: transaction signatures, execution, disk, a real network)");
        Path work = null;
        try {
            work = Files.createTempDirectory(directory, "cw-bench-consensus-");
            InProcessTransport transport = new InProcessTransport();
            ChainBench.ClusterCommits commits = ChainBench.cluster(work, VALIDATORS, 40_000, (index, keys, runDir) -> {
                ValidatorSet set = new ValidatorSet(keys.stream().map(PrivateKey::publicKey).toList());
                return new BftEngine(new BftEngine.Settings(set, index, 1_000, 5, 2_000, 20, 64), keys.get(index)::sign, transport,
                        runDir.resolve("safety-" + index), System::currentTimeMillis);
            }, out);
            out.printf("  end to end (clients submit to one validator each; batches spread with their signatures checked once per validator,\n    ordered by proofs of availability, executed, appended durably):%n"
                    + "    %,9.0f tx/s in %d blocks  (%.0f%% of the verification limit: raw %,.0f/s x %d cores / %d validators"
                    + " = %,.0f tx/s)%n    latency from submission to commit: p50 %.0f ms, p99 %.0f ms%n", commits.perSecond(),
                    commits.blocks(), 100 * commits.perSecond() / limit, verifyPerSecond, cores, VALIDATORS, limit,
                    commits.p50Millis(), commits.p99Millis());
            figures.add("endToEndTxPerSecond", Math.round(commits.perSecond()))
                    .add("endToEndPctOfVerificationLimit", Math.round(100 * commits.perSecond() / limit))
                    .add("endToEndP50Millis", commits.p50Millis()).add("endToEndP99Millis", commits.p99Millis());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use " + directory + " for the benchmark's chains; give --dir DIR", e);
        } finally {
            LedgerBench.deleteRecursively(work);
        }
        out.println("  The seed's 100k tx/s is for ordering; these transfers are " + TRANSFER_BYTES + " bytes, the validators"
                + " share " + cores + " cores and talk in process (no network).");
        if (processesPort > 0) {
            Path nodes = Files.createTempDirectory(directory, "cw-bench-cluster-");
            try {
                out.printf("  4 validators as cw node processes (HTTP ports %d-%d, validator ports %d-%d, loopback TCP with"
                        + " Noise encryption):%n", processesPort, processesPort + 3, processesPort + 100, processesPort + 103);
                ClusterBench.Result r = ClusterBench.run(nodes, processesPort, 20_000, out);
                out.printf("    %,9.0f tx/s in %d blocks  (%.0f%% of the verification limit, %,.0f tx/s), submission (HTTP) to"
                        + " commit seen at node 0: p50 %.0f ms, p99 %.0f ms%n    (includes: HTTP submission one transfer per"
                        + " request, batches over the network, ordering, execution, durable block logs, in 4 JVMs and the"
                        + " client on %d cores)%n", r.perSecond(), r.blocks(), 100 * r.perSecond() / limit, limit,
                        r.p50Millis(), r.p99Millis(), cores);
                figures.add("processesTxPerSecond", Math.round(r.perSecond()))
                        .add("processesPctOfVerificationLimit", Math.round(100 * r.perSecond() / limit))
                        .add("processesP50Millis", r.p50Millis()).add("processesP99Millis", r.p99Millis());
            } finally {
                LedgerBench.deleteRecursively(nodes);
            }
        }
        if (json) {
            out.println(Json.createObjectBuilder().add("benchmark", "consensus").add("figures", figures).build());
        }
    }

}
