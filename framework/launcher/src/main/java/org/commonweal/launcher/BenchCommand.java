package org.commonweal.launcher;

import java.util.concurrent.Callable;

import org.commonweal.kernels.bench.KernelBench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cw bench}: benchmarks that report ratios to a baseline measured in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure Commonweal's performance on this machine.",
        subcommands = { BenchCommand.Kernels.class, BenchCommand.Ledger.class, BenchCommand.Consensus.class })
final class BenchCommand {

    @Command(name = "kernels", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Memory bandwidth and FMA peak of this machine, then every kernel against them and against the simplest"
                    + " correct Vector API kernel, in one run (about a minute; uses ~1.5 GiB of off-heap memory).",
            "Run it on an otherwise idle machine: another busy process halves the figures." })
    static final class Kernels implements Callable<Integer> {

        @Option(names = "--threads", paramLabel = "N",
                description = "Measure with N threads only (default: 1 thread, then one per core).")
        Integer threads;

        @Option(names = "--json", description = "Also print all figures as one JSON object, the last line of output.")
        boolean json;

        @Override
        public Integer call() throws LaunchException {
            RuntimeSettings.checkJvm();
            if (threads != null && (threads < 1 || threads > 1024)) {
                throw new LaunchException("--threads " + threads + " is not a thread count; use 1.."
                        + Runtime.getRuntime().availableProcessors() + " on this machine");
            }
            KernelBench.run(KernelBench.Options.defaults(System.out, json, threads));
            return 0;
        }
    }

    @Command(name = "ledger", mixinStandardHelpOptions = true, description = {
            "Ed25519 verifications per second: raw Bouncy Castle on one thread, then Commonweal's signature batch on 1"
                    + " thread and on every core, as a share of raw x threads; then transfers executed per second on one"
                    + " thread; durable block-log appends; and the solo engine committing signed transfers end to end, as a"
                    + " share of the verification limit (raw x cores) measured in the same run (about 40 s).",
            "The block log is written under --dir: put it on the disk a node would use." })
    static final class Ledger implements Callable<Integer> {

        @Option(names = "--json", description = "Also print the figures as one JSON object, the last line of output.")
        boolean json;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "${java.io.tmpdir}",
                description = "Where to write the benchmark's block logs (default: ${DEFAULT-VALUE}); removed afterwards.")
        java.nio.file.Path dir;

        @Override
        public Integer call() throws LaunchException {
            RuntimeSettings.checkJvm(); // Chronicle needs the runtime's JVM flags
            LedgerBench.run(System.out, json, dir);
            return 0;
        }
    }

    @Command(name = "consensus", mixinStandardHelpOptions = true, description = {
            "The BFT engine with 4 validators in this process: ordering alone (Jolteon, Ed25519 votes, no execution), then"
                    + " end to end (signature checks, ordering, execution, durable block logs) as a share of the limit"
                    + " signature verification sets, measured in the same run (about a minute)." })
    static final class Consensus implements Callable<Integer> {

        @Option(names = "--json", description = "Also print the figures as one JSON object, the last line of output.")
        boolean json;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "${java.io.tmpdir}",
                description = "Where to write the validators' block logs (default: ${DEFAULT-VALUE}); removed afterwards.")
        java.nio.file.Path dir;

        @Override
        public Integer call() throws LaunchException, InterruptedException {
            RuntimeSettings.checkJvm();
            double raw = LedgerBench.rawVerifyPerSecond();
            System.out.printf("  (Bouncy Castle Ed25519 verify, 1 thread, this run: %,.0f /s)%n", raw);
            ConsensusBench.run(System.out, json, dir, raw);
            return 0;
        }
    }
}
