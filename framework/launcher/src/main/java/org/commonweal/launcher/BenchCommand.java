package org.commonweal.launcher;

import java.util.List;
import java.util.concurrent.Callable;

import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.transformer.SyntheticModel;
import org.commonweal.kernels.bench.KernelBench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cw bench}: benchmarks that report ratios to a baseline measured in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure Commonweal's performance on this machine.",
        subcommands = { BenchCommand.Kernels.class, BenchCommand.Inference.class, BenchCommand.Ledger.class,
                BenchCommand.Consensus.class, BenchCommand.Assemble.class })
final class BenchCommand {

    /**
     * The benchmarks run the chain and Chronicle on the launcher's class path, which has SLF4J's API but, on
     * purpose, no provider: a provider there would be found by a node's framework too (through the thread
     * context class loader) and break its logging. Benchmarks name the no-op provider, so SLF4J does not warn;
     * only benchmarks, never {@code cw node}.
     */
    static void quietLogging() {
        System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
    }

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

    @Command(name = "inference", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "The forward pass of a model as llama-bench measures it: prompt processing (pp128, one forward) and decode"
                    + " (tg64, one token per forward) at 1 thread and one per core, then aggregate decode of 1, 4 and 16"
                    + " sequences batched; decode beside the roofline read bandwidth / weight bytes per token, prompt"
                    + " processing beside the FMA peak, both measured in the same run. Then decode with the weights mapped"
                    + " from the file, in a new JVM (about 2 to 3 minutes on the 1b shape).",
            "--synthetic writes a random-weight model (for example 1b-q4_0) to the system temp folder once and reuses it." })
    static final class Inference implements Callable<Integer> {

        @Option(names = "--model", paramLabel = "FILE", description = "A GGUF model (llama or qwen2).")
        java.nio.file.Path model;

        @Option(names = "--synthetic", paramLabel = "SPEC", description = "A synthetic model <shape>-<type>: shapes demo,"
                + " 15m, 110m, 1b; types f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q4_k, q5_k, q6_k (e.g. 1b-q4_0).")
        String synthetic;

        @Option(names = "--threads", paramLabel = "N", split = ",",
                description = "Measure with these thread counts (default: 1, then one per core).")
        List<Integer> threads;

        @Option(names = "--loading", paramLabel = "MODE", defaultValue = "both", description = "Where the weights are:"
                + " mapped (from the file), allocated (copied into memory), or both: everything allocated, then decode"
                + " mapped in a new JVM (default: ${DEFAULT-VALUE}).")
        String loading;

        @Option(names = "--json", description = "Also print all figures as one JSON object, the last line of output.")
        boolean json;

        // How the comparison of loadings runs in a new JVM: decode only, with the settings of the run that started it.
        @Option(names = "--decode-only", hidden = true)
        boolean decodeOnly;

        @Option(names = "--tg", hidden = true, defaultValue = "" + InferenceBench.Options.DECODE_TOKENS)
        int decodeTokens;

        @Option(names = "--runs", hidden = true, defaultValue = "" + InferenceBench.Options.RUNS)
        int runs;

        @Option(names = "--warm-up-ms", hidden = true, defaultValue = "" + InferenceBench.Options.WARM_UP_MILLIS)
        long warmUpMillis;

        @Override
        public Integer call() throws LaunchException {
            RuntimeSettings.checkJvm();
            quietLogging();
            if ((model == null) == (synthetic == null)) {
                throw new LaunchException("cw bench inference needs a model: --model FILE (a GGUF file) or --synthetic SPEC"
                        + " (a random-weight model, for example 1b-q4_0), not " + (model == null ? "neither" : "both"));
            }
            if (threads != null && threads.stream().anyMatch(n -> n < 1 || n > 1024)) {
                throw new LaunchException("--threads " + threads + " are not thread counts; use 1.."
                        + Runtime.getRuntime().availableProcessors() + " on this machine");
            }
            List<GgufFile.Loading> loadings = switch (loading.toLowerCase(java.util.Locale.ROOT)) {
                case "mapped" -> List.of(GgufFile.Loading.MAPPED);
                case "allocated" -> List.of(GgufFile.Loading.ALLOCATED);
                case "both" -> List.of(GgufFile.Loading.ALLOCATED, GgufFile.Loading.MAPPED);
                default -> throw new LaunchException("--loading " + loading + " is not a loading mode; use mapped,"
                        + " allocated or both");
            };
            SyntheticModel spec = null;
            if (synthetic != null) {
                try {
                    spec = SyntheticModel.parse(synthetic);
                } catch (IllegalArgumentException e) {
                    throw new LaunchException("--synthetic: " + e.getMessage());
                }
            } else if (!java.nio.file.Files.isRegularFile(model)) {
                throw new LaunchException("--model " + model + ": no such file; give the path of a GGUF model");
            }
            try {
                InferenceBench.Options defaults = InferenceBench.Options.defaults(model, spec, threads, loadings, json);
                InferenceBench.run(new InferenceBench.Options(model, spec, defaults.syntheticCache(), defaults.threadCounts(),
                        loadings, defaults.promptTokens(), decodeTokens, defaults.streams(), runs, warmUpMillis,
                        defaults.bandwidthBytes(), decodeOnly, json, defaults.out(), defaults.progress()));
            } catch (java.io.IOException e) {
                throw new LaunchException("cw bench inference: " + e.getMessage(), e);
            }
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
            quietLogging();
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

        @Option(names = "--processes", description = "Also run the 4 validators as separate cw node processes on loopback,"
                + " transfers submitted over HTTP (about two more minutes).")
        boolean processes;

        @Option(names = "--port", paramLabel = "N", defaultValue = "8300", description = "With --processes: first HTTP port;"
                + " node i uses N+i for HTTP and N+100+i between validators (default: ${DEFAULT-VALUE}).")
        int port;

        @Override
        public Integer call() throws Exception {
            RuntimeSettings.checkJvm();
            quietLogging();
            double raw = LedgerBench.rawVerifyPerSecond();
            System.out.printf("  (Bouncy Castle Ed25519 verify, 1 thread, this run: %,.0f /s)%n", raw);
            ConsensusBench.run(System.out, json, dir, raw, processes ? port : -1);
            return 0;
        }
    }

    @Command(name = "assemble", mixinStandardHelpOptions = true, sortOptions = false, description = {
            "Time cw assemble: cold (resolving, as --update) and from the lock file, each several times, median per"
                    + " phase.",
            "By default on a bench distribution of about 40 real bundles: the dev distribution's 32 and the bundles on"
                    + " the launcher's own class path (picocli, bndlib, jakarta.json, the Feature Service, ...), published"
                    + " into a temporary repository with a temporary key. --dist times a distribution as it is." })
    static final class Assemble implements Callable<Integer> {

        @Option(names = "--dist", paramLabel = "NAME|DIR", description = "Time this distribution instead.")
        String distribution;

        @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Runs of each kind (default: ${DEFAULT-VALUE}).")
        int runs;

        @Override
        public Integer call() throws Exception {
            quietLogging();
            java.nio.file.Path work = java.nio.file.Files.createTempDirectory("cw-bench-assemble-");
            try {
                java.nio.file.Path source = distribution != null ? AssembleCommand.distributionFolder(distribution)
                        : benchDistribution(work);
                java.nio.file.Path out = work.resolve("out");
                for (boolean cold : new boolean[] { true, false }) {
                    java.util.List<Long> totals = new java.util.ArrayList<>();
                    java.util.Map<String, java.util.List<Long>> phases = new java.util.LinkedHashMap<>();
                    Assembler.Result result = null;
                    for (int i = 0; i < runs; i++) {
                        long start = System.nanoTime();
                        result = Assembler.assemble(new Assembler.Options(source, null, out, cold, Assembler.launcherJars()));
                        totals.add(System.nanoTime() - start);
                        result.nanos().forEach((k, v) -> phases.computeIfAbsent(k, x -> new java.util.ArrayList<>()).add(v));
                    }
                    long bytes = 0;
                    for (var artifact : result.artifacts()) {
                        bytes += artifact.size();
                    }
                    System.out.printf("%s, %d bundles (%.1f MB): %.0f ms (median of %d)%n", cold ? "cold (resolve)"
                            : "with the lock file", result.artifacts().size(), bytes / 1e6, median(totals) / 1e6, runs);
                    phases.forEach((k, v) -> System.out.printf("  %-50s %7.0f ms%n", k, median(v) / 1e6));
                }
            } finally {
                Assembler.deleteRecursively(work);
            }
            return 0;
        }

        private static final java.util.List<String> BENCH_EXTRAS = java.util.List.of("picocli", "jakarta.json",
                "org.eclipse.parsson", "org.apache.felix.feature", "org.apache.felix.cm.json", "org.osgi.", "biz.aQute.");

        /** A repository and a feature of the dev bundles plus the launcher's class path bundles. */
        private static java.nio.file.Path benchDistribution(java.nio.file.Path work) throws Exception {
            java.nio.file.Path devBundles = Cw.home().resolve("distributions/dev/target/dist/bundles");
            if (!java.nio.file.Files.isDirectory(devBundles)) {
                throw new LaunchException("the dev distribution is not built (no " + devBundles + "). Fix: ./mvnw install"
                        + " -DskipTests");
            }
            java.util.List<org.commonweal.repo.LocalRepository.Publication> publications = new java.util.ArrayList<>(
                    org.commonweal.repo.LocalRepository.mavenLayout(devBundles));
            java.util.Set<String> names = new java.util.HashSet<>();
            for (var publication : publications) {
                names.add(symbolicName(publication.jar()));
            }
            for (java.nio.file.Path jar : Assembler.launcherJars()) {
                String bsn = symbolicName(jar);
                // The launcher's own libraries that are bundles resolving among themselves (Chronicle's jars on the
                // class path do not resolve as bundles: see Storage), each once.
                if (bsn != null && BENCH_EXTRAS.stream().anyMatch(bsn::startsWith) && names.add(bsn)) {
                    publications.add(new org.commonweal.repo.LocalRepository.Publication(jar, null));
                }
            }
            var key = org.commonweal.crypto.Ed25519.generate(new java.security.SecureRandom());
            var published = org.commonweal.repo.LocalRepository.at(work.resolve("repo")).publish(publications, key);
            var bundles = jakarta.json.Json.createArrayBuilder();
            published.added().forEach(a -> bundles.add(jakarta.json.Json.createObjectBuilder().add("id", a.mavenId())));
            var feature = jakarta.json.Json.createObjectBuilder().add("feature-resource-version", "1.0")
                    .add("id", "org.commonweal:bench:1.0.0").add("name", "bench").add("bundles", bundles)
                    .add("extensions", jakarta.json.Json.createObjectBuilder().add(Assembler.EXTENSION, jakarta.json.Json
                            .createObjectBuilder().add("type", "json").add("kind", "mandatory").add("json", jakarta.json.Json
                                    .createObjectBuilder().add("repositories", jakarta.json.Json.createArrayBuilder().add("../repo"))
                                    .add("trust", jakarta.json.Json.createObjectBuilder().add("publishers", jakarta.json.Json
                                            .createArrayBuilder().add(jakarta.json.Json.createObjectBuilder()
                                                    .add("name", "bench").add("key", key.publicKey().hex())
                                                    .add("bundles", jakarta.json.Json.createArrayBuilder().add("*"))))))))
                    .build();
            java.nio.file.Path dist = work.resolve("bench");
            java.nio.file.Files.createDirectories(dist);
            java.nio.file.Files.writeString(dist.resolve(Distribution.FEATURE_FILE), feature.toString());
            return dist;
        }

        private static String symbolicName(java.nio.file.Path jar) throws java.io.IOException {
            try (var file = new java.util.jar.JarFile(jar.toFile())) {
                var manifest = file.getManifest();
                String bsn = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
                return bsn == null ? null : bsn.split(";", 2)[0].strip();
            }
        }

        private static double median(java.util.List<Long> values) {
            java.util.List<Long> sorted = values.stream().sorted().toList();
            return sorted.get(sorted.size() / 2);
        }
    }
}
