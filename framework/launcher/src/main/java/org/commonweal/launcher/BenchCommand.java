package org.commonweal.launcher;

import java.util.concurrent.Callable;

import org.commonweal.kernels.bench.KernelBench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cw bench}: benchmarks that report ratios to a baseline measured in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure Commonweal's performance on this machine.",
        subcommands = { BenchCommand.Kernels.class, BenchCommand.Ledger.class, BenchCommand.Assemble.class })
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
                    + " thread (about 15 s).",
            "The block-log figures join this command when the storage bundle exists." })
    static final class Ledger implements Callable<Integer> {

        @Option(names = "--json", description = "Also print the figures as one JSON object, the last line of output.")
        boolean json;

        @Override
        public Integer call() {
            LedgerBench.run(System.out, json);
            return 0;
        }
    }

    @Command(name = "assemble", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Time cw assemble of a distribution (default dev, 32 bundles, about 34 MB) from the build's repository:"
                    + " cold (resolving, --update) and from the lock file, each run several times into a temporary"
                    + " folder; prints the median of each phase." })
    static final class Assemble implements Callable<Integer> {

        @Option(names = "--dist", paramLabel = "NAME|DIR", defaultValue = "dev", description = "Default: ${DEFAULT-VALUE}.")
        String distribution;

        @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Runs of each kind (default: ${DEFAULT-VALUE}).")
        int runs;

        @Override
        public Integer call() throws Exception {
            java.nio.file.Path source = AssembleCommand.distributionFolder(distribution);
            java.nio.file.Path out = java.nio.file.Files.createTempDirectory("cw-bench-assemble-");
            try {
                for (boolean cold : new boolean[] { true, false }) {
                    java.util.List<Long> totals = new java.util.ArrayList<>();
                    java.util.Map<String, java.util.List<Long>> phases = new java.util.LinkedHashMap<>();
                    int bundles = 0;
                    for (int i = 0; i < runs; i++) {
                        long start = System.nanoTime();
                        Assembler.Result result = Assembler.assemble(new Assembler.Options(source, null, out, cold,
                                Assembler.launcherJars()));
                        totals.add(System.nanoTime() - start);
                        result.nanos().forEach((k, v) -> phases.computeIfAbsent(k, x -> new java.util.ArrayList<>()).add(v));
                        bundles = result.artifacts().size();
                    }
                    System.out.printf("%s, %d bundles: %.0f ms (median of %d)%n", cold ? "cold (resolve, --update)"
                            : "with the lock file", bundles, median(totals) / 1e6, runs);
                    phases.forEach((k, v) -> System.out.printf("  %-50s %7.0f ms%n", k, median(v) / 1e6));
                }
            } finally {
                Assembler.deleteRecursively(out);
            }
            return 0;
        }

        private static double median(java.util.List<Long> values) {
            java.util.List<Long> sorted = values.stream().sorted().toList();
            return sorted.get(sorted.size() / 2);
        }
    }
}
