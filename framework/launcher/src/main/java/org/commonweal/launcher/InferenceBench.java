package org.commonweal.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;

import org.commonweal.inference.gguf.GgufFile;
import org.commonweal.inference.transformer.KvCache;
import org.commonweal.inference.transformer.LoraAdapter;
import org.commonweal.inference.transformer.ModelConfig;
import org.commonweal.inference.transformer.PackedWeights;
import org.commonweal.inference.transformer.SyntheticModel;
import org.commonweal.inference.transformer.Transformer;
import org.commonweal.inference.transformer.Weights;
import org.commonweal.kernels.types.GgmlType;
import org.commonweal.kernels.KernelPool;
import org.commonweal.kernels.types.WeightMatrix;
import org.commonweal.kernels.bench.MachineLimits;

import jakarta.json.Json;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

/**
 * {@code cw bench inference}: the forward pass of a model (a GGUF file, or a synthetic one written on first
 * use) measured as llama-bench does, on the {@link Transformer} directly: prompt processing (one forward of
 * a whole prompt) and decode (one token per forward) at each thread count, then aggregate decode of several
 * sequences batched together; each beside its ceiling measured in the same run: the read bandwidth over
 * the weight bytes a token reads (decode) and the FP32 FMA peak (prompt processing, whose matmul tiles are
 * FMAs). Then decode with the weights loaded the other way(s) (mapped from the file, or copied into allocated
 * memory), each in a new JVM: once a JVM's code has run on both kinds of memory segment, the JDK's shared type
 * profiles are bimorphic and kernels compiled after that run up to twice as slow on either, so an in-process
 * comparison would favour whichever mode came first. A node uses one mode, in a JVM that has seen only it.
 */
final class InferenceBench {

    /**
     * Where synthetic models are written (once; later runs reuse them, by spec and seed: delete the folder after
     * changing what {@link SyntheticModel} writes).
     */
    static final Path SYNTHETIC_CACHE = Path.of(System.getProperty("java.io.tmpdir"), "commonweal-synthetic");
    private static final long SEED = 1;
    /** After this long, a measurement stops at two runs (of its {@code runs}): keeps the 1b shape within minutes. */
    private static final long MEASUREMENT_NANOS = 5_000_000_000L;
    /** Tokens of context before decode is timed. */
    private static final int DECODE_PREFIX = 8;

    /**
     * How to run. {@code loadings}: the first is measured fully, the others for decode only, each in a new JVM.
     * {@code streams}: batch sizes of aggregate decode at the largest thread count. {@code decodeOnly}: measure
     * decode only, and print its figures as JSON (what the new JVMs do).
     */
    record Options(Path model, SyntheticModel synthetic, Path syntheticCache, List<Integer> threadCounts,
            List<GgufFile.Loading> loadings, int promptTokens, int decodeTokens, List<Integer> streams, int runs,
            long warmUpMillis, long bandwidthBytes, boolean decodeOnly, boolean json, PrintStream out, PrintStream progress) {

        static final int DECODE_TOKENS = 64;
        static final int RUNS = 3;
        static final long WARM_UP_MILLIS = 2000;

        static Options defaults(Path model, SyntheticModel synthetic, List<Integer> threads, List<GgufFile.Loading> loadings,
                boolean json) {
            int cores = Runtime.getRuntime().availableProcessors();
            List<Integer> counts = threads != null ? threads : cores > 1 ? List.of(1, cores) : List.of(1);
            return new Options(model, synthetic, SYNTHETIC_CACHE, counts, loadings, 128, DECODE_TOKENS, List.of(1, 4, 16),
                    RUNS, WARM_UP_MILLIS, 256L << 20, false, json, System.out, System.err);
        }

        int maxThreads() {
            return threadCounts.stream().mapToInt(Integer::intValue).max().orElseThrow();
        }
    }

    /** Best-of-runs figures: tokens per second. */
    private record Speeds(double pp, double tg) {
    }

    private final Options o;
    private final Map<Integer, KernelPool> pools = new LinkedHashMap<>();
    private final SplittableRandom random = new SplittableRandom(SEED);
    private Transformer transformer;

    private InferenceBench(Options options) {
        this.o = options;
    }

    static void run(Options options) throws IOException {
        InferenceBench bench = new InferenceBench(options);
        try {
            if (options.decodeOnly()) {
                bench.decodeOnly();
            } else {
                bench.run();
            }
        } finally {
            bench.pools.values().forEach(KernelPool::close);
        }
    }

    /** Decode at each thread count with the model loaded the first of {@code loadings} way; JSON on the last line. */
    private void decodeOnly() throws IOException {
        GgufFile.Loading loading = o.loadings().getFirst();
        o.threadCounts().forEach(threads -> pools.put(threads, new KernelPool(threads)));
        JsonObjectBuilder tg = Json.createObjectBuilder();
        try (GgufFile model = open(o.model(), loading)) {
            warmUp(false);
            for (int threads : o.threadCounts()) {
                tg.add(Integer.toString(threads), decode("tg" + o.decodeTokens() + " " + label(loading), threads, 1,
                        o.decodeTokens()));
            }
        }
        o.out().println(Json.createObjectBuilder().add("benchmark", "inference-decode").add("loading", label(loading))
                .add("tgTokensPerSecond", tg).build());
    }

    /**
     * Decode tokens/s per thread count with the weights loaded {@code loading}, measured in a new JVM (this
     * command with {@code --decode-only}) with this one's flags and class path; its progress goes to standard
     * error.
     */
    private Map<Integer, Double> decodeInNewJvm(Path file, GgufFile.Loading loading) throws IOException {
        o.progress().printf("decode with %s weights, in a new JVM...%n", label(loading));
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Cw.class.getName(), "bench", "inference",
                "--model", file.toString(), "--loading", label(loading), "--decode-only", "--threads",
                o.threadCounts().stream().map(String::valueOf).collect(Collectors.joining(",")),
                "--tg", Integer.toString(o.decodeTokens()), "--runs", Integer.toString(o.runs()),
                "--warm-up-ms", Long.toString(o.warmUpMillis())));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            int exit = process.waitFor();
            String[] lines = output.strip().split("\n");
            if (exit != 0 || !lines[lines.length - 1].startsWith("{")) {
                throw new IOException("decode with " + label(loading) + " weights in a new JVM failed (exit " + exit
                        + "); its output: " + output + "; its command: " + String.join(" ", command));
            }
            JsonObject figures = Json.createReader(new StringReader(lines[lines.length - 1])).readObject()
                    .getJsonObject("tgTokensPerSecond");
            Map<Integer, Double> tg = new LinkedHashMap<>();
            figures.forEach((threads, speed) -> tg.put(Integer.valueOf(threads), ((JsonNumber) speed).doubleValue()));
            return tg;
        } catch (InterruptedException e) {
            process.destroy();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while measuring decode in a new JVM", e);
        }
    }

    private void run() throws IOException {
        PrintStream out = o.out();
        Path file = o.model() != null ? o.model() : synthetic();
        out.printf("cw bench inference: %s, %d cores, KV cache F32; pp%d = one forward of %d prompt tokens, tg%d = %d"
                + " tokens one per forward after %d%n", file, Runtime.getRuntime().availableProcessors(), o.promptTokens(),
                o.promptTokens(), o.decodeTokens(), o.decodeTokens(), DECODE_PREFIX);
        JsonObjectBuilder json = Json.createObjectBuilder().add("benchmark", "inference").add("model", file.toString());
        if (o.synthetic() != null) {
            json.add("synthetic", o.synthetic().toString());
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment stream = arena.allocate(o.bandwidthBytes(), 64);
            stream.fill((byte) 1);
            for (int threads : o.threadCounts()) {
                pools.put(threads, new KernelPool(threads));
            }
            // The limits are measured before and after the model and the higher figure is the reference, as in
            // cw bench kernels: a core taken by other work during one measurement would inflate every percentage.
            Map<Integer, double[]> limits = limits(stream, null);

            GgufFile.Loading main = o.loadings().getFirst();
            Map<Integer, Speeds> speeds = new LinkedHashMap<>();
            Map<Integer, Double> aggregate = new LinkedHashMap<>();
            Map<String, Map<Integer, Double>> byLoading = new LinkedHashMap<>();
            Map<Integer, Double> adapters;
            long bytesPerToken;
            long flopsPerToken;
            String weightTypes;
            try (GgufFile model = open(file, main)) {
                bytesPerToken = transformer.weights().bytesPerToken();
                flopsPerToken = 2 * weightElements(transformer.weights());
                weightTypes = weightTypes(transformer.weights());
                warmUp(true);
                for (int threads : o.threadCounts()) {
                    speeds.put(threads, new Speeds(prompt(threads), decode("tg" + o.decodeTokens(), threads, 1,
                            o.decodeTokens())));
                }
                for (int n : o.streams()) {
                    // One stream at the largest thread count is tg there: measured already.
                    aggregate.put(n, n == 1 ? speeds.get(o.maxThreads()).tg()
                            : decode(n + " streams", o.maxThreads(), n, streamSteps(n)));
                }
                adapters = adapters(file);
            }
            if (o.loadings().size() > 1) {
                Map<Integer, Double> first = new LinkedHashMap<>();
                speeds.forEach((threads, s) -> first.put(threads, s.tg()));
                byLoading.put(label(main), first);
                for (GgufFile.Loading loading : o.loadings().subList(1, o.loadings().size())) {
                    byLoading.put(label(loading), decodeInNewJvm(file, loading));
                }
            }
            limits = limits(stream, limits);
            report(json, main, bytesPerToken, flopsPerToken, weightTypes, limits, speeds, aggregate, byLoading);
            reportAdapters(json, adapters);
        }
        if (o.json()) {
            out.println(json.build());
        }
    }

    private void report(JsonObjectBuilder json, GgufFile.Loading main, long bytesPerToken, long flopsPerToken,
            String weightTypes, Map<Integer, double[]> limits, Map<Integer, Speeds> speeds, Map<Integer, Double> aggregate,
            Map<String, Map<Integer, Double>> byLoading) {
        PrintStream out = o.out();
        out.printf("%nweights %s, %.3f GB read per token, %.2f GFLOP per token; loaded %s%n", weightTypes,
                bytesPerToken / 1e9, flopsPerToken / 1e9, label(main));
        json.add("weightTypes", weightTypes).add("bytesPerToken", bytesPerToken).add("flopsPerToken", flopsPerToken)
                .add("loading", label(main)).add("promptTokens", o.promptTokens()).add("decodeTokens", o.decodeTokens());
        out.printf("%-7s | %9s %9s | %9s %8s %7s | %8s %9s %7s%n", "threads", "read GB/s", "FMA GF/s", "pp tok/s",
                "GFLOP/s", "% peak", "tg tok/s", "roofline", "% roof");
        JsonObjectBuilder byThreads = Json.createObjectBuilder();
        for (int threads : o.threadCounts()) {
            double read = limits.get(threads)[0];
            double peak = limits.get(threads)[1];
            Speeds s = speeds.get(threads);
            double gflops = s.pp() * flopsPerToken / 1e9;
            double roofline = read * 1e9 / bytesPerToken;
            out.printf("%-7d | %9.1f %9.0f | %9.1f %8.1f %6.0f%% | %8.2f %9.2f %6.0f%%%n", threads, read, peak, s.pp(),
                    gflops, 100 * gflops / peak, s.tg(), roofline, 100 * s.tg() / roofline);
            byThreads.add(Integer.toString(threads), Json.createObjectBuilder().add("readGBs", round(read))
                    .add("fmaPeakGflops", round(peak)).add("ppTokensPerSecond", round(s.pp())).add("ppGflops", round(gflops))
                    .add("ppPctFmaPeak", round(100 * gflops / peak)).add("tgTokensPerSecond", round(s.tg()))
                    .add("tgRooflineTokensPerSecond", round(roofline)).add("tgPctRoofline", round(100 * s.tg() / roofline)));
        }
        json.add("threads", byThreads);

        double read = limits.get(o.maxThreads())[0];
        out.printf("%naggregate decode, %d thread%s, N sequences each one token per forward (roofline: N x read / bytes"
                + " per token)%n", o.maxThreads(), o.maxThreads() == 1 ? "" : "s");
        out.printf("%-7s | %8s %9s %7s%n", "streams", "tok/s", "roofline", "% roof");
        JsonObjectBuilder streams = Json.createObjectBuilder().add("threads", o.maxThreads());
        aggregate.forEach((n, speed) -> {
            double roofline = n * read * 1e9 / bytesPerToken;
            out.printf("%-7d | %8.2f %9.2f %6.0f%%%n", n, speed, roofline, 100 * speed / roofline);
            streams.add(Integer.toString(n), Json.createObjectBuilder().add("tokensPerSecond", round(speed))
                    .add("rooflineTokensPerSecond", round(roofline)).add("pctRoofline", round(100 * speed / roofline)));
        });
        json.add("streams", streams);

        if (!byLoading.isEmpty()) {
            out.printf("%ndecode tok/s by where the weights are (the first as above; each other in a new JVM, as a node runs"
                    + " with one kind of memory only)%n");
            out.printf("%-16s |", "loading");
            o.threadCounts().forEach(t -> out.printf(" %7s", t + " thr"));
            out.println();
            JsonObjectBuilder loadings = Json.createObjectBuilder();
            byLoading.forEach((loading, tg) -> {
                out.printf("%-16s |", loading);
                JsonObjectBuilder figures = Json.createObjectBuilder();
                for (int threads : o.threadCounts()) {
                    Double speed = tg.get(threads);
                    out.printf(" %7s", speed == null ? "-" : String.format(Locale.ROOT, "%.2f", speed));
                    if (speed != null) {
                        figures.add(Integer.toString(threads), round(speed));
                    }
                }
                out.println();
                loadings.add(loading, figures);
            });
            json.add("decodeByLoading", loadings);
        }
        out.printf("%nread: read-only streaming bandwidth; FMA peak: FP32, all threads; both measured in this run, the higher"
                + " of before and after.%nroofline: read bandwidth / weight bytes per token, the decode speed of light"
                + " (KV cache reads not counted).%n");
    }

    /** The synthetic model's file, written unless a previous run left it (GgufWriter writes whole files only). */
    private Path synthetic() throws IOException {
        SyntheticModel model = o.synthetic();
        Path file = o.syntheticCache().resolve(model + "-seed" + SEED + ".gguf");
        if (Files.isRegularFile(file)) {
            o.out().printf("synthetic model %s: reusing %s%n", model, file);
            return file;
        }
        long start = System.nanoTime();
        Percent progress = new Percent("writing " + file, model.tensorBytes());
        model.write(file, SEED, progress);
        progress.done(start);
        o.out().printf("synthetic model %s: wrote %s (%.2f GB) in %.1f s%n", model, file, Files.size(file) / 1e9,
                (System.nanoTime() - start) / 1e9);
        return file;
    }

    /**
     * Opens the model (mapped) and builds {@link #transformer} over it, its matrices packed as a node packs them:
     * repacked types into off-heap memory, the others too if {@code loading} is {@code ALLOCATED}.
     */
    private GgufFile open(Path file, GgufFile.Loading loading) throws IOException {
        long start = System.nanoTime();
        GgufFile model = GgufFile.open(file, GgufFile.Loading.MAPPED, bytes -> { });
        try {
            ModelConfig config = ModelConfig.fromGguf(model);
            Weights weights = Weights.fromGguf(model, config);
            Percent progress = new Percent("packing " + file.getFileName() + " into memory", Files.size(file));
            PackedWeights packed = PackedWeights.of(weights, loading == GgufFile.Loading.ALLOCATED, progress);
            progress.done(start);
            transformer = new Transformer(config, weights, packed);
            return model;
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Progress of a long phase on the progress stream, every 10%, on one line (for phases of 256 MiB or more). */
    private final class Percent implements LongConsumer {
        private final String what;
        private final long total;
        private int shown = -1;

        Percent(String what, long total) {
            this.what = what;
            this.total = total;
        }

        @Override
        public void accept(long bytes) {
            int tenths = (int) (10 * bytes / total);
            if (total >= (256L << 20) && tenths > shown) {
                shown = tenths;
                o.progress().printf("\r%s: %d%%", what, 10 * tenths);
            }
        }

        void done(long startNanos) {
            if (shown >= 0) {
                o.progress().printf("\r%s: done in %.1f s%n", what, (System.nanoTime() - startNanos) / 1e9);
            }
        }
    }

    /**
     * Read bandwidth and FMA peak per thread count: {read GB/s, GFLOP/s}, the higher of these and {@code before}.
     */
    private Map<Integer, double[]> limits(MemorySegment stream, Map<Integer, double[]> before) {
        Map<Integer, double[]> limits = new LinkedHashMap<>();
        pools.forEach((threads, pool) -> {
            double read = MachineLimits.readGBs(stream, pool, 5);
            double peak = MachineLimits.fmaPeakGflops(pool, 20_000_000L);
            if (before != null) {
                read = Math.max(read, before.get(threads)[0]);
                peak = Math.max(peak, before.get(threads)[1]);
            }
            limits.put(threads, new double[] { read, peak });
        });
        return limits;
    }

    /**
     * Runs the forward pass until C2 has compiled it (at least {@code warmUpMillis}, at least twice each): a
     * decode, a batch of decodes and, if {@code prompt}, a prompt, so every kernel measured next is compiled.
     */
    private void warmUp(boolean prompt) {
        o.progress().printf("warming up (%.1f s or more)...%n", o.warmUpMillis() / 1e3);
        KernelPool pool = pools.get(o.maxThreads());
        long start = System.nanoTime();
        for (int i = 0; i < 2 || System.nanoTime() - start < o.warmUpMillis() * 1_000_000L; i++) {
            if (prompt) {
                run(pool, 1, 0, o.promptTokens(), 1, 1);
            }
            run(pool, 1, DECODE_PREFIX, 1, 4, 1);
            run(pool, 4, DECODE_PREFIX, 1, 2, 1);
        }
    }

    /** Prompt processing: one forward of the prompt (logits of the last token only, as llama-bench). */
    /** Streams decoded together in the adapter figures; each figure has 0, 1 or this many distinct adapters. */
    private static final int ADAPTER_STREAMS = 4;
    private static final int ADAPTER_RANK = 16;

    /**
     * Aggregate decode of {@value #ADAPTER_STREAMS} streams with no adapter, one adapter for all, and a different
     * adapter each (random rank-{@value #ADAPTER_RANK} LoRA on the attention projections, as culture packs
     * carry), keyed by the number of distinct adapters.
     */
    private Map<Integer, Double> adapters(Path model) throws IOException {
        List<GgufFile> files = new ArrayList<>();
        List<LoraAdapter> loras = new ArrayList<>();
        try {
            for (int i = 0; i < ADAPTER_STREAMS; i++) {
                Path file = o.syntheticCache().resolve(model.getFileName() + ".lora-r" + ADAPTER_RANK + "-" + i + ".gguf");
                if (!Files.isRegularFile(file)) {
                    Files.createDirectories(file.getParent());
                    SyntheticModel.writeLora(transformer.config(), ADAPTER_RANK, List.of(LoraAdapter.Projection.Q,
                            LoraAdapter.Projection.K, LoraAdapter.Projection.V, LoraAdapter.Projection.O), i, file);
                }
                files.add(GgufFile.open(file));
                loras.add(LoraAdapter.fromGguf(files.getLast(), transformer.config(), transformer.weights(), 1.0f));
            }
            // The three are measured in turn, round after round, the best of each kept: a ratio between
            // figures taken minutes apart would measure the machine's other work as much as the adapters.
            Map<Integer, Double> speeds = new LinkedHashMap<>();
            int steps = streamSteps(ADAPTER_STREAMS);
            o.progress().printf("%d streams with 0, 1 and %d distinct adapters, %s...%n", ADAPTER_STREAMS,
                    ADAPTER_STREAMS, threads(o.maxThreads()));
            for (int round = 0; round < Math.max(2, o.runs()); round++) {
                for (int distinct : List.of(0, 1, ADAPTER_STREAMS)) {
                    LoraAdapter[] perStream = new LoraAdapter[ADAPTER_STREAMS];
                    for (int s = 0; s < ADAPTER_STREAMS && distinct > 0; s++) {
                        perStream[s] = loras.get(s % distinct);
                    }
                    double speed = run(pools.get(o.maxThreads()), perStream, DECODE_PREFIX, 1, steps, 1);
                    speeds.merge(distinct, speed, Math::max);
                }
            }
            return speeds;
        } finally {
            files.forEach(GgufFile::close);
        }
    }

    private void reportAdapters(JsonObjectBuilder json, Map<Integer, Double> speeds) {
        PrintStream out = o.out();
        out.printf("%nadapters: %d streams decoded together, rank-%d LoRA on q, k, v, o, %s%n", ADAPTER_STREAMS,
                ADAPTER_RANK, threads(o.maxThreads()));
        out.printf("%-18s | %8s %14s%n", "distinct adapters", "tok/s", "vs no adapter");
        JsonObjectBuilder figures = Json.createObjectBuilder().add("streams", ADAPTER_STREAMS).add("rank", ADAPTER_RANK);
        double base = speeds.get(0);
        speeds.forEach((distinct, speed) -> {
            out.printf("%-18d | %8.1f %13.0f%%%n", distinct, speed, 100 * speed / base);
            figures.add(Integer.toString(distinct), Json.createObjectBuilder().add("tokensPerSecond", round(speed))
                    .add("ofBase", round(speed / base)));
        });
        json.add("adapters", figures);
    }

    private double prompt(int threads) {
        o.progress().printf("pp%d, %s...%n", o.promptTokens(), threads(threads));
        return run(pools.get(threads), 1, 0, o.promptTokens(), 1, o.runs());
    }

    /** Decode of {@code sequences} sequences, one token each per forward, after a short prefix. */
    private double decode(String what, int threads, int sequences, int steps) {
        o.progress().printf("%s, %s...%n", what, threads(threads));
        return run(pools.get(threads), sequences, DECODE_PREFIX, 1, steps, o.runs());
    }

    /**
     * Tokens per second, the best of {@code runs} (or of two if they take long): {@code sequences} sequences, each with {@code prefix} tokens
     * of context (computed once, not timed), then {@code steps} forwards of {@code tokens} tokens per sequence.
     */
    private double run(KernelPool pool, int sequences, int prefix, int tokens, int steps, int runs) {
        return run(pool, new LoraAdapter[sequences], prefix, tokens, steps, runs);
    }

    /** As above, sequence {@code s} with {@code adapters[s]} (null: the base model). */
    private double run(KernelPool pool, LoraAdapter[] adapters, int prefix, int tokens, int steps, int runs) {
        int sequences = adapters.length;
        List<KvCache> caches = new ArrayList<>();
        try {
            List<Transformer.Step> prefill = new ArrayList<>();
            for (int s = 0; s < sequences; s++) {
                caches.add(new KvCache(transformer.config(), GgmlType.F32, prefix + tokens * steps));
                if (prefix > 0) {
                    prefill.add(new Transformer.Step(caches.getLast(), randomTokens(prefix), false, adapters[s]));
                }
            }
            if (prefix > 0) {
                transformer.forward(prefill, pool);
            }
            long best = Long.MAX_VALUE;
            long start = System.nanoTime();
            for (int r = 0; r < runs && (r < 2 || System.nanoTime() - start < MEASUREMENT_NANOS); r++) {
                caches.forEach(cache -> cache.truncate(prefix));
                long nanos = 0;
                for (int i = 0; i < steps; i++) {
                    List<Transformer.Step> step = new ArrayList<>();
                    for (int s = 0; s < sequences; s++) {
                        step.add(new Transformer.Step(caches.get(s), randomTokens(tokens), false, adapters[s]));
                    }
                    long forward = System.nanoTime();
                    transformer.forward(step, pool);
                    nanos += System.nanoTime() - forward;
                }
                best = Math.min(best, nanos);
            }
            return (double) sequences * tokens * steps / best * 1e9;
        } finally {
            caches.forEach(KvCache::close);
        }
    }

    /** Forwards of aggregate decode: as many tokens in all as tg (at least 4 steps), to bound the time. */
    private int streamSteps(int streams) {
        return Math.max(4, o.decodeTokens() / streams);
    }

    private static String threads(int threads) {
        return threads + (threads == 1 ? " thread" : " threads");
    }

    private int[] randomTokens(int n) {
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = random.nextInt(transformer.config().vocabularySize());
        }
        return tokens;
    }

    /** The matrices a token goes through (the embedding is looked up, not multiplied). */
    private static List<WeightMatrix> matrices(Weights w) {
        List<WeightMatrix> matrices = new ArrayList<>(List.of(w.output()));
        for (Weights.Layer l : w.layers()) {
            matrices.addAll(List.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down()));
        }
        return matrices;
    }

    private static long weightElements(Weights w) {
        return matrices(w).stream().mapToLong(m -> (long) m.rows() * m.cols()).sum();
    }

    /** The types of the matrices, most bytes first: "Q4_0", or "Q4_K+Q6_K" for a mixed file. */
    private static String weightTypes(Weights w) {
        Map<GgmlType, Long> bytes = new LinkedHashMap<>();
        matrices(w).forEach(m -> bytes.merge(m.type(), m.byteSize(), Long::sum));
        return bytes.entrySet().stream().sorted(Map.Entry.<GgmlType, Long>comparingByValue().reversed())
                .map(e -> e.getKey().name()).reduce((a, b) -> a + "+" + b).orElseThrow();
    }

    private static String label(GgufFile.Loading loading) {
        return loading.name().toLowerCase(Locale.ROOT);
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
